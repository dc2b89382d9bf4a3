//! The fault matrix (issue #16; the table is docs/faults.md): the standalone gateway with
//! each dependency behind a fault-injecting proxy (`support::fault_proxy`) — its JWKS and
//! its HTTP target (served here), moto's DynamoDB (policies, deny-list, audit table) and
//! the Lambda Invoke API of `cargo lambda watch` (demo-lambda) and server-everything, an
//! upstream MCP server answering in SSE. Each case takes one
//! dependency down in one way and checks what a caller gets: the documented status and
//! error within a bound, failing closed, the audit record written, nothing internal in the
//! answer; then the dependency comes back and the next request is served as usual.
//!
//! Needs `AWS_ENDPOINT_URL` (moto), `MCP_WATCH_INVOKE_URL` and `EVERYTHING_MCP_URL` from
//! `make test`.

mod stores;
mod targets;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::audit_kit::{self, Gateway};
use crate::support::fault_proxy::FaultProxy;
use crate::support::gatewayctl::{ctl, fresh_table, new_table, scratch, write};
use crate::support::required_env;
use crate::support::router::{Stub, start_stub, tokens};

/// A gateway whose every dependency sits behind its own proxy.
pub struct Rig {
    pub stub: Stub,
    pub jwks: FaultProxy,
    pub target: FaultProxy,
    pub dynamo: FaultProxy,
    pub lambda: FaultProxy,
    /// In front of server-everything (an upstream MCP server answering in SSE).
    pub upstream: FaultProxy,
    pub gw: Gateway,
    pub token: String,
    /// What no answer may name: the proxies' ports, the table, the function.
    pub internals: Vec<String>,
    _dir: PathBuf,
}

/// Starts the rig; `extra` adds gateway settings.
pub async fn rig(tag: &str, extra: &[(&str, &str)]) -> Rig {
    required_env("AWS_ENDPOINT_URL");
    let stub = start_stub().await;
    let jwks = FaultProxy::start(&stub.base_url).await;
    let target = FaultProxy::start(&stub.base_url).await;
    let dynamo = FaultProxy::start(&required_env("AWS_ENDPOINT_URL")).await;
    let lambda = FaultProxy::start(&required_env("MCP_WATCH_INVOKE_URL")).await;
    let upstream = FaultProxy::start(&required_env("EVERYTHING_MCP_URL")).await;
    let table = new_table(tag);
    let audit_table = fresh_table(&format!("{tag}-audit"));
    ctl(&["audit", "--audit-table", &audit_table, "table", "create"]).ok();
    let dir = scratch(tag);
    let (t, u) = (&target.url, &upstream.url);
    let catalog = write(
        &dir,
        "catalog.yaml",
        &format!(
            r#"policies:
  - {{group: engineering, allow: ["*"]}}
tools:
  - {{name: echo, inputSchema: {{type: object}}, target: {{kind: http, url: "{t}/echo", timeoutMs: 1500}}}}
  - {{name: lambda___echo, inputSchema: {{type: object}}, target: {{kind: lambda, function: demo-lambda, contract: native, timeoutMs: 1500}}}}
  - {{name: mcp_echo, inputSchema: {{type: object}}, target: {{kind: mcp, url: "{u}/mcp", tool: echo, timeoutMs: 1500}}}}
"#
        ),
    );
    ctl(&["--table", &table, "import", catalog.to_str().unwrap()]).ok();
    let jwks_url = format!("{}/jwks.json", jwks.url);
    let mut env = vec![
        ("GATEWAY_OIDC_ISSUER", stub.base_url.as_str()),
        ("GATEWAY_OIDC_JWKS_URL", jwks_url.as_str()),
        ("GATEWAY_RESOURCE_URL", tokens::AUDIENCE),
        ("GATEWAY_POLICY_TABLE", table.as_str()),
        ("GATEWAY_POLICY_REFRESH_SECS", "1"),
        ("GATEWAY_POLICY_MAX_STALENESS_SECS", "4"),
        ("GATEWAY_REVOCATION_MAX_STALENESS_SECS", "4"),
        ("GATEWAY_AUDIT_TABLE", audit_table.as_str()),
        ("GATEWAY_MAX_TARGET_RESPONSE_BYTES", "65536"),
        ("AWS_ENDPOINT_URL_DYNAMODB", dynamo.url.as_str()),
        ("AWS_ENDPOINT_URL_LAMBDA", lambda.url.as_str()),
        ("GATEWAY_METRICS", "off"),
        ("RUST_LOG", "info"),
    ];
    env.extend_from_slice(extra);
    let gw = audit_kit::spawn_gateway(&env);
    let token = tokens::sign("rsa-1", &tokens::claims(&stub.base_url));
    let port = |u: &str| u.rsplit(':').next().unwrap().to_owned();
    let internals = vec![
        port(&jwks.url),
        port(&target.url),
        port(&dynamo.url),
        port(&lambda.url),
        port(&upstream.url),
        port(&stub.base_url),
        table,
        audit_table,
        "demo-lambda".into(),
        "127.0.0.1".into(),
    ];
    Rig {
        stub,
        jwks,
        target,
        dynamo,
        lambda,
        upstream,
        gw,
        token,
        internals,
        _dir: dir,
    }
}

/// One answer: status, JSON body (if any), how long it took.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub took: Duration,
}

impl Rig {
    pub async fn rpc_as(&self, token: &str, body: Value) -> Answer {
        let started = Instant::now();
        let resp = crate::support::idp::http()
            .post(format!("{}/mcp", self.gw.base))
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-06-18")
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("the gateway answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let took = started.elapsed();
        for secret in &self.internals {
            assert!(
                !text.contains(secret.as_str()),
                "the answer names {secret}: {text}"
            );
        }
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer { status, body, took }
    }

    pub async fn call(&self, tool: &str) -> Answer {
        // server-everything's echo takes a message, the others a text.
        let arguments = json!({"text": "fault", "message": "fault"});
        let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                          "params": {"name": tool, "arguments": arguments}});
        self.rpc_as(&self.token, body).await
    }

    pub async fn list(&self) -> Answer {
        let body = json!({"jsonrpc": "2.0", "id": 8, "method": "tools/list"});
        self.rpc_as(&self.token, body).await
    }

    /// The audit records of requests on stdout so far (not the chain's start record, which
    /// comes with the first request).
    pub fn records(&self) -> Vec<Value> {
        self.gw
            .stdout
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(is_request_record)
            .collect()
    }

    /// Waits for the `n`th request's audit record and returns it (records come before the
    /// answer, but stdout is read by another thread).
    pub fn record(&self, n: usize) -> Value {
        audit_kit::wait_for(&self.gw.stdout, n, is_request_record)
            .pop()
            .unwrap()
    }

    /// Polls `check` every 200 ms until it holds or `within` has passed.
    pub async fn until<F, Fut>(&self, within: Duration, what: &str, check: F) -> Answer
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Option<Answer>>,
    {
        let deadline = Instant::now() + within;
        loop {
            if let Some(a) = check().await {
                return a;
            }
            if Instant::now() >= deadline {
                let log = self.gw.stderr.lock().unwrap();
                let tail = &log[log.len().saturating_sub(8)..];
                panic!("{what} within {within:?}; the gateway's last log lines: {tail:#?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn is_request_record(v: &Value) -> bool {
    v["type"] == "audit" && v["kind"] != "start"
}

/// A tool call that ran: a result that is not a tool error.
pub fn assert_ok(a: &Answer) {
    assert_eq!(a.status, 200, "{a:?}");
    assert!(a.body.get("result").is_some(), "{a:?}");
    assert_ne!(a.body["result"]["isError"], true, "{a:?}");
}

/// A failed target: HTTP 200 with a tool error that only gives a correlation id.
pub fn assert_tool_error(a: &Answer) {
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["result"]["isError"], true, "{a:?}");
    let text = a.body["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("The tool could not be completed. Correlation id: "),
        "{text}"
    );
}
