//! Every target kind end to end with a real MCP client (the official TypeScript SDK):
//! through the gateway under `cargo lambda watch` (`MCP_WATCH_URL`, configured from moto's
//! DynamoDB with config/demo-org.yaml and tests/fixtures/watch-targets.yaml) — an HTTP
//! endpoint, the demo Lambda function through watch's Invoke API, an upstream MCP server
//! (server-everything) — answering, failing and timing out; and, on the standalone server,
//! a client that goes away cancelling the target's work.
//!
//! Needs what `make test` sets (MCP_E2E_NODE, MCP_E2E_PYTHON, MCP_WATCH_URL,
//! COGNITO_CONFIG, OIDC_ISSUER); without it these tests fail, never skip.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::clients::*;

/// Calls every tool in `calls` with the TypeScript SDK as alice; returns what each gave.
fn ts_calls(url: &str, calls: &[(&str, Value)]) -> Value {
    let auth = format!("Authorization: Bearer {}", cognito_token("alice"));
    let specs: Vec<String> = calls.iter().map(|(n, a)| format!("{n}={a}")).collect();
    let mut args = vec!["tests/clients/ts_client.mjs", url, "--header", &auth];
    for s in &specs {
        args.extend(["--call", s]);
    }
    let report = run_client(&required_env("MCP_E2E_NODE"), &args);
    report["calls"].clone()
}

#[track_caller]
fn assert_generic_failure(call: &Value) {
    assert_eq!(call["isError"], true, "{call}");
    let text = call["text"].as_str().unwrap();
    let id = text
        .strip_prefix("The tool could not be completed. Correlation id: ")
        .unwrap_or_else(|| panic!("{call}"));
    // The id is a random UUID, and nothing else follows it (a UUID may well contain "404").
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{call}");
    let message = &text[..text.len() - id.len()];
    for internal in [
        "127.0.0.1",
        "arn:",
        "no-such-function",
        "demo-lambda",
        "404",
    ] {
        assert!(!message.contains(internal), "{internal} leaked: {call}");
    }
}

#[tokio::test]
async fn every_target_kind_answers_fails_and_times_out_under_cargo_lambda_watch() {
    let url = required_env("MCP_WATCH_URL");
    let calls = ts_calls(
        &url,
        &[
            ("echo", json!({"text": "over http"})),
            ("lambda___echo", json!({"text": "over lambda"})),
            ("everything___echo", json!({"message": "over mcp"})),
            ("everything___get-tiny-image", json!({})),
            ("everything___get-sum", json!({"a": 2, "b": 3})),
            ("sleep", json!({"seconds": 6})),
            ("http_missing", json!({})),
            ("lambda___fail", json!({})),
            ("lambda___sleep", json!({"ms": 4000})),
            ("lambda_missing", json!({})),
            ("mcp_slow", json!({"duration": 6, "steps": 2})),
            ("mcp_unknown", json!({})),
        ],
    );
    // Answers: HTTP (with the caller the demo tools verified), Lambda, upstream MCP.
    assert_eq!(calls["echo"]["isError"], false, "{calls}");
    assert!(calls["echo"]["text"].as_str().unwrap().contains("alice"));
    assert_eq!(calls["echo"]["structured"]["text"], "over http");
    assert_eq!(calls["lambda___echo"]["isError"], false, "{calls}");
    assert!(
        calls["lambda___echo"]["text"]
            .as_str()
            .unwrap()
            .contains("over lambda"),
        "{calls}"
    );
    assert_eq!(calls["everything___echo"]["text"], "Echo: over mcp");
    assert!(
        calls["everything___get-tiny-image"]["types"]
            .as_array()
            .unwrap()
            .contains(&json!("image")),
        "an upstream's image block is relayed: {calls}"
    );
    assert!(
        calls["everything___get-sum"]["text"]
            .as_str()
            .unwrap()
            .contains('5'),
        "{calls}"
    );
    // Failures and time-outs of each kind: a generic tool error with a correlation id.
    for name in [
        "sleep",
        "http_missing",
        "lambda___fail",
        "lambda___sleep",
        "lambda_missing",
        "mcp_slow",
    ] {
        assert_generic_failure(&calls[name]);
    }
    // The upstream's own tool error is the tool's answer: relayed as the upstream gave it.
    assert_eq!(calls["mcp_unknown"]["isError"], true, "{calls}");
    assert!(
        calls["mcp_unknown"]["text"]
            .as_str()
            .unwrap()
            .contains("not found"),
        "{calls}"
    );
}

/// The demo tools' sleep counters.
async fn sleeps(demo_tools: &str) -> Value {
    reqwest::get(format!("{demo_tools}/stats"))
        .await
        .expect("demo tools stats")
        .json::<Value>()
        .await
        .unwrap()["sleeps"]
        .clone()
}

#[tokio::test]
async fn a_client_that_goes_away_cancels_the_target_call_on_the_standalone_server() {
    let tools = spawn(
        env!("CARGO_BIN_EXE_demo-tools"),
        &[("DEMO_TOOLS_BIND", "127.0.0.1:0")],
    );
    let dir = std::env::temp_dir().join(format!("e2e-targets-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let catalog = dir.join("catalog.yaml");
    // The gateway's own time-out (20 s) is longer than the sleep (15 s): only a cancelled
    // call can leave the sleep abandoned.
    std::fs::write(
        &catalog,
        "policies: [{group: '*', allow: ['*']}]\ntools:\n  - name: sleep\n    inputSchema: {type: object}\n    target: {kind: http, url: '${DEMO_TOOLS_URL}/sleep', timeoutMs: 20000}\n",
    )
    .unwrap();
    let port = free_port();
    let resource = format!("http://127.0.0.1:{port}/mcp");
    register_resource(&resource).await;
    let _gateway = spawn(
        env!("CARGO_BIN_EXE_mcp-oauth-gateway"),
        &[
            ("GATEWAY_BIND", &format!("127.0.0.1:{port}")),
            ("GATEWAY_CATALOG_FILE", catalog.to_str().unwrap()),
            ("DEMO_TOOLS_URL", &tools.base),
            ("GATEWAY_RESOURCE_URL", &resource),
            ("GATEWAY_OIDC_ISSUER", &required_env("OIDC_ISSUER")),
        ],
    );
    let token = oidc_token(&resource).await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let gone = impatient
        .post(&resource)
        .bearer_auth(&token)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "sleep", "arguments": {"seconds": 15}}}))
        .send()
        .await;
    assert!(
        gone.is_err_and(|e| e.is_timeout()),
        "the client gave up first"
    );
    // Bounded wait for the outcome (a guard against a hang, not a timing assertion).
    let deadline = Instant::now() + Duration::from_secs(30);
    let outcome = loop {
        let s = sleeps(&tools.base).await;
        if s["abandoned"].as_u64().unwrap() + s["finished"].as_u64().unwrap() > 0 {
            break s;
        }
        assert!(Instant::now() < deadline, "the sleep never ended: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(outcome["started"], 1, "{outcome}");
    assert_eq!(
        outcome["abandoned"], 1,
        "the target's work was not cancelled when the client went away: {outcome}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
