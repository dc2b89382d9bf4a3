//! The identity-statement key in AWS KMS (an ECC_NIST_P256 SIGN_VERIFY key): the private
//! key never leaves KMS. At start-up GetPublicKey gives the JWKS (kid = RFC 7638 thumbprint
//! of the public key, like every other key source) and one probe signature proves the
//! gateway may sign with it; each statement is then signed by KMS Sign (ECDSA_SHA_256),
//! bounded by a timeout, its DER signature turned into JOSE `r || s`.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::identity_key::{PublicKey, jwks};
use gateway_core::identity::{IdentityClaims, IdentitySigner, SignError};

/// Longest a KMS call may take before the statement (and so the call) fails.
pub const KMS_TIMEOUT: Duration = Duration::from_secs(3);
/// KMS signs messages up to this size itself; larger ones are sent as their SHA-256.
const MAX_RAW_MESSAGE: usize = 4096;

/// The DER SubjectPublicKeyInfo prefix of every P-256 key (id-ecPublicKey, prime256v1),
/// followed by the 65-byte uncompressed point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Why the KMS key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KmsKeyError {
    #[error("identity KMS key {key}: {operation} failed ({code})")]
    Call {
        key: String,
        operation: &'static str,
        code: String,
    },
    #[error("identity KMS key {key}: {operation} timed out")]
    Timeout {
        key: String,
        operation: &'static str,
    },
    #[error("identity KMS key {key}: not an ECC_NIST_P256 SIGN_VERIFY key")]
    WrongKind { key: String },
    #[error("identity KMS key {key}: its signature does not verify with its public key")]
    Probe { key: String },
}

/// Signs statements with KMS.
pub struct KmsSigner {
    issuer: String,
    client: aws_sdk_kms::Client,
    key_id: String,
    public: PublicKey,
    /// The JWS header, base64url-encoded once.
    header_b64: String,
    jwks: String,
}

impl KmsSigner {
    /// Reads the public key and signs one probe: start-up fails unless both work.
    pub async fn load(
        client: aws_sdk_kms::Client,
        key_id: String,
        issuer: String,
    ) -> Result<Self, KmsKeyError> {
        let call = |code: String| KmsKeyError::Call {
            key: key_id.clone(),
            operation: "GetPublicKey",
            code,
        };
        let out = tokio::time::timeout(KMS_TIMEOUT, client.get_public_key().key_id(&key_id).send())
            .await
            .map_err(|_| KmsKeyError::Timeout {
                key: key_id.clone(),
                operation: "GetPublicKey",
            })?
            .map_err(|e| call(e.code().unwrap_or("no code").to_owned()))?;
        let wrong = || KmsKeyError::WrongKind {
            key: key_id.clone(),
        };
        // Older answers (and moto) carry only CustomerMasterKeySpec; the SPKI check below
        // settles the curve either way.
        let spec_ok = out.key_spec().is_none_or(|s| *s == KeySpec::EccNistP256);
        let usage_ok = out
            .key_usage()
            .is_none_or(|u| *u == KeyUsageType::SignVerify);
        let public = out
            .public_key()
            .and_then(|b| p256_point(b.as_ref()))
            .and_then(PublicKey::from_point)
            .filter(|_| spec_ok && usage_ok)
            .ok_or_else(wrong)?;
        let header = serde_json::json!({"alg": "ES256", "kid": public.kid, "typ": "JWT"});
        let signer = Self {
            issuer,
            client,
            header_b64: URL_SAFE_NO_PAD.encode(header.to_string()),
            jwks: jwks([&public]),
            public,
            key_id,
        };
        signer.probe().await?;
        tracing::info!(kid = %signer.public.kid, "identity key is a KMS key");
        Ok(signer)
    }

    /// Signs a fixed message and checks the signature with the published key: catches a
    /// missing kms:Sign permission or a wrong key before any call depends on it.
    async fn probe(&self) -> Result<(), KmsKeyError> {
        let message = b"mcp-oauth-gateway identity key probe";
        let sig = self.kms_sign(message).await?;
        let point = p256_point_of(&self.public).ok_or_else(|| KmsKeyError::Probe {
            key: self.key_id.clone(),
        })?;
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
            point,
        )
        .verify(message, &sig)
        .map_err(|_| KmsKeyError::Probe {
            key: self.key_id.clone(),
        })
    }

    /// KMS's ECDSA_SHA_256 signature of `message`, as JOSE `r || s`.
    async fn kms_sign(&self, message: &[u8]) -> Result<[u8; 64], KmsKeyError> {
        let (message_type, blob) = kms_message(message);
        let request = self
            .client
            .sign()
            .key_id(&self.key_id)
            .message(blob)
            .message_type(message_type)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send();
        let out = tokio::time::timeout(KMS_TIMEOUT, request)
            .await
            .map_err(|_| KmsKeyError::Timeout {
                key: self.key_id.clone(),
                operation: "Sign",
            })?
            .map_err(|e| KmsKeyError::Call {
                key: self.key_id.clone(),
                operation: "Sign",
                code: e.code().unwrap_or("no code").to_owned(),
            })?;
        out.signature()
            .and_then(|s| der_to_jose(s.as_ref()))
            .ok_or_else(|| KmsKeyError::Call {
                key: self.key_id.clone(),
                operation: "Sign",
                code: "malformed signature".into(),
            })
    }
}

/// What KMS is given to sign: the message itself up to its size limit, else its SHA-256
/// (KMS then signs the digest as is: the same ECDSA_SHA_256 signature).
fn kms_message(message: &[u8]) -> (MessageType, Blob) {
    if message.len() <= MAX_RAW_MESSAGE {
        (MessageType::Raw, Blob::new(message))
    } else {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
        (MessageType::Digest, Blob::new(digest.as_ref()))
    }
}

/// The uncompressed point of a DER SubjectPublicKeyInfo, if it is a P-256 key.
fn p256_point(spki: &[u8]) -> Option<&[u8]> {
    spki.strip_prefix(&P256_SPKI_PREFIX[..])
        .filter(|p| p.len() == 65 && p[0] == 4)
}

fn p256_point_of(public: &PublicKey) -> Option<Vec<u8>> {
    let coordinate = |name: &str| {
        let b = URL_SAFE_NO_PAD.decode(public.jwk[name].as_str()?).ok()?;
        (b.len() == 32).then_some(b)
    };
    Some([vec![4u8], coordinate("x")?, coordinate("y")?].concat())
}

/// A DER `ECDSA-Sig-Value` (SEQUENCE of two INTEGERs) as JOSE's fixed-width `r || s`
/// (RFC 7518 §3.4): each integer left-padded to 32 bytes, DER's sign byte dropped.
/// `None` for anything that is not strict DER of two positive integers below 2^256.
pub fn der_to_jose(der: &[u8]) -> Option<[u8; 64]> {
    let (&tag, rest) = der.split_first()?;
    let (&len, body) = rest.split_first()?;
    // At most 2 + 2 * (2 + 33) = 72 bytes: always the short length form.
    if tag != 0x30 || len >= 0x80 || usize::from(len) != body.len() {
        return None;
    }
    let (r, rest) = der_integer(body)?;
    let (s, rest) = der_integer(rest)?;
    if !rest.is_empty() {
        return None;
    }
    let mut out = [0u8; 64];
    out[32 - r.len()..32].copy_from_slice(r);
    out[64 - s.len()..].copy_from_slice(s);
    Some(out)
}

/// One positive INTEGER's magnitude (at most 32 bytes, no leading zero) and what follows.
fn der_integer(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&len, rest) = rest.split_first()?;
    let len = usize::from(len);
    if tag != 0x02 || len == 0 || len > 33 || rest.len() < len {
        return None;
    }
    let (mut value, rest) = rest.split_at(len);
    if value[0] & 0x80 != 0 {
        return None; // negative
    }
    if value[0] == 0 {
        // DER: a leading zero only to keep a high bit from reading as a sign.
        if value.len() == 1 || value[1] & 0x80 == 0 {
            return None;
        }
        value = &value[1..];
    }
    (value.len() <= 32).then_some((value, rest))
}

#[async_trait]
impl IdentitySigner for KmsSigner {
    fn issuer(&self) -> &str {
        &self.issuer
    }

    async fn sign(&self, claims: &IdentityClaims<'_>) -> Result<String, SignError> {
        let payload = serde_json::to_vec(claims).map_err(|e| SignError(e.to_string()))?;
        let input = format!("{}.{}", self.header_b64, URL_SAFE_NO_PAD.encode(payload));
        let sig = self
            .kms_sign(input.as_bytes())
            .await
            .map_err(|e| SignError(e.to_string()))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }

    fn jwks_json(&self) -> String {
        self.jwks.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED, EcdsaKeyPair, KeyPair,
        UnparsedPublicKey,
    };

    fn der(r: &[u8], s: &[u8]) -> Vec<u8> {
        let mut body = vec![0x02, r.len() as u8];
        body.extend_from_slice(r);
        body.extend_from_slice(&[0x02, s.len() as u8]);
        body.extend_from_slice(s);
        [vec![0x30, body.len() as u8], body].concat()
    }

    #[test]
    fn der_signatures_become_fixed_width_r_and_s() {
        // 33-byte integers (sign byte) and short ones (leading zero bytes dropped by DER).
        let mut r = vec![0x00, 0x80];
        r.extend([0xab; 31]);
        let s = [0x01, 0x02];
        let jose = der_to_jose(&der(&r, &s)).unwrap();
        assert_eq!(&jose[..32], &r[1..]);
        assert_eq!(&jose[32..62], &[0u8; 30]);
        assert_eq!(&jose[62..], &s);
        let short_r = [0x7f; 31];
        let jose = der_to_jose(&der(&short_r, &[0x00, 0xff])).unwrap();
        assert_eq!(jose[0], 0);
        assert_eq!(&jose[1..32], &short_r);
        assert_eq!(&jose[32..], &{
            let mut x = [0u8; 32];
            x[31] = 0xff;
            x
        });
    }

    #[test]
    fn malformed_der_is_refused() {
        let ok = [0x11; 32];
        for bad in [
            vec![],
            der(&ok, &ok)[..10].to_vec(),
            [der(&ok, &ok), vec![0]].concat(), // trailing byte
            der(&[0x80; 32], &ok),             // negative
            der(&[0x00, 0x11], &ok),           // needless zero
            der(&[0x00; 1], &ok),              // zero-length magnitude
            der(&[&[0x00, 0x80][..], &[1; 32]].concat(), &ok), // 33 bytes of magnitude
            der(&[], &ok),
        ] {
            assert_eq!(der_to_jose(&bad), None, "{bad:02x?}");
        }
        let mut wrong_tag = der(&ok, &ok);
        wrong_tag[0] = 0x31;
        assert_eq!(der_to_jose(&wrong_tag), None);
    }

    #[test]
    fn real_der_signatures_verify_after_conversion() {
        // Signs until both paths were exercised: an integer with DER's sign byte (half of
        // them) and one short enough to need padding (one in 128 signatures).
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, pair.public_key().as_ref());
        let (mut long, mut short) = (false, false);
        for i in 0..50_000u32 {
            let msg = i.to_be_bytes();
            let sig = pair.sign(&rng, &msg).unwrap();
            let sig = sig.as_ref();
            let r_len = usize::from(sig[3]);
            let s_len = usize::from(sig[5 + r_len]);
            long |= r_len == 33 || s_len == 33;
            short |= r_len < 32 || s_len < 32;
            let jose = der_to_jose(sig).expect("a real DER signature");
            public.verify(&msg, &jose).expect("verifies as r || s");
            if long && short {
                return;
            }
        }
        panic!("not both paths seen: long {long}, short {short}");
    }

    #[test]
    fn long_statements_are_signed_as_their_digest() {
        let short = vec![b'a'; MAX_RAW_MESSAGE];
        let (kind, blob) = kms_message(&short);
        assert_eq!((kind, blob.as_ref()), (MessageType::Raw, &short[..]));
        let long = vec![b'a'; MAX_RAW_MESSAGE + 1];
        let (kind, blob) = kms_message(&long);
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &long);
        assert_eq!(
            (kind, blob.as_ref()),
            (MessageType::Digest, digest.as_ref())
        );
    }

    #[test]
    fn only_p256_public_keys_are_accepted() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref();
        let spki = [&P256_SPKI_PREFIX[..], point].concat();
        assert_eq!(p256_point(&spki), Some(point));
        let public = PublicKey::from_point(point).unwrap();
        assert_eq!(p256_point_of(&public).as_deref(), Some(point));
        let mut p384 = spki.clone();
        p384[22] = 0x22; // secp384r1's last OID byte
        assert_eq!(p256_point(&p384), None);
        assert_eq!(p256_point(&spki[..90]), None);
    }
}
