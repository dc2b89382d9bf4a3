//! The architecture's rules as tests that fail when one is broken: the core depends on no
//! SDK, HTTP or Lambda crate and the adapters on no edge or serving crate (`cargo tree`), and
//! no crate has a file-level import cycle. The cycle check is a small parser of `mod`, `use`
//! and inline paths that follows re-exports; its self-tests run it on in-memory trees, so the
//! real check cannot pass vacuously.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

mod graph;
mod lex;
mod self_tests;

use graph::*;

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
