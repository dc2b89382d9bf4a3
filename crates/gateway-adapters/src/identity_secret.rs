//! The identity-statement key from AWS Secrets Manager: the secret string is a PKCS#8 PEM
//! P-256 private key. AWSCURRENT signs; AWSPREVIOUS (statements signed just before a
//! rotation) and AWSPENDING (a key about to become current, so a staged rotation never
//! has one instance sign with a key another does not publish yet) are published too, as is
//! the key this instance signed with until the last refresh. The secret is re-read
//! periodically, in the background: requests never wait for Secrets Manager. When a re-read
//! is due, and that one runs at a time, is the core's reloading store's
//! (`gateway_core::reload`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;

use crate::identity_key::{KeyPair, PublicKey, generate_pem, jwks};
use gateway_core::identity::{IdentityClaims, IdentitySigner, SignError};
use gateway_core::reload::{Flight, Reloading, TimedOut, spawn_ticker};

/// Why the secret cannot be used. Never carries the secret's value.
#[derive(Debug, thiserror::Error)]
pub enum SecretKeyError {
    #[error("identity key secret {secret} ({stage}) could not be read ({code})")]
    Read {
        secret: String,
        stage: &'static str,
        code: String,
    },
    #[error(
        "identity key secret {secret} ({stage}): not a PKCS#8 P-256 private key in PEM (SecretString)"
    )]
    Invalid { secret: String, stage: &'static str },
    #[error("identity key secret {secret}: {operation} failed ({code})")]
    Write {
        secret: String,
        operation: &'static str,
        code: String,
    },
    /// A re-read that ran past the store's bound (the keys in use stay).
    #[error("identity key secret read timed out")]
    TimedOut,
}

impl From<TimedOut> for SecretKeyError {
    fn from(_: TimedOut) -> Self {
        Self::TimedOut
    }
}

/// The keys of one read of the secret.
struct Keys {
    signing: Arc<KeyPair>,
    jwks: String,
}

struct Inner {
    issuer: String,
    client: aws_sdk_secretsmanager::Client,
    secret: String,
    /// Read at start-up, then re-read every interval (unbounded here: the SDK client has
    /// its own time-outs); a failed re-read keeps the keys in use.
    keys: Reloading<Keys>,
}

/// Signs with the key in a Secrets Manager secret, following its rotations.
pub struct SecretKeySigner {
    inner: Arc<Inner>,
}

impl SecretKeySigner {
    /// Reads the secret: start-up fails unless AWSCURRENT is a usable key.
    pub async fn load(
        client: aws_sdk_secretsmanager::Client,
        secret: String,
        issuer: String,
        refresh_every: Duration,
        background: bool,
    ) -> Result<Self, SecretKeyError> {
        let (current, others) = read(&client, &secret).await?;
        let keys = assemble(current, others, None);
        tracing::info!(kid = %keys.signing.public.kid, "identity key loaded from Secrets Manager");
        let inner = Arc::new(Inner {
            issuer,
            client,
            secret,
            keys: Reloading::loaded(refresh_every, keys),
        });
        // `background` is false under Lambda, where a timer would sleep through frozen
        // periods: requests trigger the refresh there (see `refresh_if_due`).
        if background {
            spawn_ticker(&inner, refresh_every, |inner: Arc<Inner>| async move {
                if let Some(flight) = inner.ready() {
                    inner.refresh(flight).await;
                }
            });
        }
        Ok(Self { inner })
    }

    /// Starts a background re-read when one is due and none is in flight.
    fn refresh_if_due(&self) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if let Some(flight) = self.inner.ready() {
            let inner = Arc::clone(&self.inner);
            rt.spawn(async move { inner.refresh(flight).await });
        }
    }
}

impl Inner {
    /// The right to re-read, when a re-read is due and none is in flight.
    fn ready(&self) -> Option<Flight> {
        self.keys.due().then(|| self.keys.try_flight()).flatten()
    }

    /// The keys in use: read at start-up, and a failed re-read never drops them.
    fn current(&self) -> Arc<Keys> {
        self.keys.get().expect("read at start-up")
    }

    /// Re-reads the secret; on failure the keys in use stay (logged, retried next interval).
    async fn refresh(&self, _flight: Flight) {
        let read = read(&self.client, &self.secret);
        let install = |before: Option<&Keys>, (current, others): (KeyPair, _), _| {
            let before = before.map(|k| Arc::clone(&k.signing));
            if let Some(before) = before
                .as_ref()
                .filter(|b| b.public.kid != current.public.kid)
            {
                tracing::info!(kid = %current.public.kid, previous = %before.public.kid, "identity key rotated");
            }
            assemble(current, others, before)
        };
        if let Err(e) = self.keys.reload_with(read, install).await {
            tracing::warn!(error = %e, "identity key secret not re-read: the keys in use stay")
        }
    }
}

/// The signing key and the published set: current first, then the others, once each.
fn assemble(current: KeyPair, others: Vec<PublicKey>, retired: Option<Arc<KeyPair>>) -> Keys {
    let mut published: Vec<PublicKey> = vec![current.public.clone()];
    let retired = retired.map(|k| k.public.clone());
    for key in others.into_iter().chain(retired) {
        if !published.iter().any(|p| p.kid == key.kid) {
            published.push(key);
        }
    }
    Keys {
        jwks: jwks(&published),
        signing: Arc::new(current),
    }
}

/// AWSCURRENT (required) and the public keys of AWSPENDING and AWSPREVIOUS (when present
/// and usable).
async fn read(
    client: &aws_sdk_secretsmanager::Client,
    secret: &str,
) -> Result<(KeyPair, Vec<PublicKey>), SecretKeyError> {
    // In parallel: a cold start waits for the slowest read, not the sum.
    let (current, pending, previous) = tokio::join!(
        stage(client, secret, "AWSCURRENT"),
        stage(client, secret, "AWSPENDING"),
        stage(client, secret, "AWSPREVIOUS"),
    );
    let current = current?.ok_or_else(|| SecretKeyError::Read {
        secret: secret.to_owned(),
        stage: "AWSCURRENT",
        code: "ResourceNotFoundException".into(),
    })?;
    let mut others = Vec::new();
    for other in [pending, previous] {
        match other {
            Ok(Some(key)) => others.push(key.public),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "identity key version not published"),
        }
    }
    Ok((current, others))
}

/// One version stage's key; `None` when the secret has no version in that stage.
async fn stage(
    client: &aws_sdk_secretsmanager::Client,
    secret: &str,
    stage: &'static str,
) -> Result<Option<KeyPair>, SecretKeyError> {
    let out = match client
        .get_secret_value()
        .secret_id(secret)
        .version_stage(stage)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if stage != "AWSCURRENT" && e.code() == Some("ResourceNotFoundException") => {
            return Ok(None);
        }
        Err(e) => {
            return Err(SecretKeyError::Read {
                secret: secret.to_owned(),
                stage,
                code: e.code().unwrap_or("no code").to_owned(),
            });
        }
    };
    let invalid = || SecretKeyError::Invalid {
        secret: secret.to_owned(),
        stage,
    };
    let text = out.secret_string().ok_or_else(invalid)?;
    KeyPair::from_pem(text).map(Some).ok_or_else(invalid)
}

fn write_failed(
    secret: &str,
    operation: &'static str,
    e: &impl ProvideErrorMetadata,
) -> SecretKeyError {
    SecretKeyError::Write {
        secret: secret.to_owned(),
        operation,
        code: e.code().unwrap_or("no code").to_owned(),
    }
}

/// Creates secret `name` holding a new key (encrypted with `kms_key_id`, or the account's
/// default key); its ARN and the key's `kid`. The key itself is never returned.
pub async fn create_key_secret(
    client: &aws_sdk_secretsmanager::Client,
    name: &str,
    kms_key_id: Option<&str>,
) -> Result<(String, String), SecretKeyError> {
    let pem = generate_pem();
    let kid = KeyPair::from_pem(&pem).expect("a generated key").public.kid;
    let out = client
        .create_secret()
        .name(name)
        .description("mcp-oauth-gateway identity-statement key (PKCS#8 PEM, P-256)")
        .set_kms_key_id(kms_key_id.map(str::to_owned))
        .secret_string(pem)
        .send()
        .await
        .map_err(|e| write_failed(name, "CreateSecret", &e))?;
    Ok((out.arn().unwrap_or(name).to_owned(), kid))
}

/// Puts a new key as the secret's AWSCURRENT version (the old one becomes AWSPREVIOUS and
/// stays published); the new `kid`.
pub async fn rotate_key_secret(
    client: &aws_sdk_secretsmanager::Client,
    secret: &str,
) -> Result<String, SecretKeyError> {
    let pem = generate_pem();
    let kid = KeyPair::from_pem(&pem).expect("a generated key").public.kid;
    client
        .put_secret_value()
        .secret_id(secret)
        .secret_string(pem)
        .send()
        .await
        .map_err(|e| write_failed(secret, "PutSecretValue", &e))?;
    Ok(kid)
}

#[async_trait]
impl IdentitySigner for SecretKeySigner {
    fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    async fn sign(&self, claims: &IdentityClaims<'_>) -> Result<String, SignError> {
        self.refresh_if_due();
        let key = Arc::clone(&self.inner.current().signing);
        key.sign(claims)
    }

    fn jwks_json(&self) -> String {
        self.refresh_if_due();
        self.inner.current().jwks.clone()
    }
}
