//! RFC 7662 introspection as a revocation check, against the real `oidc-provider`
//! (tests/idp/oidc_provider.mjs, its introspection and revocation features on, and a
//! confidential client `gateway-introspector` for the gateway).
//!
//! oidc-provider refuses to introspect or revoke the JWT access tokens it issues
//! ("Structured JWT Tokens cannot be introspected via the introspection_endpoint",
//! `unsupported_token_type`): it does not store them. Only its opaque tokens can be
//! introspected and revoked. So the adapter (`adapters::introspection_http`) is tested here
//! with opaque tokens against the real endpoints (active, then inactive once revoked at the
//! provider, refused with wrong credentials), and the standalone gateway with JWTs: an
//! introspection endpoint that cannot vouch for a token gets that token refused (fail
//! closed), unless failing open is configured.
//!
//! Needs `MCP_E2E_NODE`, which `make test` exports; without it these tests fail.

#[path = "support/idp.rs"]
mod idp;

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use mcp_oauth_gateway::adapters::introspection_http::Introspection;
use mcp_oauth_gateway::auth::cache::token_digest;
use mcp_oauth_gateway::auth::revocation::{
    OnlineCheck, OnlineSettings, Revoked, Secret, TokenStatus, TokenStatusSource,
};

use idp::{OidcProvider, alice_token, http, spawn_gateway, tools_list, unique_resource};

const CLIENT: &str = "gateway-introspector";
const SECRET: &str = "introspector-secret";

fn introspection(issuer: &str, secret: &str) -> Introspection {
    Introspection::new(
        format!("{issuer}/token/introspection"),
        CLIENT,
        &Secret(secret.into()),
    )
    .expect("HTTP client")
}

/// An opaque access token of client-alice (no resource indicator: the provider issues
/// opaque tokens then).
async fn opaque_token(issuer: &str) -> String {
    let body: Value = http()
        .post(format!("{issuer}/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "client-alice"),
            ("client_secret", "alice-secret"),
            ("scope", "mcp:tools"),
        ])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token response is JSON");
    let token = body["access_token"].as_str().expect("access_token");
    assert_eq!(
        token.split('.').count(),
        1,
        "expected an opaque token: {token}"
    );
    token.to_owned()
}

/// Revokes a token at the provider's RFC 7009 endpoint, as its client.
async fn revoke_at_provider(issuer: &str, token: &str) {
    let resp = http()
        .post(format!("{issuer}/token/revocation"))
        .form(&[
            ("token", token),
            ("client_id", "client-alice"),
            ("client_secret", "alice-secret"),
        ])
        .send()
        .await
        .expect("revocation request");
    assert_eq!(resp.status(), StatusCode::OK, "{:?}", resp.text().await);
}

#[tokio::test]
async fn a_token_revoked_at_the_provider_introspects_as_inactive() {
    let idp = OidcProvider::spawn(&[]);
    let token = opaque_token(&idp.issuer).await;
    let check = introspection(&idp.issuer, SECRET);
    assert_eq!(check.status(&token).await, Ok(TokenStatus::Active));

    // Through the core's check with a cache window of zero: asked every time.
    let online = OnlineCheck::new(
        Arc::new(introspection(&idp.issuer, SECRET)) as Arc<dyn TokenStatusSource>,
        OnlineSettings {
            cache_for: Duration::ZERO,
            timeout: Duration::from_secs(5),
            fail_open: false,
        },
    );
    let digest = token_digest(&token);
    assert_eq!(online.check(&token, &digest).await, Ok(()));

    revoke_at_provider(&idp.issuer, &token).await;
    assert_eq!(
        check.status(&token).await,
        Ok(TokenStatus::Refused(Revoked::Inactive))
    );
    assert_eq!(online.check(&token, &digest).await, Err(Revoked::Inactive));
}

#[tokio::test]
async fn wrong_gateway_credentials_are_an_error_never_a_verdict() {
    let idp = OidcProvider::spawn(&[]);
    let token = opaque_token(&idp.issuer).await;
    let error = introspection(&idp.issuer, "wrong-secret")
        .status(&token)
        .await
        .expect_err("refused client authentication");
    assert!(error.contains("HTTP 401"), "{error}");
    assert!(
        !error.contains(&token),
        "the token never reaches a log line"
    );
}

#[tokio::test]
async fn the_gateway_refuses_a_token_its_introspection_endpoint_cannot_vouch_for() {
    let resource = unique_resource();
    let idp = OidcProvider::spawn(&[&resource]);
    let jwt = alice_token(&idp.issuer, &resource).await;
    let url = format!("{}/token/introspection", idp.issuer);
    let env = |fail_open: &'static str| {
        vec![
            ("GATEWAY_OIDC_ISSUER", idp.issuer.clone()),
            ("GATEWAY_RESOURCE_URL", resource.clone()),
            ("GATEWAY_OIDC_INTROSPECTION_URL", url.clone()),
            ("GATEWAY_OIDC_INTROSPECTION_CLIENT_ID", CLIENT.into()),
            ("GATEWAY_OIDC_INTROSPECTION_CLIENT_SECRET", SECRET.into()),
            ("GATEWAY_OIDC_INTROSPECTION_FAIL_OPEN", fail_open.into()),
        ]
    };
    let closed = env("false");
    let closed: Vec<(&str, &str)> = closed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gw = spawn_gateway(&closed);
    let (status, headers, _) = tools_list(&gw.base, Some(&jwt)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(idp::challenge(&headers).contains(r#"error="invalid_token""#));

    let open = env("true");
    let open: Vec<(&str, &str)> = open.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gw = spawn_gateway(&open);
    assert_eq!(tools_list(&gw.base, Some(&jwt)).await.0, StatusCode::OK);
}
