//! OIDC access tokens from a real OpenID Connect provider (npm `oidc-provider`,
//! tests/idp/oidc_provider.mjs): claim mapping (nested and flat groups claims, user name,
//! email, `scope` and `scp`), RFC 8707 audiences, the standalone gateway over HTTP with its
//! RFC 9728 metadata, and key handling — rotation, the unknown-kid refetch rate limit, JWKS
//! outages and failing closed — all with keys found through OpenID discovery.
//!
//! Claim and gateway tests use the provider `make test` shares (`OIDC_ISSUER`) and only add
//! resources to it. Key-handling tests rotate keys and take the JWKS down, so each starts a
//! private provider (`MCP_E2E_NODE`), killed when the test ends. Without those variables
//! these tests fail; they never skip. Nothing here sleeps: fetches are counted through the
//! provider's `/__admin/stats`.

#[path = "support/idp.rs"]
mod idp;

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::Value;

use mcp_oauth_gateway::adapters::jwks_http::HttpJwksFetcher;
use mcp_oauth_gateway::auth::keystore::RefreshPolicy;
use mcp_oauth_gateway::auth::{AuthError, IssuerConfig, Principal, Verifier};

use idp::{
    OidcProvider, admin, alice_token, challenge, free_port, http, jwks_hits, jwt_header,
    oidc_token, register_resource, required_env, spawn_gateway, tool_names, tools_list,
    unique_resource, with_kid,
};

/// A verifier trusting `issuer` for `audience`, keys through OpenID discovery, loaded.
/// Default refresh policy: an unknown kid may trigger one refetch per 10 s.
async fn verifier(issuer: &str, audience: &str, groups_claim: &str) -> Verifier {
    let v = Verifier::new(
        vec![IssuerConfig::oidc(
            issuer.to_owned(),
            vec![audience.to_owned()],
            vec![],
            None,
            groups_claim,
        )],
        Arc::new(HttpJwksFetcher::new().expect("HTTP client")),
        RefreshPolicy::default(),
        100,
    );
    v.load_all().await;
    v
}

/// The shared provider with one more resource registered on it.
async fn shared_with_resource() -> (String, String) {
    let issuer = required_env("OIDC_ISSUER");
    let resource = unique_resource();
    register_resource(&issuer, &resource).await;
    (issuer, resource)
}

async fn principal(v: &Verifier, token: &str) -> Arc<Principal> {
    v.verify(token)
        .await
        .unwrap_or_else(|e| panic!("token refused: {e:?}"))
        .principal
}

fn kid(token: &str) -> String {
    jwt_header(token)["kid"]
        .as_str()
        .expect("the provider's tokens carry a kid")
        .to_owned()
}

// ---------------------------------------------------------------------------------------
// Claims, against the shared provider
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn nested_groups_claim_username_email_and_scopes() {
    let (issuer, resource) = shared_with_resource().await;
    let v = verifier(&issuer, &resource, "realm_access.roles").await;
    let token = alice_token(&issuer, &resource).await;

    let p = principal(&v, &token).await;
    assert_eq!(p.issuer, issuer);
    assert_eq!(p.groups, ["tools-user"]);
    assert_eq!(p.username, "alice");
    assert_eq!(p.email.as_deref(), Some("alice@example.com"));
    assert!(p.scopes.iter().any(|s| s == "mcp:tools"), "{:?}", p.scopes);
    assert!(!p.scopes.iter().any(|s| s == "mcp:admin"), "{:?}", p.scopes);
    assert_eq!(p.client_id.as_deref(), Some("client-alice"));
    assert_eq!(p.subject, "client-alice");
    assert!(p.token_id.is_some(), "the provider's tokens carry a jti");
}

#[tokio::test]
async fn flat_groups_claim() {
    let (issuer, resource) = shared_with_resource().await;
    let v = verifier(&issuer, &resource, "groups").await;
    let token = alice_token(&issuer, &resource).await;

    let p = principal(&v, &token).await;
    assert_eq!(p.groups, ["engineering", "admins"]);
    assert_eq!(p.username, "alice");
}

#[tokio::test]
async fn scopes_from_an_scp_array() {
    let (issuer, resource) = shared_with_resource().await;
    let v = verifier(&issuer, &resource, "groups").await;
    let token = oidc_token(
        &issuer,
        "client-scp",
        "scp-secret",
        &resource,
        "mcp:tools mcp:admin",
    )
    .await;
    let claims = idp::jwt_claims(&token);
    assert!(
        claims.get("scope").is_none() && claims["scp"].is_array(),
        "{claims}"
    );

    let p = principal(&v, &token).await;
    let scopes: BTreeSet<&str> = p.scopes.iter().map(String::as_str).collect();
    assert_eq!(scopes, BTreeSet::from(["mcp:admin", "mcp:tools"]));
    assert_eq!(p.scopes.len(), 2, "{:?}", p.scopes);
    assert_eq!(p.username, "scp-user");
    assert_eq!(p.groups, ["engineering"]);
}

#[tokio::test]
async fn token_for_another_resource_is_refused_for_its_audience() {
    let (issuer, resource) = shared_with_resource().await;
    let (_, elsewhere) = shared_with_resource().await;
    let v = verifier(&issuer, &resource, "groups").await;
    // Signed by the same trusted issuer with the same key: only `aud` differs.
    let token = alice_token(&issuer, &elsewhere).await;

    assert_eq!(v.verify(&token).await.err(), Some(AuthError::Audience));
}

#[tokio::test]
async fn client_without_groups_claim_has_no_groups() {
    let (issuer, resource) = shared_with_resource().await;
    let v = verifier(&issuer, &resource, "groups").await;
    let token = oidc_token(
        &issuer,
        "client-nogroups",
        "nogroups-secret",
        &resource,
        "mcp:tools",
    )
    .await;

    let p = principal(&v, &token).await;
    assert!(p.groups.is_empty(), "{:?}", p.groups);
    assert_eq!(p.username, "nogroups");
    assert_eq!(p.email, None);
}

#[tokio::test]
async fn discovery_document_must_name_the_configured_issuer() {
    let issuer = required_env("OIDC_ISSUER");
    // A trailing slash is another issuer (compared byte for byte); the discovery document
    // at the same place names the one without it, so no keys are taken from it.
    let configured = format!("{issuer}/");
    let v = verifier(&configured, &unique_resource(), "groups").await;
    let store = v.key_store(&configured).expect("configured issuer");
    assert!(store.keys().is_empty(), "keys loaded despite the mismatch");
    let err = store.refresh().await.expect_err("mismatched discovery");
    assert!(err.0.contains("another issuer"), "{err}");
}

// ---------------------------------------------------------------------------------------
// The standalone gateway over HTTP, trusting the shared provider
// ---------------------------------------------------------------------------------------

/// A gateway at a port chosen first, so its canonical URL is known to the provider.
async fn oidc_gateway() -> (idp::Process, String, String) {
    let issuer = required_env("OIDC_ISSUER");
    let port = free_port();
    let resource = format!("http://127.0.0.1:{port}/mcp");
    register_resource(&issuer, &resource).await;
    let bind = format!("127.0.0.1:{port}");
    let gateway = spawn_gateway(&[
        ("GATEWAY_BIND", bind.as_str()),
        ("GATEWAY_OIDC_ISSUER", issuer.as_str()),
        ("GATEWAY_RESOURCE_URL", resource.as_str()),
    ]);
    assert_eq!(format!("{}/mcp", gateway.base), resource);
    (gateway, issuer, resource)
}

#[tokio::test]
async fn gateway_accepts_tokens_for_its_resource_only() {
    let (gateway, issuer, resource) = oidc_gateway().await;
    let (_, elsewhere) = shared_with_resource().await;

    let token = alice_token(&issuer, &resource).await;
    let (status, _, body) = tools_list(&gateway.base, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(tool_names(&body), ["calculate", "current_time", "echo"]);

    let foreign = alice_token(&issuer, &elsewhere).await;
    let (status, headers, body) = tools_list(&gateway.base, Some(&foreign)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let challenge = challenge(&headers);
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    let metadata = format!("{}/.well-known/oauth-protected-resource/mcp", gateway.base);
    assert!(
        challenge.contains(&format!("resource_metadata=\"{metadata}\"")),
        "{challenge}"
    );
}

#[tokio::test]
async fn gateway_serves_protected_resource_metadata_naming_the_issuer() {
    let (gateway, issuer, resource) = oidc_gateway().await;

    let resp = http()
        .get(format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            gateway.base
        ))
        .send()
        .await
        .expect("GET metadata");
    assert_eq!(resp.status(), StatusCode::OK);
    let doc: Value = resp.json().await.expect("metadata is JSON");
    assert_eq!(doc["resource"], resource.as_str());
    assert_eq!(doc["authorization_servers"], serde_json::json!([issuer]));
    assert_eq!(
        doc["bearer_methods_supported"],
        serde_json::json!(["header"])
    );
}

#[tokio::test]
async fn gateway_started_during_a_jwks_outage_refuses_valid_tokens() {
    let resource = unique_resource();
    let provider = OidcProvider::spawn(&[&resource]);
    admin(&provider.issuer, "jwks-down").await;
    let gateway = spawn_gateway(&[
        ("GATEWAY_OIDC_ISSUER", provider.issuer.as_str()),
        ("GATEWAY_OIDC_AUDIENCES", resource.as_str()),
        // The start-up key load fails on purpose; its error log is expected.
        ("RUST_LOG", "off"),
    ]);
    assert_eq!(jwks_hits(&provider.issuer).await, 1, "one load at start-up");

    let token = alice_token(&provider.issuer, &resource).await;
    let (status, headers, body) = tools_list(&gateway.base, Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(challenge(&headers).contains(r#"error="invalid_token""#));
}

// ---------------------------------------------------------------------------------------
// Keys: rotation, rate limit, outages — each with a private provider and the default
// refresh policy (an unknown kid may trigger one refetch per 10 s)
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn rotated_key_is_picked_up_with_exactly_one_jwks_fetch() {
    let resource = unique_resource();
    let provider = OidcProvider::spawn(&[&resource]);
    let issuer = provider.issuer.as_str();
    let v = verifier(issuer, &resource, "groups").await;

    let a = alice_token(issuer, &resource).await;
    let never_presented = alice_token(issuer, &resource).await;
    let old_kid = kid(&a);
    assert!(!v.verify(&a).await.expect("token A verifies").cached);

    admin(issuer, "reset-stats").await;
    let rotated = admin(issuer, "rotate").await;
    assert_eq!(rotated["previous"], old_kid.as_str());
    let b = alice_token(issuer, &resource).await;
    let new_kid = kid(&b);
    assert_eq!(rotated["kid"], new_kid.as_str());
    assert_ne!(new_kid, old_kid);

    let verified = v
        .verify(&b)
        .await
        .expect("token B verifies after a refetch");
    assert!(!verified.cached);
    assert_eq!(verified.principal.username, "alice");
    assert_eq!(jwks_hits(issuer).await, 1, "one fetch for the new kid");

    // Another token under the new key: the key is known now, no further fetch.
    let c = alice_token(issuer, &resource).await;
    assert!(!v.verify(&c).await.expect("token C verifies").cached);
    assert_eq!(jwks_hits(issuer).await, 1);

    // The JWKS serves only the new key, and so does the store now: an old-key token that
    // was never verified before is refused, and (right after the refetch) without a fetch.
    assert_eq!(
        v.verify(&never_presented).await.err(),
        Some(AuthError::UnknownKid(issuer.to_owned()))
    );
    assert_eq!(jwks_hits(issuer).await, 1);
    let store = v.key_store(issuer).expect("configured issuer");
    assert_eq!(store.keys().kids().collect::<Vec<_>>(), [new_kid.as_str()]);
}

#[tokio::test]
async fn unknown_kid_refetch_is_rate_limited() {
    let resource = unique_resource();
    let provider = OidcProvider::spawn(&[&resource]);
    let issuer = provider.issuer.as_str();
    let v = verifier(issuer, &resource, "groups").await;
    assert_eq!(jwks_hits(issuer).await, 1, "the start-up load");
    admin(issuer, "reset-stats").await;

    let token = alice_token(issuer, &resource).await;
    assert!(v.verify(&token).await.is_ok());
    assert_eq!(jwks_hits(issuer).await, 0, "a known kid needs no fetch");

    // The first unknown kid may refetch (it could be a rotation) ...
    let unknown = AuthError::UnknownKid(issuer.to_owned());
    assert_eq!(
        v.verify(&with_kid(&token, "nope")).await.err(),
        Some(unknown.clone())
    );
    assert_eq!(
        jwks_hits(issuer).await,
        1,
        "one refetch for the first unknown kid"
    );
    // ... but more of them within 10 s of it must not reach the JWKS.
    for made_up in ["nope", "nope-again", "still-nope"] {
        assert_eq!(
            v.verify(&with_kid(&token, made_up)).await.err(),
            Some(unknown.clone()),
            "kid {made_up}"
        );
    }
    assert_eq!(jwks_hits(issuer).await, 1, "unknown kids are rate limited");

    // The real key still works after the refusals.
    let fresh = alice_token(issuer, &resource).await;
    assert!(!v.verify(&fresh).await.expect("fresh token").cached);
}

#[tokio::test]
async fn jwks_outage_keeps_the_keys_already_loaded() {
    let resource = unique_resource();
    let provider = OidcProvider::spawn(&[&resource]);
    let issuer = provider.issuer.as_str();
    let v = verifier(issuer, &resource, "groups").await;
    admin(issuer, "jwks-down").await;
    admin(issuer, "reset-stats").await;

    let fresh = alice_token(issuer, &resource).await;
    let verified = v.verify(&fresh).await.expect("verifies from loaded keys");
    assert!(!verified.cached, "not from the verified-token cache");
    assert_eq!(jwks_hits(issuer).await, 0);

    // An unknown kid triggers a refetch, which fails (503): the kid stays unknown (not
    // "no keys") and the keys already loaded stay.
    assert_eq!(
        v.verify(&with_kid(&fresh, "nope")).await.err(),
        Some(AuthError::UnknownKid(issuer.to_owned()))
    );
    assert_eq!(jwks_hits(issuer).await, 1, "the refetch reached the JWKS");
    let after = alice_token(issuer, &resource).await;
    assert!(!v.verify(&after).await.expect("still verifies").cached);
    assert_eq!(v.key_store(issuer).expect("issuer").keys().len(), 1);
}

#[tokio::test]
async fn issuer_whose_jwks_was_down_at_start_fails_closed() {
    let resource = unique_resource();
    let provider = OidcProvider::spawn(&[&resource]);
    let issuer = provider.issuer.as_str();
    admin(issuer, "jwks-down").await;
    let v = verifier(issuer, &resource, "groups").await;
    assert_eq!(jwks_hits(issuer).await, 1, "the failed start-up load");
    let store = v.key_store(issuer).expect("configured issuer");
    assert!(store.keys().is_empty());

    let token = alice_token(issuer, &resource).await;
    let no_keys = AuthError::NoKeys(issuer.to_owned());
    assert_eq!(v.verify(&token).await.err(), Some(no_keys.clone()));
    assert_eq!(
        jwks_hits(issuer).await,
        2,
        "the first refusal retries the JWKS once"
    );
    for _ in 0..3 {
        assert_eq!(v.verify(&token).await.err(), Some(no_keys.clone()));
    }
    assert_eq!(
        jwks_hits(issuer).await,
        2,
        "refusals within 10 s of that retry do not refetch"
    );

    // Once the JWKS answers and a fetch happens, the same token verifies.
    admin(issuer, "jwks-up").await;
    assert_eq!(store.refresh().await.expect("JWKS is back"), 1);
    assert!(v.verify(&token).await.is_ok());
}
