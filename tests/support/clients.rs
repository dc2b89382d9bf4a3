//! Shared by `tests/e2e_clients.rs` and `tests/e2e_targets.rs` (included with `#[path]`):
//! required environment, spawned servers killed on drop, real tokens (a Cognito access
//! token from moto through scripts/cognito.py, an OIDC access token from the local
//! provider), and running the client scripts in tests/clients/.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the suite with `make test`, which installs and starts what it needs")
    })
}

/// A spawned server, killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
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

pub fn cognito_config() -> Value {
    let path = required_env("COGNITO_CONFIG");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("COGNITO_CONFIG is JSON")
}

/// A Cognito access token for `user` (AdminInitiateAuth against moto).
pub fn cognito_token(user: &str) -> String {
    let out = Command::new(required_env("MCP_E2E_PYTHON"))
        .args(["scripts/cognito.py", "token", "--user", user, "--config"])
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

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a throwaway port");
    l.local_addr().unwrap().port()
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
