//! The recorded API Gateway HTTP API events in `events/` (the ones `cargo lambda invoke
//! --data-file` sends) run through the router exactly as Lambda delivers them.

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use http_body_util::BodyExt;
use mcp_oauth_gateway::config::Config;
use mcp_oauth_gateway::{AppState, app};
use serde_json::Value;
use tower::ServiceExt;

/// A stand-in for the demo tools function: `POST /echo` answers `{"text": ...}`.
async fn echo_target() -> String {
    let router = Router::new().route(
        "/echo",
        post(|body: axum::Json<Value>| async move {
            axum::Json(serde_json::json!({ "text": body["text"] }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

async fn gateway() -> Router {
    let target = echo_target().await;
    let config = Config::from_lookup(|_| None).unwrap();
    let env = move |k: &str| (k == "DEMO_TOOLS_URL").then(|| target.clone());
    app(AppState::build(&config, &env).unwrap())
}

/// Runs one event file through the router; returns the status and the JSON body, if any.
async fn run(router: Router, file: &str) -> (u16, Option<Value>) {
    let path = format!("{}/events/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let req = lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (parts, body) = req.into_parts();
    let req = axum::http::Request::from_parts(parts, Body::from(body.to_vec()));
    let resp = router.oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let json = (!bytes.is_empty()).then(|| serde_json::from_slice(&bytes).unwrap());
    (status, json)
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
    let (status, body) = run(gateway().await, "initialize.json").await;
    let body = body.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(body["result"]["serverInfo"]["name"], "mcp-oauth-gateway");
}

#[tokio::test]
async fn server_discover_event() {
    let (status, body) = run(gateway().await, "server-discover.json").await;
    let body = body.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["supportedVersions"][0], "2026-07-28");
    assert_eq!(body["result"]["resultType"], "complete");
}

#[tokio::test]
async fn tools_list_event() {
    let (status, body) = run(gateway().await, "tools-list.json").await;
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
    let (status, body) = run(gateway().await, "tools-call.json").await;
    let body = body.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["structuredContent"]["text"], "hello");
    assert_eq!(body["result"]["resultType"], "complete");
    assert!(body["result"].get("isError").is_none(), "{body}");
}

#[tokio::test]
async fn bad_request_event_is_a_parse_error() {
    let (status, body) = run(gateway().await, "bad-request.json").await;
    let body = body.unwrap();
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], -32700);
}

#[tokio::test]
async fn health_event() {
    let (status, body) = run(gateway().await, "health.json").await;
    assert_eq!(status, 200);
    assert_eq!(body.unwrap()["status"], "ok");
}
