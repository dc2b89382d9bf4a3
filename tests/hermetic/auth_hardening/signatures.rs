//! Signatures and keys: the accepted algorithms, `alg: none`, HMAC with the public key,
//! a header `alg` other than the key's, `kid` missing or unknown, keys named by the token,
//! `crit`, weak RSA keys, zero ECDSA signatures and tampered payloads or signatures.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use mcp_oauth_gateway::auth::AuthError;

use super::harness::*;
use crate::support::router::tokens::{self, sign, sign_with_header};

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
