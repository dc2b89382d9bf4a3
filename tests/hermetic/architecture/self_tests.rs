//! Self-tests of the architecture test's parser and resolver on in-memory trees: the real
//! check cannot pass vacuously.

use super::graph::*;

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
