//! JSON Web Keys → verification keys, parsed once per key: each key is pinned to one
//! algorithm and held as an aws-lc-rs `ParsedPublicKey`, so a verification never re-parses
//! key material. Keys a JWKS must not give us (symmetric, encryption-only, weak RSA,
//! unknown types) are skipped with a reason.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// Largest JWKS document accepted.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// Most keys kept from one JWKS.
pub const MAX_KEYS: usize = 64;
/// RSA moduli below this are dropped.
pub const MIN_RSA_BITS: usize = 2048;

/// The signature algorithms the gateway accepts. No `none`, no HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
}

impl Alg {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "RS256" => Self::RS256,
            "RS384" => Self::RS384,
            "RS512" => Self::RS512,
            "PS256" => Self::PS256,
            "PS384" => Self::PS384,
            "PS512" => Self::PS512,
            "ES256" => Self::ES256,
            "ES384" => Self::ES384,
            "EdDSA" => Self::EdDSA,
            _ => return None,
        })
    }

    fn verification(self) -> &'static dyn VerificationAlgorithm {
        match self {
            Self::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Self::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Self::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            Self::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
            Self::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
            Self::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
            // JWS carries ECDSA signatures as fixed-width r || s.
            Self::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
            Self::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
            Self::EdDSA => &signature::ED25519,
        }
    }
}

/// One usable key: its id, the one algorithm it may verify, the parsed key.
pub struct VerifyingKey {
    pub kid: String,
    pub alg: Alg,
    key: ParsedPublicKey,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// True when `signature` signs `message` under this key.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }
}

/// A verified-usable set of keys by `kid`.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: HashMap<String, Arc<VerifyingKey>>,
}

impl KeySet {
    pub fn get(&self, kid: &str) -> Option<&Arc<VerifyingKey>> {
        self.keys.get(kid)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }
}

/// Why a whole JWKS document was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwksError {
    #[error("JWKS exceeds {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    #[error("JWKS is not a JSON object with a \"keys\" array")]
    NotAJwks,
}

/// Parses a JWKS document. Returns the usable keys and, for the log, why others were skipped.
pub fn parse_jwks(bytes: &[u8]) -> Result<(KeySet, Vec<String>), JwksError> {
    if bytes.len() > MAX_JWKS_BYTES {
        return Err(JwksError::TooLarge);
    }
    let doc: Value = serde_json::from_slice(bytes).map_err(|_| JwksError::NotAJwks)?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(JwksError::NotAJwks)?;
    let mut set = KeySet::default();
    let mut skipped = Vec::new();
    for (i, jwk) in keys.iter().enumerate() {
        if set.keys.len() == MAX_KEYS {
            skipped.push(format!("keys after the first {MAX_KEYS} ignored"));
            break;
        }
        match parse_jwk(jwk) {
            Ok(key) if set.keys.contains_key(&key.kid) => {
                skipped.push(format!("key #{i}: duplicate kid {:?}", key.kid));
            }
            Ok(key) => {
                set.keys.insert(key.kid.clone(), Arc::new(key));
            }
            Err(why) => skipped.push(format!("key #{i}: {why}")),
        }
    }
    Ok((set, skipped))
}

fn b64(jwk: &Value, field: &'static str) -> Result<Vec<u8>, String> {
    let s = jwk
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing {field}"))?;
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| format!("{field} is not base64url"))
}

/// Parses one JWK into a key pinned to one algorithm.
pub fn parse_jwk(jwk: &Value) -> Result<VerifyingKey, String> {
    let kid = jwk
        .get("kid")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty() && k.len() <= 256)
        .ok_or("no usable kid")?
        .to_owned();
    if jwk.get("use").is_some_and(|u| u != "sig") {
        return Err(format!("kid {kid:?}: not a signature key (use)"));
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verify = ops
            .as_array()
            .is_some_and(|a| a.iter().any(|o| o == "verify"));
        if !verify {
            return Err(format!("kid {kid:?}: key_ops does not allow verify"));
        }
    }
    let declared = match jwk.get("alg") {
        None => None,
        Some(a) => Some(
            a.as_str()
                .and_then(Alg::parse)
                .ok_or_else(|| format!("kid {kid:?}: algorithm {a} not accepted"))?,
        ),
    };
    let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or("");
    let (alg, material) = match kty {
        "RSA" => {
            // Without `alg` (Entra ID publishes none) an RSA key verifies RS256 only.
            let alg = declared.unwrap_or(Alg::RS256);
            if !matches!(
                alg,
                Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512
            ) {
                return Err(format!("kid {kid:?}: alg does not fit an RSA key"));
            }
            let n = b64(jwk, "n").map_err(|e| format!("kid {kid:?}: {e}"))?;
            let e = b64(jwk, "e").map_err(|e| format!("kid {kid:?}: {e}"))?;
            let bits = bit_len(&n);
            if bits < MIN_RSA_BITS {
                return Err(format!("kid {kid:?}: RSA key of {bits} bits is too weak"));
            }
            (alg, rsa_public_key_der(&n, &e))
        }
        "EC" => {
            let crv = jwk.get("crv").and_then(Value::as_str).unwrap_or("");
            let (alg, width) = match crv {
                "P-256" => (Alg::ES256, 32),
                "P-384" => (Alg::ES384, 48),
                _ => return Err(format!("kid {kid:?}: curve {crv:?} not accepted")),
            };
            if declared.is_some_and(|d| d != alg) {
                return Err(format!("kid {kid:?}: alg does not fit curve {crv}"));
            }
            let x = b64(jwk, "x").map_err(|e| format!("kid {kid:?}: {e}"))?;
            let y = b64(jwk, "y").map_err(|e| format!("kid {kid:?}: {e}"))?;
            if x.len() != width || y.len() != width {
                return Err(format!("kid {kid:?}: bad point size"));
            }
            let mut point = Vec::with_capacity(1 + 2 * width);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (alg, point)
        }
        "OKP" => {
            let crv = jwk.get("crv").and_then(Value::as_str).unwrap_or("");
            if crv != "Ed25519" {
                return Err(format!("kid {kid:?}: curve {crv:?} not accepted"));
            }
            if declared.is_some_and(|d| d != Alg::EdDSA) {
                return Err(format!("kid {kid:?}: alg does not fit Ed25519"));
            }
            let x = b64(jwk, "x").map_err(|e| format!("kid {kid:?}: {e}"))?;
            (Alg::EdDSA, x)
        }
        "oct" => return Err(format!("kid {kid:?}: symmetric keys are never accepted")),
        other => return Err(format!("kid {kid:?}: key type {other:?} not accepted")),
    };
    let key = ParsedPublicKey::new(alg.verification(), material)
        .map_err(|_| format!("kid {kid:?}: key material rejected"))?;
    Ok(VerifyingKey { kid, alg, key })
}

fn bit_len(n: &[u8]) -> usize {
    let n = match n.iter().position(|b| *b != 0) {
        Some(i) => &n[i..],
        None => return 0,
    };
    n.len() * 8 - n[0].leading_zeros() as usize
}

/// DER `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (RFC 8017).
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn integer(out: &mut Vec<u8>, bytes: &[u8]) {
        let bytes = &bytes[bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len())..];
        let pad = bytes.first().is_none_or(|b| b & 0x80 != 0);
        out.push(0x02);
        length(out, bytes.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(bytes);
    }
    fn length(out: &mut Vec<u8>, len: usize) {
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let be = len.to_be_bytes();
            let skip = be.iter().position(|b| *b != 0).unwrap_or(be.len() - 1);
            out.push(0x80 | (be.len() - skip) as u8);
            out.extend_from_slice(&be[skip..]);
        }
    }
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    integer(&mut body, n);
    integer(&mut body, e);
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(0x30);
    length(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refuses_keys_it_must_not_use() {
        let oct = json!({"kty": "oct", "kid": "h", "k": "c2VjcmV0"});
        assert!(parse_jwk(&oct).unwrap_err().contains("symmetric"));
        let enc = json!({"kty": "RSA", "kid": "e", "use": "enc", "n": "AQAB", "e": "AQAB"});
        assert!(parse_jwk(&enc).unwrap_err().contains("use"));
        let ops =
            json!({"kty": "RSA", "kid": "o", "key_ops": ["encrypt"], "n": "AQAB", "e": "AQAB"});
        assert!(parse_jwk(&ops).unwrap_err().contains("key_ops"));
        let none = json!({"kty": "RSA", "kid": "n", "alg": "none", "n": "AQAB", "e": "AQAB"});
        assert!(parse_jwk(&none).unwrap_err().contains("not accepted"));
        let hs = json!({"kty": "RSA", "kid": "n", "alg": "HS256", "n": "AQAB", "e": "AQAB"});
        assert!(parse_jwk(&hs).unwrap_err().contains("not accepted"));
        let nokid = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"});
        assert!(parse_jwk(&nokid).unwrap_err().contains("kid"));
        let small = json!({"kty": "RSA", "kid": "s", "n": URL_SAFE_NO_PAD.encode([0xffu8; 128]), "e": "AQAB"});
        assert!(parse_jwk(&small).unwrap_err().contains("1024 bits"));
        let p521 = json!({"kty": "EC", "kid": "p", "crv": "P-521", "x": "AA", "y": "AA"});
        assert!(parse_jwk(&p521).unwrap_err().contains("P-521"));
        let mismatch =
            json!({"kty": "EC", "kid": "m", "alg": "RS256", "crv": "P-256", "x": "AA", "y": "AA"});
        assert!(parse_jwk(&mismatch).unwrap_err().contains("does not fit"));
    }

    #[test]
    fn whole_document_limits() {
        assert_eq!(parse_jwks(b"[]").unwrap_err(), JwksError::NotAJwks);
        assert_eq!(
            parse_jwks(b"{\"keys\": 1}").unwrap_err(),
            JwksError::NotAJwks
        );
        let big = vec![b' '; MAX_JWKS_BYTES + 1];
        assert_eq!(parse_jwks(&big).unwrap_err(), JwksError::TooLarge);
        let (set, skipped) = parse_jwks(br#"{"keys":[{"kty":"oct","kid":"a","k":"AA"}]}"#).unwrap();
        assert!(set.is_empty());
        assert_eq!(skipped.len(), 1);
    }

    #[test]
    fn der_lengths() {
        assert_eq!(bit_len(&[0, 0x01, 0]), 9);
        let der = rsa_public_key_der(&[0x80; 256], &[1, 0, 1]);
        assert_eq!(&der[..4], &[0x30, 0x82, 0x01, 0x0a]);
    }
}
