//! Tools in the handshake era: `tools/list` order and fields, `tools/call` results and
//! invalid params, generic tool errors for target failures, and arguments passed to the
//! target byte for byte.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::call;
use crate::support::router::*;

#[tokio::test]
async fn tools_list_is_in_name_order_without_per_request_era_fields() {
    let gw = gateway().await;
    for v in ["2025-03-26", "2025-06-18", "2025-11-25"] {
        let h = [("mcp-protocol-version", v)];
        let reply = post_json(&gw.app, &h, &rpc(3, "tools/list", json!({}))).await;
        let (_, body) = expect_json(reply, StatusCode::OK);
        let result = assert_result(v, &body, "ListToolsResult");
        let tools = result["tools"].as_array().unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["calculate", "current_time", "echo"]);
        for tool in tools {
            assert_valid(v, "Tool", tool);
        }
        for field in ["resultType", "ttlMs", "cacheScope", "nextCursor"] {
            assert!(result.get(field).is_none(), "{v}: unexpected {field}");
        }
    }
}

#[tokio::test]
async fn tools_list_with_a_cursor_is_invalid_params() {
    let gw = gateway().await;
    let h = [("mcp-protocol-version", "2025-06-18")];
    let msg = rpc(4, "tools/list", json!({ "cursor": "abc" }));
    let (_, body) = expect_json(post_json(&gw.app, &h, &msg).await, StatusCode::OK);
    assert_error("2025-06-18", &body, 4, -32602);
}

#[tokio::test]
async fn tools_call_echo_returns_text_and_structured_content() {
    let gw = gateway().await;
    for v in ["2025-06-18", "2025-11-25"] {
        let h = [("mcp-protocol-version", v)];
        let msg = call(5, "echo", json!({ "text": "hello gateway" }));
        let (_, body) = expect_json(post_json(&gw.app, &h, &msg).await, StatusCode::OK);
        let result = assert_result(v, &body, "CallToolResult");
        assert_eq!(result["content"][0]["type"], "text");
        let text = result["content"][0]["text"].as_str().unwrap();
        assert!(text.contains("hello gateway"), "{text}");
        // echo declares an outputSchema, so its JSON object is structured content too.
        assert_eq!(
            result["structuredContent"],
            json!({ "text": "hello gateway" })
        );
        assert!(result.get("isError").is_none());
        assert!(result.get("resultType").is_none());
    }
}

#[tokio::test]
async fn tools_call_with_bad_params_is_invalid_params() {
    let gw = gateway().await;
    let h = [("mcp-protocol-version", "2025-06-18")];
    let cases = [
        ("unknown tool", call(6, "no_such_tool", json!({}))),
        (
            "string arguments",
            rpc(
                6,
                "tools/call",
                json!({ "name": "echo", "arguments": "text" }),
            ),
        ),
        (
            "array arguments",
            rpc(6, "tools/call", json!({ "name": "echo", "arguments": [1] })),
        ),
        (
            "missing name",
            rpc(6, "tools/call", json!({ "arguments": {} })),
        ),
    ];
    for (case, msg) in cases {
        let reply = post_json(&gw.app, &h, &msg).await;
        assert_eq!(reply.0, StatusCode::OK, "{case}");
        let (_, body) = expect_json(reply, StatusCode::OK);
        assert_error("2025-06-18", &body, 6, -32602);
    }
    assert!(gw.stub.echo_bodies.lock().unwrap().is_empty());
}

#[tokio::test]
async fn target_failures_become_generic_tool_errors_with_a_correlation_id() {
    let dead_port = closed_port();
    let yaml = format!(
        "policies: [{{group: '*', allow: ['*']}}]\n\
         tools:\n\
         - name: unreachable\n  inputSchema: {{type: object}}\n  \
           target: {{kind: http, url: 'http://127.0.0.1:{dead_port}/gone'}}\n\
         - name: broken\n  inputSchema: {{type: object}}\n  \
           target: {{kind: http, url: '${{DEMO_TOOLS_URL}}/status500'}}\n"
    );
    let gw = gateway_with_catalog(&yaml).await;
    let stub_port = gw.stub.base_url.rsplit(':').next().unwrap().to_owned();
    for (tool, port) in [
        ("unreachable", dead_port.to_string()),
        ("broken", stub_port),
    ] {
        // Handshake era, then per-request era (where the result is also "complete").
        let legacy = (
            "2025-06-18",
            vec![("mcp-protocol-version", "2025-06-18")],
            call(7, tool, json!({})),
        );
        let modern = (
            MODERN,
            modern_headers("tools/call", Some(tool)),
            modern_rpc(7, "tools/call", json!({ "name": tool, "arguments": {} })),
        );
        for (v, h, msg) in [legacy, modern] {
            let (_, body) = expect_json(post_json(&gw.app, &h, &msg).await, StatusCode::OK);
            assert_generic_failure(v, tool, &port, &body);
        }
    }
}

/// A failed target's tool result: `isError`, a correlation id, and nothing internal.
fn assert_generic_failure(version: &str, tool: &str, port: &str, body: &Value) {
    let result = assert_result(version, body, "CallToolResult");
    assert_eq!(result["isError"], true, "{tool}");
    if version == MODERN {
        assert_eq!(result["resultType"], "complete");
    }
    let text = result["content"][0]["text"].as_str().unwrap();
    let id = text
        .split("orrelation id")
        .nth(1)
        .map(|rest| rest.trim_start_matches([':', ' ']).trim())
        .unwrap_or_default();
    assert!(id.len() >= 8, "{tool}: no correlation id in {text:?}");
    let whole = body.to_string();
    for secret in [
        "127.0.0.1",
        &format!(":{port}"),
        "/gone",
        "status500",
        "Traceback",
        "10.1.2.3",
        "arn:aws",
        "HTTP 500",
    ] {
        assert!(!whole.contains(secret), "{tool}: leaks {secret:?}: {whole}");
    }
}

#[tokio::test]
async fn tool_arguments_reach_the_target_byte_for_byte() {
    let gw = gateway().await;
    // Odd spacing, an escape and an extra key: the gateway must not re-serialize them.
    let args = r#"{"text" :  "a\u00e9",  "z":1}"#;
    let msg = format!(
        r#"{{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{{"name":"echo","arguments":{args}}}}}"#
    );
    let h = [("mcp-protocol-version", "2025-06-18")];
    let (_, body) = expect_json(post(&gw.app, &h, msg).await, StatusCode::OK);
    let result = assert_result("2025-06-18", &body, "CallToolResult");
    assert_eq!(result["structuredContent"], json!({ "text": "a\u{e9}" }));
    let received = gw.stub.echo_bodies.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert_eq!(String::from_utf8_lossy(&received[0]), args);
}
