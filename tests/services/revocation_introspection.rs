//! RFC 7662 introspection as a revocation check, against the real `oidc-provider`
//! (tests/idp/oidc_provider.mjs, its introspection and revocation features on, and a
//! confidential client `gateway-introspector` for the gateway).
//!
//! oidc-provider refuses to introspect or revoke the JWT access tokens it issues
//! ("Structured JWT Tokens cannot be introspected via the introspection_endpoint",
//! `unsupported_token_type`): it does not store them. Only its opaque tokens can be
//! introspected and revoked. So the gateway is tested end to end with the provider's opaque
//! tokens (`GATEWAY_OIDC_INTROSPECTION_OPAQUE`: identified by introspection, then checked by
//! the same claim rules and cached like JWTs): accepted, then refused within the 1 s verdict
//! window once revoked at the provider. The adapter (`adapters::introspection_http`) is
//! tested against the real endpoints (active, inactive once revoked, wrong credentials), and
//! the gateway with JWTs: an introspection endpoint that cannot vouch for a token gets that
//! token refused (fail closed), unless failing open is configured.
//!
//! Needs `MCP_E2E_NODE`, which `make test` exports; without it these tests fail.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use mcp_oauth_gateway::adapters::introspection_http::Introspection;
use mcp_oauth_gateway::auth::digest::token_digest;
use mcp_oauth_gateway::auth::revocation::{
    Checked, OnlineCheck, OnlineSettings, Revoked, Secret, TokenStatus, TokenStatusSource,
};

use crate::support::idp::{
    OidcProvider, alice_token, http, introspections, spawn_gateway, tool_names, tools_list,
    unique_resource,
};

const CLIENT: &str = "gateway-introspector";
const SECRET: &str = "introspector-secret";

fn introspection(issuer: &str, secret: &str) -> Introspection {
    Introspection::new(
        &mcp_oauth_gateway::adapters::http_clients::HttpClients::new().unwrap(),
        format!("{issuer}/token/introspection"),
        CLIENT,
        &Secret(secret.into()),
    )
    .expect("HTTP client")
}

/// An opaque access token of client-alice (without a resource indicator, or for a resource
/// the provider issues opaque tokens for).
async fn opaque_token(issuer: &str) -> String {
    opaque_token_for(issuer, None).await
}

async fn opaque_token_for(issuer: &str, resource: Option<&str>) -> String {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", "client-alice"),
        ("client_secret", "alice-secret"),
        ("scope", "mcp:tools"),
    ];
    if let Some(r) = resource {
        form.push(("resource", r));
    }
    let body: Value = http()
        .post(format!("{issuer}/token"))
        .form(&form)
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
            opaque: Default::default(),
        },
    );
    let digest = token_digest(&token);
    assert_eq!(online.check(&token, &digest).await, Ok(Checked::Confirmed));

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
    assert_eq!(error.code(), "source_unavailable", "{error:?}");
    let error = error.to_string();
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
    // Refused as an outage (503), never let through.
    let (status, _, body) = tools_list(&gw.base, Some(&jwt)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.get("result").is_none(), "{body}");

    let open = env("true");
    let open: Vec<(&str, &str)> = open.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gw = spawn_gateway(&open);
    assert_eq!(tools_list(&gw.base, Some(&jwt)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_gateway_refuses_an_opaque_token_revoked_at_the_provider_within_the_window() {
    let resource = unique_resource();
    let idp = OidcProvider::spawn_with(&[], &[&resource]);
    let url = format!("{}/token/introspection", idp.issuer);
    let gw = spawn_gateway(&[
        ("GATEWAY_OIDC_ISSUER", idp.issuer.as_str()),
        ("GATEWAY_RESOURCE_URL", resource.as_str()),
        ("GATEWAY_OIDC_INTROSPECTION_URL", url.as_str()),
        ("GATEWAY_OIDC_INTROSPECTION_CLIENT_ID", CLIENT),
        ("GATEWAY_OIDC_INTROSPECTION_CLIENT_SECRET", SECRET),
        ("GATEWAY_OIDC_INTROSPECTION_OPAQUE", "true"),
        ("GATEWAY_OIDC_INTROSPECTION_CACHE_SECS", "1"),
    ]);
    let token = opaque_token_for(&idp.issuer, Some(&resource)).await;
    let other = opaque_token_for(&idp.issuer, Some(&resource)).await;
    let (status, _, body) = tools_list(&gw.base, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Who it is came from the introspection response: alice's groups see these tools.
    assert_eq!(tool_names(&body), ["calculate", "current_time", "echo"]);
    assert_eq!(tools_list(&gw.base, Some(&other)).await.0, StatusCode::OK);

    revoke_at_provider(&idp.issuer, &token).await;
    let start = Instant::now();
    while tools_list(&gw.base, Some(&token)).await.0 != StatusCode::UNAUTHORIZED {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "revocation not seen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "introspection (1 s cache): revocation to first 401 took {:?}",
        start.elapsed()
    );
    assert_eq!(
        tools_list(&gw.base, Some(&other)).await.0,
        StatusCode::OK,
        "other tokens unaffected"
    );
    // An opaque token the provider never issued.
    assert_eq!(
        tools_list(&gw.base, Some("not-a-token-anyone-issued"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

/// Finding 8 of issue #14: any bearer string without a dot was introspected, one request
/// per string, so random strings in a loop turned the gateway into an amplifier against the
/// IdP. Now refusals are remembered by digest and introspection is rate limited: 60 random
/// strings sent three times each cost at most the burst plus the rate over the time taken
/// (on main: 180 requests), are all refused (401, or 503 beyond the limit, never 200), and
/// valid opaque tokens still work.
#[tokio::test]
async fn random_opaque_tokens_cost_a_bounded_number_of_introspections() {
    let resource = unique_resource();
    let idp = OidcProvider::spawn_with(&[], &[&resource]);
    let url = format!("{}/token/introspection", idp.issuer);
    let gw = spawn_gateway(&[
        ("GATEWAY_OIDC_ISSUER", idp.issuer.as_str()),
        ("GATEWAY_RESOURCE_URL", resource.as_str()),
        ("GATEWAY_OIDC_INTROSPECTION_URL", url.as_str()),
        ("GATEWAY_OIDC_INTROSPECTION_CLIENT_ID", CLIENT),
        ("GATEWAY_OIDC_INTROSPECTION_CLIENT_SECRET", SECRET),
        ("GATEWAY_OIDC_INTROSPECTION_OPAQUE", "true"),
        ("GATEWAY_INTROSPECTION_RATE", "1"),
        ("GATEWAY_INTROSPECTION_BURST", "10"),
    ]);
    let valid = opaque_token_for(&idp.issuer, Some(&resource)).await;
    assert_eq!(tools_list(&gw.base, Some(&valid)).await.0, StatusCode::OK);

    let before = introspections(&idp.issuer).await;
    let start = Instant::now();
    let random: Vec<String> = (0..60)
        .map(|_| uuid::Uuid::new_v4().simple().to_string())
        .collect();
    let mut refused = std::collections::BTreeMap::new();
    for _round in 0..3 {
        for t in &random {
            let status = tools_list(&gw.base, Some(t)).await.0;
            assert!(
                status == StatusCode::UNAUTHORIZED || status == StatusCode::SERVICE_UNAVAILABLE,
                "{status}"
            );
            *refused.entry(status.as_u16()).or_insert(0) += 1;
        }
    }
    let asked = introspections(&idp.issuer).await - before;
    let bound = 10 + start.elapsed().as_secs() + 1;
    println!(
        "180 random bearer strings: {asked} introspections (bound {bound}), answers {refused:?}"
    );
    assert!(
        asked <= bound,
        "{asked} introspections for random strings (bound {bound})"
    );
    assert!(
        refused.contains_key(&503),
        "beyond the limit: 503, retry later"
    );

    // The valid token is cached: no introspection needed, the flood does not lock it out.
    assert_eq!(tools_list(&gw.base, Some(&valid)).await.0, StatusCode::OK);
    // A new valid token once the bucket has refilled a request's worth (rate 1/s).
    let fresh = opaque_token_for(&idp.issuer, Some(&resource)).await;
    let start = Instant::now();
    loop {
        let status = tools_list(&gw.base, Some(&fresh)).await.0;
        if status == StatusCode::OK {
            break;
        }
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "only the limit refuses it"
        );
        assert!(start.elapsed() < Duration::from_secs(15), "never let in");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
