//! Wiring of the authorization-server façade: builds its adapters (IdP over HTTP, Cognito,
//! the registrations record, CIMD fetches) once at start-up from `GATEWAY_FACADE_*`, and
//! reads its secrets (the state key, the initial access token) from Secrets Manager.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Clients, StartupError};
use crate::adapters::cimd_http::CimdHttp;
use crate::adapters::cognito_clients::CognitoClients;
use crate::adapters::dynamodb_config::DynamoConfig;
use crate::adapters::oauth_idp::IdpHttp;
use crate::adapters::registrations::Registrations;
use crate::auth::RegisteredClients;
use crate::config::Config;
use crate::config::facade::FacadeRegistration;
use crate::oauth::seal::Sealer;
use crate::oauth::{
    CimdFetcher, ClientFactory, Facade, FacadeSettings, OAuthError, Registration, RegistrationLog,
    RegistrationMode,
};

/// In Cognito registration mode, the list of app clients the gateway registered, for the
/// verifier (its issuer, and the list: empty until started). Re-read as often as the
/// deny-list (`GATEWAY_REVOCATION_REFRESH_MS`), at most once a second.
pub(super) fn registered_clients(
    config: &Config,
    clients: &Clients,
) -> Option<(String, Arc<RegisteredClients>)> {
    let f = config.facade.as_ref()?;
    let FacadeRegistration::Cognito { .. } = &f.registration else {
        return None;
    };
    let table = config.policy_table.as_ref()?;
    let source = Arc::new(Registrations::new(DynamoConfig::new(
        clients.aws.dynamodb(),
        table.clone(),
    )));
    let every = config
        .deny_list
        .as_ref()
        .map_or(Duration::from_secs(1), |d| d.refresh)
        .max(Duration::from_secs(1));
    let list = RegisteredClients::new(f.idp_issuer.clone(), source, every, Duration::from_secs(2));
    Some((f.idp_issuer.clone(), Arc::new(list)))
}

/// The registrations record, and this process's list of registered clients: a client
/// registered here is accepted at once, not only after the next read.
struct RecordAndAllow {
    log: Registrations,
    allowed: Option<Arc<RegisteredClients>>,
}

#[async_trait]
impl RegistrationLog for RecordAndAllow {
    async fn record(&self, registration: &Registration) -> Result<(), OAuthError> {
        self.log.record(registration).await?;
        if let Some(a) = &self.allowed {
            a.insert(&registration.client_id);
        }
        Ok(())
    }

    async fn reserve(&self, max: usize) -> Result<bool, OAuthError> {
        self.log.reserve(max).await
    }

    async fn release(&self) -> Result<(), OAuthError> {
        self.log.release().await
    }

    async fn mark_used(&self, client_id: &str, now: u64) -> Result<(), OAuthError> {
        self.log.mark_used(client_id, now).await
    }

    async fn unused_before(&self, issuer: &str, before: u64) -> Result<Vec<String>, OAuthError> {
        self.log.unused_before(issuer, before).await
    }

    async fn remove(&self, client_id: &str) -> Result<bool, OAuthError> {
        RegistrationLog::remove(&self.log, client_id).await
    }
}

/// One secret's string value, read once at start-up; the error names the setting.
async fn read_secret(
    secrets: &aws_sdk_secretsmanager::Client,
    name: &'static str,
    id: &str,
) -> Result<String, StartupError> {
    let out = secrets
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| {
            StartupError::Config(crate::config::ConfigError {
                name,
                reason: format!(
                    "{id}: {}",
                    aws_sdk_secretsmanager::error::DisplayErrorContext(e)
                ),
            })
        })?;
    out.secret_string()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            StartupError::Config(crate::config::ConfigError {
                name,
                reason: format!("{id}: the secret has no string value"),
            })
        })
}

/// The sealing key: from Secrets Manager, the local setting, or (with a warning) random.
async fn sealer(
    f: &crate::config::facade::FacadeConfig,
    secrets: &aws_sdk_secretsmanager::Client,
) -> Result<Sealer, StartupError> {
    const NAME: &str = "GATEWAY_FACADE_STATE_SECRET_ARN";
    if let Some(id) = &f.state_secret {
        let value = read_secret(secrets, NAME, id).await?;
        let key = crate::config::facade::decode_key(&value).map_err(|reason| {
            StartupError::Config(crate::config::ConfigError {
                name: NAME,
                reason: format!("{id}: {reason}"),
            })
        })?;
        return Ok(Sealer::new(&key));
    }
    if let Some(k) = &f.state_key {
        if crate::runtime::under_lambda() {
            tracing::warn!(
                "GATEWAY_FACADE_STATE_KEY is a plain environment value: use GATEWAY_FACADE_STATE_SECRET_ARN in a deployment"
            );
        }
        return Ok(Sealer::new(k));
    }
    tracing::warn!(
        "no façade state key (GATEWAY_FACADE_STATE_SECRET_ARN): client ids, consent and logins in progress last only as long as this process"
    );
    Ok(Sealer::random())
}

/// The façade, or `None` when it is not configured. `allowed` is the verifier's list of
/// registered clients (see `registered_clients`).
pub(super) async fn build(
    config: &Config,
    clients: &Clients,
    secrets: aws_sdk_secretsmanager::Client,
    allowed: Option<Arc<RegisteredClients>>,
) -> Result<Option<Arc<Facade>>, StartupError> {
    let Some(f) = &config.facade else {
        return Ok(None);
    };
    let idp = Arc::new(IdpHttp::new(
        &clients.http,
        f.idp_issuer.clone(),
        f.metadata_url.clone(),
    )?);
    let (registration, factory, log) = match &f.registration {
        FacadeRegistration::Static(id) => (
            RegistrationMode::Static {
                client_id: id.clone(),
            },
            None,
            None,
        ),
        FacadeRegistration::Cognito { user_pool_id } => {
            let factory: Arc<dyn ClientFactory> = Arc::new(CognitoClients::new(
                clients.aws.cognito(),
                user_pool_id.clone(),
            ));
            // Registrations are recorded beside the policies; configuration requires the table.
            let log: Option<Arc<dyn RegistrationLog>> = match &config.policy_table {
                Some(t) => Some(Arc::new(RecordAndAllow {
                    log: Registrations::new(DynamoConfig::new(clients.aws.dynamodb(), t.clone())),
                    allowed,
                })),
                None => None,
            };
            (RegistrationMode::Cognito, Some(factory), log)
        }
    };
    let cimd: Option<Arc<dyn CimdFetcher>> = if f.cimd {
        let pem = match &f.cimd_ca_file {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                StartupError::Config(crate::config::ConfigError {
                    name: "GATEWAY_FACADE_CIMD_CA_FILE",
                    reason: format!("{path}: {e}"),
                })
            })?),
            None => None,
        };
        Some(Arc::new(CimdHttp::new(
            &clients.http,
            pem.as_deref(),
            f.cimd_test_allow.clone(),
        )?))
    } else {
        None
    };
    let sealer = sealer(f, &secrets).await?;
    let registration_token_sha256 = match &f.registration_token_secret {
        Some(id) => {
            let token =
                read_secret(&secrets, "GATEWAY_FACADE_REGISTRATION_TOKEN_SECRET", id).await?;
            Some(
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes())
                    .as_ref()
                    .to_vec(),
            )
        }
        None => None,
    };
    let settings = FacadeSettings {
        base: f.base.clone(),
        idp_issuer: f.idp_issuer.clone(),
        relay: f.relay,
        registration,
        cimd_client_id: f.client_id.clone().filter(|_| f.cimd),
        scopes: f.scopes.clone(),
        state_ttl: f.state_ttl_secs,
        forward_resource: f.forward_resource,
        max_registrations: f.max_registrations,
        consent_ttl: f.consent_ttl_secs,
        preapproved_redirects: f.preapproved_redirects.clone(),
        registration_token_sha256,
        unused_registration_ttl: f.unused_registration_ttl_secs,
    };
    Ok(Some(Arc::new(Facade::new(
        settings, sealer, idp, factory, log, cimd,
    ))))
}
