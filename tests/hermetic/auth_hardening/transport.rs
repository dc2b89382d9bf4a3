//! Where a token comes from and what happens after it verifies: the Authorization header
//! only, every HTTP method, the verified-token cache (and a key leaving the JWKS), and the
//! principal handed on.

use axum::http::{Method, StatusCode};
use serde_json::json;

use mcp_oauth_gateway::auth::AuthError;

use super::harness::*;
use crate::support::router;
use crate::support::router::tokens::{now, sign};

#[tokio::test]
async fn tokens_come_from_the_authorization_header_only() {
    let h = Harness::new().await;
    let t = sign("rsa-1", &h.claims());
    let body = router::rpc(1, "tools/list", json!({})).to_string();
    let uri = format!("/mcp?access_token={t}");
    let req = router::request(
        Method::POST,
        &uri,
        &[
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ],
        body.clone(),
    );
    let (status, headers, _) = router::send(&h.gw.raw, req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // No token was sent where tokens are read, so no error code (RFC 6750 §3.1).
    assert_eq!(
        headers["www-authenticate"],
        "Bearer resource_metadata=\"https://gateway.test/.well-known/oauth-protected-resource/mcp\""
    );
    for scheme in [
        format!("Basic {t}"),
        format!("Bearer  {t} x"),
        "Bearer".to_owned(),
    ] {
        let (status, headers, _) =
            router::post(&h.gw.raw, &[("authorization", &scheme)], body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(
            headers["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );
    }
}

#[tokio::test]
async fn get_and_delete_need_a_token_too() {
    let h = Harness::new().await;
    for method in [Method::GET, Method::DELETE] {
        let (status, _, _) =
            router::send(&h.gw.raw, router::request(method.clone(), "/mcp", &[], "")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method}");
        let auth = format!("Bearer {}", sign("rsa-1", &h.claims()));
        let req = router::request(method.clone(), "/mcp", &[("authorization", &auth)], "");
        let (status, _, _) = router::send(&h.gw.raw, req).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
}

#[tokio::test]
async fn a_verified_token_is_served_from_the_cache_until_it_expires() {
    let h = Harness::new().await;
    let mut c = h.claims();
    c["exp"] = json!(now() + 100);
    let t = sign("rsa-1", &c);
    let first = h.verifier.verify(&t).await.unwrap();
    assert!(!first.cached);
    let second = h.verifier.verify(&t).await.unwrap();
    assert!(second.cached);
    assert_eq!(first.principal, second.principal);
    assert_eq!(first.digest, second.digest);
    // Past exp + leeway the cache does not answer, and full verification refuses.
    let later = now() + 100 + 61;
    assert_eq!(
        h.verifier.verify_at(&t, later).await.unwrap_err(),
        AuthError::Expired
    );
    // Revocation can make the verifier forget a token (it is then verified again).
    h.verifier.forget(&first.digest);
    assert!(!h.verifier.verify(&t).await.unwrap().cached);
}

#[tokio::test]
async fn the_principal_carries_who_called() {
    let h = Harness::new().await;
    let v = h
        .verifier
        .verify(&sign("rsa-1", &h.claims()))
        .await
        .unwrap();
    let p = &v.principal;
    assert_eq!(p.issuer, h.issuer());
    assert_eq!(p.subject, "user-alice");
    assert_eq!(p.username, "alice");
    assert_eq!(p.email.as_deref(), Some("alice@example.com"));
    assert_eq!(p.groups, ["engineering", "admins"]);
    assert_eq!(p.scopes, ["mcp:tools", "openid"]);
    assert_eq!(p.client_id.as_deref(), Some("test-client"));
    assert!(p.token_id.as_deref().unwrap().starts_with("jti-"));
    let v = h
        .verifier
        .verify(&sign("ec-1", &h.cognito_claims()))
        .await
        .unwrap();
    assert_eq!(v.principal.username, "alice");
    assert_eq!(v.principal.groups, ["engineering"]);
    assert_eq!(v.principal.client_id.as_deref(), Some(COGNITO_CLIENT));
    let mut c = h.cognito_claims();
    c.as_object_mut().unwrap().remove("cognito:groups");
    let v = h.verifier.verify(&sign("rsa-1", &c)).await.unwrap();
    assert!(
        v.principal.groups.is_empty(),
        "absent cognito:groups means no groups"
    );
}

#[tokio::test]
async fn a_cached_token_whose_key_left_the_jwks_is_refused() {
    // A key rotated out (say, because it leaked) must not keep its tokens alive from the cache.
    let h = Harness::new().await;
    let t = sign("ec-1", &h.claims());
    assert!(!h.verifier.verify(&t).await.unwrap().cached);
    assert!(h.verifier.verify(&t).await.unwrap().cached);
    {
        let mut jwks = h.gw.stub.jwks.lock().unwrap();
        let keys = jwks["keys"].as_array_mut().unwrap();
        keys.retain(|k| k["kid"] != "ec-1");
    }
    h.verifier
        .key_store(&h.issuer())
        .unwrap()
        .refresh()
        .await
        .unwrap();
    assert_eq!(
        h.verifier.verify(&t).await.unwrap_err(),
        AuthError::UnknownKid(h.issuer())
    );
}
