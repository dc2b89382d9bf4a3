//! The handshake era's lifecycle and version rules: the schema validator itself,
//! `initialize` version negotiation, notifications, `ping`, the `MCP-Protocol-Version`
//! header and transport headers that must agree with the body.

use axum::http::StatusCode;
use serde_json::json;

use super::{call, initialize};
use crate::support::router::*;

#[test]
fn the_schema_validator_refuses_what_the_schemas_refuse() {
    // Guards every other assertion: the validators must resolve `$ref`s and be strict.
    let err = json!({ "jsonrpc": "2.0", "error": { "code": -32600, "message": "x" } });
    assert!(
        !is_valid("2025-06-18", "JSONRPCError", &err),
        "2025-06-18 requires an id"
    );
    assert!(is_valid("2025-11-25", "JSONRPCErrorResponse", &err));
    assert!(is_valid(MODERN, "JSONRPCErrorResponse", &err));
    assert!(
        !is_valid(MODERN, "HeaderMismatchError", &err),
        "code must be -32020"
    );
    let init = json!({ "protocolVersion": "2025-06-18", "capabilities": {} });
    assert!(
        !is_valid("2025-06-18", "InitializeResult", &init),
        "no serverInfo"
    );
    let tool = json!({ "name": "t", "inputSchema": { "type": "string" } });
    assert!(!is_valid("2025-06-18", "Tool", &tool));
    let bad_meta = json!({ "jsonrpc": "2.0", "id": 1, "result": { "_meta": "x" } });
    assert!(!is_valid("2025-06-18", "JSONRPCResponse", &bad_meta));
    let list = json!({ "tools": [], "resultType": "complete", "cacheScope": "private" });
    assert!(!is_valid(MODERN, "ListToolsResult", &list), "no ttlMs");
    let content = json!({ "content": [{ "type": "text", "text": "x" }] });
    assert!(is_valid("2025-11-25", "CallToolResult", &content));
    assert!(
        !is_valid(MODERN, "CallToolResult", &content),
        "no resultType"
    );
}

#[tokio::test]
async fn initialize_answers_with_the_requested_handshake_version() {
    let gw = gateway().await;
    for v in ["2025-03-26", "2025-06-18", "2025-11-25"] {
        let reply = post_json(&gw.app, &[], &initialize(Some(v))).await;
        let (_, body) = expect_json(reply, StatusCode::OK);
        let result = assert_result(v, &body, "InitializeResult");
        assert_eq!(result["protocolVersion"], v);
        assert_eq!(result["capabilities"]["tools"]["listChanged"], false);
        assert_eq!(result["serverInfo"]["name"], "mcp-oauth-gateway");
    }
}

#[tokio::test]
async fn initialize_with_a_version_it_does_not_speak_gets_the_newest_handshake_version() {
    let gw = gateway().await;
    // 2026-07-28 has no handshake, so asking for it at initialize gets 2025-11-25 too.
    for asked in ["2024-11-05", "2099-01-01", "2026-07-28"] {
        let reply = post_json(&gw.app, &[], &initialize(Some(asked))).await;
        let (_, body) = expect_json(reply, StatusCode::OK);
        let result = assert_result("2025-11-25", &body, "InitializeResult");
        assert_eq!(result["protocolVersion"], "2025-11-25", "asked {asked}");
    }
}

#[tokio::test]
async fn initialize_without_protocol_version_is_invalid_params() {
    let gw = gateway().await;
    let reply = post_json(&gw.app, &[], &initialize(None)).await;
    let (_, body) = expect_json(reply, StatusCode::OK);
    assert_error("2025-06-18", &body, 1, -32602);
}

#[tokio::test]
async fn notifications_and_client_responses_are_accepted_without_a_body() {
    let gw = gateway().await;
    let note = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    expect_accepted(post_json(&gw.app, &[], &note).await);
    let h = [("mcp-protocol-version", "2025-06-18")];
    expect_accepted(post_json(&gw.app, &h, &note).await);
    let response = json!({ "jsonrpc": "2.0", "id": 1, "result": {} });
    expect_accepted(post_json(&gw.app, &h, &response).await);
}

#[tokio::test]
async fn ping_answers_an_empty_result() {
    let gw = gateway().await;
    for v in ["2025-03-26", "2025-06-18", "2025-11-25"] {
        let h = [("mcp-protocol-version", v)];
        let reply = post_json(&gw.app, &h, &rpc(2, "ping", json!({}))).await;
        let (_, body) = expect_json(reply, StatusCode::OK);
        assert_eq!(assert_result(v, &body, "EmptyResult"), &json!({}));
    }
}

#[tokio::test]
async fn protocol_version_header_absent_means_2025_03_26() {
    let gw = gateway().await;
    let reply = post_json(&gw.app, &[], &rpc(8, "tools/list", json!({}))).await;
    let (_, body) = expect_json(reply, StatusCode::OK);
    let result = assert_result("2025-03-26", &body, "ListToolsResult");
    assert_eq!(result["tools"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn unsupported_protocol_version_header_is_400_listing_supported_versions() {
    let gw = gateway().await;
    let h = [("mcp-protocol-version", "1999-01-01")];
    let reply = post_json(&gw.app, &h, &rpc(9, "tools/list", json!({}))).await;
    let (_, body) = expect_json(reply, StatusCode::BAD_REQUEST);
    // The client's version is unknown, so the answer must make sense to every version.
    for v in ["2025-06-18", "2025-11-25", MODERN] {
        assert_error(v, &body, 9, -32022);
    }
    assert_eq!(body["error"]["data"]["supported"], json!(ALL_VERSIONS));
    assert_eq!(body["error"]["data"]["requested"], "1999-01-01");
}

/// Documents a src bug (fails today): a POST carrying a client's JSON-RPC *response* skips
/// the `MCP-Protocol-Version` check that requests and notifications get. The transport spec
/// says any HTTP request with an unsupported version header MUST get 400.
#[tokio::test]
async fn unsupported_protocol_version_header_is_refused_on_client_responses_too() {
    let gw = gateway().await;
    let h = [("mcp-protocol-version", "1999-01-01")];
    let note = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let (_, body) = expect_json(post_json(&gw.app, &h, &note).await, StatusCode::BAD_REQUEST);
    assert_error_without_id(&body, -32022);
    let response = json!({ "jsonrpc": "2.0", "id": 1, "result": {} });
    let (_, body) = expect_json(
        post_json(&gw.app, &h, &response).await,
        StatusCode::BAD_REQUEST,
    );
    assert_error_without_id(&body, -32022);
}

#[tokio::test]
async fn unknown_method_is_200_method_not_found_in_the_handshake_era() {
    // Not 404: handshake-era clients read 404 as "session expired" and re-initialize.
    let gw = gateway().await;
    for h in [vec![], vec![("mcp-protocol-version", "2025-11-25")]] {
        let reply = post_json(&gw.app, &h, &rpc(10, "resources/list", json!({}))).await;
        let (_, body) = expect_json(reply, StatusCode::OK);
        assert_error("2025-11-25", &body, 10, -32601);
    }
}

#[tokio::test]
async fn transport_headers_that_disagree_with_the_body_are_400_header_mismatch() {
    let gw = gateway().await;
    let v = ("mcp-protocol-version", "2025-06-18");
    let cases = [
        (
            "Mcp-Method mismatch",
            vec![v, ("mcp-method", "tools/call")],
            rpc(11, "tools/list", json!({})),
        ),
        (
            "Mcp-Name mismatch",
            vec![v, ("mcp-method", "tools/call"), ("mcp-name", "calculate")],
            call(11, "echo", json!({ "text": "x" })),
        ),
        (
            "Mcp-Name mismatch without Mcp-Method",
            vec![v, ("mcp-name", "calculate")],
            call(11, "echo", json!({ "text": "x" })),
        ),
    ];
    for (case, h, msg) in cases {
        let reply = post_json(&gw.app, &h, &msg).await;
        assert_eq!(reply.0, StatusCode::BAD_REQUEST, "{case}");
        let (_, body) = expect_json(reply, StatusCode::BAD_REQUEST);
        assert_error("2025-06-18", &body, 11, -32020);
    }
    assert!(gw.stub.echo_bodies.lock().unwrap().is_empty());
}
