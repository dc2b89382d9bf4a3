//! Requests over real HTTP and token helpers: tokens from the OIDC provider and its
//! `/__admin/*` side channel, `POST /mcp tools/list` and its challenge, and JWT helpers
//! that read or rewrite a token without verifying it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::*;

/// A client-credentials access token (a JWT whose `aud` is `resource`) from `issuer`.
pub async fn oidc_token(
    issuer: &str,
    client_id: &str,
    secret: &str,
    resource: &str,
    scope: &str,
) -> String {
    let resp = http()
        .post(format!("{issuer}/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("resource", resource),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap_or_else(|e| panic!("token request to {issuer}: {e}"));
    let status = resp.status();
    let body: Value = resp.json().await.expect("token response is JSON");
    assert_eq!(status, StatusCode::OK, "token request refused: {body}");
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token: {body}"))
        .to_owned()
}

/// client-alice's token for `resource` with scope `mcp:tools`.
pub async fn alice_token(issuer: &str, resource: &str) -> String {
    oidc_token(
        issuer,
        "client-alice",
        "alice-secret",
        resource,
        "mcp:tools",
    )
    .await
}

/// Lets the provider issue tokens for one more resource.
pub async fn register_resource(issuer: &str, resource: &str) {
    let resp = http()
        .post(format!("{issuer}/__admin/resources"))
        .form(&[("resource", resource)])
        .send()
        .await
        .expect("register a resource");
    assert!(
        resp.status().is_success(),
        "registering {resource}: {}",
        resp.status()
    );
}

/// `POST /__admin/<action>` (rotate, jwks-down, jwks-up, reset-stats): its JSON answer.
pub async fn admin(issuer: &str, action: &str) -> Value {
    let resp = http()
        .post(format!("{issuer}/__admin/{action}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("/__admin/{action}: {e}"));
    assert!(
        resp.status().is_success(),
        "/__admin/{action}: {}",
        resp.status()
    );
    resp.json().await.expect("admin answer is JSON")
}

/// How often the provider's `jwks_uri` was requested since the last reset.
pub async fn jwks_hits(issuer: &str) -> u64 {
    let stats: Value = http()
        .get(format!("{issuer}/__admin/stats"))
        .send()
        .await
        .expect("/__admin/stats")
        .json()
        .await
        .expect("stats are JSON");
    stats["jwksHits"]
        .as_u64()
        .unwrap_or_else(|| panic!("no jwksHits in {stats}"))
}

/// `POST {base}/mcp` with a `tools/list` request and optionally a bearer token.
pub async fn tools_list(base: &str, token: Option<&str>) -> (StatusCode, HeaderMap, Value) {
    let mut req = http()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}).to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("POST /mcp");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("response body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, body)
}

/// The tool names of a successful `tools/list` answer.
pub fn tool_names(body: &Value) -> Vec<String> {
    body["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("not a tools/list result: {body}"))
        .iter()
        .map(|t| t["name"].as_str().expect("tool name").to_owned())
        .collect()
}

/// The `WWW-Authenticate` header of a response (panics when absent).
pub fn challenge(headers: &HeaderMap) -> String {
    headers
        .get("www-authenticate")
        .expect("a 401 carries WWW-Authenticate")
        .to_str()
        .expect("ASCII challenge")
        .to_owned()
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a JWT has three parts");
    let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// A JWT's header, unverified.
pub fn jwt_header(token: &str) -> Value {
    decode_part(token, 0)
}

/// A JWT's claims, unverified.
pub fn jwt_claims(token: &str) -> Value {
    decode_part(token, 1)
}

/// `token` with its header replaced by one naming `kid` (payload and signature kept; the
/// signature no longer matches, but a kid lookup fails before it is checked).
pub fn with_kid(token: &str, kid: &str) -> String {
    let header = json!({"alg": "RS256", "kid": kid, "typ": "at+jwt"}).to_string();
    let rest = token.split_once('.').expect("a JWT has three parts").1;
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header))
}

/// How many requests the provider's introspection endpoint has had (never reset).
pub async fn introspections(issuer: &str) -> u64 {
    let stats: Value = http()
        .get(format!("{issuer}/__admin/stats"))
        .send()
        .await
        .expect("/__admin/stats")
        .json()
        .await
        .expect("stats are JSON");
    stats["introspections"]
        .as_u64()
        .unwrap_or_else(|| panic!("no introspections in {stats}"))
}
