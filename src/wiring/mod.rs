//! The one place the gateway is assembled: configuration in, `AppState` out. Every
//! expensive thing is built here once — one AWS configuration from which every AWS client
//! is derived, one TLS configuration from which every HTTP client is made, the stores with
//! their first loads — and handed to the layers that use it. `build(config, ports)` is the
//! entry; tests give it fakes for the ports, `start` gives it the real ones.

mod facade;
mod parts;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use crate::adapters::audit_dynamodb::DynamoAuditStore;
use crate::adapters::aws_clients::AwsClients;
use crate::adapters::catalog_file::{self, FileSource};
use crate::adapters::dynamodb_config::DynamoConfig;
use crate::adapters::dynamodb_revocation::DynamoDenyList;
use crate::adapters::http_clients::{HttpClients, TlsSetupError};
use crate::adapters::http_target::{HttpInvoker, target_client};
use crate::adapters::jwks_http::HttpJwksFetcher;
use crate::adapters::lambda_target::LambdaInvoker;
use crate::adapters::mcp_upstream::McpUpstream;
use crate::adapters::outbound_auth::OutboundAuthenticator;
use crate::adapters::targets::TargetRouter;
use crate::audit::AuditSink;
use crate::auth::keystore::RefreshPolicy;
use crate::auth::revocation::DenyListSource;
use crate::auth::{JwksFetcher, Verifier};
use crate::config::{Config, ConfigError};
use crate::edge::state::{AppState, AuthState, EdgeSettings, MAX_BODY_BYTES};
use crate::federation::FederatedSource;
use crate::mcp::{McpService, ServerInfo};
use crate::policy::snapshot::SnapshotPolicy;
use crate::policy::{ConfigSource, SnapshotStore};

/// Why the gateway cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Catalog(#[from] catalog_file::CatalogFileError),
    #[error("HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
    #[error("{0}")]
    Tls(#[from] TlsSetupError),
    #[error("{0}")]
    IdentityKey(#[from] crate::adapters::identity_key::KeyFileError),
    #[error("{0}")]
    IdentitySecret(#[from] crate::adapters::identity_secret::SecretKeyError),
    #[error("{0}")]
    IdentityKms(#[from] crate::adapters::identity_kms::KmsKeyError),
}

/// The client factories: the one AWS configuration and the one TLS configuration.
#[derive(Clone)]
pub struct Clients {
    pub aws: AwsClients,
    pub http: HttpClients,
}

impl Clients {
    /// Loads both from the environment (no network until a client makes a call).
    pub async fn load() -> Result<Self, StartupError> {
        Ok(Self {
            aws: AwsClients::load().await,
            http: HttpClients::new()?,
        })
    }
}

/// What the gateway reads and writes through, besides what `Config` builds from `clients`:
/// the key-document fetcher, the configuration source, audit sinks beyond stdout, the
/// deny-list's source. Tests put fakes here.
pub struct Ports {
    pub clients: Clients,
    pub fetcher: Arc<dyn JwksFetcher>,
    pub source: Arc<dyn ConfigSource>,
    pub audit_sinks: Vec<Arc<dyn AuditSink>>,
    pub deny_source: Option<Arc<dyn DenyListSource>>,
}

impl Ports {
    /// The real ports: keys over HTTP, policies from DynamoDB (or the catalog file, whose
    /// `${VAR}` are filled by `env`), the DynamoDB audit table and deny-list when configured.
    pub async fn from_config(
        config: &Config,
        env: &impl Fn(&str) -> Option<String>,
        clients: Clients,
    ) -> Result<Self, StartupError> {
        let fetcher: Arc<dyn JwksFetcher> = Arc::new(HttpJwksFetcher::new(&clients.http)?);
        // One DynamoDB client for the policy table, the deny-list and the audit table.
        let dynamodb = clients.aws.dynamodb();
        let source: Arc<dyn ConfigSource> = match &config.policy_table {
            Some(table) => Arc::new(DynamoConfig::new(dynamodb.clone(), table.clone())),
            None => {
                let path = config.catalog_file.as_deref();
                Arc::new(FileSource::new(
                    path,
                    catalog_file::load(path, env, &config.outbound)?,
                ))
            }
        };
        let mut audit_sinks: Vec<Arc<dyn AuditSink>> = Vec::new();
        if let Some(table) = &config.audit.table {
            audit_sinks.push(Arc::new(DynamoAuditStore::new(
                dynamodb.clone(),
                table.clone(),
                config.audit.ttl_days,
            )));
        }
        // The deny-list lives in the policy table (see adapters::dynamodb_revocation).
        let deny_source: Option<Arc<dyn DenyListSource>> =
            match (&config.policy_table, &config.deny_list) {
                (Some(table), Some(_)) => Some(Arc::new(DynamoDenyList::new(DynamoConfig::new(
                    dynamodb,
                    table.clone(),
                )))),
                _ => None,
            };
        Ok(Self {
            clients,
            fetcher,
            source,
            audit_sinks,
            deny_source,
        })
    }
}

/// The gateway from configuration and the real ports; `env` fills `${VAR}` in the catalog
/// file.
pub async fn start(
    config: &Config,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Arc<AppState>, StartupError> {
    let clients = Clients::load().await?;
    build(config, Ports::from_config(config, env, clients).await?).await
}

/// The gateway from configuration and `ports`. Every issuer's keys, the policy snapshot, the
/// deny-list and the identity key are loaded (in parallel) before this returns.
pub async fn build(config: &Config, ports: Ports) -> Result<Arc<AppState>, StartupError> {
    let Ports {
        clients,
        fetcher,
        source,
        audit_sinks,
        deny_source,
    } = ports;
    // Background refreshes only outside Lambda, whose process is frozen between
    // invocations: requests drive the refresh there.
    let background = !crate::runtime::under_lambda();
    let source_name = source.name();
    let targets = target_client(&clients.http)?;
    // One Secrets Manager client: outbound credentials, the identity key, the façade.
    let secrets = clients.aws.secrets();
    let outbound = Arc::new(OutboundAuthenticator::new(
        targets.clone(),
        secrets.clone(),
        config.outbound.clone(),
    ));
    let upstreams = Arc::new(McpUpstream::new(
        targets.clone(),
        Arc::clone(&outbound),
        config.target_timeout,
        config.max_target_response_bytes,
    ));
    // Every source's documents lose the items naming a forbidden secret source, then gain
    // the tools of the upstream MCP servers they name.
    let source = Arc::new(FederatedSource::new(
        source,
        Arc::clone(&upstreams) as _,
        config.outbound.clone(),
    ));
    let snapshots = Arc::new(SnapshotStore::new(
        source,
        SnapshotPolicy {
            refresh_every: config.policy_refresh,
            max_staleness: config.policy_max_staleness,
            refresh_timeout: Duration::from_secs(3),
        },
    ));
    // The Lambda client is always built (cheap: no network until a call): a refreshed
    // snapshot may add Lambda targets to a catalog that had none at start-up.
    let invoker = TargetRouter::new(
        Arc::new(HttpInvoker::new(
            targets,
            outbound,
            config.target_timeout,
            config.max_target_response_bytes,
        )),
        Arc::new(LambdaInvoker::new(
            clients.aws.lambda(),
            config.target_timeout,
            config.max_target_response_bytes,
        )),
        upstreams,
    );
    parts::warn_about_issuers(config);
    // Cognito registration mode: the pool also accepts the app clients registered here.
    let registered = facade::registered_clients(config, &clients);
    let mut verifier = Verifier::new(
        config.issuers.clone(),
        fetcher,
        RefreshPolicy {
            max_age: config.jwks_max_age,
            ..RefreshPolicy::default()
        },
        config.token_cache_size,
    )
    .with_revocation(Arc::new(parts::revocation(config, &clients, deny_source)?));
    if let Some((issuer, list)) = &registered {
        verifier = verifier.with_registered_clients(issuer, Arc::clone(list));
    }
    // Keys, policies and the deny-list load in parallel; a failed load is logged and
    // refused per request (fail closed) until a refresh succeeds. The identity key loads
    // alongside; a key that cannot be used stops start-up.
    let start_revocation = async {
        if let Some(r) = verifier.revocation() {
            r.start(background).await;
        }
        if let Some((_, list)) = &registered {
            list.start().await;
            if background {
                list.spawn_refresher();
            }
        }
    };
    let (_, policies, identity, _) = tokio::join!(
        verifier.load_all(),
        snapshots.refresh(),
        parts::identity_signer(config, &clients, secrets.clone(), background),
        start_revocation
    );
    let identity = identity?;
    match policies {
        Ok(_) => tracing::info!(source = %source_name, "tool policies loaded"),
        Err(e) => {
            tracing::error!(source = %source_name, error = %e, "tool policies could not be loaded at start-up: every call is refused until they are")
        }
    }
    parts::warn_about_insecure_targets(&snapshots).await;
    if background {
        snapshots.spawn_refresher();
    }
    let info = ServerInfo {
        name: "mcp-oauth-gateway".into(),
        title: "MCP OAuth Gateway".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        instructions: config.instructions.clone(),
        tools_ttl_ms: config.tools_ttl_ms,
    };
    let facade = facade::build(config, &clients, secrets, registered.map(|(_, l)| l)).await?;
    let mcp = McpService::new(snapshots, Arc::clone(&identity), Arc::new(invoker), info)
        .with_recorded_arguments(config.audit.argument_tools.iter().cloned());
    Ok(Arc::new(AppState {
        mcp,
        identity,
        auth: AuthState {
            verifier,
            resource_url: config.resource_url.clone(),
            resource_metadata_url: config.resource_metadata_url.clone(),
            authorization_servers: config.authorization_servers.clone(),
            scopes_supported: config.scopes_supported.clone(),
        },
        edge: EdgeSettings {
            allowed_origins: config.allowed_origins.clone(),
            max_body_bytes: MAX_BODY_BYTES,
        },
        audit: Arc::new(parts::audit_trail(config, &clients, audit_sinks)),
        facade,
    }))
}
