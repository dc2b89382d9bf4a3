//! The architecture test's module graph: each file's module path, what its `use`s and inline
//! paths resolve to (re-exports followed), and the strongly connected components.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::lex::*;

/// A module, of a file or inline: what it declares and imports.
#[derive(Default)]
pub(super) struct Module {
    pub(super) file: usize,
    pub(super) path: Vec<String>,
    pub(super) parent: Option<usize>,
    pub(super) root: usize,
    pub(super) children: HashMap<String, usize>,
    pub(super) binds: Vec<(String, Vec<String>)>,
    pub(super) globs: Vec<Vec<String>>,
    pub(super) items: HashSet<String>,
}

impl Module {
    pub(super) fn has(&self, name: &str) -> bool {
        self.children.contains_key(name) || self.binds.iter().any(|b| b.0 == name)
    }

    pub(super) fn defines(&self, name: &str) -> bool {
        self.has(name) || self.items.contains(name)
    }
}

/// What a path in the crate names: module `.0` itself (`.1`), or an item in its file.
pub(super) type Res = (usize, bool);

/// A crate's files (as given) and file → file edges, each with its first referencing line.
#[derive(Default)]
pub(super) struct Graph {
    pub(super) files: Vec<String>,
    pub(super) parsed: usize,
    pub(super) mods: Vec<Module>,
    pub(super) queue: Vec<usize>,
    pub(super) refs: Vec<(usize, Vec<String>, usize)>,
    pub(super) edges: BTreeMap<(usize, usize), (usize, String)>,
}

pub(super) fn join(dir: &str, p: &str) -> String {
    [dir, p].join("/").trim_start_matches('/').to_owned()
}

/// The file graph of the crates rooted at `roots` among `(path, text)` files. Edges between
/// a module and its ancestors or descendants are left out, and so are `#[cfg(test)]` items.
pub(super) fn build(files: &[(String, String)], roots: &[&str]) -> Graph {
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
    pub(super) fn file(&self, path: &str) -> Option<usize> {
        self.files.iter().position(|f| f == path)
    }

    pub(super) fn module(&mut self, parent: Option<usize>, name: &str, file: usize) -> usize {
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
    pub(super) fn mod_file(
        &self,
        m: usize,
        top: usize,
        name: &str,
        attr: Option<String>,
    ) -> Option<usize> {
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
    pub(super) fn parse(&mut self, top: usize, src: &str) {
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
    pub(super) fn resolve(&self, m: usize, path: &[String], depth: usize) -> Option<Res> {
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
    pub(super) fn scope(&self, m: usize, name: &str, depth: usize) -> Option<Res> {
        if let Some(&c) = self.mods[m].children.get(name) {
            return Some((c, true));
        }
        let bind = self.mods[m].binds.iter().find(|b| b.0 == name)?;
        self.resolve(m, &bind.1, depth + 1)
    }

    /// `x::seg`: a child module, an import followed (a re-export), or an item of `x`'s file.
    pub(super) fn member(&self, x: usize, seg: &str, depth: usize) -> Option<Res> {
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
    pub(super) fn cycles(&self) -> Vec<Vec<String>> {
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
pub(super) struct Tarjan {
    pub(super) adj: Vec<Vec<usize>>,
    pub(super) index: Vec<usize>,
    pub(super) low: Vec<usize>,
    pub(super) stack: Vec<usize>,
    pub(super) next: usize,
    pub(super) out: Vec<Vec<usize>>,
}

impl Tarjan {
    pub(super) fn visit(&mut self, v: usize) {
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
