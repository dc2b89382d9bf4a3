//! Upstream MCP servers federated through the in-process gateway, against real servers on
//! 127.0.0.1: `@modelcontextprotocol/server-everything` in streamableHttp mode (sessions,
//! SSE answers) and the Python SDK's server in stateless JSON mode
//! (tests/upstream/py_upstream.py, which records what reached it and wants an API key).
//! Run by `make test` (MCP_E2E_NODE, MCP_E2E_PYTHON); without them these tests fail.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use base64::Engine;
use serde_json::{Value, json};

use crate::support::router;
use crate::support::tool_secrets;
use crate::support::upstreams::{PY_KEY, Upstream, free_port};

fn catalog(everything: &str, python: &str) -> String {
    let auth = "{kind: header, name: x-api-key, value: {env: TOOL_SECRET_FED_PY_KEY}}";
    format!(
        r#"
policies:
  - group: engineering
    allow: ["everything___*", "py___*", "pinned_*"]
    deny: ["everything___get-env"]
upstreams:
  - name: everything
    url: "{everything}"
    tools: ["echo", "get-*"]
  - name: python
    prefix: py
    url: "{python}"
    auth: {auth}
tools:
  - name: pinned_slow
    inputSchema: {{type: object}}
    target: {{kind: mcp, url: "{python}", tool: slow, timeoutMs: 300, auth: {auth}}}
  - name: pinned_jsonrpc_error
    inputSchema: {{type: object}}
    target: {{kind: mcp, url: "{python}", tool: jsonrpc_error, auth: {auth}}}
"#
    )
}

struct Setup {
    gw: router::Gateway,
    everything: Upstream,
    python: Upstream,
}

async fn setup(extra: &[(&str, &str)]) -> Setup {
    tool_secrets::assert_set();
    let everything = Upstream::everything(free_port());
    let python = Upstream::python(free_port());
    let yaml = catalog(&everything.url(), &python.url());
    let gw = router::gateway_with_catalog_and(&yaml, extra).await;
    Setup {
        gw,
        everything,
        python,
    }
}

async fn list(gw: &router::Gateway) -> Vec<Value> {
    let msg = router::rpc(1, "tools/list", json!({}));
    let (status, _, body) = router::post_json(&gw.app, &[], &msg).await;
    assert_eq!(status, StatusCode::OK);
    let body = body.unwrap();
    router::assert_result("2025-11-25", &body, "ListToolsResult");
    body["result"]["tools"].as_array().unwrap().clone()
}

fn names(tools: &[Value]) -> Vec<&str> {
    tools.iter().map(|t| t["name"].as_str().unwrap()).collect()
}

async fn call(gw: &router::Gateway, tool: &str, arguments: Value) -> Value {
    let msg = router::rpc(
        2,
        "tools/call",
        json!({"name": tool, "arguments": arguments}),
    );
    let (status, _, body) = router::post_json(&gw.app, &[], &msg).await;
    assert_eq!(status, StatusCode::OK);
    let body = body.unwrap();
    router::assert_result("2025-11-25", &body, "CallToolResult").clone()
}

fn text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}

#[track_caller]
fn assert_generic_failure(result: &Value, secret: &str) {
    assert_eq!(result["isError"], true, "{result}");
    assert!(text(result).contains("Correlation id"), "{result}");
    assert!(!result.to_string().contains(secret), "leaked: {result}");
}

#[tokio::test]
async fn upstream_tools_join_the_list_under_their_prefix_filtered_by_policy() {
    let s = setup(&[]).await;
    let tools = list(&s.gw).await;
    let names = names(&tools);
    for want in [
        "everything___echo",
        "everything___get-sum",
        "everything___get-structured-content",
        "py___shout",
        "py___boom",
        "pinned_slow",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    assert!(
        !names.contains(&"everything___get-env"),
        "a denied upstream tool is not listed"
    );
    assert!(
        !names.iter().any(|n| n.starts_with("everything___toggle")),
        "only the upstream's tools the configuration takes: {names:?}"
    );
    let echo = tools
        .iter()
        .find(|t| t["name"] == "everything___echo")
        .unwrap();
    assert!(echo["inputSchema"]["properties"]["message"].is_object());
    assert!(echo["description"].as_str().is_some_and(|d| !d.is_empty()));
    // Denied exactly like a tool that does not exist.
    let msg = router::rpc(2, "tools/call", json!({"name": "everything___get-env"}));
    let (_, _, body) = router::post_json(&s.gw.app, &[], &msg).await;
    router::assert_error("2025-11-25", &body.unwrap(), 2, -32602);
}

#[tokio::test]
async fn calls_are_forwarded_and_answers_relayed_from_sse_and_json_upstreams() {
    let s = setup(&[]).await;
    let echo = call(&s.gw, "everything___echo", json!({"message": "hi"})).await;
    assert_eq!(text(&echo), "Echo: hi", "SSE answer: {echo}");
    let weather = call(
        &s.gw,
        "everything___get-structured-content",
        json!({"location": "New York"}),
    )
    .await;
    assert!(
        weather["structuredContent"]["temperature"].is_number(),
        "{weather}"
    );
    let shout = call(&s.gw, "py___shout", json!({"text": "hi"})).await;
    assert_eq!(text(&shout), "HI", "JSON answer: {shout}");
    assert_eq!(shout["structuredContent"], json!({"result": "HI"}));
    let boom = call(&s.gw, "py___boom", json!({})).await;
    assert_eq!(
        boom["isError"], true,
        "the upstream tool's own error: {boom}"
    );
    assert!(
        text(&boom).contains("boom"),
        "relayed as the tool gave it: {boom}"
    );
}

fn jwt_payload(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn the_upstream_learns_who_called_and_never_sees_the_token() {
    let s = setup(&[]).await;
    call(&s.gw, "py___shout", json!({"text": "who"})).await;
    let received = s.python.received().await;
    assert!(!received.is_empty());
    for r in &received {
        assert!(
            r["headers"].get("authorization").is_none(),
            "a caller token reached the upstream: {r}"
        );
        assert_eq!(
            r["headers"]["x-api-key"], PY_KEY,
            "the gateway's own credential"
        );
    }
    let the_call = received
        .iter()
        .find(|r| r["method"] == "tools/call")
        .expect("the call reached the upstream");
    assert_eq!(
        the_call["params"]["name"], "shout",
        "the upstream's own name"
    );
    let statement = the_call["headers"]["x-gateway-identity"].as_str().unwrap();
    let claims = jwt_payload(statement);
    assert_eq!(claims["sub"], "user-alice");
    assert_eq!(claims["tool"], "py___shout");
    assert_eq!(claims["aud"], s.python.url(), "the exact URL called");
    assert!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap() <= 300);
}

/// The gateway asks its upstreams for 2025-06-18 (not the newest revision: it never resumes
/// an SSE stream, and 2025-11-25's resumption bookkeeping costs servers with an event store
/// time on every call) and names the negotiated revision on every later message.
#[tokio::test]
async fn upstream_sessions_speak_the_revision_the_gateway_asks_for() {
    let s = setup(&[]).await;
    call(&s.gw, "py___shout", json!({"text": "revision"})).await;
    let received = s.python.received().await;
    let init = received
        .iter()
        .find(|r| r["method"] == "initialize")
        .expect("the gateway opened a session");
    assert_eq!(init["params"]["protocolVersion"], "2025-06-18");
    let later: Vec<&Value> = received
        .iter()
        .filter(|r| r["method"] != "initialize")
        .collect();
    assert!(later.iter().any(|r| r["method"] == "tools/call"));
    for r in later {
        assert_eq!(r["headers"]["mcp-protocol-version"], "2025-06-18", "{r}");
    }
    // server-everything (SSE, sessions) answers in that revision too.
    let echoed = call(&s.gw, "everything___echo", json!({"message": "rev"})).await;
    assert_eq!(text(&echoed), "Echo: rev");
}

#[tokio::test]
async fn upstream_errors_and_timeouts_are_generic_tool_errors_and_cancel_the_call() {
    let s = setup(&[]).await;
    let refused = call(&s.gw, "pinned_jsonrpc_error", json!({})).await;
    assert_generic_failure(&refused, "10.9.8.7");
    let slow = call(&s.gw, "pinned_slow", json!({"seconds": 5})).await;
    assert_generic_failure(&slow, "127.0.0.1");
    let call_id = s
        .python
        .received()
        .await
        .iter()
        .find(|r| r["method"] == "tools/call" && r["params"]["name"] == "slow")
        .map(|r| r["id"].clone())
        .expect("the slow call reached the upstream");
    // The cancellation is sent after the answer: wait for it (bounded).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let received = s.python.received().await;
        let cancelled = received.iter().any(|r| {
            r["method"] == "notifications/cancelled" && r["params"]["requestId"] == call_id
        });
        if cancelled {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no notifications/cancelled: {received:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_dead_upstream_keeps_its_tools_and_a_restarted_one_gets_a_new_session() {
    let mut s = setup(&[("GATEWAY_POLICY_REFRESH_SECS", "1")]).await;
    let ok = call(&s.gw, "everything___echo", json!({"message": "one"})).await;
    assert_eq!(text(&ok), "Echo: one");
    let port = s.everything.port;
    drop(std::mem::replace(
        &mut s.everything,
        Upstream::python(free_port()),
    ));
    let down = call(&s.gw, "everything___echo", json!({"message": "two"})).await;
    assert_generic_failure(&down, &format!("{port}"));
    // Past a refresh, the last good listing still stands.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert!(names(&list(&s.gw).await).contains(&"everything___echo"));
    // The new process does not know the gateway's session: the gateway opens another.
    let _back = Upstream::everything(port);
    let again = call(&s.gw, "everything___echo", json!({"message": "three"})).await;
    assert_eq!(text(&again), "Echo: three", "{again}");
}

/// The headers of every request the upstream received for `method`.
fn requests<'a>(received: &'a [Value], method: &str) -> Vec<&'a Value> {
    received.iter().filter(|r| r["method"] == method).collect()
}

/// Replays finding 6 of issue #14: the upstream session is shared by every user, and the
/// `initialize` that opened it used to carry the first caller's identity statement, which
/// the upstream could then attribute the whole session to. Here the first thing to reach
/// the upstream is alice's `tools/call` (no upstream listing opens the session before), then
/// bob calls through the same session: `initialize` and `notifications/initialized` carry no
/// statement, and each `tools/call` carries its own caller's statement only.
#[tokio::test]
async fn upstream_sessions_carry_no_callers_identity_only_each_call_does() {
    tool_secrets::assert_set();
    let python = Upstream::python(free_port());
    let auth = "{kind: header, name: x-api-key, value: {env: TOOL_SECRET_FED_PY_KEY}}";
    let yaml = format!(
        r#"
policies:
  - group: engineering
    allow: ["pinned_shout"]
tools:
  - name: pinned_shout
    inputSchema: {{type: object}}
    target: {{kind: mcp, url: "{}", tool: shout, auth: {auth}}}
"#,
        python.url()
    );
    let gw = router::gateway_with_catalog_and(&yaml, &[]).await;
    assert_eq!(
        text(&call(&gw, "pinned_shout", json!({"text": "a"})).await),
        "A"
    );
    let mut bob = router::tokens::claims(&gw.stub.base_url);
    bob["sub"] = json!("user-bob");
    bob["preferred_username"] = json!("bob");
    let bob = format!("Bearer {}", router::tokens::sign("rsa-1", &bob));
    let msg = router::rpc(
        3,
        "tools/call",
        json!({"name": "pinned_shout", "arguments": {"text": "b"}}),
    );
    let (status, _, _) = router::post_json(&gw.app, &[("authorization", &bob)], &msg).await;
    assert_eq!(status, StatusCode::OK);

    let received = python.received().await;
    let opening: Vec<&Value> = requests(&received, "initialize")
        .into_iter()
        .chain(requests(&received, "notifications/initialized"))
        .collect();
    assert!(
        !opening.is_empty(),
        "the gateway opened a session: {received:?}"
    );
    for r in &opening {
        assert!(
            r["headers"].get("x-gateway-identity").is_none(),
            "a caller's identity opened the shared session: {r}"
        );
        let id = r["headers"]["x-request-id"].as_str().unwrap_or_default();
        assert!(
            id.starts_with("session-"),
            "no caller's request id either: {r}"
        );
    }
    let calls = requests(&received, "tools/call");
    let subjects: Vec<Value> = calls
        .iter()
        .map(|r| jwt_payload(r["headers"]["x-gateway-identity"].as_str().unwrap())["sub"].clone())
        .collect();
    assert_eq!(
        subjects,
        [json!("user-alice"), json!("user-bob")],
        "{calls:?}"
    );
}

/// The listings the snapshot is built from carry no identity either: nobody called.
#[tokio::test]
async fn listing_an_upstream_for_the_snapshot_carries_no_identity() {
    let s = setup(&[]).await;
    let received = s.python.received().await;
    assert!(
        !requests(&received, "tools/list").is_empty(),
        "{received:?}"
    );
    for r in &received {
        assert!(
            r["headers"].get("x-gateway-identity").is_none(),
            "no call was made, yet an identity was sent: {r}"
        );
    }
}
