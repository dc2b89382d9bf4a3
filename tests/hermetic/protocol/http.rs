//! HTTP rules of every era: methods other than POST, origins and CORS, malformed
//! messages, the body size limit, media types, and `/health` and unknown paths.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use serde_json::json;

use crate::support::router::*;

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
