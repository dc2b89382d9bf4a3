//! Shared by `tests/auth_cognito.rs` and `tests/auth_oidc.rs` (included with `#[path]`):
//! required environment, spawned processes that are killed when dropped (the standalone
//! gateway and private `oidc-provider` instances, both on 127.0.0.1 only), tokens from the
//! OIDC provider and its `/__admin/*` side channel, `POST /mcp tools/list` over real HTTP,
//! and small JWT helpers that read or rewrite a token without verifying it.
//!
//! Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// How long a spawned process gets to print its listening line (a guard against a hang,
/// not a timing assumption: both print it well under a second).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A variable that `make test` exports. Missing means the suite was not started the right
/// way: fail loudly, never skip.
pub fn required_env(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not set: run the suite with `make test`, which starts moto (Cognito) and \
                 the OIDC provider and exports it (or see scripts/common.sh to start them by hand)"
            )
        })
}

/// A port on 127.0.0.1 that nothing listens on right now (bound, then released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a throwaway port");
    l.local_addr().expect("local address").port()
}

/// A resource URL no other test uses (an audience for OIDC tokens; nothing listens there).
pub fn unique_resource() -> String {
    format!("http://127.0.0.1:1/{}/mcp", uuid::Uuid::new_v4())
}

/// A spawned child process, killed (and reaped) when dropped.
pub struct Process {
    child: Child,
    /// What the process announced, e.g. `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `cmd` with stdout piped and waits for its first stdout line, which must start
/// with `announce` followed by its `http://127.0.0.1:PORT` URL. The rest of stdout is
/// drained on a thread so the child never blocks on (or dies of) a closed pipe.
fn spawn_announcing(mut cmd: Command, what: &str, announce: &str) -> Process {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(first)) = lines.next() {
            let _ = tx.send(first);
        }
        for _ in lines {}
    });
    // Build the guard first, so a panic below still kills the child.
    let mut process = Process {
        child,
        base: String::new(),
    };
    let line = match rx.recv_timeout(START_TIMEOUT) {
        Ok(line) => line,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what} printed nothing within {START_TIMEOUT:?}")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let status = process.child.wait().ok();
            panic!(
                "{what} exited before announcing its address (status {status:?}); see its stderr above"
            )
        }
    };
    process.base = line
        .trim()
        .strip_prefix(announce)
        .map(str::trim)
        .filter(|u| u.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| {
            panic!("{what} printed {line:?}, not `{announce} http://127.0.0.1:PORT`")
        })
        .to_owned();
    process
}

/// The standalone gateway binary with `envs` (after `GATEWAY_BIND=127.0.0.1:0`,
/// `DEMO_TOOLS_URL=http://127.0.0.1:1` and `RUST_LOG=warn`, which `envs` may override).
/// `GATEWAY_*` variables of the test's own environment are not inherited.
pub fn spawn_gateway(envs: &[(&str, &str)]) -> Process {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-oauth-gateway"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GATEWAY_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("GATEWAY_BIND", "127.0.0.1:0")
        .env("DEMO_TOOLS_URL", "http://127.0.0.1:1")
        .env("RUST_LOG", "warn")
        .envs(envs.iter().copied())
        .stderr(Stdio::inherit());
    spawn_announcing(cmd, "the gateway", "mcp-oauth-gateway listening on")
}

/// A private `oidc-provider` (tests/idp/oidc_provider.mjs) on a port of its own choosing,
/// for tests that rotate its key or take its JWKS down; killed when dropped.
pub struct OidcProvider {
    _process: Process,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub issuer: String,
}

impl OidcProvider {
    /// Starts one that issues tokens for `resources`.
    pub fn spawn(resources: &[&str]) -> Self {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut cmd = Command::new(required_env("MCP_E2E_NODE"));
        cmd.arg(format!("{root}/tests/idp/oidc_provider.mjs"))
            // Port 0: the provider binds a free port itself and announces its issuer.
            .args(["--port", "0"])
            .current_dir(root)
            // Its request log is noise here; a failure to start shows as a missing line.
            .stderr(Stdio::null());
        for r in resources {
            cmd.args(["--resource", r]);
        }
        let process = spawn_announcing(cmd, "the OIDC provider", "oidc-provider listening on");
        Self {
            issuer: process.base.clone(),
            _process: process,
        }
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// A client-credentials access token (a JWT whose `aud` is `resource`) from `issuer`.
pub async fn oidc_token(
    issuer: &str,
    client_id: &str,
    secret: &str,
    resource: &str,
    scope: &str,
) -> String {
    let resp = http()
        .post(format!("{issuer}/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("resource", resource),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap_or_else(|e| panic!("token request to {issuer}: {e}"));
    let status = resp.status();
    let body: Value = resp.json().await.expect("token response is JSON");
    assert_eq!(status, StatusCode::OK, "token request refused: {body}");
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token: {body}"))
        .to_owned()
}

/// client-alice's token for `resource` with scope `mcp:tools`.
pub async fn alice_token(issuer: &str, resource: &str) -> String {
    oidc_token(
        issuer,
        "client-alice",
        "alice-secret",
        resource,
        "mcp:tools",
    )
    .await
}

/// Lets the provider issue tokens for one more resource.
pub async fn register_resource(issuer: &str, resource: &str) {
    let resp = http()
        .post(format!("{issuer}/__admin/resources"))
        .form(&[("resource", resource)])
        .send()
        .await
        .expect("register a resource");
    assert!(
        resp.status().is_success(),
        "registering {resource}: {}",
        resp.status()
    );
}

/// `POST /__admin/<action>` (rotate, jwks-down, jwks-up, reset-stats): its JSON answer.
pub async fn admin(issuer: &str, action: &str) -> Value {
    let resp = http()
        .post(format!("{issuer}/__admin/{action}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("/__admin/{action}: {e}"));
    assert!(
        resp.status().is_success(),
        "/__admin/{action}: {}",
        resp.status()
    );
    resp.json().await.expect("admin answer is JSON")
}

/// How often the provider's `jwks_uri` was requested since the last reset.
pub async fn jwks_hits(issuer: &str) -> u64 {
    let stats: Value = http()
        .get(format!("{issuer}/__admin/stats"))
        .send()
        .await
        .expect("/__admin/stats")
        .json()
        .await
        .expect("stats are JSON");
    stats["jwksHits"]
        .as_u64()
        .unwrap_or_else(|| panic!("no jwksHits in {stats}"))
}

/// `POST {base}/mcp` with a `tools/list` request and optionally a bearer token.
pub async fn tools_list(base: &str, token: Option<&str>) -> (StatusCode, HeaderMap, Value) {
    let mut req = http()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}).to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("POST /mcp");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("response body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, body)
}

/// The tool names of a successful `tools/list` answer.
pub fn tool_names(body: &Value) -> Vec<String> {
    body["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("not a tools/list result: {body}"))
        .iter()
        .map(|t| t["name"].as_str().expect("tool name").to_owned())
        .collect()
}

/// The `WWW-Authenticate` header of a response (panics when absent).
pub fn challenge(headers: &HeaderMap) -> String {
    headers
        .get("www-authenticate")
        .expect("a 401 carries WWW-Authenticate")
        .to_str()
        .expect("ASCII challenge")
        .to_owned()
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a JWT has three parts");
    let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// A JWT's header, unverified.
pub fn jwt_header(token: &str) -> Value {
    decode_part(token, 0)
}

/// A JWT's claims, unverified.
pub fn jwt_claims(token: &str) -> Value {
    decode_part(token, 1)
}

/// `token` with its header replaced by one naming `kid` (payload and signature kept; the
/// signature no longer matches, but a kid lookup fails before it is checked).
pub fn with_kid(token: &str, kid: &str) -> String {
    let header = json!({"alg": "RS256", "kid": kid, "typ": "at+jwt"}).to_string();
    let rest = token.split_once('.').expect("a JWT has three parts").1;
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header))
}
