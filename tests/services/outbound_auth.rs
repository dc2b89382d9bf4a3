//! Outbound credentials of HTTP targets through the in-process gateway: a static header
//! from the environment or AWS Secrets Manager (moto, `AWS_ENDPOINT_URL`), and OAuth 2.0
//! client-credentials tokens from the real local OIDC provider (`OIDC_ISSUER`) and from a
//! counting stub token endpoint (caching, expiry, single flight, failure). Run by
//! `make test`; without those variables the tests that need them fail, never skip.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing;
use base64::Engine;
use serde_json::{Value, json};

use mcp_oauth_gateway::adapters::dynamodb_config::{tool_from_item, tool_to_item};
use mcp_oauth_gateway::catalog::ToolDefinition;

use crate::support::required_env;
use crate::support::router;
use crate::support::tool_secrets::{self, OA_API_KEY};

/// A catalog allowing every tool to everyone; `tools` are YAML flow mappings.
fn catalog(tools: &[String]) -> String {
    let mut yaml = String::from("policies:\n  - {group: \"*\", allow: [\"*\"]}\ntools:\n");
    for t in tools {
        yaml.push_str(&format!("  - {t}\n"));
    }
    yaml
}

fn echo_tool(name: &str, auth: &str) -> String {
    format!(
        "{{name: {name}, inputSchema: {{type: object}}, target: {{kind: http, \
         url: \"${{DEMO_TOOLS_URL}}/echo\", auth: {auth}}}}}"
    )
}

async fn call(gw: &router::Gateway, tool: &str) -> Value {
    let mut c = router::tokens::claims(&gw.stub.base_url);
    c["scope"] = json!("mcp:tools");
    let auth = format!("Bearer {}", router::tokens::sign("rsa-1", &c));
    let msg = router::rpc(
        7,
        "tools/call",
        json!({"name": tool, "arguments": {"text": "hi"}}),
    );
    let (status, _, body) = router::post_json(&gw.raw, &[("authorization", &auth)], &msg).await;
    assert_eq!(status, StatusCode::OK);
    body.unwrap()["result"].clone()
}

fn received(gw: &router::Gateway, index: usize, header: &str) -> Option<String> {
    let headers = gw.stub.echo_headers.lock().unwrap();
    headers[index]
        .get(header)
        .map(|v| v.to_str().unwrap().to_owned())
}

fn assert_generic_failure(result: &Value) {
    assert_eq!(result["isError"], true, "{result}");
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("The tool could not be completed"),
        "{text}"
    );
}

#[tokio::test]
async fn a_static_header_from_the_environment_reaches_the_target() {
    tool_secrets::assert_set();
    let gw = router::gateway_with_catalog(&catalog(&[
        echo_tool(
            "crm",
            "{kind: header, name: x-api-key, value: {env: TOOL_SECRET_OA_API_KEY}}",
        ),
        echo_tool(
            "unset",
            "{kind: header, name: x-api-key, value: {env: TOOL_SECRET_OA_NOT_SET}}",
        ),
    ]))
    .await;
    let result = call(&gw, "crm").await;
    assert_eq!(result["isError"], Value::Null, "{result}");
    assert!(!result.to_string().contains(OA_API_KEY));
    assert_eq!(received(&gw, 0, "x-api-key").as_deref(), Some(OA_API_KEY));
    assert!(received(&gw, 0, "x-gateway-identity").is_some());
    assert!(received(&gw, 0, "authorization").is_none());
    // A missing variable fails the call, generically, before the target is reached.
    assert_generic_failure(&call(&gw, "unset").await);
    assert_eq!(gw.stub.echo_headers.lock().unwrap().len(), 1);
}

fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn client_credentials_tokens_come_from_the_real_provider_and_are_reused() {
    tool_secrets::assert_set();
    let issuer = required_env("OIDC_ISSUER");
    let resource = format!("http://127.0.0.1:1/{}/crm", uuid::Uuid::new_v4());
    let resp = reqwest::Client::new()
        .post(format!("{issuer}/__admin/resources"))
        .form(&[("resource", resource.as_str())])
        .send()
        .await
        .expect("register a resource");
    assert!(resp.status().is_success());
    let auth = format!(
        "{{kind: oauth2ClientCredentials, tokenUrl: \"{issuer}/token\", clientId: client-alice, \
         clientSecret: {{env: TOOL_SECRET_OA_ALICE}}, resource: \"{resource}\"}}"
    );
    let gw = router::gateway_with_catalog(&catalog(&[echo_tool("crm", &auth)])).await;
    for _ in 0..2 {
        let result = call(&gw, "crm").await;
        assert_eq!(result["isError"], Value::Null, "{result}");
    }
    let first = received(&gw, 0, "authorization").expect("a bearer token");
    let token = first.strip_prefix("Bearer ").expect("Bearer");
    let claims = jwt_claims(token);
    assert_eq!(claims["client_id"], "client-alice", "{claims}");
    assert_eq!(claims["aud"], json!(resource), "{claims}");
    assert_eq!(claims["iss"], json!(issuer), "{claims}");
    // The provider issues a new token per request: the same one twice means it was cached.
    assert_eq!(received(&gw, 1, "authorization"), Some(first));
    assert!(received(&gw, 0, "x-gateway-identity").is_some());
}

/// A token endpoint that counts requests: `/short` tokens live 1 s, `/long` an hour,
/// `/fail` answers 401 with detail that must never reach a client.
async fn token_stub() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let answer = |hits: Arc<AtomicUsize>, expires_in: u64| {
        move |body: String| async move {
            let n = hits.fetch_add(1, Ordering::SeqCst) + 1;
            assert!(body.contains("grant_type=client_credentials"), "{body}");
            assert!(body.contains("client_secret=stub-secret"), "{body}");
            assert!(body.contains("scope=crm%3Aread+crm%3Awrite"), "{body}");
            // Slow enough that concurrent callers overlap.
            tokio::time::sleep(Duration::from_millis(100)).await;
            axum::Json(
                json!({"access_token": format!("tok-{n}"), "token_type": "Bearer",
                "expires_in": expires_in}),
            )
        }
    };
    let router = Router::new()
        .route("/short", routing::post(answer(Arc::clone(&hits), 1)))
        .route("/long", routing::post(answer(Arc::clone(&hits), 3600)))
        .route(
            "/fail",
            routing::post(|| async { (StatusCode::UNAUTHORIZED, "invalid_client stub-secret") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}"), hits)
}

fn stub_auth(token_url: &str) -> String {
    format!(
        "{{kind: oauth2ClientCredentials, tokenUrl: \"{token_url}\", clientId: stub, \
         clientSecret: {{env: TOOL_SECRET_OA_STUB}}, scope: \"crm:read crm:write\"}}"
    )
}

#[tokio::test]
async fn tokens_are_cached_until_shortly_before_they_expire() {
    tool_secrets::assert_set();
    let (base, hits) = token_stub().await;
    let gw = router::gateway_with_catalog(&catalog(&[echo_tool(
        "crm",
        &stub_auth(&format!("{base}/short")),
    )]))
    .await;
    call(&gw, "crm").await;
    call(&gw, "crm").await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "the second call reuses the token"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let result = call(&gw, "crm").await;
    assert_eq!(result["isError"], Value::Null, "{result}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "an expired token is fetched again"
    );
    assert_eq!(
        received(&gw, 1, "authorization").as_deref(),
        Some("Bearer tok-1")
    );
    assert_eq!(
        received(&gw, 2, "authorization").as_deref(),
        Some("Bearer tok-2")
    );
}

#[tokio::test]
async fn concurrent_calls_share_one_token_request() {
    tool_secrets::assert_set();
    let (base, hits) = token_stub().await;
    let gw = router::gateway_with_catalog(&catalog(&[echo_tool(
        "crm",
        &stub_auth(&format!("{base}/long")),
    )]))
    .await;
    let calls: Vec<_> = (0..5).map(|_| call(&gw, "crm")).collect();
    for result in futures_util::future::join_all(calls).await {
        assert_eq!(result["isError"], Value::Null, "{result}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    for i in 0..5 {
        assert_eq!(
            received(&gw, i, "authorization").as_deref(),
            Some("Bearer tok-1")
        );
    }
}

#[tokio::test]
async fn a_failing_token_endpoint_is_a_generic_tool_error() {
    tool_secrets::assert_set();
    let (base, _) = token_stub().await;
    let gw = router::gateway_with_catalog(&catalog(&[echo_tool(
        "crm",
        &stub_auth(&format!("{base}/fail")),
    )]))
    .await;
    let result = call(&gw, "crm").await;
    assert_generic_failure(&result);
    let text = result.to_string();
    assert!(!text.contains("stub-secret") && !text.contains("invalid_client"));
    assert!(gw.stub.echo_headers.lock().unwrap().is_empty());
}

#[tokio::test]
async fn header_values_come_from_secrets_manager() {
    tool_secrets::assert_set();
    let _ = required_env("AWS_ENDPOINT_URL");
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    let id = uuid::Uuid::new_v4();
    let (plain, structured) = (
        format!("mcp-gateway/tools/oa-plain-{id}"),
        format!("mcp-gateway/tools/oa-json-{id}"),
    );
    for (name, value) in [
        (&plain, "plain-key-value".to_owned()),
        (
            &structured,
            json!({"apiKey": "json-key-value", "other": 1}).to_string(),
        ),
    ] {
        sm.create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .expect("create a secret in moto");
    }
    let gw = router::gateway_with_catalog(&catalog(&[
        echo_tool("plain", &format!("{{kind: header, name: x-api-key, value: {{secret: {plain}}}}}")),
        echo_tool(
            "field",
            &format!("{{kind: header, name: Authorization, value: {{secret: {structured}, field: apiKey}}}}"),
        ),
        echo_tool("missing", "{kind: header, name: x-api-key, value: {secret: mcp-gateway/tools/oa-no-such-secret}}"),
    ]))
    .await;
    let result = call(&gw, "plain").await;
    assert_eq!(result["isError"], Value::Null, "{result}");
    call(&gw, "field").await;
    assert_eq!(
        received(&gw, 0, "x-api-key").as_deref(),
        Some("plain-key-value")
    );
    assert_eq!(
        received(&gw, 1, "authorization").as_deref(),
        Some("json-key-value")
    );
    assert_generic_failure(&call(&gw, "missing").await);
}

#[test]
fn targets_with_auth_round_trip_through_dynamodb_items() {
    let def: ToolDefinition = serde_json::from_value(json!({
        "name": "crm", "inputSchema": {"type": "object"},
        "target": {"kind": "http", "url": "https://crm.example/x", "auth": {
            "kind": "oauth2ClientCredentials", "tokenUrl": "https://idp.example/token",
            "clientId": "c", "clientSecret": {"secret": "arn:s", "field": "k"},
            "scope": "a b", "resource": "https://crm.example"}}
    }))
    .unwrap();
    assert_eq!(tool_from_item(tool_to_item(&def)).unwrap(), def);
}
