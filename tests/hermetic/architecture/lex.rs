//! The architecture test's lexer: Rust source to tokens (comments and literals skipped), and
//! `use` trees to their leaf paths.

pub(super) fn word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

pub(super) fn is_name(t: &str) -> bool {
    t.bytes()
        .next()
        .is_some_and(|c| word_byte(c) && !c.is_ascii_digit())
}

/// Where `pat` next occurs in `s` from `from`, or the end.
pub(super) fn find(s: &[u8], from: usize, pat: &[u8]) -> usize {
    let from = from.min(s.len());
    let at = s[from..].windows(pat.len()).position(|w| w == pat);
    at.map_or(s.len(), |p| from + p)
}

/// A token and its line: a word, `::`, one punctuation byte, or a string literal as `"` and
/// its contents (never a name). Comments, char literals, lifetimes and `$` are dropped.
pub(super) struct Tok {
    pub(super) t: String,
    pub(super) line: usize,
}

pub(super) fn lex(src: &str) -> Vec<Tok> {
    let (s, mut toks, mut i, mut line) = (src.as_bytes(), Vec::new(), 0, 1);
    let at = |j: usize| s.get(j).copied().unwrap_or(0);
    let word = |j: usize| j + s[j..].iter().take_while(|&&b| word_byte(b)).count();
    let text = |a: usize, b: usize| String::from_utf8_lossy(&s[a..b.min(s.len())]).into_owned();
    while i < s.len() {
        let (start, c, mut t) = (i, s[i], None);
        if s[i..].starts_with(b"//") {
            i = find(s, i, b"\n");
        } else if s[i..].starts_with(b"/*") {
            let mut depth = 0; // block comments nest
            while i < s.len() {
                let (open, close) = (s[i..].starts_with(b"/*"), s[i..].starts_with(b"*/"));
                depth += i32::from(open) - i32::from(close);
                i += if open || close { 2 } else { 1 };
                if depth == 0 {
                    break;
                }
            }
        } else if word_byte(c) {
            let e = word(i);
            let hashes = s[e..].iter().take_while(|&&b| b == b'#').count();
            if matches!(&s[i..e], b"r" | b"br" | b"cr") && at(e + hashes) == b'"' {
                let close = [b"\"".as_slice(), &vec![b'#'; hashes]].concat();
                let q = find(s, e + hashes + 1, &close);
                t = Some(format!("\"{}", text(e + hashes + 1, q)));
                i = q + close.len();
            } else if &s[i..e] == b"r" && hashes == 1 && word_byte(at(e + 1)) {
                (i, t) = (word(e + 1), Some(text(e + 1, word(e + 1)))); // r#name
            } else {
                (i, t) = (e, Some(text(start, e)));
            }
        } else if c == b'"' {
            i += 1;
            while i < s.len() && s[i] != b'"' {
                i += if s[i] == b'\\' { 2 } else { 1 };
            }
            t = Some(format!("\"{}", text(start + 1, i)));
            i += 1;
        } else if c == b'\'' {
            // A char literal ('x', '\'', '"', 'é'), else a lifetime or a label ('a).
            let w = (at(i + 1).leading_ones() as usize).max(1);
            i = match at(i + 1) {
                b'\\' => find(s, i + 3, b"'") + 1,
                _ if at(i + 1 + w) == b'\'' => i + 2 + w,
                _ => word(i + 1),
            };
        } else if s[i..].starts_with(b"::") {
            (i, t) = (i + 2, Some("::".to_owned()));
        } else {
            i += 1;
            t = (!c.is_ascii_whitespace() && c != b'$').then(|| char::from(c).to_string());
        }
        i = i.min(s.len());
        toks.extend(t.map(|t| Tok { t, line }));
        line += s[start..i].iter().filter(|&&b| b == b'\n').count();
    }
    toks
}

/// The index of the bracket closing the one at `open` (or the end).
pub(super) fn matching(toks: &[Tok], open: usize) -> usize {
    let mut depth = 0;
    for (j, t) in toks.iter().enumerate().skip(open) {
        depth += i32::from(matches!(&*t.t, "(" | "[" | "{"));
        depth -= i32::from(matches!(&*t.t, ")" | "]" | "}"));
        if depth == 0 {
            return j;
        }
    }
    toks.len()
}

/// The index after the item starting at `i`: after its `;` or its `{…}` body.
pub(super) fn skip_item(toks: &[Tok], mut i: usize) -> usize {
    while i < toks.len() {
        match toks[i].t.as_str() {
            ";" => return i + 1,
            "{" => return matching(toks, i) + 1,
            "(" | "[" => i = matching(toks, i) + 1,
            ")" | "]" | "}" => return i,
            _ => i += 1,
        }
    }
    i
}

/// A `use` leaf: its path, the name it binds (None for a glob) and its line.
pub(super) type Leaf = (Vec<String>, Option<String>, usize);

/// The `use` tree at `*i` (nested braces, `self`, `as`, globs, a leading `::`) as leaves.
pub(super) fn use_tree(toks: &[Tok], i: &mut usize, prefix: &[String], out: &mut Vec<Leaf>) {
    let tok = |k: usize| toks.get(k).map_or("", |t| t.t.as_str());
    let mut path = prefix.to_vec();
    loop {
        match tok(*i) {
            "::" if path.is_empty() => path.push("::".to_owned()),
            "::" => {}
            "{" => {
                *i += 1;
                while !matches!(tok(*i), "}" | "") {
                    let before = *i;
                    use_tree(toks, i, &path, out);
                    *i += usize::from(tok(*i) == "," || *i == before);
                }
                return *i += 1;
            }
            "*" => return (out.push((path, None, toks[*i].line)), *i += 1).1,
            t if is_name(t) && tok(*i + 1) == "::" => path.push(t.to_owned()),
            t if is_name(t) => {
                path.push(t.to_owned());
                let alias = (tok(*i + 1) == "as").then(|| tok(*i + 2).to_owned());
                *i += if alias.is_some() { 2 } else { 0 };
                if path.len() > 1 && path.last().is_some_and(|s| s == "self") {
                    path.pop();
                }
                let name = alias.or_else(|| path.last().cloned());
                out.push((path, name, toks[*i].line));
                return *i += 1;
            }
            _ => return,
        }
        *i += 1;
    }
}
