//! Wiring of the authorization-server façade: builds its adapters (IdP over HTTP, Cognito,
//! the registrations record, CIMD fetches) once at start-up from `GATEWAY_FACADE_*`.

use std::sync::Arc;

use crate::adapters::cimd_http::CimdHttp;
use crate::adapters::cognito_clients::{CognitoClients, cognito_client};
use crate::adapters::dynamodb_config::DynamoConfig;
use crate::adapters::oauth_idp::IdpHttp;
use crate::adapters::registrations::Registrations;
use crate::config::Config;
use crate::config::facade::FacadeRegistration;
use crate::oauth::seal::Sealer;
use crate::oauth::{
    CimdFetcher, ClientFactory, Facade, FacadeSettings, RegistrationLog, RegistrationMode,
};
use crate::state::{StartupError, dynamodb_client};

/// The façade, or `None` when it is not configured.
pub async fn build(config: &Config) -> Result<Option<Arc<Facade>>, StartupError> {
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
                Some(t) => Some(Arc::new(Registrations::new(DynamoConfig::new(
                    dynamodb_client().await,
                    t.clone(),
                )))),
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
