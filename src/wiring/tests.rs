//! `build(config, ports)` with fakes for every port: the router it makes answers without a
//! network, and refuses an unauthenticated call.

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use super::*;
use crate::auth::FetchError;

/// Key documents from memory: none is ever fetched in these tests, so any fetch fails.
struct NoKeys;

#[async_trait]
impl JwksFetcher for NoKeys {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        Err(FetchError(format!("{url}: not in this test")))
    }
}

/// Clients whose every AWS call would go to a closed loopback port: none is made.
fn offline_clients() -> Clients {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:1")
        .build();
    Clients {
        aws: AwsClients::from_sdk(sdk),
        http: HttpClients::new().unwrap(),
    }
}

async fn gateway() -> Arc<AppState> {
    let env = |k: &str| match k {
        "GATEWAY_OIDC_ISSUER" => Some("https://idp.example".to_owned()),
        "GATEWAY_RESOURCE_URL" => Some("https://mcp.example/mcp".to_owned()),
        "DEMO_TOOLS_URL" => Some("https://tools.example".to_owned()),
        _ => None,
    };
    let config = Config::from_lookup(env).unwrap();
    let doc = catalog_file::load(None, &env, &config.outbound).unwrap();
    let ports = Ports {
        clients: offline_clients(),
        fetcher: Arc::new(NoKeys),
        source: Arc::new(FileSource::new(None, doc)),
        audit_sinks: Vec::new(),
        deny_source: None,
    };
    build(&config, ports).await.unwrap()
}

#[tokio::test]
async fn the_router_built_on_fakes_serves_metadata_and_refuses_anonymous_calls() {
    let app = crate::edge::app(gateway().await);
    let meta = Request::get("/.well-known/oauth-protected-resource/mcp")
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(meta).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
        .await
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["resource"], "https://mcp.example/mcp");
    assert_eq!(doc["authorization_servers"][0], "https://idp.example");

    let call = Request::post("/mcp")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(Body::from(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        ))
        .unwrap();
    let resp = app.oneshot(call).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("resource_metadata="), "{challenge}");
}
