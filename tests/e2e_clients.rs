//! Real MCP clients (official TypeScript SDK, Python `mcp`) against the gateway over real
//! HTTP in both runtimes: the standalone server (spawned here) and the function under
//! `cargo lambda watch` (started by `make test`, URL in `MCP_WATCH_URL`).
//!
//! Needs `MCP_E2E_NODE`, `MCP_E2E_PYTHON` and `MCP_WATCH_URL`, which `make test` sets after
//! installing and starting everything; without them these tests fail, they never skip.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the suite with `make test`, which installs and starts what it needs")
    })
}

/// A spawned server, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns a binary with a port-0 bind and reads the address it prints.
fn spawn(bin: &str, envs: &[(&str, &str)]) -> Server {
    let mut child = Command::new(bin)
        .envs(envs.iter().copied())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the listening line");
    let base = line
        .trim()
        .rsplit(' ')
        .next()
        .filter(|u| u.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("{bin} printed {line:?}, not its address"))
        .to_owned();
    Server { child, base }
}

fn standalone() -> (Server, Server) {
    let tools = spawn(
        env!("CARGO_BIN_EXE_demo-tools"),
        &[("DEMO_TOOLS_BIND", "127.0.0.1:0")],
    );
    let gateway = spawn(
        env!("CARGO_BIN_EXE_mcp-oauth-gateway"),
        &[
            ("GATEWAY_BIND", "127.0.0.1:0"),
            ("DEMO_TOOLS_URL", tools.base.as_str()),
        ],
    );
    (tools, gateway)
}

/// Runs a client script and returns the one JSON line it prints.
fn run_client(program: &str, args: &[&str]) -> Value {
    let out = Command::new(program)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("client output {stdout:?} is not JSON: {e}"))
}

fn check(report: &Value, protocol: &str, echo: &str) {
    assert_eq!(report["protocolVersion"], protocol, "{report}");
    assert_eq!(
        report["tools"],
        serde_json::json!(["calculate", "current_time", "echo"]),
        "{report}"
    );
    assert!(
        report["echo"].as_str().is_some_and(|t| t.contains(echo)),
        "{report}"
    );
}

/// Every client and era against one MCP URL.
fn all_clients(url: &str) {
    let node = required_env("MCP_E2E_NODE");
    let python = required_env("MCP_E2E_PYTHON");
    let ts = run_client(&node, &["tests/clients/ts_client.mjs", url]);
    check(&ts, "2025-11-25", "hello from ts");
    // The Python SDK's default probes `server/discover` and speaks 2026-07-28.
    let py = run_client(&python, &["tests/clients/py_client.py", url]);
    check(&py, "2026-07-28", "hello from python");
    let py_legacy = run_client(
        &python,
        &["tests/clients/py_client.py", url, "--mode", "legacy"],
    );
    check(&py_legacy, "2025-11-25", "hello from python");
}

#[test]
fn real_clients_through_the_standalone_server() {
    let (_tools, gateway) = standalone();
    all_clients(&format!("{}/mcp", gateway.base));
}

#[test]
fn real_clients_through_cargo_lambda_watch() {
    all_clients(&required_env("MCP_WATCH_URL"));
}

#[test]
fn standalone_start_up_refuses_bad_configuration_naming_the_setting() {
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-oauth-gateway"))
        .env("GATEWAY_BIND", "127.0.0.1:0")
        .env("GATEWAY_TOOLS_TTL_MS", "soon")
        .env("DEMO_TOOLS_URL", "http://127.0.0.1:1")
        .output()
        .expect("run the gateway");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("GATEWAY_TOOLS_TTL_MS"), "{stderr}");

    let out = Command::new(env!("CARGO_BIN_EXE_mcp-oauth-gateway"))
        .env("GATEWAY_BIND", "127.0.0.1:0")
        .env_remove("DEMO_TOOLS_URL")
        .output()
        .expect("run the gateway");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DEMO_TOOLS_URL is not set"), "{stderr}");
}
