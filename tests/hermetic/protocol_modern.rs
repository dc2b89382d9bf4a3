//! The MCP endpoint over HTTP in the per-request era (2026-07-28): no handshake, the version
//! and client capabilities in every request's `params._meta`, transport headers that must
//! agree with the body. Every JSON-RPC body is validated against the 2026-07-28 schema.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::router::*;

fn call(id: i64, name: &str, arguments: Value) -> Value {
    modern_rpc(
        id,
        "tools/call",
        json!({ "name": name, "arguments": arguments }),
    )
}

#[tokio::test]
async fn server_discover_lists_versions_and_capabilities() {
    let gw = gateway().await;
    let h = modern_headers("server/discover", None);
    let msg = modern_rpc(1, "server/discover", json!({}));
    let (_, body) = expect_json(post_json(&gw.app, &h, &msg).await, StatusCode::OK);
    let result = assert_result(MODERN, &body, "DiscoverResult");
    assert_eq!(result["supportedVersions"], json!(ALL_VERSIONS));
    assert!(result["capabilities"]["tools"].is_object());
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["ttlMs"], 30_000);
    assert!(["public", "private"].contains(&result["cacheScope"].as_str().unwrap()));
}

#[tokio::test]
async fn server_discover_answers_a_bare_probe() {
    // A client that does not know what we speak yet sends no _meta, maybe no header.
    let gw = gateway().await;
    let with_header = modern_headers("server/discover", None);
    let bare = json!({ "jsonrpc": "2.0", "id": 2, "method": "server/discover" });
    for h in [vec![], with_header] {
        for msg in [bare.clone(), rpc(2, "server/discover", json!({}))] {
            let (_, body) = expect_json(post_json(&gw.app, &h, &msg).await, StatusCode::OK);
            let result = assert_result(MODERN, &body, "DiscoverResult");
            assert_eq!(result["supportedVersions"], json!(ALL_VERSIONS));
        }
    }
}

#[tokio::test]
async fn tools_list_is_complete_cacheable_and_private() {
    let gw = gateway().await;
    let h = modern_headers("tools/list", None);
    let msg = modern_rpc(3, "tools/list", json!({}));
    let (_, body) = expect_json(post_json(&gw.app, &h, &msg).await, StatusCode::OK);
    let result = assert_result(MODERN, &body, "ListToolsResult");
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["ttlMs"], 30_000);
    assert_eq!(result["cacheScope"], "private");
    let tools = result["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["calculate", "current_time", "echo"]);
    for tool in tools {
        assert_valid(MODERN, "Tool", tool);
    }

    let gw = gateway_with(&[("GATEWAY_TOOLS_TTL_MS", "5000")]).await;
    let (_, body) = expect_json(post_json(&gw.app, &h, &msg).await, StatusCode::OK);
    assert_eq!(
        assert_result(MODERN, &body, "ListToolsResult")["ttlMs"],
        5000
    );
}

#[tokio::test]
async fn tools_call_echo_is_complete_with_plain_or_base64_mcp_name() {
    let gw = gateway().await;
    for name_header in ["echo", "=?base64?ZWNobw==?="] {
        let h = modern_headers("tools/call", Some(name_header));
        let msg = call(4, "echo", json!({ "text": "per request" }));
        let (_, body) = expect_json(post_json(&gw.app, &h, &msg).await, StatusCode::OK);
        let result = assert_result(MODERN, &body, "CallToolResult");
        assert_eq!(result["resultType"], "complete");
        assert_eq!(result["content"][0]["type"], "text");
        let text = result["content"][0]["text"].as_str().unwrap();
        assert!(text.contains("per request"), "{text}");
        assert_eq!(
            result["structuredContent"],
            json!({ "text": "per request" })
        );
        assert!(result.get("isError").is_none());
    }
    assert_eq!(gw.stub.echo_bodies.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn transport_headers_that_disagree_with_the_body_are_400_header_mismatch() {
    let gw = gateway().await;
    let v = ("mcp-protocol-version", MODERN);
    let echo = call(5, "echo", json!({ "text": "x" }));
    let list = modern_rpc(5, "tools/list", json!({}));
    let cases = [
        (
            "Mcp-Name mismatch",
            vec![v, ("mcp-method", "tools/call"), ("mcp-name", "calculate")],
            &echo,
        ),
        (
            "Mcp-Name missing",
            vec![v, ("mcp-method", "tools/call")],
            &echo,
        ),
        (
            "Mcp-Name malformed base64",
            vec![
                v,
                ("mcp-method", "tools/call"),
                ("mcp-name", "=?base64?!!?="),
            ],
            &echo,
        ),
        ("Mcp-Method missing", vec![v, ("mcp-name", "echo")], &echo),
        (
            "Mcp-Method mismatch",
            vec![v, ("mcp-method", "tools/list"), ("mcp-name", "echo")],
            &echo,
        ),
        ("Mcp-Method missing on tools/list", vec![v], &list),
        (
            "header version differs from _meta version",
            vec![
                ("mcp-protocol-version", "2025-11-25"),
                ("mcp-method", "tools/list"),
            ],
            &list,
        ),
        (
            "_meta version without header",
            vec![("mcp-method", "tools/list")],
            &list,
        ),
    ];
    for (case, h, msg) in cases {
        let reply = post_json(&gw.app, &h, msg).await;
        assert_eq!(reply.0, StatusCode::BAD_REQUEST, "{case}: {:?}", reply.2);
        let (_, body) = expect_json(reply, StatusCode::BAD_REQUEST);
        assert_error(MODERN, &body, 5, -32020);
    }
    assert!(gw.stub.echo_bodies.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_per_request_version_header_without_meta_is_a_header_mismatch() {
    let gw = gateway().await;
    let h = modern_headers("tools/list", None);
    let msg = rpc(6, "tools/list", json!({}));
    let (_, body) = expect_json(post_json(&gw.app, &h, &msg).await, StatusCode::BAD_REQUEST);
    assert_error(MODERN, &body, 6, -32020);
}

#[tokio::test]
async fn an_unsupported_meta_version_is_400_listing_supported_versions() {
    let gw = gateway().await;
    let h = [
        ("mcp-protocol-version", "2099-01-01"),
        ("mcp-method", "tools/list"),
    ];
    let msg = rpc(
        7,
        "tools/list",
        json!({ "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2099-01-01",
            "io.modelcontextprotocol/clientCapabilities": {},
        } }),
    );
    let (_, body) = expect_json(post_json(&gw.app, &h, &msg).await, StatusCode::BAD_REQUEST);
    assert_error(MODERN, &body, 7, -32022);
    assert_eq!(body["error"]["data"]["requested"], "2099-01-01");
    assert_eq!(body["error"]["data"]["supported"], json!(ALL_VERSIONS));
}

#[tokio::test]
async fn handshake_methods_and_unknown_methods_are_404_method_not_found() {
    let gw = gateway().await;
    let init_params = json!({
        "protocolVersion": MODERN,
        "capabilities": {},
        "clientInfo": { "name": "protocol-test", "version": "0.0.0" },
    });
    for (method, params) in [
        ("ping", json!({})),
        ("initialize", init_params),
        ("resources/list", json!({})),
    ] {
        let h = modern_headers(method, None);
        let msg = modern_rpc(8, method, params);
        let reply = post_json(&gw.app, &h, &msg).await;
        assert_eq!(reply.0, StatusCode::NOT_FOUND, "{method}");
        let (_, body) = expect_json(reply, StatusCode::NOT_FOUND);
        assert_error(MODERN, &body, 8, -32601);
    }
}

#[tokio::test]
async fn policy_follows_the_body_never_the_headers() {
    // A header naming an allowed tool must not smuggle a call to another one.
    let gw = gateway().await;
    let to_calculate = call(9, "calculate", json!({ "a": 1, "b": 2, "op": "add" }));
    let to_echo = call(9, "echo", json!({ "text": "x" }));
    let calculate_b64 = "=?base64?Y2FsY3VsYXRl?=";
    for (h, msg) in [
        (modern_headers("tools/call", Some("echo")), &to_calculate),
        (modern_headers("tools/call", Some(calculate_b64)), &to_echo),
    ] {
        let (_, body) = expect_json(post_json(&gw.app, &h, msg).await, StatusCode::BAD_REQUEST);
        assert_error(MODERN, &body, 9, -32020);
    }
    // A body that names two tools is refused, not resolved in the header's favour.
    let h = modern_headers("tools/call", Some("echo"));
    let twice = r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","name":"calculate","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#;
    let (_, body) = expect_json(post(&gw.app, &h, twice).await, StatusCode::OK);
    assert_error(MODERN, &body, 9, -32602);
    assert!(gw.stub.echo_bodies.lock().unwrap().is_empty());
}
