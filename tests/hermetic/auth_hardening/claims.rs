//! The compact form and the claims: malformed tokens, the 8 KiB limit, `exp`, `nbf`, `iat`,
//! `iss`, `aud`, and Cognito's `client_id` and `token_use`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::json;

use mcp_oauth_gateway::auth::AuthError;

use super::harness::*;
use crate::support::router::tokens::{self, AUDIENCE, now, sign, sign_with_header};

#[tokio::test]
async fn malformed_compact_forms_are_refused() {
    let h = Harness::new().await;
    let good = sign("rsa-1", &h.claims());
    let parts: Vec<&str> = good.split('.').collect();
    let three = AuthError::Malformed("not three dot-separated parts");
    h.refused(&format!("{}.{}", parts[0], parts[1]), three.clone())
        .await;
    h.refused(&format!("{good}.{}", parts[2]), three).await;
    let bad_b64 = format!("{}.{}!.{}", parts[0], parts[1], parts[2]);
    h.refused(&bad_b64, AuthError::Malformed("bad base64url"))
        .await;
    let padded = format!("{}.{}.{}=", parts[0], parts[1], parts[2]);
    h.refused(&padded, AuthError::Malformed("bad base64url"))
        .await;
    let not_json_header = sign_with_header("rsa-1", &json!("just a string"), &h.claims());
    h.refused(
        &not_json_header,
        AuthError::Malformed("header is not a JSON object"),
    )
    .await;
    let payload = URL_SAFE_NO_PAD.encode("not json");
    let input = format!("{}.{payload}", parts[0]);
    let sig = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &tokens::key("rsa-1").key,
        Algorithm::RS256,
    )
    .unwrap();
    h.refused(
        &format!("{input}.{sig}"),
        AuthError::Malformed("payload is not a JSON object"),
    )
    .await;
}

#[tokio::test]
async fn tokens_over_8_kib_are_refused() {
    let h = Harness::new().await;
    let mut c = h.claims();
    c["padding"] = json!("x".repeat(8 * 1024));
    h.refused(&sign("rsa-1", &c), AuthError::TooLarge).await;
}

#[tokio::test]
async fn exp_missing_past_or_not_a_number_is_refused() {
    let h = Harness::new().await;
    let mut c = h.claims();
    c.as_object_mut().unwrap().remove("exp");
    h.refused(&sign("rsa-1", &c), AuthError::BadExp).await;
    let mut c = h.claims();
    c["exp"] = json!("tomorrow");
    h.refused(&sign("rsa-1", &c), AuthError::BadExp).await;
    let mut c = h.claims();
    c["exp"] = json!(now() - 61);
    h.refused(&sign("rsa-1", &c), AuthError::Expired).await;
    // Within the 60 s leeway a just-expired token still passes.
    let mut c = h.claims();
    c["exp"] = json!(now() - 30);
    h.accepted(&sign("rsa-1", &c)).await;
}

#[tokio::test]
async fn nbf_in_the_future_is_refused() {
    let h = Harness::new().await;
    let mut c = h.claims();
    c["nbf"] = json!(now() + 120);
    h.refused(&sign("rsa-1", &c), AuthError::NotYetValid).await;
}

#[tokio::test]
async fn iat_far_in_the_future_is_refused() {
    let h = Harness::new().await;
    let mut c = h.claims();
    c["iat"] = json!(now() + 3600);
    h.refused(&sign("rsa-1", &c), AuthError::IssuedInFuture)
        .await;
}

#[tokio::test]
async fn wrong_missing_or_trailing_slash_iss_is_refused() {
    let h = Harness::new().await;
    for iss in [
        json!("https://evil.example"),
        json!(format!("{}/", h.issuer())),
        json!(42),
    ] {
        let mut c = h.claims();
        c["iss"] = iss.clone();
        let reason = if iss.is_string() {
            AuthError::UnknownIssuer
        } else {
            AuthError::Malformed("payload is not a JSON object")
        };
        h.refused(&sign("rsa-1", &c), reason).await;
    }
    let mut c = h.claims();
    c.as_object_mut().unwrap().remove("iss");
    h.refused(&sign("rsa-1", &c), AuthError::UnknownIssuer)
        .await;
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let h = Harness::new().await;
    for aud in [
        json!("https://other.example/mcp"),
        json!(["a", "b"]),
        json!(null),
        json!(7),
    ] {
        let mut c = h.claims();
        c["aud"] = aud;
        h.refused(&sign("rsa-1", &c), AuthError::Audience).await;
    }
    let mut c = h.claims();
    c["aud"] = json!(["https://other.example", AUDIENCE]);
    h.accepted(&sign("rsa-1", &c)).await;
}

#[tokio::test]
async fn cognito_wrong_client_or_token_use_is_refused() {
    let h = Harness::new().await;
    let mut c = h.cognito_claims();
    c["client_id"] = json!("another-app-client");
    h.refused(&sign("rsa-1", &c), AuthError::Client).await;
    let mut c = h.cognito_claims();
    c.as_object_mut().unwrap().remove("client_id");
    h.refused(&sign("rsa-1", &c), AuthError::Client).await;
    // An ID token: token_use "id", an aud naming the client, no client_id.
    let mut c = h.cognito_claims();
    c["token_use"] = json!("id");
    c["aud"] = json!(COGNITO_CLIENT);
    c.as_object_mut().unwrap().remove("client_id");
    h.refused(&sign("rsa-1", &c), AuthError::TokenUse).await;
    let mut c = h.cognito_claims();
    c.as_object_mut().unwrap().remove("token_use");
    h.refused(&sign("rsa-1", &c), AuthError::TokenUse).await;
}
