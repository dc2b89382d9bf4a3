//! For `tests/services/audit/` and `log_secrets.rs`: HTTP targets that keep every request
//! they get (`/echo`, `/fail`, `/hang`), the gateway binary with its stdout and stderr kept
//! line by line (killed when dropped), `POST /mcp` helpers, waiting for JSON lines, and
//! running `gatewayctl`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

use mcp_oauth_gateway::audit::AuditRecord;

use super::idp::http;

pub const WAIT: Duration = Duration::from_secs(20);

pub type Lines = Arc<Mutex<Vec<String>>>;

/// HTTP targets: `/echo` answers the body it got, `/fail` answers 500. Every request (its
/// headers and body) is kept, to check what a target gets to see.
pub async fn start_target() -> (String, Lines) {
    async fn keep(seen: &Lines, headers: &HeaderMap, body: &Bytes) {
        let mut text = format!("{headers:?}");
        text.push_str(&String::from_utf8_lossy(body));
        seen.lock().unwrap().push(text);
    }
    let seen: Lines = Arc::default();
    let app = Router::new()
        .route(
            "/echo",
            post(
                |State(s): State<Lines>, h: HeaderMap, b: Bytes| async move {
                    keep(&s, &h, &b).await;
                    ([("content-type", "application/json")], b)
                },
            ),
        )
        .route(
            "/hang",
            post(
                |State(s): State<Lines>, h: HeaderMap, b: Bytes| async move {
                    keep(&s, &h, &b).await;
                    std::future::pending::<()>().await;
                },
            ),
        )
        .route(
            "/fail",
            post(
                |State(s): State<Lines>, h: HeaderMap, b: Bytes| async move {
                    keep(&s, &h, &b).await;
                    (StatusCode::INTERNAL_SERVER_ERROR, "boom")
                },
            ),
        )
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

/// The gateway binary with stdout and stderr kept line by line; killed when dropped.
pub struct Gateway {
    pub child: Child,
    pub base: String,
    pub stdout: Lines,
    pub stderr: Lines,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(
    pipe: impl std::io::Read + Send + 'static,
    into: Lines,
    first: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Some(tx) = &first {
                let _ = tx.send(line.clone());
            }
            into.lock().unwrap().push(line);
        }
    });
}

pub fn spawn_gateway(envs: &[(&str, &str)]) -> Gateway {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-oauth-gateway"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GATEWAY_") {
            cmd.env_remove(name);
        }
    }
    let mut child = cmd
        .env("GATEWAY_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "debug")
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the gateway");
    let (stdout, stderr) = (Lines::default(), Lines::default());
    let (tx, rx) = mpsc::channel();
    collect(child.stdout.take().unwrap(), Arc::clone(&stdout), Some(tx));
    collect(child.stderr.take().unwrap(), Arc::clone(&stderr), None);
    let mut gw = Gateway {
        child,
        base: String::new(),
        stdout,
        stderr,
    };
    let first = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("the gateway did not start: {:?}", gw.stderr.lock().unwrap()));
    gw.base = first
        .strip_prefix("mcp-oauth-gateway listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    gw
}

pub async fn rpc(base: &str, token: Option<&str>, body: Value) -> StatusCode {
    let mut req = http()
        .post(format!("{base}/mcp"))
        .header("accept", "application/json")
        .json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("POST /mcp");
    let status = resp.status();
    let _ = resp.bytes().await;
    status
}

pub async fn call(base: &str, token: &str, tool: &str, arguments: Value) -> StatusCode {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": tool, "arguments": arguments}});
    rpc(base, Some(token), body).await
}

/// The JSON lines of `lines` that satisfy `pick`, once there are `n` of them.
pub fn wait_for(lines: &Lines, n: usize, pick: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let found: Vec<Value> = lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| pick(v))
            .collect();
        if found.len() >= n || Instant::now() > deadline {
            assert_eq!(found.len(), n, "lines: {:?}", lines.lock().unwrap());
            return found;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn gatewayctl(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_gatewayctl"))
        .args(args)
        .output()
        .expect("run gatewayctl");
    eprintln!(
        "gatewayctl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn json_lines(out: &Output) -> Vec<AuditRecord> {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a record per line"))
        .collect()
}

pub fn by_request<'a>(
    records: &'a [AuditRecord],
    tool: Option<&str>,
    user: Option<&str>,
) -> &'a AuditRecord {
    let found: Vec<_> = records
        .iter()
        .filter(|r| r.tool.as_deref() == tool && r.username.as_deref() == user)
        .collect();
    assert_eq!(found.len(), 1, "{tool:?} by {user:?} in {records:#?}");
    found[0]
}
