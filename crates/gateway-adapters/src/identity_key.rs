//! The gateway's identity-statement keys (ES256, P-256): parsing a PKCS#8 PEM private key,
//! the public JWK with its RFC 7638 `kid`, the JWKS; and the local signer over a key file
//! (created on first use for local runs) or an ephemeral key. The cloud sources are
//! `identity_secret` (Secrets Manager) and `identity_kms` (KMS). The private key never
//! leaves the process and no error or log line ever contains key material.

use std::path::Path;

use async_trait::async_trait;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use gateway_core::identity::{IdentityClaims, IdentitySigner, SignError};

/// Seeds aws-lc's random generator on a thread of its own, at once. aws-lc seeds it on
/// first use from CPU jitter entropy (its tree DRBG): about 20 ms of CPU, once per process
/// (each further thread then costs about 0.15 ms). The first identity statement (an ECDSA
/// nonce), a generated key and the first TLS handshake all need it; started first thing, that
/// cost overlaps with start-up's own work and I/O (SDK clients, JWKS, policies) instead of
/// landing on the first request. The same entropy sources and checks, only earlier.
pub fn seed_random_in_background() -> std::thread::JoinHandle<()> {
    std::thread::spawn(|| {
        use aws_lc_rs::rand::SecureRandom as _;
        let mut byte = [0u8; 1];
        // A failing system RNG fails the first signature later, with its error: nothing to do here.
        let _ = SystemRandom::new().fill(&mut byte);
    })
}

/// A public P-256 key as a JWK, with its RFC 7638 thumbprint as `kid`.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicKey {
    pub kid: String,
    pub jwk: Value,
}

impl PublicKey {
    /// From an uncompressed SEC1 point (`04 || x || y`); `None` for anything else.
    pub fn from_point(point: &[u8]) -> Option<Self> {
        if point.len() != 65 || point[0] != 4 {
            return None;
        }
        let (x, y) = (
            URL_SAFE_NO_PAD.encode(&point[1..33]),
            URL_SAFE_NO_PAD.encode(&point[33..]),
        );
        // RFC 7638: the required members only, in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
        let kid = URL_SAFE_NO_PAD.encode(digest.as_ref());
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "x": x, "y": y,
            "kid": kid, "use": "sig", "alg": "ES256",
        });
        Some(Self { kid, jwk })
    }
}

/// The JWKS document publishing `keys` (the first one signs now).
pub fn jwks<'a>(keys: impl IntoIterator<Item = &'a PublicKey>) -> String {
    let keys: Vec<&Value> = keys.into_iter().map(|k| &k.jwk).collect();
    json!({ "keys": keys }).to_string()
}

/// A private signing key with its public half. The key is parsed once and the JWS header
/// encoded once: a statement per tool call costs one ECDSA signature, nothing more.
pub struct KeyPair {
    pair: EcdsaKeyPair,
    /// `base64url({"alg":"ES256","typ":"JWT","kid":…}) + "."`.
    header_b64: String,
    rng: SystemRandom,
    pub public: PublicKey,
}

impl KeyPair {
    /// A PKCS#8 DER P-256 private key; `None` when it is anything else (another curve,
    /// another algorithm, malformed).
    pub fn from_pkcs8(der: &[u8]) -> Option<Self> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).ok()?;
        let public = PublicKey::from_point(pair.public_key().as_ref())?;
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": public.kid});
        let header_b64 = format!("{}.", URL_SAFE_NO_PAD.encode(header.to_string()));
        Some(Self {
            pair,
            header_b64,
            rng: SystemRandom::new(),
            public,
        })
    }

    /// A PKCS#8 P-256 private key in PEM (`BEGIN PRIVATE KEY`), surrounding blanks allowed.
    pub fn from_pem(text: &str) -> Option<Self> {
        let body = text
            .trim()
            .strip_prefix("-----BEGIN PRIVATE KEY-----")?
            .strip_suffix("-----END PRIVATE KEY-----")?;
        let b64: String = body.split_whitespace().collect();
        Self::from_pkcs8(&STANDARD.decode(b64).ok()?)
    }

    /// A new random key.
    pub fn generate() -> Self {
        Self::from_pkcs8(&generate_pkcs8()).expect("a generated key is valid")
    }

    /// The compact JWS of `claims`, its header naming this key.
    pub fn sign(&self, claims: &IdentityClaims<'_>) -> Result<String, SignError> {
        let payload = serde_json::to_vec(claims).map_err(|e| SignError(e.to_string()))?;
        let mut jws = self.header_b64.clone();
        URL_SAFE_NO_PAD.encode_string(payload, &mut jws);
        // ES256 in JWS is the fixed-width r || s the FIXED signing algorithm produces.
        let signature = self
            .pair
            .sign(&self.rng, jws.as_bytes())
            .map_err(|_| SignError("ECDSA signing failed".into()))?;
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut jws);
        Ok(jws)
    }
}

fn generate_pkcs8() -> Vec<u8> {
    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .expect("the system RNG works")
        .as_ref()
        .to_vec()
}

/// A new random P-256 private key as PKCS#8 PEM (for a key file or a Secrets Manager secret).
pub fn generate_pem() -> String {
    pem(&generate_pkcs8())
}

fn pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

/// Signs with a key file or an ephemeral key.
pub struct LocalKeySigner {
    issuer: String,
    key: KeyPair,
    jwks: String,
}

/// Why the key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("identity key {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("identity key {path}: not a PKCS#8 P-256 private key in PEM")]
    Invalid { path: String },
}

impl LocalKeySigner {
    /// Loads the key at `path`, creating it (mode 0600) when the file does not exist.
    pub fn from_file(path: &Path, issuer: String) -> Result<Self, KeyFileError> {
        let name = path.display().to_string();
        if !path.exists() {
            match write_private(path, generate_pem().as_bytes()) {
                Ok(()) => tracing::info!(path = %name, "generated a new identity-statement key"),
                // Another instance created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(error) => {
                    return Err(KeyFileError::Io {
                        path: name.clone(),
                        error,
                    });
                }
            }
        }
        let text = std::fs::read_to_string(path).map_err(|error| KeyFileError::Io {
            path: name.clone(),
            error,
        })?;
        let key = KeyPair::from_pem(&text).ok_or(KeyFileError::Invalid { path: name })?;
        Ok(Self::new(key, issuer))
    }

    /// A key that lives as long as the process: fine for one local process, wrong for
    /// several instances (each would publish a different key).
    pub fn ephemeral(issuer: String) -> Self {
        Self::new(KeyPair::generate(), issuer)
    }

    fn new(key: KeyPair, issuer: String) -> Self {
        let jwks = jwks([&key.public]);
        Self { issuer, key, jwks }
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[async_trait]
impl IdentitySigner for LocalKeySigner {
    fn issuer(&self) -> &str {
        &self.issuer
    }

    async fn sign(&self, claims: &IdentityClaims<'_>) -> Result<String, SignError> {
        self.key.sign(claims)
    }

    fn jwks_json(&self) -> String {
        self.jwks.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
    use jsonwebtoken::{DecodingKey, Validation};

    /// A P-384 PKCS#8 key: the right format, the wrong curve.
    fn p384_pem() -> String {
        let der = EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            &SystemRandom::new(),
        )
        .unwrap();
        pem(der.as_ref())
    }

    #[test]
    fn the_kid_is_the_rfc7638_thumbprint() {
        let key = KeyPair::generate();
        let jwk: Jwk = serde_json::from_value(key.public.jwk.clone()).unwrap();
        assert_eq!(
            jwk.thumbprint(ThumbprintHash::SHA256).unwrap(),
            key.public.kid
        );
        assert_eq!(key.public.jwk["kid"], key.public.kid.as_str());
        assert_eq!(key.public.kid.len(), 43, "base64url of 32 bytes");
        // Same key, same kid; another key, another kid.
        let pem = generate_pem();
        let (a, b) = (
            KeyPair::from_pem(&pem).unwrap(),
            KeyPair::from_pem(&format!("\n  {pem}  \n")).unwrap(),
        );
        assert_eq!(a.public, b.public);
        assert_ne!(a.public.kid, KeyPair::generate().public.kid);
    }

    #[test]
    fn only_pkcs8_p256_pem_keys_are_accepted() {
        assert!(KeyPair::from_pem("nope").is_none());
        assert!(KeyPair::from_pem(&p384_pem()).is_none(), "wrong curve");
        let pem = generate_pem();
        let sec1 = pem.replace("PRIVATE KEY", "EC PRIVATE KEY");
        assert!(KeyPair::from_pem(&sec1).is_none());
        let broken = pem.replacen("M", "!", 1);
        assert!(KeyPair::from_pem(&broken).is_none());
        assert!(PublicKey::from_point(&[4; 64]).is_none());
    }

    #[tokio::test]
    async fn statements_verify_against_the_published_jwks_and_the_key_file_persists() {
        let dir = std::env::temp_dir().join(format!("gw-identity-{}", std::process::id()));
        let path = dir.join("identity.pem");
        let _ = std::fs::remove_dir_all(&dir);
        let signer = LocalKeySigner::from_file(&path, "https://gw.example/mcp".into()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = LocalKeySigner::from_file(&path, "https://gw.example/mcp".into()).unwrap();
        assert_eq!(signer.jwks_json(), again.jwks_json(), "same file, same key");

        let caller = gateway_core::auth::Principal {
            issuer: "https://idp".into(),
            subject: "u-1".into(),
            username: "alice".into(),
            email: None,
            groups: vec!["eng".into()],
            scopes: vec![],
            client_id: None,
            expires_at: 0,
            token_id: None,
        };
        let now = gateway_core::auth::verifier::now_secs();
        let claims = IdentityClaims::new(
            signer.issuer(),
            "https://tools".into(),
            &caller,
            "echo",
            "req-1",
            now,
        );
        let jwt = signer.sign(&claims).await.unwrap();
        let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&signer.jwks_json()).unwrap();
        let jwk = &jwks.keys[0];
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.kid, jwk.common.key_id);
        let mut v = Validation::new(jsonwebtoken::Algorithm::ES256);
        v.leeway = 0;
        v.set_audience(&["https://tools"]);
        v.set_issuer(&["https://gw.example/mcp"]);
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &jwt,
            &DecodingKey::from_jwk(jwk).unwrap(),
            &v,
        )
        .unwrap();
        assert_eq!(data.claims["username"], "alice");
        assert_eq!(data.claims["caller_iss"], "https://idp");
        assert_eq!(data.claims["tool"], "echo");
        assert!(data.claims["exp"].as_u64().unwrap() - now <= 300);
        assert!(
            !signer.jwks_json().contains("\"d\""),
            "no private part published"
        );
        std::fs::write(dir.join("bad.pem"), "nope").unwrap();
        assert!(matches!(
            LocalKeySigner::from_file(&dir.join("bad.pem"), "x".into()),
            Err(KeyFileError::Invalid { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
