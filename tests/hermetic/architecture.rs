//! The architecture's rules as tests that fail when one is broken: the core depends on no
//! SDK, HTTP or Lambda crate and the adapters on no edge or serving crate (`cargo tree`), and
//! no crate has a file-level import cycle. The cycle check is a small parser of `mod`, `use`
//! and inline paths that follows re-exports; its self-tests run it on in-memory trees, so the
//! real check cannot pass vacuously.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Asserts that `cargo tree` lists `package` and, among its normal dependencies, nothing
/// `forbidden`.
fn assert_no_dependency(package: &str, forbidden: impl Fn(&str) -> bool) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let args = format!("tree -p {package} -e normal --prefix none --offline --locked");
    let mut cmd = Command::new(cargo);
    cmd.args(args.split(' ')).current_dir(ROOT);
    let out = cmd.output().expect("run cargo tree");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "cargo {args}: {stderr}");
    let names: BTreeSet<&str> = stdout.lines().flat_map(|l| l.split(' ').next()).collect();
    assert!(names.contains(package), "{package} not in: {stdout}");
    let bad: Vec<&str> = names.into_iter().filter(|n| forbidden(n)).collect();
    assert!(bad.is_empty(), "{package} depends on {}", bad.join(", "));
}

#[test]
fn core_depends_on_no_sdk_http_or_lambda_crate() {
    let named = "aws-config reqwest hyper hyper-util axum tower lambda_http lambda_runtime \
                 tokio-rustls rustls";
    let named: Vec<&str> = named.split(' ').collect();
    let sdk = |n: &str| n.starts_with("aws-sdk-") || n.starts_with("aws-smithy-");
    assert_no_dependency("gateway-core", |n| sdk(n) || named.contains(&n));
}

#[test]
fn adapters_depend_on_no_edge_or_serving_crate() {
    let named = ["axum", "lambda_http", "lambda_runtime"];
    assert_no_dependency("gateway-adapters", |n| named.contains(&n));
}

fn word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

fn is_name(t: &str) -> bool {
    t.bytes()
        .next()
        .is_some_and(|c| word_byte(c) && !c.is_ascii_digit())
}

/// Where `pat` next occurs in `s` from `from`, or the end.
fn find(s: &[u8], from: usize, pat: &[u8]) -> usize {
    let from = from.min(s.len());
    let at = s[from..].windows(pat.len()).position(|w| w == pat);
    at.map_or(s.len(), |p| from + p)
}

/// A token and its line: a word, `::`, one punctuation byte, or a string literal as `"` and
/// its contents (never a name). Comments, char literals, lifetimes and `$` are dropped.
struct Tok {
    t: String,
    line: usize,
}

fn lex(src: &str) -> Vec<Tok> {
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
fn matching(toks: &[Tok], open: usize) -> usize {
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
fn skip_item(toks: &[Tok], mut i: usize) -> usize {
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
type Leaf = (Vec<String>, Option<String>, usize);

/// The `use` tree at `*i` (nested braces, `self`, `as`, globs, a leading `::`) as leaves.
fn use_tree(toks: &[Tok], i: &mut usize, prefix: &[String], out: &mut Vec<Leaf>) {
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

/// A module, of a file or inline: what it declares and imports.
#[derive(Default)]
struct Module {
    file: usize,
    path: Vec<String>,
    parent: Option<usize>,
    root: usize,
    children: HashMap<String, usize>,
    binds: Vec<(String, Vec<String>)>,
    globs: Vec<Vec<String>>,
    items: HashSet<String>,
}

impl Module {
    fn has(&self, name: &str) -> bool {
        self.children.contains_key(name) || self.binds.iter().any(|b| b.0 == name)
    }

    fn defines(&self, name: &str) -> bool {
        self.has(name) || self.items.contains(name)
    }
}

/// What a path in the crate names: module `.0` itself (`.1`), or an item in its file.
type Res = (usize, bool);

/// A crate's files (as given) and file → file edges, each with its first referencing line.
#[derive(Default)]
struct Graph {
    files: Vec<String>,
    parsed: usize,
    mods: Vec<Module>,
    queue: Vec<usize>,
    refs: Vec<(usize, Vec<String>, usize)>,
    edges: BTreeMap<(usize, usize), (usize, String)>,
}

fn join(dir: &str, p: &str) -> String {
    [dir, p].join("/").trim_start_matches('/').to_owned()
}

/// The file graph of the crates rooted at `roots` among `(path, text)` files. Edges between
/// a module and its ancestors or descendants are left out, and so are `#[cfg(test)]` items.
fn build(files: &[(String, String)], roots: &[&str]) -> Graph {
    let mut g = Graph::default();
    g.files.extend(files.iter().map(|f| f.0.clone()));
    for f in (0..files.len()).filter(|&f| roots.contains(&&*files[f].0)) {
        g.module(None, "", f);
    }
    let mut top = HashMap::new(); // file → its module; inline modules are queued but not read
    while let Some(m) = g.queue.pop() {
        if top.insert(g.mods[m].file, m).is_none() {
            g.parse(m, &files[g.mods[m].file].1);
        }
    }
    g.parsed = top.len();
    for (m, path, line) in std::mem::take(&mut g.refs) {
        let from = g.mods[m].file;
        let Some(r) = g.resolve(m, &path, 0) else {
            continue;
        };
        let to = g.mods[r.0].file;
        let (a, b) = (&g.mods[top[&from]].path, &g.mods[top[&to]].path);
        if !a.starts_with(b) && !b.starts_with(a) {
            let text = files[from].1.lines().nth(line - 1).unwrap_or("").trim();
            g.edges.entry((from, to)).or_insert((line, text.to_owned()));
        }
    }
    g
}

impl Graph {
    fn file(&self, path: &str) -> Option<usize> {
        self.files.iter().position(|f| f == path)
    }

    fn module(&mut self, parent: Option<usize>, name: &str, file: usize) -> usize {
        let (id, mut md) = (self.mods.len(), Module::default());
        (md.file, md.parent, md.root) = (file, parent, self.mods.len());
        if let Some(p) = parent {
            md.path = [self.mods[p].path.clone(), vec![name.to_owned()]].concat();
            md.root = self.mods[p].root;
            self.mods[p].children.insert(name.to_owned(), id);
        }
        self.mods.push(md);
        self.queue.push(id);
        id
    }

    /// The file of `mod name;` in module `m`, which is in the file of module `top`.
    fn mod_file(&self, m: usize, top: usize, name: &str, attr: Option<String>) -> Option<usize> {
        let file = self.files[self.mods[top].file].as_str();
        let (dir, fname) = file.rsplit_once('/').unwrap_or(("", file));
        let own = self.mods[top].parent.is_none() || fname == "mod.rs";
        let stem = &fname[..fname.len() - 3];
        let mut base = if own { dir.to_owned() } else { join(dir, stem) };
        let inline = &self.mods[m].path[self.mods[top].path.len()..];
        inline.iter().for_each(|s| base = join(&base, s));
        let names = match attr {
            // `#[path]` is relative to the declaring file's directory.
            Some(p) if inline.is_empty() => return self.file(&join(dir, &p)),
            Some(p) => vec![p],
            None => vec![format!("{name}.rs"), format!("{name}/mod.rs")],
        };
        names.iter().find_map(|n| self.file(&join(&base, n)))
    }

    /// Reads the file of module `top`: its `mod`s (queued), `use`s, items and inline paths.
    fn parse(&mut self, top: usize, src: &str) {
        let toks = lex(src);
        let tok = |k: usize| toks.get(k).map_or("", |t| t.t.as_str());
        let (mut scopes, mut depth, mut i, mut path_attr) = (vec![(top, 0)], 0, 0, None);
        while i < toks.len() {
            let m = scopes[scopes.len() - 1].0;
            match tok(i) {
                "#" if tok(i + 1) == "[" || tok(i + 1) == "!" && tok(i + 2) == "[" => {
                    let inner = tok(i + 1) == "!";
                    let open = i + 1 + usize::from(inner);
                    let close = matching(&toks, open);
                    let attr: Vec<&str> = toks[open + 1..close].iter().map(|t| &*t.t).collect();
                    i = close + 1;
                    if !inner && attr == ["cfg", "(", "test", ")"] {
                        i = skip_item(&toks, i); // test-only code may use anything
                    } else if let ["path", "=", p] = attr[..] {
                        path_attr = p.strip_prefix('"').map(str::to_owned);
                    }
                }
                "mod" if is_name(tok(i + 1)) && matches!(tok(i + 2), ";" | "{") => {
                    let (name, attr, inline) = (tok(i + 1), path_attr.take(), tok(i + 2) == "{");
                    let file = match inline {
                        true => Some(self.mods[m].file),
                        false => self.mod_file(m, top, name, attr),
                    };
                    let id = file.map(|file| self.module(Some(m), name, file));
                    scopes.extend(id.filter(|_| inline).map(|id| (id, depth)));
                    i += 2;
                }
                "use" if tok(i + 1) != "<" => {
                    let mut leaves = vec![];
                    i += 1;
                    use_tree(&toks, &mut i, &[], &mut leaves);
                    for (path, name, line) in leaves {
                        match name {
                            None => self.mods[m].globs.push(path.clone()),
                            Some(n) if n != "_" => self.mods[m].binds.push((n, path.clone())),
                            Some(_) => {}
                        }
                        self.refs.push((m, path, line));
                    }
                }
                "fn" | "struct" | "enum" | "trait" | "type" | "const" | "static" | "union"
                | "macro_rules" => {
                    let k = i + 1 + usize::from(matches!(tok(i + 1), "mut" | "!"));
                    self.mods[m].items.insert(tok(k).to_owned());
                    i += 1;
                }
                "{" => (depth, i) = (depth + 1, i + 1),
                "}" => {
                    (depth, i) = (depth.max(1) - 1, i + 1);
                    if scopes.len() > 1 && scopes[scopes.len() - 1].1 == depth {
                        scopes.pop();
                    }
                }
                t if is_name(t) && tok(i + 1) == "::" && (i == 0 || tok(i - 1) != "::") => {
                    let mut path = vec![t.to_owned()];
                    while tok(i + 1) == "::" && is_name(tok(i + 2)) {
                        path.push(tok(i + 2).to_owned());
                        i += 2;
                    }
                    self.refs.push((m, path, toks[i].line));
                    i += 1;
                }
                _ => i += 1,
            }
        }
    }

    /// What `path`, written in module `m`, names in the crate (None: outside it).
    fn resolve(&self, m: usize, path: &[String], depth: usize) -> Option<Res> {
        let ups = path.iter().take_while(|s| *s == "super").count();
        let up = (0..ups).try_fold(m, |x, _| self.mods[x].parent);
        let (mut at, rest) = match path.first()?.as_str() {
            _ if depth > 16 => return None,
            "super" => ((up?, true), ups),
            "crate" => ((self.mods[m].root, true), 1),
            "self" => ((m, true), 1),
            name => (self.scope(m, name, depth)?, 1),
        };
        for seg in &path[rest..] {
            let (x, true) = at else { break };
            at = self.member(x, seg, depth)?;
        }
        Some(at)
    }

    /// A path's first name, among what `m` declares or imports; else another crate, the
    /// prelude or a local item, none of which makes an edge.
    fn scope(&self, m: usize, name: &str, depth: usize) -> Option<Res> {
        if let Some(&c) = self.mods[m].children.get(name) {
            return Some((c, true));
        }
        let bind = self.mods[m].binds.iter().find(|b| b.0 == name)?;
        self.resolve(m, &bind.1, depth + 1)
    }

    /// `x::seg`: a child module, an import followed (a re-export), or an item of `x`'s file.
    fn member(&self, x: usize, seg: &str, depth: usize) -> Option<Res> {
        let md = &self.mods[x];
        if md.has(seg) {
            return self.scope(x, seg, depth);
        }
        let found = |&(g, module): &Res| module && self.mods[g].defines(seg);
        let mut globbed = md
            .globs
            .iter()
            .filter_map(|p| self.resolve(x, p, depth + 1));
        match globbed.find(found) {
            Some((g, _)) if !md.items.contains(seg) => self.member(g, seg, depth + 1),
            _ => Some((x, false)),
        }
    }

    /// The strongly connected components of more than one file (Tarjan), by file name.
    fn cycles(&self) -> Vec<Vec<String>> {
        let (n, mut t) = (self.files.len(), Tarjan::default());
        (t.adj, t.index, t.low) = (vec![vec![]; n], vec![usize::MAX; n], vec![0; n]);
        self.edges.keys().for_each(|&(a, b)| t.adj[a].push(b));
        (0..n).for_each(|v| t.visit(v));
        let mut out = vec![];
        for c in t.out.iter().filter(|c| c.len() > 1) {
            let mut names: Vec<String> = c.iter().map(|&f| self.files[f].clone()).collect();
            names.sort();
            out.push(names);
        }
        out.sort();
        out
    }
}

#[derive(Default)]
struct Tarjan {
    adj: Vec<Vec<usize>>,
    index: Vec<usize>,
    low: Vec<usize>,
    stack: Vec<usize>,
    next: usize,
    out: Vec<Vec<usize>>,
}

impl Tarjan {
    fn visit(&mut self, v: usize) {
        if self.index[v] != usize::MAX {
            return;
        }
        (self.index[v], self.low[v], self.next) = (self.next, self.next, self.next + 1);
        self.stack.push(v);
        for w in self.adj[v].clone() {
            if self.index[w] == usize::MAX {
                self.visit(w);
                self.low[v] = self.low[v].min(self.low[w]);
            } else if self.stack.contains(&w) {
                self.low[v] = self.low[v].min(self.index[w]);
            }
        }
        if self.low[v] == self.index[v] {
            let at = self.stack.iter().rposition(|&w| w == v).unwrap_or(0);
            self.out.push(self.stack.split_off(at));
        }
    }
}

/// Every `.rs` file under `base/rel`, as (path relative to `base`, text).
fn source_tree(base: &Path, rel: &str, out: &mut Vec<(String, String)>) {
    let entries = std::fs::read_dir(base.join(rel)).expect("read a source directory");
    for entry in entries.flatten() {
        let rel = join(rel, &entry.file_name().to_string_lossy());
        let read = || std::fs::read_to_string(entry.path()).ok();
        if entry.path().is_dir() {
            source_tree(base, &rel, out);
        } else if let Some(text) = rel.ends_with(".rs").then(read).flatten() {
            out.push((rel, text));
        }
    }
}

#[test]
fn no_crate_has_a_file_level_import_cycle() {
    let (mut files, mut edges, mut report) = (0, 0, String::new());
    let dirs = [
        "crates/gateway-core/src",
        "crates/gateway-adapters/src",
        "src",
    ];
    for dir in dirs {
        let mut tree = vec![];
        source_tree(&Path::new(ROOT).join(dir), "", &mut tree);
        // lib.rs, main.rs and each binary (bin/x.rs, bin/x/main.rs) are crate roots.
        let is_root = |p: &&str| match p.strip_prefix("bin/") {
            Some(bin) => bin.ends_with("/main.rs") || !bin.contains('/'),
            None => matches!(*p, "lib.rs" | "main.rs"),
        };
        let roots: Vec<&str> = tree.iter().map(|f| f.0.as_str()).filter(is_root).collect();
        let g = build(&tree, &roots);
        (files, edges) = (files + g.parsed, edges + g.edges.len());
        for c in g.cycles() {
            let _ = writeln!(report, "cycle: {dir}/{}", c.join(&format!(", {dir}/")));
            for (&(a, b), (line, text)) in &g.edges {
                let (a, b) = (&g.files[a], &g.files[b]);
                if c.contains(a) && c.contains(b) {
                    let _ = writeln!(report, "  {dir}/{a} -> {dir}/{b} (line {line}: `{text}`)");
                }
            }
        }
    }
    assert!(files > 50 && edges > 50, "{files} files, {edges} edges");
    assert!(
        report.is_empty(),
        "import cycles ({files} files):\n{report}"
    );
}

/// An in-memory crate, given as `== path` lines each followed by the file's text: its
/// edges (`from -> to`, sorted), its cycles (`a b; c d`) and how many files were read.
fn fake(spec: &str) -> (String, String, usize) {
    let mut files: Vec<(String, String)> = vec![];
    for line in spec.lines() {
        if let Some(path) = line.trim().strip_prefix("== ") {
            files.push((path.to_owned(), String::new()));
        } else if let Some(file) = files.last_mut() {
            file.1 += &format!("{line}\n");
        }
    }
    let g = build(&files, &["lib.rs"]);
    let edge = |&(a, b): &(usize, usize)| format!("{} -> {}", g.files[a], g.files[b]);
    let mut edges: Vec<String> = g.edges.keys().map(edge).collect();
    edges.sort();
    let cycles: Vec<String> = g.cycles().iter().map(|c| c.join(" ")).collect();
    (edges.join(", "), cycles.join("; "), g.parsed)
}

#[test]
fn self_test_detects_a_direct_cycle() {
    let (edges, cycles, _) = fake(
        "== lib.rs
         pub mod a; pub mod b;
         == a.rs
         use crate::b::X; pub struct Y;
         == b.rs
         pub struct X; fn f() { let _ = crate::a::Y; }",
    );
    assert_eq!(edges, "a.rs -> b.rs, b.rs -> a.rs");
    assert_eq!(cycles, "a.rs b.rs");
}

#[test]
fn self_test_detects_a_cycle_through_a_reexport() {
    let (edges, cycles, _) = fake(
        "== lib.rs
         mod a; mod m;
         == a.rs
         use crate::m::Z; pub struct W;
         == m/mod.rs
         mod z; pub use z::Z;
         == m/z.rs
         use crate::a::W; pub struct Z;",
    );
    assert_eq!(edges, "a.rs -> m/z.rs, m/z.rs -> a.rs");
    assert_eq!(cycles, "a.rs m/z.rs");
}

#[test]
fn self_test_reads_brace_groups_aliases_globs_self_and_super() {
    let (edges, cycles, parsed) = fake(
        "== lib.rs
         mod p; mod q; mod r; mod s; mod t; mod u;
         == p/mod.rs
         mod inner;
         == p/inner.rs
         use super::super::{q::{self as qq}, r::{R as Renamed, self}, s::*};
         fn f() { qq::go(); super::super::t::T::new(); crate::u::C::new(); crate::u::W; }
         == q.rs
         == r.rs
         pub struct R;
         == s.rs
         pub fn g() {}
         == t.rs
         use crate::u::ext::Thing; // another crate's module, re-exported: no edge
         pub struct T; pub mod code { pub fn f() { super::super::s::g(); } }
         == u/mod.rs
         mod v; mod w; pub use self::v::{A, B as C}; pub use w::*;
         pub(crate) use crate::t::T; pub use other_crate::ext;
         == u/v.rs
         pub struct A; pub struct B;
         == u/w.rs
         pub struct W;",
    );
    let inner = "p/inner.rs -> q.rs, p/inner.rs -> r.rs, p/inner.rs -> s.rs, p/inner.rs -> t.rs";
    let more = "p/inner.rs -> u/v.rs, p/inner.rs -> u/w.rs, t.rs -> s.rs, u/mod.rs -> t.rs";
    assert_eq!(edges, format!("{inner}, {more}"));
    assert_eq!((cycles.as_str(), parsed), ("", 10));
}

#[test]
fn self_test_ignores_parents_children_tests_comments_and_strings() {
    let (edges, cycles, parsed) = fake(
        r##"== lib.rs
        pub mod p; pub mod q; pub mod z; pub struct Root;
        == p/mod.rs
        mod c; pub use c::X; use crate::Root; pub struct Y;
        #[cfg(test)] mod tests { use crate::q::Q; }
        #[cfg(test)] #[path = "c_tests.rs"] mod more;
        == p/c_tests.rs
        use crate::q::Q;
        == p/c.rs
        pub struct X; use super::Y; // use crate::q::Q;
        /* crate::q::Q /* nested */ crate::q::Q */ /// crate::q::Q
        const S: &str = "crate::q::Q \" crate::q::Q";
        const R: &str = r#"crate::q::Q " crate::q::Q"#; const C: char = '"';
        fn f<'a>(_: &'a str) { let _ = crate::z::Z; }
        == q.rs
        use crate::p::X; pub struct Q; #[path = "elsewhere.rs"] mod renamed;
        == elsewhere.rs
        fn f() { crate::z::Z::new(); }
        == q/renamed.rs
        use crate::p::Y;
        == z.rs
        pub struct Z;"##,
    );
    assert_eq!(
        edges,
        "elsewhere.rs -> z.rs, p/c.rs -> z.rs, q.rs -> p/c.rs"
    );
    // Neither the #[cfg(test)] file nor the one #[path] stands in for is read.
    assert_eq!((cycles.as_str(), parsed), ("", 6));
}
