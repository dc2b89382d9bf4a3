//! Amazon Cognito access tokens, end to end against moto's Cognito (`AWS_ENDPOINT_URL`, set
//! by `make test`): every test seeds a fresh user pool through the Rust SDK (two app
//! clients, groups, users with permanent passwords), logs users in with AdminInitiateAuth,
//! and checks what the gateway makes of the real tokens — over HTTP through the spawned
//! standalone binary, and as `Principal`s straight from `auth::Verifier`.
//!
//! moto serves the pool's JWKS at `$AWS_ENDPOINT_URL/<pool>/.well-known/jwks.json`, while
//! its tokens' `iss` is the real `https://cognito-idp.<region>.amazonaws.com/<pool>`. Without
//! `AWS_ENDPOINT_URL` and `AWS_REGION` these tests fail (they never reach real AWS).

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::StatusCode;

use mcp_oauth_gateway::adapters::jwks_http::HttpJwksFetcher;
use mcp_oauth_gateway::auth::keystore::RefreshPolicy;
use mcp_oauth_gateway::auth::{AuthError, IssuerConfig, Verifier};

use crate::support::idp::{TestPool, challenge, jwt_claims, tool_names, tools_list};

/// username -> (password, groups). The pool also has a `sales` group nobody is in.
const USERS: [(&str, &str, &[&str]); 2] = [
    ("alice", "Alice-Passw0rd!", &["engineering", "admins"]),
    ("carol", "Carol-Passw0rd!", &[]),
];
const GROUPS: [&str; 3] = ["engineering", "admins", "sales"];

/// A freshly seeded user pool in moto, with a second app client the gateway does not trust.
async fn seed() -> TestPool {
    TestPool::seed("auth-cognito", &GROUPS, &USERS, true).await
}

/// A verifier trusting `pool`'s first app client, its keys loaded.
async fn loaded_verifier(pool: &TestPool) -> Verifier {
    let verifier = Verifier::new(
        vec![IssuerConfig::cognito(
            &pool.region,
            &pool.pool_id,
            vec![pool.client_id.clone()],
            Some(pool.jwks_url.clone()),
        )],
        Arc::new(
            HttpJwksFetcher::new(
                &mcp_oauth_gateway::adapters::http_clients::HttpClients::new().unwrap(),
            )
            .expect("HTTP client"),
        ),
        RefreshPolicy::default(),
        100,
    );
    verifier.load_all().await;
    let keys = verifier
        .key_store(&pool.issuer())
        .expect("the pool is a configured issuer")
        .keys();
    assert!(!keys.is_empty(), "no keys loaded from {}", pool.jwks_url);
    verifier
}

fn set(items: &[String]) -> BTreeSet<&str> {
    items.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn gateway_lists_tools_for_a_cognito_access_token() {
    let pool = seed().await;
    let gateway = pool.gateway(&[]);
    let alice = pool.login("alice").await;

    let (status, _, body) = tools_list(&gateway.base, Some(&alice.access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(tool_names(&body), ["calculate", "current_time", "echo"]);
}

#[tokio::test]
async fn gateway_accepts_a_user_without_groups() {
    let pool = seed().await;
    let gateway = pool.gateway(&[]);
    let carol = pool.login("carol").await;
    assert!(
        jwt_claims(&carol.access).get("cognito:groups").is_none(),
        "carol is in no group, so moto should leave the claim out"
    );

    // Accepted: no groups means only the every-user policy applies (the embedded
    // configuration gives everyone current_time).
    let (status, _, body) = tools_list(&gateway.base, Some(&carol.access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(tool_names(&body), ["current_time"]);
}

#[tokio::test]
async fn gateway_refuses_a_cognito_id_token_as_invalid_token() {
    let pool = seed().await;
    let gateway = pool.gateway(&[]);
    let alice = pool.login("alice").await;
    // Same issuer, same keys, a valid signature: only token_use tells them apart.
    assert_eq!(jwt_claims(&alice.id)["token_use"], "id");

    let (status, headers, body) = tools_list(&gateway.base, Some(&alice.id)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let challenge = challenge(&headers);
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    assert!(challenge.contains("resource_metadata=\""), "{challenge}");
    assert!(body.get("result").is_none(), "{body}");
}

#[tokio::test]
async fn gateway_refuses_an_access_token_of_another_app_client() {
    let pool = seed().await;
    let gateway = pool.gateway(&[]);
    let other = pool.login_with("alice", pool.other_client()).await;
    assert_eq!(jwt_claims(&other.access)["client_id"], pool.other_client());

    let (status, headers, body) = tools_list(&gateway.base, Some(&other.access)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let challenge = challenge(&headers);
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn gateway_without_a_token_answers_401_without_an_error_code() {
    let pool = seed().await;
    let gateway = pool.gateway(&[]);

    let (status, headers, body) = tools_list(&gateway.base, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let challenge = challenge(&headers);
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains("resource_metadata=\""), "{challenge}");
    // RFC 6750 §3.1: no error code when the request carried no credentials.
    assert!(!challenge.contains("error="), "{challenge}");
}

#[tokio::test]
async fn verifier_turns_a_cognito_access_token_into_the_principal() {
    let pool = seed().await;
    let verifier = loaded_verifier(&pool).await;
    let alice = pool.login("alice").await;
    let claims = jwt_claims(&alice.access);

    let verified = verifier
        .verify(&alice.access)
        .await
        .expect("alice verifies");
    assert!(!verified.cached);
    let p = &verified.principal;
    assert_eq!(p.issuer, pool.issuer());
    assert_eq!(claims["iss"], pool.issuer().as_str(), "moto's iss is AWS's");
    assert_eq!(p.username, "alice");
    assert_eq!(Some(p.subject.as_str()), claims["sub"].as_str());
    // moto's group order varies; what counts is which groups.
    assert_eq!(set(&p.groups), BTreeSet::from(["admins", "engineering"]));
    assert_eq!(p.groups.len(), 2, "{:?}", p.groups);
    assert_eq!(p.client_id.as_deref(), Some(pool.client_id.as_str()));
    assert_eq!(p.token_id.as_deref(), claims["jti"].as_str());
    assert!(p.token_id.is_some(), "moto's access tokens carry a jti");
    assert_eq!(Some(p.expires_at), claims["exp"].as_u64());

    // The same token again comes from the verified-token cache, unchanged.
    let again = verifier.verify(&alice.access).await.expect("cached");
    assert!(again.cached);
    assert_eq!(again.principal, verified.principal);
}

#[tokio::test]
async fn verifier_gives_a_user_without_groups_no_groups() {
    let pool = seed().await;
    let verifier = loaded_verifier(&pool).await;
    let carol = pool.login("carol").await;

    let p = verifier
        .verify(&carol.access)
        .await
        .expect("carol verifies")
        .principal;
    assert_eq!(p.username, "carol");
    assert!(p.groups.is_empty(), "{:?}", p.groups);
}

#[tokio::test]
async fn verifier_names_why_cognito_tokens_are_refused() {
    let pool = seed().await;
    let verifier = loaded_verifier(&pool).await;
    let alice = pool.login("alice").await;
    let other = pool.login_with("alice", pool.other_client()).await;

    assert_eq!(
        verifier.verify(&alice.id).await.err(),
        Some(AuthError::TokenUse)
    );
    assert_eq!(
        verifier.verify(&other.access).await.err(),
        Some(AuthError::Client)
    );
    // A token of another pool (same moto keys, another iss) is not this issuer's.
    let stranger = seed().await;
    let foreign = stranger.login("alice").await;
    assert_eq!(
        verifier.verify(&foreign.access).await.err(),
        Some(AuthError::UnknownIssuer)
    );
}
