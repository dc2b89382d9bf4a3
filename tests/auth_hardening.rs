//! Every item of the JWT checklist in REQUIREMENTS.md, each refused by its own test with a
//! token built for that attack: through the router (a 401 that says nothing about which
//! check failed) and through the verifier (the reason the log records).

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use common::tokens::{self, AUDIENCE, claims, now, sign, sign_with_header};
use mcp_oauth_gateway::adapters::jwks_http::HttpJwksFetcher;
use mcp_oauth_gateway::auth::keystore::RefreshPolicy;
use mcp_oauth_gateway::auth::verifier::Verifier;
use mcp_oauth_gateway::auth::{AuthError, IssuerConfig};

const POOL: &str = "us-east-1_Hardening1";
const COGNITO_CLIENT: &str = "cognito-app-client";

fn cognito_issuer() -> String {
    format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}")
}

/// A gateway trusting the stub as an OIDC issuer and, with the same JWKS, a Cognito pool;
/// and a verifier configured the same way, to read the reason of each refusal.
struct Harness {
    gw: common::Gateway,
    verifier: Verifier,
}

impl Harness {
    async fn new() -> Self {
        let stub = common::start_stub().await;
        let jwks = format!("{}/jwks.json", stub.base_url);
        let issuers = json!([{
            "kind": "cognito", "userPoolId": POOL, "clientIds": [COGNITO_CLIENT], "jwksUrl": jwks,
        }])
        .to_string();
        let gw = common::gateway_on(stub, &[("GATEWAY_ISSUERS", &issuers)]).await;
        let verifier = Verifier::new(
            vec![
                IssuerConfig::oidc(
                    gw.stub.base_url.clone(),
                    vec![AUDIENCE.into()],
                    vec![],
                    Some(jwks.clone()),
                    "groups",
                ),
                IssuerConfig::cognito("us-east-1", POOL, vec![COGNITO_CLIENT.into()], Some(jwks)),
            ],
            Arc::new(HttpJwksFetcher::new().unwrap()),
            RefreshPolicy::default(),
            100,
        );
        verifier.load_all().await;
        Self { gw, verifier }
    }

    fn issuer(&self) -> String {
        self.gw.stub.base_url.clone()
    }

    fn claims(&self) -> Value {
        claims(&self.issuer())
    }

    /// A good Cognito access token's claims.
    fn cognito_claims(&self) -> Value {
        json!({
            "iss": cognito_issuer(), "sub": "9f1c-user", "client_id": COGNITO_CLIENT,
            "token_use": "access", "username": "alice", "cognito:groups": ["engineering"],
            "scope": "aws.cognito.signin.user.admin", "exp": now() + 600, "iat": now(),
            "jti": "jti-c", "origin_jti": "o-jti",
        })
    }

    async fn http(&self, token: &str) -> common::Reply {
        let auth = format!("Bearer {token}");
        let body = common::rpc(1, "tools/list", json!({})).to_string();
        common::post(&self.gw.raw, &[("authorization", &auth)], body).await
    }

    /// Accepted by both the router and the verifier.
    async fn accepted(&self, token: &str) {
        let (status, _, body) = self.http(token).await;
        assert_eq!(status, StatusCode::OK, "{body:?}");
        self.verifier.verify(token).await.expect("verifier accepts");
    }

    /// Refused with an opaque 401 by the router, for `reason` by the verifier.
    async fn refused(&self, token: &str, reason: AuthError) {
        let (status, headers, body) = self.http(token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let challenge = headers["www-authenticate"].to_str().unwrap();
        assert_eq!(
            challenge,
            format!(
                "Bearer resource_metadata=\"https://gateway.test/.well-known/oauth-protected-resource/mcp\", error=\"invalid_token\""
            )
        );
        // Identical for every failure: the client never learns which check failed.
        assert_eq!(
            body.unwrap(),
            json!({"jsonrpc": "2.0", "error": {"code": -32001, "message": "Unauthorized: a valid bearer token is required"}})
        );
        assert!(!challenge.contains(token));
        assert_eq!(self.verifier.verify(token).await.unwrap_err(), reason);
    }
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn good_tokens_of_every_accepted_algorithm_pass() {
    let h = Harness::new().await;
    for kid in ["rsa-1", "ps-1", "rs512-1", "ec-1", "ec-384", "ed-1"] {
        h.accepted(&sign(kid, &h.claims())).await;
    }
    h.accepted(&sign("rsa-1", &h.cognito_claims())).await;
}

#[tokio::test]
async fn alg_none_is_refused() {
    let h = Harness::new().await;
    for alg in ["none", "None", "NONE"] {
        let t = format!(
            "{}.{}.",
            b64(&json!({"alg": alg, "kid": "rsa-1"})),
            b64(&h.claims())
        );
        h.refused(&t, AuthError::Malformed("empty header or signature"))
            .await;
        let t = format!(
            "{}.{}.e30",
            b64(&json!({"alg": alg, "kid": "rsa-1"})),
            b64(&h.claims())
        );
        h.refused(&t, AuthError::Algorithm).await;
    }
}

#[tokio::test]
async fn hmac_signed_with_the_public_key_is_refused() {
    // RS→HS confusion: HS256 keyed with the RSA public key, as a naive verifier would check.
    let h = Harness::new().await;
    let public = tokens::public_jwk(tokens::key("rsa-1")).to_string();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa-1".into());
    let t = jsonwebtoken::encode(
        &header,
        &h.claims(),
        &EncodingKey::from_secret(public.as_bytes()),
    )
    .unwrap();
    h.refused(&t, AuthError::Algorithm).await;
}

#[tokio::test]
async fn header_alg_other_than_the_keys_is_refused() {
    let h = Harness::new().await;
    // Signed correctly with the rsa-1 key material, but as PS256 while rsa-1 is pinned RS256.
    let t = sign_with_header(
        "ps-1",
        &json!({"alg": "PS256", "kid": "rsa-1"}),
        &h.claims(),
    );
    h.refused(&t, AuthError::KeyMismatch).await;
    // Key type mismatch: an ES256 header naming an RSA key.
    let t = sign_with_header(
        "ec-1",
        &json!({"alg": "ES256", "kid": "rsa-1"}),
        &h.claims(),
    );
    h.refused(&t, AuthError::KeyMismatch).await;
}

#[tokio::test]
async fn missing_kid_is_refused() {
    let h = Harness::new().await;
    let t = sign_with_header("rsa-1", &json!({"alg": "RS256"}), &h.claims());
    h.refused(&t, AuthError::MissingKid).await;
}

#[tokio::test]
async fn unknown_kid_is_refused_after_one_rate_limited_refetch() {
    let h = Harness::new().await;
    let hits = &h.gw.stub.jwks_hits;
    let before = hits.load(std::sync::atomic::Ordering::SeqCst);
    let t = sign_with_header(
        "rsa-1",
        &json!({"alg": "RS256", "kid": "nobody"}),
        &h.claims(),
    );
    let reason = AuthError::UnknownKid(h.issuer());
    h.refused(&t, reason.clone()).await;
    // The router and the verifier each refetched once; a second unknown kid within the
    // interval refetches nothing.
    let after = hits.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(after - before, 2);
    let t = sign_with_header(
        "rsa-1",
        &json!({"alg": "RS256", "kid": "nobody-2"}),
        &h.claims(),
    );
    h.refused(&t, AuthError::UnknownKid(h.issuer())).await;
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), after);
}

#[tokio::test]
async fn keys_named_by_the_token_are_never_used() {
    let h = Harness::new().await;
    let jwk = tokens::public_jwk(tokens::key("rsa-next"));
    let cases = [
        (
            "jwk",
            json!({"alg": "RS256", "kid": "rsa-next", "jwk": jwk}),
        ),
        (
            "jku",
            json!({"alg": "RS256", "kid": "rsa-next", "jku": format!("{}/jwks.json", h.issuer())}),
        ),
        (
            "x5u",
            json!({"alg": "RS256", "kid": "rsa-1", "x5u": "https://evil.example/cert.pem"}),
        ),
        (
            "x5c",
            json!({"alg": "RS256", "kid": "rsa-1", "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]}),
        ),
    ];
    for (name, header) in cases {
        let t = sign_with_header("rsa-next", &header, &h.claims());
        h.refused(&t, AuthError::ForbiddenHeader(name)).await;
    }
}

#[tokio::test]
async fn any_crit_is_refused() {
    let h = Harness::new().await;
    let t = sign_with_header(
        "rsa-1",
        &json!({"alg": "RS256", "kid": "rsa-1", "crit": ["exp"], "exp": 1}),
        &h.claims(),
    );
    h.refused(&t, AuthError::ForbiddenHeader("crit")).await;
}

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

#[tokio::test]
async fn rsa_keys_under_2048_bits_are_dropped_from_the_jwks() {
    let h = Harness::new().await;
    let keys = h.verifier.key_store(&h.issuer()).unwrap().keys();
    assert!(keys.get("rsa-1").is_some());
    assert!(keys.get("weak-1024").is_none(), "a 1024-bit key was loaded");
    let t = sign_with_header(
        "rsa-1",
        &json!({"alg": "RS256", "kid": "weak-1024"}),
        &h.claims(),
    );
    h.refused(&t, AuthError::UnknownKid(h.issuer())).await;
}

#[tokio::test]
async fn ecdsa_signatures_with_r_or_s_zero_are_refused() {
    // CVE-2022-21449 ("psychic signatures"): r = s = 0 verified everything in some JDKs.
    let h = Harness::new().await;
    let good = sign("ec-1", &h.claims());
    let (input, sig) = good.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    assert_eq!(sig.len(), 64);
    let mut zero_r = sig.clone();
    zero_r[..32].fill(0);
    let mut zero_s = sig.clone();
    zero_s[32..].fill(0);
    for s in [vec![0u8; 64], zero_r, zero_s] {
        let t = format!("{input}.{}", URL_SAFE_NO_PAD.encode(s));
        h.refused(&t, AuthError::BadSignature).await;
    }
}

#[tokio::test]
async fn a_modified_payload_or_signature_is_refused() {
    let h = Harness::new().await;
    let good = sign("rsa-1", &h.claims());
    let parts: Vec<&str> = good.split('.').collect();
    let mut c = h.claims();
    c["groups"] = json!(["admins", "root"]);
    let forged = format!("{}.{}.{}", parts[0], b64(&c), parts[2]);
    h.refused(&forged, AuthError::BadSignature).await;
    let other = sign("rsa-next", &h.claims());
    let other_sig = other.rsplit_once('.').unwrap().1;
    h.refused(
        &format!("{}.{}.{other_sig}", parts[0], parts[1]),
        AuthError::BadSignature,
    )
    .await;
}

#[tokio::test]
async fn tokens_come_from_the_authorization_header_only() {
    let h = Harness::new().await;
    let t = sign("rsa-1", &h.claims());
    let body = common::rpc(1, "tools/list", json!({})).to_string();
    let uri = format!("/mcp?access_token={t}");
    let req = common::request(
        Method::POST,
        &uri,
        &[
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ],
        body.clone(),
    );
    let (status, headers, _) = common::send(&h.gw.raw, req).await;
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
            common::post(&h.gw.raw, &[("authorization", &scheme)], body.clone()).await;
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
            common::send(&h.gw.raw, common::request(method.clone(), "/mcp", &[], "")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method}");
        let auth = format!("Bearer {}", sign("rsa-1", &h.claims()));
        let req = common::request(method.clone(), "/mcp", &[("authorization", &auth)], "");
        let (status, _, _) = common::send(&h.gw.raw, req).await;
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
