//! `gatewayctl identity-key`: the gateway's identity-statement key in AWS Secrets Manager,
//! generated here (PKCS#8 PEM, P-256) so no private key ever sits in a file or a shell
//! history; only the secret's ARN and the key's `kid` are printed.

use clap::Subcommand;

use super::output::Out;
use super::{CliError, Global, input};
use crate::adapters::identity_secret::{create_key_secret, rotate_key_secret};

#[derive(Debug, Subcommand)]
pub enum IdentityKeyCommand {
    /// Create a Secrets Manager secret holding a new P-256 private key: the gateway's
    /// GATEWAY_IDENTITY_KEY_SECRET (template.yaml's IdentityKeySecretArn).
    CreateSecret {
        /// The secret's name.
        name: String,
        /// The KMS key that encrypts the secret (the account's default key when unset; the
        /// gateway then also needs kms:Decrypt on it).
        #[arg(long, value_name = "KEY")]
        kms_key_id: Option<String>,
    },
    /// Put a new key as the secret's current version. Gateways sign with it after their
    /// next re-read (GATEWAY_IDENTITY_KEY_REFRESH_SECS); the previous key stays published.
    Rotate {
        /// The secret's name or ARN.
        secret: String,
    },
}

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Input(e.to_string())
}

pub async fn run(g: &Global, out: Out, cmd: IdentityKeyCommand) -> Result<(), CliError> {
    let client = input::secrets(g).await?;
    let (secret, kid, verb) = match cmd {
        IdentityKeyCommand::CreateSecret { name, kms_key_id } => {
            let (arn, kid) = create_key_secret(&client, &name, kms_key_id.as_deref())
                .await
                .map_err(failed)?;
            (arn, kid, "created")
        }
        IdentityKeyCommand::Rotate { secret } => {
            let kid = rotate_key_secret(&client, &secret).await.map_err(failed)?;
            (secret, kid, "rotated")
        }
    };
    if out.json {
        out.line(&serde_json::json!({ "secret": secret, "kid": kid, "action": verb }).to_string())
    } else {
        out.line(&format!("secret {secret} {verb}: new key {kid}"))
    }
}
