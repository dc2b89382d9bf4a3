//! Wiring of the authorization-server façade: builds its adapters (IdP over HTTP, Cognito,
//! the registrations record, CIMD fetches) once at start-up from `GATEWAY_FACADE_*`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::adapters::cimd_http::CimdHttp;
use crate::adapters::cognito_clients::{CognitoClients, cognito_client};
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
use crate::state::{StartupError, dynamodb_client};

/// In Cognito registration mode, the list of app clients the gateway registered, for the
/// verifier (its issuer, and the list: empty until started). Re-read as often as the
/// deny-list (`GATEWAY_REVOCATION_REFRESH_MS`), at most once a second.
pub async fn registered_clients(config: &Config) -> Option<(String, Arc<RegisteredClients>)> {
    let f = config.facade.as_ref()?;
    let FacadeRegistration::Cognito { .. } = &f.registration else {
        return None;
    };
    let table = config.policy_table.as_ref()?;
    let source = Arc::new(Registrations::new(DynamoConfig::new(
        dynamodb_client().await,
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

    async fn count(&self) -> Result<usize, OAuthError> {
        self.log.count().await
    }
}

/// The façade, or `None` when it is not configured. `allowed` is the verifier's list of
/// registered clients (see `registered_clients`).
pub async fn build(
    config: &Config,
    allowed: Option<Arc<RegisteredClients>>,
) -> Result<Option<Arc<Facade>>, StartupError> {
    let Some(f) = &config.facade else {
        return Ok(None);
    };
    let idp = Arc::new(IdpHttp::new(f.idp_issuer.clone(), f.metadata_url.clone())?);
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
                cognito_client().await,
                user_pool_id.clone(),
            ));
            // Registrations are recorded beside the policies; configuration requires the table.
            let log: Option<Arc<dyn RegistrationLog>> = match &config.policy_table {
                Some(t) => Some(Arc::new(RecordAndAllow {
                    log: Registrations::new(DynamoConfig::new(dynamodb_client().await, t.clone())),
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
        Some(Arc::new(CimdHttp::new(pem.as_deref())?))
    } else {
        None
    };
    let sealer = match &f.state_key {
        Some(k) => Sealer::new(k),
        None => {
            tracing::warn!(
                "GATEWAY_FACADE_STATE_KEY is unset: client ids and logins in progress last only as long as this process"
            );
            Sealer::random()
        }
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
    };
    Ok(Some(Arc::new(Facade::new(
        settings, sealer, idp, factory, log, cimd,
    ))))
}
