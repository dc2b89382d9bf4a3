//! What several targets share: one runtime and one signing key, made once per process (a
//! fuzz target runs millions of inputs in one process; nothing expensive per input).

use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// A loopback issuer on a closed port: what the façade would fetch from it fails at once.
pub const ISSUER: &str = "https://127.0.0.1:9";
pub const AUDIENCE: &str = "https://gateway.fuzz.example/mcp";
pub const KID: &str = "fuzz-es256";

/// A current-thread runtime for the async parts (the verifier, the router).
pub static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
});

/// The test suite's P-256 key: the issuer's only key in the JWKS the targets serve.
pub static KEY: LazyLock<EncodingKey> = LazyLock::new(|| {
    EncodingKey::from_ec_pem(include_bytes!("../../tests/fixtures/keys/ec256.pem"))
        .expect("fixture key")
});

/// The JWKS publishing `KEY` under `KID`.
pub fn jwks() -> Vec<u8> {
    let mut jwk =
        serde_json::to_value(Jwk::from_encoding_key(&KEY, Algorithm::ES256).unwrap()).expect("jwk");
    jwk["kid"] = json!(KID);
    serde_json::to_vec(&json!({ "keys": [jwk] })).expect("jwks")
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// A token the verifier accepts for a day (a long fuzz run outlives an hour).
pub fn good_token() -> String {
    let now = now();
    let claims: Value = json!({
        "iss": ISSUER, "sub": "fuzz-user", "aud": AUDIENCE, "exp": now + 86_400, "iat": now,
        "jti": "fuzz", "client_id": "fuzz-client", "preferred_username": "fuzzer",
        "groups": ["engineering", "admins"], "scope": "mcp:tools openid",
    });
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(KID.into());
    jsonwebtoken::encode(&header, &claims, &KEY).expect("sign")
}

/// `header.claims.signature` over exactly these header and claims bytes, signed with `KEY`:
/// what the fuzzer writes reaches the claims checks past a valid signature.
pub fn signed(header: &[u8], claims: &[u8]) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let sig = jsonwebtoken::crypto::sign(message.as_bytes(), &KEY, Algorithm::ES256).expect("sign");
    format!("{message}.{sig}")
}
