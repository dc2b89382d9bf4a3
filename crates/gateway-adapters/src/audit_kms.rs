//! Audit chain heads authenticated by AWS KMS: an HMAC_256 key (key usage
//! GENERATE_VERIFY_MAC) that never leaves KMS. The gateway's role may only `GenerateMac`
//! with it; whoever runs `gatewayctl audit verify` needs `VerifyMac`. Neither can read the
//! key, so nobody who can write the audit table can sign a rewritten chain.

use async_trait::async_trait;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::MacAlgorithmSpec;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use gateway_core::audit::{HeadSignError, HeadSigner, SignedHead};

/// The one MAC algorithm heads use.
pub const ALGORITHM: &str = "HMAC_SHA_256";

/// Why a head's MAC could not be checked (not: that it is wrong, which is `Ok(false)`).
#[derive(Debug, thiserror::Error)]
#[error("audit KMS key {key}: VerifyMac failed ({code})")]
pub struct MacCheckError {
    pub key: String,
    pub code: String,
}

/// Signs heads with `GenerateMac`; the client is the gateway's one KMS client (bounded
/// retries and timeouts, see `identity_kms::kms_client`).
pub struct KmsHeadSigner {
    client: aws_sdk_kms::Client,
    key_id: String,
}

impl KmsHeadSigner {
    pub fn new(client: aws_sdk_kms::Client, key_id: String) -> Self {
        Self { client, key_id }
    }
}

#[async_trait]
impl HeadSigner for KmsHeadSigner {
    async fn sign(&self, message: &[u8]) -> Result<(String, String, Vec<u8>), HeadSignError> {
        let out = self
            .client
            .generate_mac()
            .key_id(&self.key_id)
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .message(Blob::new(message))
            .send()
            .await
            .map_err(|e| HeadSignError(code(&e)))?;
        let mac = out
            .mac
            .ok_or_else(|| HeadSignError("GenerateMac answered no MAC".into()))?;
        // The key's ARN as KMS names it, for the record; the verifier uses its own.
        let key = out.key_id.unwrap_or_else(|| self.key_id.clone());
        Ok((key, ALGORITHM.to_owned(), mac.into_inner()))
    }
}

fn code<E: ProvideErrorMetadata + std::error::Error, R>(e: &SdkError<E, R>) -> String {
    match e {
        SdkError::ServiceError(c) => c.err().code().unwrap_or("error").to_owned(),
        other => other.to_string(),
    }
}

/// Whether `head`'s MAC verifies under `key_id` (the verifier's configured key, never the
/// one the head names). A MAC KMS finds wrong is `Ok(false)`; anything else is an error.
pub async fn verify_head(
    client: &aws_sdk_kms::Client,
    key_id: &str,
    head: &SignedHead,
) -> Result<bool, MacCheckError> {
    let Ok(mac) = STANDARD.decode(&head.mac) else {
        return Ok(false);
    };
    if head.algorithm != ALGORITHM || mac.is_empty() {
        return Ok(false);
    }
    let out = client
        .verify_mac()
        .key_id(key_id)
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .message(Blob::new(head.message()))
        .mac(Blob::new(mac))
        .send()
        .await;
    match out {
        Ok(o) => Ok(o.mac_valid),
        Err(SdkError::ServiceError(c)) if c.err().is_kms_invalid_mac_exception() => Ok(false),
        Err(e) => Err(MacCheckError {
            key: key_id.to_owned(),
            code: code(&e),
        }),
    }
}
