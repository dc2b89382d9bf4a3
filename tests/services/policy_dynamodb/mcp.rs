//! MCP over real HTTP against the spawned gateway (`initialize`, `tools/list`,
//! `tools/call`) and the assertions on its answers: ran, refused as unknown, refused as
//! unavailable, and polling until a policy change shows.

use std::time::Instant;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::{CHANGE_LIMIT, POLL_EVERY};
use crate::support::idp::{http, tool_names};

/// One HTTP answer: status, headers, raw body and the body as JSON (Null if it is not).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {} {}", self.status, self.text)
    }
}

pub async fn rpc(base: &str, token: &str, body: Value) -> Reply {
    let resp = http()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .bearer_auth(token)
        .body(body.to_string())
        .send()
        .await
        .expect("POST /mcp");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("response body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        text,
        json,
    }
}

pub async fn list(base: &str, token: &str) -> Reply {
    rpc(
        base,
        token,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}),
    )
    .await
}

pub async fn call(base: &str, token: &str, id: Value, name: &str) -> Reply {
    rpc(
        base,
        token,
        json!({
            "jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": name, "arguments": {"n": 7}}
        }),
    )
    .await
}

pub async fn initialize(base: &str, token: &str) -> Reply {
    rpc(
        base,
        token,
        json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "policy-dynamodb", "version": "0"}
            }
        }),
    )
    .await
}

/// The names of a successful `tools/list`.
pub fn listed(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, StatusCode::OK, "tools/list: {reply:?}");
    tool_names(&reply.json)
}

/// A successful `tools/call` that reached the echo target for `tool`.
pub fn assert_ran(reply: &Reply, tool: &str) {
    assert_eq!(reply.status, StatusCode::OK, "tools/call {tool}: {reply:?}");
    let result = &reply.json["result"];
    assert!(result["isError"].is_null(), "tools/call {tool}: {reply:?}");
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    let echoed: Value = serde_json::from_str(text)
        .unwrap_or_else(|_| panic!("tools/call {tool}: not the echo target's answer: {reply:?}"));
    assert_eq!(echoed, json!({"tool": tool, "arguments": {"n": 7}}));
}

/// The refusal of a denied or unknown tool: HTTP 200, JSON-RPC -32602, no challenge.
pub fn assert_unknown_tool(reply: &Reply, tool: &str) {
    assert_eq!(reply.status, StatusCode::OK, "tools/call {tool}: {reply:?}");
    assert_eq!(
        reply.json["error"]["code"], -32602,
        "tools/call {tool}: {reply:?}"
    );
    assert!(reply.json.get("result").is_none(), "{reply:?}");
    assert!(reply.headers.get("www-authenticate").is_none(), "{reply:?}");
}

/// The refusal for want of a usable policy snapshot: HTTP 503, JSON-RPC -32603 with `id`.
pub fn assert_unavailable(reply: &Reply, id: &Value, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {reply:?}"
    );
    assert_eq!(reply.json["jsonrpc"], "2.0", "{what}: {reply:?}");
    assert_eq!(&reply.json["id"], id, "{what}: {reply:?}");
    assert_eq!(reply.json["error"]["code"], -32603, "{what}: {reply:?}");
    let message = reply.json["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("tool policies"),
        "{what}: the message should say what is wrong: {reply:?}"
    );
    assert!(reply.json.get("result").is_none(), "{what}: {reply:?}");
}

/// Polls `tools/list` until it names exactly `want` (in that order), at most CHANGE_LIMIT.
pub async fn await_list(base: &str, token: &str, want: &[&str], change: &str) {
    let deadline = Instant::now() + CHANGE_LIMIT;
    loop {
        let reply = list(base, token).await;
        if reply.status == StatusCode::OK && tool_names(&reply.json) == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{change}: tools/list still answers {reply:?} after {CHANGE_LIMIT:?}, want {want:?}"
        );
        tokio::time::sleep(POLL_EVERY).await;
    }
}
