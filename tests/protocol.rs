//! The MCP endpoint over HTTP, handshake era (2025-03-26, 2025-06-18, 2025-11-25) and the
//! rules of every era (HTTP methods, origins, media types, body limits, framing).
//! The per-request era (2026-07-28) is in `protocol_modern.rs`.
//!
//! Every JSON-RPC body is validated against the official schema of the version it speaks.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

use common::*;

fn initialize(version: Option<&str>) -> Value {
    let mut params = json!({
        "capabilities": {},
        "clientInfo": { "name": "protocol-test", "version": "0.0.0" },
    });
    if let Some(v) = version {
        params["protocolVersion"] = v.into();
    }
    rpc(1, "initialize", params)
}

fn call(id: i64, name: &str, arguments: Value) -> Value {
    rpc(
        id,
        "tools/call",
        json!({ "name": name, "arguments": arguments }),
    )
}

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

// ---------------------------------------------------------------------------------------
// Handshake era
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Any era: HTTP
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn other_http_methods_on_mcp_are_405_with_allow() {
    let gw = gateway().await;
    for method in [Method::GET, Method::DELETE, Method::PUT] {
        let h = [("accept", "application/json, text/event-stream")];
        let reply = send(&gw.app, request(method.clone(), "/mcp", &h, Body::empty())).await;
        let (headers, body) = expect_json(reply, StatusCode::METHOD_NOT_ALLOWED);
        let allow = headers.get(header::ALLOW).expect("Allow header");
        assert!(
            allow.to_str().unwrap().contains("POST"),
            "{method}: {allow:?}"
        );
        assert_error_without_id(&body, -32600);
    }
}

#[tokio::test]
async fn origins_are_refused_unless_configured() {
    let gw = gateway().await;
    let h = [("origin", "http://localhost:6274")];
    let (headers, body) = expect_json(
        post_json(&gw.app, &h, &rpc(13, "ping", json!({}))).await,
        StatusCode::FORBIDDEN,
    );
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    assert_error_without_id(&body, -32600);
}

#[tokio::test]
async fn a_configured_origin_gets_cors_and_others_stay_refused() {
    let gw = gateway_with(&[("GATEWAY_ALLOWED_ORIGINS", "http://localhost:6274")]).await;
    let allowed = [("origin", "http://localhost:6274")];
    let reply = post_json(&gw.app, &allowed, &rpc(14, "ping", json!({}))).await;
    let (headers, body) = expect_json(reply, StatusCode::OK);
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://localhost:6274"
    );
    assert_result("2025-03-26", &body, "EmptyResult");

    let preflight = [
        ("origin", "http://localhost:6274"),
        ("access-control-request-method", "POST"),
        (
            "access-control-request-headers",
            "content-type, mcp-protocol-version",
        ),
    ];
    let req = request(Method::OPTIONS, "/mcp", &preflight, Body::empty());
    let (status, headers, body) = send(&gw.app, req).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, None);
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://localhost:6274"
    );
    let methods = headers[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let allowed_headers = headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for h in [
        "content-type",
        "mcp-protocol-version",
        "mcp-method",
        "mcp-name",
    ] {
        assert!(allowed_headers.contains(h), "{h} not in {allowed_headers}");
    }

    let other = [("origin", "https://evil.example")];
    let reply = post_json(&gw.app, &other, &rpc(15, "ping", json!({}))).await;
    let (_, body) = expect_json(reply, StatusCode::FORBIDDEN);
    assert_error_without_id(&body, -32600);
    let other_preflight = [other[0], ("access-control-request-method", "POST")];
    let req = request(Method::OPTIONS, "/mcp", &other_preflight, Body::empty());
    let (headers, body) = expect_json(send(&gw.app, req).await, StatusCode::FORBIDDEN);
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    assert_error_without_id(&body, -32600);
}

#[tokio::test]
async fn malformed_messages_are_400_with_the_right_code() {
    let gw = gateway().await;
    let batch = r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#;
    let cases: [(&str, Vec<u8>, i64); 4] = [
        ("batch", batch.into(), -32600),
        ("invalid JSON", br#"{"jsonrpc":"2.0","#.to_vec(), -32700),
        (
            "null id",
            br#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#.to_vec(),
            -32600,
        ),
        (
            "not UTF-8",
            b"{\"jsonrpc\":\"2.0\xff\xfe\"}".to_vec(),
            -32700,
        ),
    ];
    for (case, bytes, code) in cases {
        let reply = post(&gw.app, &[], bytes).await;
        assert_eq!(reply.0, StatusCode::BAD_REQUEST, "{case}");
        let (_, body) = expect_json(reply, StatusCode::BAD_REQUEST);
        assert_error_without_id(&body, code);
    }
    // Without a method, but with a usable id: the error answers that id.
    let reply = post(&gw.app, &[], r#"{"jsonrpc":"2.0","id":1}"#).await;
    let (_, body) = expect_json(reply, StatusCode::BAD_REQUEST);
    for v in ["2025-06-18", "2025-11-25", MODERN] {
        assert_error(v, &body, 1, -32600);
    }
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413() {
    let gw = gateway().await;
    let padded = |total: usize| {
        let mut body = br#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":""#.to_vec();
        body.resize(total - 3, b'a');
        body.extend_from_slice(br#""}}"#);
        body
    };
    // Exactly 1 MiB is still fine.
    let (_, body) = expect_json(post(&gw.app, &[], padded(1 << 20)).await, StatusCode::OK);
    assert_result("2025-03-26", &body, "EmptyResult");

    let big = padded((1 << 20) + 1);
    let len = big.len().to_string();

    let h = [("content-length", len.as_str())];
    let (_, body) = expect_json(
        post(&gw.app, &h, big.clone()).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    assert_error_without_id(&body, -32600);

    // Streamed, with no Content-Length and no exact size hint: the limit applies as read.
    let streamed = Body::from_stream(Body::from(big).into_data_stream());
    let (_, body) = expect_json(
        post(&gw.app, &[], streamed).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    assert_error_without_id(&body, -32600);
}

#[tokio::test]
async fn media_types_are_checked() {
    let gw = gateway().await;
    let ping = rpc(16, "ping", json!({})).to_string();

    let h = [("content-type", "text/plain")];
    let reply = post(&gw.app, &h, ping.clone()).await;
    let (_, body) = expect_json(reply, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_error_without_id(&body, -32600);

    let h = [("accept", "text/html")];
    let reply = post(&gw.app, &h, ping.clone()).await;
    let (_, body) = expect_json(reply, StatusCode::NOT_ACCEPTABLE);
    assert_error_without_id(&body, -32600);

    for (ct, accept) in [
        ("application/json", "application/json, text/event-stream"),
        ("application/json; charset=utf-8", "application/json"),
    ] {
        let h = [("content-type", ct), ("accept", accept)];
        let (_, body) = expect_json(post(&gw.app, &h, ping.clone()).await, StatusCode::OK);
        assert_result("2025-03-26", &body, "EmptyResult");
    }
}

#[tokio::test]
async fn health_needs_no_auth_and_unknown_paths_are_404_json() {
    let gw = gateway().await;
    // /health is not MCP: there is no schema for it.
    let reply = send(&gw.app, request(Method::GET, "/health", &[], Body::empty())).await;
    let (_, body) = expect_json(reply, StatusCode::OK);
    assert_eq!(body["status"], "ok");

    let reply = send(&gw.app, request(Method::GET, "/nope", &[], Body::empty())).await;
    let (_, body) = expect_json(reply, StatusCode::NOT_FOUND);
    assert_error_without_id(&body, -32600);
}
