//! Against the provider `make test` shares (`OIDC_ISSUER`): claim mapping (groups, user
//! name, email, `scope` and `scp`), audiences, the discovery document's issuer, and the
//! standalone gateway over HTTP with its RFC 9728 metadata.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use mcp_oauth_gateway::auth::AuthError;

use super::verifiers::*;
use crate::support::idp;
use crate::support::idp::{
    OidcProvider, admin, alice_token, challenge, free_port, http, jwks_hits, oidc_token,
    register_resource, required_env, spawn_gateway, tool_names, tools_list, unique_resource,
};

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
