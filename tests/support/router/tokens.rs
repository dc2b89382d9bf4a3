//! Test issuer: fixture keys (tests/fixtures/keys, test-only), their public JWKS as the stub
//! serves it, and tokens minted with jsonwebtoken for any header and claims.

use std::sync::OnceLock;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// The audience the test gateway accepts (its `GATEWAY_RESOURCE_URL`).
pub const AUDIENCE: &str = "https://gateway.test/mcp";

/// A fixture signing key with the kid and algorithm it is published under.
pub struct TestKey {
    pub kid: &'static str,
    pub alg: Algorithm,
    pub key: EncodingKey,
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn load(kid: &'static str, alg: Algorithm, file: &str) -> TestKey {
    let pem = fixture(file);
    let key = match alg {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(&pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem),
        _ => EncodingKey::from_rsa_pem(&pem),
    }
    .unwrap_or_else(|e| panic!("fixture {file}: {e}"));
    TestKey { kid, alg, key }
}

/// Every fixture key. `rsa-next` is not published at first (rotation tests publish it).
pub fn keys() -> &'static [TestKey] {
    static KEYS: OnceLock<Vec<TestKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        vec![
            load("rsa-1", Algorithm::RS256, "rsa2048.pem"),
            load("ps-1", Algorithm::PS256, "rsa2048.pem"),
            load("rs512-1", Algorithm::RS512, "rsa2048.pem"),
            load("ec-1", Algorithm::ES256, "ec256.pem"),
            load("ec-384", Algorithm::ES384, "ec384.pem"),
            load("ed-1", Algorithm::EdDSA, "ed25519.pem"),
            load("rsa-next", Algorithm::RS256, "rsa2048-b.pem"),
        ]
    })
}

pub fn key(kid: &str) -> &'static TestKey {
    keys()
        .iter()
        .find(|k| k.kid == kid)
        .unwrap_or_else(|| panic!("no fixture key {kid}"))
}

/// The public JWK of a fixture key, with `kid`, `alg` and `use`.
pub fn public_jwk(k: &TestKey) -> Value {
    let jwk = Jwk::from_encoding_key(&k.key, k.alg).expect("public JWK of a fixture key");
    let mut v = serde_json::to_value(jwk).expect("JWK serializes");
    v["kid"] = json!(k.kid);
    v["use"] = json!("sig");
    v
}

/// A published 1024-bit RSA key (`weak-1024`), which the gateway must drop. Only its
/// public half exists: a 1024-bit modulus with the top bit set.
pub fn weak_jwk() -> Value {
    use base64::Engine;
    let mut n = vec![0xC3u8; 128];
    n[127] |= 1;
    json!({
        "kty": "RSA", "kid": "weak-1024", "alg": "RS256", "use": "sig", "e": "AQAB",
        "n": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(n),
    })
}

/// The JWKS published at first: every fixture key but `rsa-next`, plus `weak-1024`.
pub fn initial_jwks() -> Value {
    let mut keys: Vec<Value> = keys()
        .iter()
        .filter(|k| k.kid != "rsa-next")
        .map(public_jwk)
        .collect();
    keys.push(weak_jwk());
    json!({ "keys": keys })
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Claims of a good access token from `issuer` for user alice.
pub fn claims(issuer: &str) -> Value {
    let now = now();
    json!({
        "iss": issuer,
        "sub": "user-alice",
        "aud": AUDIENCE,
        "exp": now + 600,
        "iat": now,
        "nbf": now - 5,
        "jti": format!("jti-{now}-{}", rand_suffix()),
        "client_id": "test-client",
        "preferred_username": "alice",
        "email": "alice@example.com",
        "groups": ["engineering", "admins"],
        "scope": "mcp:tools openid",
    })
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Signs `claims` with the fixture key `kid` under its own algorithm.
pub fn sign(kid: &str, claims: &Value) -> String {
    let k = key(kid);
    let mut header = Header::new(k.alg);
    header.kid = Some(k.kid.to_owned());
    jsonwebtoken::encode(&header, claims, &k.key).expect("sign a test token")
}

/// Signs with an arbitrary header (as JSON), for attacks on the header.
pub fn sign_with_header(kid: &str, header: &Value, claims: &Value) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let input = format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    );
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key(kid).key, key(kid).alg)
        .expect("sign a test token");
    format!("{input}.{sig}")
}
