//! The gateway's identity-statement key from a local PKCS#8 PEM file (ES256, P-256), created
//! on first use for local runs; or an ephemeral key when none is configured. The private key
//! never leaves the process; the public half is published as a JWKS with an RFC 7638 `kid`.

use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::identity::{IdentityClaims, IdentitySigner, SignError};

pub struct LocalKeySigner {
    issuer: String,
    key: EncodingKey,
    header: Header,
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

fn generate_pkcs8() -> Vec<u8> {
    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .expect("the system RNG works")
        .as_ref()
        .to_vec()
}

fn pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
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

impl LocalKeySigner {
    /// Loads the key at `path`, creating it (mode 0600) when the file does not exist.
    pub fn from_file(path: &Path, issuer: String) -> Result<Self, KeyFileError> {
        let name = path.display().to_string();
        if !path.exists() {
            match write_private(path, pem(&generate_pkcs8()).as_bytes()) {
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
        let text = std::fs::read(path).map_err(|error| KeyFileError::Io {
            path: name.clone(),
            error,
        })?;
        let key = EncodingKey::from_ec_pem(&text)
            .map_err(|_| KeyFileError::Invalid { path: name.clone() })?;
        Self::new(key, issuer).ok_or(KeyFileError::Invalid { path: name })
    }

    /// A key that lives as long as the process: fine for one local process, wrong for
    /// several instances (each would publish a different key).
    pub fn ephemeral(issuer: String) -> Self {
        let key = EncodingKey::from_ec_der(&generate_pkcs8());
        Self::new(key, issuer).expect("a generated key is valid")
    }

    fn new(key: EncodingKey, issuer: String) -> Option<Self> {
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).ok()?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256).ok()?;
        jwk.common.key_id = Some(kid.clone());
        let mut public = serde_json::to_value(&jwk).ok()?;
        public["use"] = "sig".into();
        let jwks = serde_json::json!({ "keys": [public] }).to_string();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid);
        header.typ = Some("JWT".into());
        Some(Self {
            issuer,
            key,
            header,
            jwks,
        })
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

impl IdentitySigner for LocalKeySigner {
    fn issuer(&self) -> &str {
        &self.issuer
    }

    fn sign(&self, claims: &IdentityClaims<'_>) -> Result<String, SignError> {
        jsonwebtoken::encode(&self.header, claims, &self.key).map_err(|e| SignError(e.to_string()))
    }

    fn jwks_json(&self) -> &str {
        &self.jwks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    #[test]
    fn statements_verify_against_the_published_jwks_and_the_key_file_persists() {
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

        let caller = crate::auth::Principal {
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
        let now = crate::auth::verifier::now_secs();
        let claims = IdentityClaims::new(
            signer.issuer(),
            "https://tools".into(),
            &caller,
            "echo",
            "req-1",
            now,
        );
        let jwt = signer.sign(&claims).unwrap();
        let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_str(signer.jwks_json()).unwrap();
        let jwk = &jwks.keys[0];
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.kid, jwk.common.key_id);
        let mut v = Validation::new(Algorithm::ES256);
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
