//! For `tests/services/gatewayctl/` and the deny-list tests: running the real `gatewayctl`
//! binary against moto's DynamoDB (`AWS_ENDPOINT_URL`) with dummy credentials, fresh tables
//! and scratch files, and reading its JSON answers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use mcp_oauth_gateway::policy::ConfigDocument;

pub const DEMO_URL: &str = "http://127.0.0.1:9/demo";
/// What `${EVERYTHING_MCP_URL}` is set to for gatewayctl (nothing listens there).
pub const EVERYTHING_URL: &str = "http://127.0.0.1:9/everything/mcp";

pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!("AWS_ENDPOINT_URL is not set: run under `make test`, or `source scripts/common.sh; setup_python; start_moto` first")
    })
}

pub fn fresh_table(tag: &str) -> String {
    format!("gwctl-{tag}-{}", uuid::Uuid::new_v4().simple())
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Failed with exactly one line on stderr containing `needle`.
    pub fn fails_with(self, needle: &str) -> Self {
        assert_ne!(self.code, 0, "expected failure; stdout: {}", self.stdout);
        assert!(
            self.stderr.contains(needle),
            "{needle:?} not in {:?}",
            self.stderr
        );
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "{:?}",
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

/// Runs gatewayctl with moto's endpoint and dummy credentials (the table is given per call).
pub fn ctl_with(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatewayctl"));
    cmd.args(args)
        .env("AWS_ENDPOINT_URL", endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("DEMO_TOOLS_URL", DEMO_URL)
        .env("EVERYTHING_MCP_URL", EVERYTHING_URL)
        .env_remove("GATEWAY_POLICY_TABLE")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("gatewayctl starts");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

pub fn ctl(args: &[&str]) -> Run {
    ctl_with(args, None, &[])
}

/// A fresh, created table.
pub fn new_table(tag: &str) -> String {
    let table = fresh_table(tag);
    let out = ctl(&["--table", &table, "table", "create"]).ok();
    assert_eq!(out.stdout.trim(), format!("table {table} created"));
    table
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

pub fn scratch(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("gwctl-{tag}-{}", uuid::Uuid::new_v4().simple()))
}

pub fn demo_org() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo-org.yaml")
}

pub fn report(run: &Run) -> Vec<Vec<String>> {
    let v = run.json();
    ["added", "changed", "unchanged", "removed"]
        .iter()
        .map(|k| {
            let names = v[k].as_array().unwrap();
            names
                .iter()
                .map(|n| n.as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

/// The document with the store-managed fields dropped.
pub fn content(mut doc: ConfigDocument) -> ConfigDocument {
    for p in &mut doc.policies {
        (p.version, p.updated_at) = (None, None);
    }
    ConfigDocument::from_yaml(&doc.to_yaml()).unwrap()
}
