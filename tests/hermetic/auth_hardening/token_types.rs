//! Finding 10 of issue #14 replayed: nothing looked at `typ` or `token_type`, so an ID
//! token, a refresh token or any other typed JWT the issuer signed passed as an access token
//! wherever its claims happened to fit. Now: a header `typ` other than `at+jwt` / `JWT` is
//! refused, payload markers of ID and refresh tokens (Keycloak's `typ` claim, `token_type`,
//! `token_use`) are refused, and an issuer may require RFC 9068 `typ: at+jwt`.

use std::sync::Arc;

use serde_json::{Value, json};

use mcp_oauth_gateway::adapters::jwks_http::HttpJwksFetcher;
use mcp_oauth_gateway::auth::keystore::RefreshPolicy;
use mcp_oauth_gateway::auth::verifier::Verifier;
use mcp_oauth_gateway::auth::{AuthError, IssuerConfig};

use super::harness::*;
use crate::support::router::tokens::{AUDIENCE, sign, sign_with_header};

fn typed(typ: Value, claims: &Value) -> String {
    sign_with_header(
        "rsa-1",
        &json!({"alg": "RS256", "kid": "rsa-1", "typ": typ}),
        claims,
    )
}

#[tokio::test]
async fn a_header_typ_of_another_kind_of_token_is_refused() {
    let h = Harness::new().await;
    let c = h.claims();
    for ok in ["at+jwt", "application/at+jwt", "AT+JWT", "JWT"] {
        h.accepted(&typed(json!(ok), &c)).await;
    }
    h.accepted(&sign_with_header(
        "rsa-1",
        &json!({"alg": "RS256", "kid": "rsa-1"}),
        &c,
    ))
    .await;
    for other in [
        "logout+jwt",
        "secevent+jwt",
        "dpop+jwt",
        "id_token+jwt",
        "JOSE",
    ] {
        h.refused(&typed(json!(other), &c), AuthError::TokenType)
            .await;
    }
    h.refused(
        &typed(json!(1), &c),
        AuthError::Malformed("typ is not a string"),
    )
    .await;
}

#[tokio::test]
async fn id_and_refresh_tokens_are_refused_by_their_payload_markers() {
    let h = Harness::new().await;
    let with = |k: &str, v: Value| {
        let mut c = h.claims();
        c[k] = v;
        sign("rsa-1", &c)
    };
    // Keycloak marks its tokens in a `typ` claim: Bearer (access), ID, Refresh, Offline.
    h.accepted(&with("typ", json!("Bearer"))).await;
    for t in ["ID", "Refresh", "Offline", "Logout"] {
        h.refused(&with("typ", json!(t)), AuthError::TokenType)
            .await;
    }
    h.accepted(&with("token_type", json!("Bearer"))).await;
    for t in ["refresh_token", "id_token"] {
        h.refused(&with("token_type", json!(t)), AuthError::TokenType)
            .await;
    }
    for t in ["id", "refresh"] {
        h.refused(&with("token_use", json!(t)), AuthError::TokenUse)
            .await;
    }
    h.refused(&with("token_type", json!(7)), AuthError::TokenType)
        .await;
    // Cognito: an ID token of the pool is refused as before.
    let mut id = h.cognito_claims();
    id["token_use"] = json!("id");
    id["aud"] = json!(COGNITO_CLIENT);
    h.refused(&sign("rsa-1", &id), AuthError::TokenUse).await;
}

#[tokio::test]
async fn an_issuer_that_requires_at_jwt_refuses_plain_jwts() {
    let h = Harness::new().await;
    let jwks = format!("{}/jwks.json", h.issuer());
    let mut strict = IssuerConfig::oidc(
        h.issuer(),
        vec![AUDIENCE.into()],
        vec![],
        Some(jwks),
        "groups",
    );
    strict.require_at_jwt = true;
    let verifier = Verifier::new(
        vec![strict],
        Arc::new(
            HttpJwksFetcher::new(
                &mcp_oauth_gateway::adapters::http_clients::HttpClients::new().unwrap(),
            )
            .unwrap(),
        ),
        RefreshPolicy::default(),
        100,
    );
    verifier.load_all().await;
    let c = h.claims();
    verifier
        .verify(&typed(json!("at+jwt"), &c))
        .await
        .expect("an RFC 9068 access token");
    assert_eq!(
        verifier.verify(&sign("rsa-1", &c)).await.unwrap_err(),
        AuthError::TokenType,
        "typ JWT"
    );
    let untyped = sign_with_header("rsa-1", &json!({"alg": "RS256", "kid": "rsa-1"}), &c);
    assert_eq!(
        verifier.verify(&untyped).await.unwrap_err(),
        AuthError::TokenType
    );
}
