//! The helpers every test here uses: the AWS SDK configuration for moto, unique names, and
//! reading identity statements and the published JWKS back from a gateway (polling until a
//! rotation shows) and verifying one against the other.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use mcp_oauth_gateway::adapters::identity_key::KeyPair;

use crate::support::router;

/// A guard against a hung refresh, not a timing assumption (refreshes run every second).
pub const POLL_LIMIT: Duration = Duration::from_secs(60);

pub async fn sdk() -> aws_config::SdkConfig {
    std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .expect("AWS_ENDPOINT_URL is not set: run the suite with `make test` (moto)");
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

pub fn kid_of(pem: &str) -> String {
    KeyPair::from_pem(pem).expect("a valid key").public.kid
}

/// Calls the echo tool; the statement the stub target received, or `None` (with the
/// result) when the target was not reached.
pub async fn call_echo(gw: &router::Gateway) -> (Value, Option<String>) {
    let before = gw.stub.echo_headers.lock().unwrap().len();
    let msg = router::rpc(
        1,
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "hi"}}),
    );
    let (status, _, body) = router::post_json(&gw.app, &[], &msg).await;
    assert_eq!(status, StatusCode::OK);
    let result = body.unwrap()["result"].clone();
    let headers = gw.stub.echo_headers.lock().unwrap();
    let statement = headers.get(before).map(|h| {
        h.get("x-gateway-identity")
            .expect("the statement header")
            .to_str()
            .unwrap()
            .to_owned()
    });
    (result, statement)
}

pub async fn statement(gw: &router::Gateway) -> String {
    let (result, statement) = call_echo(gw).await;
    assert_eq!(result["isError"], Value::Null, "{result}");
    statement.expect("the target was reached")
}

pub async fn jwks(gw: &router::Gateway) -> JwkSet {
    let req = router::request(Method::GET, "/.well-known/jwks.json", &[], "");
    let (status, _, body) = router::send(&gw.raw, req).await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_value(body.unwrap()).unwrap()
}

pub fn kids(set: &JwkSet) -> Vec<String> {
    set.keys
        .iter()
        .map(|k| k.common.key_id.clone().unwrap())
        .collect()
}

pub fn kid(statement: &str) -> String {
    jsonwebtoken::decode_header(statement).unwrap().kid.unwrap()
}

/// Verifies `statement` with the key its `kid` names in `set`; its claims.
pub fn verify(gw: &router::Gateway, statement: &str, set: &JwkSet) -> Value {
    let kid = kid(statement);
    let jwk = set
        .find(&kid)
        .unwrap_or_else(|| panic!("kid {kid} is not published"));
    // The audience is the tool's URL exactly, and no leeway on the 60 s statement.
    let mut v = Validation::new(Algorithm::ES256);
    v.leeway = 0;
    v.set_audience(&[format!("{}/echo", gw.stub.base_url)]);
    v.set_issuer(&[router::tokens::AUDIENCE]);
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let claims = jsonwebtoken::decode::<Value>(statement, &key, &v)
        .expect("the statement verifies")
        .claims;
    assert_eq!(claims["username"], "alice");
    assert_eq!(claims["tool"], "echo");
    claims
}

/// Calls until a statement is signed by `want` (each call may start a refresh).
pub async fn statement_signed_by(gw: &router::Gateway, want: &str) -> String {
    let deadline = tokio::time::Instant::now() + POLL_LIMIT;
    loop {
        let s = statement(gw).await;
        if kid(&s) == want {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never signed by {want}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Reads the JWKS until it publishes `want`.
pub async fn jwks_with(gw: &router::Gateway, want: &str) -> JwkSet {
    let deadline = tokio::time::Instant::now() + POLL_LIMIT;
    loop {
        let set = jwks(gw).await;
        if set.find(want).is_some() {
            return set;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{want} never published"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
