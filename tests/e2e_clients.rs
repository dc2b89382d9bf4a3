//! Real MCP clients (official TypeScript SDK, Python `mcp`) against the gateway over real
//! HTTP in both runtimes: the standalone server (spawned here) and the function under
//! `cargo lambda watch` (started by `make test`, URL in `MCP_WATCH_URL`).
//!
//! Clients carry real tokens: a Cognito access token from moto (`COGNITO_CONFIG`, seeded by
//! `make test`) and an OIDC access token from the local provider (`OIDC_ISSUER`).
//!
//! Needs `MCP_E2E_NODE`, `MCP_E2E_PYTHON`, `MCP_WATCH_URL`, `COGNITO_CONFIG` and
//! `OIDC_ISSUER`, which `make test` sets after installing and starting everything; without
//! them these tests fail, they never skip.

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

fn cognito_config() -> Value {
    let path = required_env("COGNITO_CONFIG");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("COGNITO_CONFIG is JSON")
}

/// A Cognito access token for `user` (AdminInitiateAuth against moto).
fn cognito_token(user: &str) -> String {
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
async fn oidc_token(resource: &str) -> String {
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
async fn register_resource(resource: &str) {
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

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a throwaway port");
    l.local_addr().unwrap().port()
}

/// Demo tools and a gateway trusting the seeded Cognito pool and the local OIDC provider.
async fn standalone() -> (Server, Server, String) {
    let port = free_port();
    let resource = format!("http://127.0.0.1:{port}/mcp");
    // The demo tools verify the gateway's statement of who called with its published keys.
    let tools_port = free_port();
    let tools_bind = format!("127.0.0.1:{tools_port}");
    let tools_origin = format!("http://{tools_bind}");
    let gateway_jwks = format!("http://127.0.0.1:{port}/.well-known/jwks.json");
    let tools = spawn(
        env!("CARGO_BIN_EXE_demo-tools"),
        &[
            ("DEMO_TOOLS_BIND", tools_bind.as_str()),
            ("DEMO_GATEWAY_ISSUER", resource.as_str()),
            ("DEMO_GATEWAY_JWKS_URL", gateway_jwks.as_str()),
            ("DEMO_TOOLS_AUDIENCE", tools_origin.as_str()),
        ],
    );
    register_resource(&resource).await;
    let cognito = cognito_config();
    let bind = format!("127.0.0.1:{port}");
    let gateway = spawn(
        env!("CARGO_BIN_EXE_mcp-oauth-gateway"),
        &[
            ("GATEWAY_BIND", bind.as_str()),
            ("DEMO_TOOLS_URL", tools.base.as_str()),
            ("GATEWAY_RESOURCE_URL", resource.as_str()),
            ("GATEWAY_OIDC_ISSUER", required_env("OIDC_ISSUER").as_str()),
            (
                "GATEWAY_COGNITO_USER_POOL_ID",
                cognito["userPoolId"].as_str().unwrap(),
            ),
            (
                "GATEWAY_COGNITO_CLIENT_IDS",
                cognito["clientId"].as_str().unwrap(),
            ),
            (
                "GATEWAY_COGNITO_JWKS_URL",
                cognito["jwksUrl"].as_str().unwrap(),
            ),
        ],
    );
    (tools, gateway, resource)
}

fn client(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// Runs a client script and returns the one JSON line it prints.
fn run_client(program: &str, args: &[&str]) -> Value {
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

fn check(report: &Value, protocol: &str, echo: &str, caller: Option<&str>) {
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
    if let Some(user) = caller {
        let expected = format!("\"caller\":\"{user}\"");
        assert!(
            report["echo"]
                .as_str()
                .is_some_and(|t| t.contains(&expected)),
            "the tool should say who called: {report}"
        );
    }
}

/// Every client and era against one MCP URL: the TypeScript SDK with a Cognito token, the
/// Python SDK in both eras with an OIDC token; and no client gets in without a token.
async fn all_clients(url: &str, caller: Option<&str>) {
    let node = required_env("MCP_E2E_NODE");
    let python = required_env("MCP_E2E_PYTHON");
    let cognito = format!("Authorization: Bearer {}", cognito_token("alice"));
    let oidc = format!("Authorization: Bearer {}", oidc_token(url).await);

    let ts = run_client(
        &node,
        &["tests/clients/ts_client.mjs", url, "--header", &cognito],
    );
    check(&ts, "2025-11-25", "hello from ts", caller);
    // The Python SDK's default probes `server/discover` and speaks 2026-07-28.
    let py = run_client(
        &python,
        &["tests/clients/py_client.py", url, "--header", &oidc],
    );
    check(&py, "2026-07-28", "hello from python", caller);
    let py_legacy = run_client(
        &python,
        &[
            "tests/clients/py_client.py",
            url,
            "--mode",
            "legacy",
            "--header",
            &oidc,
        ],
    );
    check(&py_legacy, "2025-11-25", "hello from python", caller);

    let anonymous = client(&node, &["tests/clients/ts_client.mjs", url]);
    assert!(
        !anonymous.status.success(),
        "a client without a token got in"
    );
    let forged = client(
        &python,
        &[
            "tests/clients/py_client.py",
            url,
            "--header",
            "Authorization: Bearer e30.e30.c2ln",
        ],
    );
    assert!(
        !forged.status.success(),
        "a client with a forged token got in"
    );
}

#[tokio::test]
async fn real_clients_through_the_standalone_server() {
    let (_tools, _gateway, resource) = standalone().await;
    all_clients(&resource, Some("alice")).await;
}

#[tokio::test]
async fn real_clients_through_cargo_lambda_watch() {
    all_clients(&required_env("MCP_WATCH_URL"), Some("alice")).await;
}

#[test]
fn standalone_start_up_refuses_bad_configuration_naming_the_setting() {
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-oauth-gateway"))
        .env("GATEWAY_BIND", "127.0.0.1:0")
        .env("GATEWAY_COGNITO_USER_POOL_ID", "us-east-1_Pool1")
        .env("GATEWAY_COGNITO_CLIENT_IDS", "c")
        .env("GATEWAY_TOOLS_TTL_MS", "soon")
        .env("DEMO_TOOLS_URL", "http://127.0.0.1:1")
        .output()
        .expect("run the gateway");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("GATEWAY_TOOLS_TTL_MS"), "{stderr}");

    let out = Command::new(env!("CARGO_BIN_EXE_mcp-oauth-gateway"))
        .env("GATEWAY_BIND", "127.0.0.1:0")
        .env("GATEWAY_COGNITO_USER_POOL_ID", "us-east-1_Pool1")
        .env("GATEWAY_COGNITO_CLIENT_IDS", "c")
        .env_remove("DEMO_TOOLS_URL")
        .output()
        .expect("run the gateway");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DEMO_TOOLS_URL is not set"), "{stderr}");

    // No trusted issuer at all: refuse to start rather than serve anyone.
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-oauth-gateway"))
        .env("GATEWAY_BIND", "127.0.0.1:0")
        .env("DEMO_TOOLS_URL", "http://127.0.0.1:1")
        .env_remove("GATEWAY_COGNITO_USER_POOL_ID")
        .env_remove("GATEWAY_OIDC_ISSUER")
        .env_remove("GATEWAY_ISSUERS")
        .output()
        .expect("run the gateway");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("GATEWAY_ISSUERS: no trusted issuer"),
        "{stderr}"
    );
}
