//! One-shot requests through the router (no network), JSON-RPC messages of both eras, and
//! checks of the reply's status, media type and body.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::*;

/// Status, headers and the body parsed as JSON (`None` when the body is empty).
pub type Reply = (StatusCode, HeaderMap, Option<Value>);

/// Sends one request through the router (no network) and parses its JSON body.
pub async fn send(app: &Router, req: Request<Body>) -> Reply {
    let resp = app
        .clone()
        .oneshot(req)
        .await
        .expect("the router is infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("read the response body");
    if bytes.is_empty() {
        return (status, headers, None);
    }
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{status}: the body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, headers, Some(value))
}

/// A request to `uri` with `headers` (no defaults added).
pub fn request(
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(body.into()).expect("a valid request")
}

/// `POST /mcp` with `headers`; `Content-Type: application/json` and
/// `Accept: application/json, text/event-stream` are added unless `headers` set them.
pub async fn post(app: &Router, headers: &[(&str, &str)], body: impl Into<Body>) -> Reply {
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    let has = |name: &str| headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    if !has("content-type") {
        all.push(("content-type", "application/json"));
    }
    if !has("accept") {
        all.push(("accept", "application/json, text/event-stream"));
    }
    send(app, request(Method::POST, "/mcp", &all, body)).await
}

/// `POST /mcp` of a JSON message.
pub async fn post_json(app: &Router, headers: &[(&str, &str)], message: &Value) -> Reply {
    post(app, headers, message.to_string()).await
}

/// A JSON-RPC request.
pub fn rpc(id: i64, method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

/// `params` plus the per-request-era `_meta` (2026-07-28, empty client capabilities).
pub fn with_meta(mut params: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    params
}

/// A per-request-era request: `_meta` in params.
pub fn modern_rpc(id: i64, method: &str, params: Value) -> Value {
    rpc(id, method, with_meta(params))
}

/// The transport headers of a per-request-era request.
pub fn modern_headers<'a>(method: &'a str, name: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut h = vec![("mcp-protocol-version", MODERN), ("mcp-method", method)];
    if let Some(name) = name {
        h.push(("mcp-name", name));
    }
    h
}

pub fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

/// Asserts a JSON response (status and `Content-Type`) and returns its body.
#[track_caller]
pub fn expect_json(reply: Reply, status: StatusCode) -> (HeaderMap, Value) {
    let (got, headers, body) = reply;
    assert_eq!(got, status, "unexpected status; body: {body:?}");
    assert_eq!(content_type(&headers), "application/json");
    (headers, body.expect("a JSON body"))
}

/// Asserts a 202 with no body.
#[track_caller]
pub fn expect_accepted(reply: Reply) {
    let (status, _, body) = reply;
    assert_eq!(status, StatusCode::ACCEPTED, "body: {body:?}");
    assert_eq!(body, None, "202 carries no body");
}
