//! The recorded API Gateway HTTP API events in `events/` (the ones `cargo lambda invoke
//! --data-file` sends) run through the router exactly as Lambda delivers them.

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::support::router;

/// The gateway behind the test layer that adds a good bearer token: recorded events carry
/// no token, since any token in a file would have expired.
async fn gateway() -> router::Gateway {
    router::gateway().await
}

/// Runs one event file through the router; returns the status and the JSON body, if any.
async fn run(router: Router, file: &str) -> (u16, Option<Value>) {
    let (status, _, json) = run_full(router, file).await;
    (status, json)
}

async fn run_full(router: Router, file: &str) -> (u16, axum::http::HeaderMap, Option<Value>) {
    run_in(router, file, None).await
}

/// As `run_full`, with the Lambda invocation context the runtime would attach.
async fn run_in(
    router: Router,
    file: &str,
    context: Option<lambda_http::Context>,
) -> (u16, axum::http::HeaderMap, Option<Value>) {
    let path = format!("{}/events/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let req = lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (mut parts, body) = req.into_parts();
    if let Some(c) = context {
        parts.extensions.insert(c);
    }
    let req = axum::http::Request::from_parts(parts, Body::from(body.to_vec()));
    let resp = router.oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let json = (!bytes.is_empty()).then(|| serde_json::from_slice(&bytes).unwrap());
    (status, headers, json)
}

#[tokio::test]
async fn every_event_file_is_covered() {
    let dir = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/events")).unwrap();
    let mut files: Vec<String> = dir
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "bad-request.json",
            "health.json",
            "initialize.json",
            "server-discover.json",
            "tools-call.json",
            "tools-list.json"
        ],
        "a new event needs a case in this file"
    );
}

#[tokio::test]
async fn initialize_event() {
    let (status, body) = run(gateway().await.app, "initialize.json").await;
    let body = body.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(body["result"]["serverInfo"]["name"], "mcp-oauth-gateway");
}

#[tokio::test]
async fn server_discover_event() {
    let (status, body) = run(gateway().await.app, "server-discover.json").await;
    let body = body.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["supportedVersions"][0], "2026-07-28");
    assert_eq!(body["result"]["resultType"], "complete");
}

#[tokio::test]
async fn tools_list_event() {
    let (status, body) = run(gateway().await.app, "tools-list.json").await;
    let body = body.unwrap();
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["calculate", "current_time", "echo"]);
}

#[tokio::test]
async fn tools_call_event_reaches_the_target() {
    let (status, body) = run(gateway().await.app, "tools-call.json").await;
    let body = body.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["structuredContent"]["text"], "hello");
    assert_eq!(body["result"]["resultType"], "complete");
    assert!(body["result"].get("isError").is_none(), "{body}");
}

/// `echo` served by the stub's slow route (3 s) with a generous time-out of its own.
const SLOW_ECHO: &str = "policies: [{group: '*', allow: ['*']}]\ntools:\n  - name: echo\n    inputSchema: {type: object}\n    target: {kind: http, url: '${DEMO_TOOLS_URL}/slow', timeoutMs: 20000}\n";

#[tokio::test]
async fn a_target_is_abandoned_before_the_lambda_invocation_runs_out() {
    let gw = router::gateway_with_catalog(SLOW_ECHO).await;
    // Outside Lambda the target's own time-out rules: the slow answer arrives.
    let (_, _, body) = run_in(gw.app.clone(), "tools-call.json", None).await;
    let body = body.unwrap();
    assert_eq!(
        body["result"]["content"][0]["text"], r#"{"text":"late"}"#,
        "{body}"
    );
    // Two seconds left in the invocation, less the margin for the answer: given up.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut context = lambda_http::Context::default();
    context.deadline = now_ms + 2_000;
    let (status, _, body) = run_in(gw.app, "tools-call.json", Some(context)).await;
    let body = body.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["isError"], true, "{body}");
}

#[tokio::test]
async fn bad_request_event_is_a_parse_error() {
    let (status, body) = run(gateway().await.app, "bad-request.json").await;
    let body = body.unwrap();
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], -32700);
}

#[tokio::test]
async fn health_event() {
    let (status, body) = run(gateway().await.app, "health.json").await;
    assert_eq!(status, 200);
    assert_eq!(body.unwrap()["status"], "ok");
}

#[tokio::test]
async fn an_event_without_a_token_is_401_naming_the_metadata_from_the_api_host() {
    // No configured resource URL: it is derived from the Host and X-Forwarded-Proto that
    // API Gateway forwards.
    let gw = router::gateway_with(&[
        ("GATEWAY_RESOURCE_URL", ""),
        ("GATEWAY_OIDC_AUDIENCES", router::tokens::AUDIENCE),
    ])
    .await;
    let (status, headers, body) = run_full(gw.raw, "tools-list.json").await;
    assert_eq!(status, 401);
    assert_eq!(
        headers["www-authenticate"],
        "Bearer resource_metadata=\"https://abc123.execute-api.us-east-1.amazonaws.com/.well-known/oauth-protected-resource/mcp\""
    );
    assert_eq!(body.unwrap()["error"]["code"], -32001);
}
