//! Application state: everything expensive, built once at start-up and shared by every
//! request (catalog, HTTP clients, token verifier with its loaded keys, MCP service).

use std::collections::HashMap;
use std::sync::Arc;

use std::time::Duration;

use crate::adapters::audit_dynamodb::DynamoAuditStore;
use crate::adapters::audit_kms::KmsHeadSigner;
use crate::adapters::audit_stdout::StdoutSink;
use crate::adapters::catalog_file::{self, FileSource};
use crate::adapters::cognito_getuser::{CognitoGetUser, cognito_client};
use crate::adapters::dynamodb_config::DynamoConfig;
use crate::adapters::dynamodb_revocation::DynamoDenyList;
use crate::adapters::http_target::{HttpInvoker, target_client};
use crate::adapters::identity_key::LocalKeySigner;
use crate::adapters::identity_kms::{KmsSigner, kms_client};
use crate::adapters::identity_secret::SecretKeySigner;
use crate::adapters::introspection_http::Introspection;
use crate::adapters::jwks_http::HttpJwksFetcher;
use crate::adapters::lambda_target::{LambdaInvoker, lambda_client};
use crate::adapters::mcp_upstream::McpUpstream;
use crate::adapters::outbound_auth::{OutboundAuthenticator, secrets_client};
use crate::adapters::targets::TargetRouter;
use crate::audit::{AuditSink, AuditTrail, MetricsSettings, MetricsSink};
use crate::auth::keystore::RefreshPolicy;
use crate::auth::revocation::{
    DenyListPolicy, DenyListSource, DenyListStore, OnlineCheck, OnlineCheckKind, Revocation,
    TokenStatusSource,
};
use crate::auth::{JwksFetcher, Verifier};
use crate::config::identity_key::IdentityKeySource;
use crate::config::{Config, ConfigError};
use crate::federation::FederatedSource;
use crate::identity::IdentitySigner;
use crate::mcp::{McpService, ServerInfo};
use crate::policy::snapshot::SnapshotPolicy;
use crate::policy::{ConfigSource, SnapshotStore};

/// HTTP-level settings of the edge.
#[derive(Debug, Clone)]
pub struct EdgeSettings {
    /// Lower-cased origins allowed to call `/mcp` from a browser.
    pub allowed_origins: Vec<String>,
    /// Request bodies above this are refused with 413.
    pub max_body_bytes: usize,
}

/// The OAuth resource-server side: who is trusted and what the metadata says.
pub struct AuthState {
    pub verifier: Verifier,
    pub resource_url: Option<String>,
    pub resource_metadata_url: Option<String>,
    pub authorization_servers: Vec<String>,
    pub scopes_supported: Vec<String>,
}

/// Largest accepted `/mcp` request body.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The state every request handler sees.
pub struct AppState {
    pub mcp: McpService,
    /// Signs who-called statements; its public keys are served at /.well-known/jwks.json.
    pub identity: Arc<dyn IdentitySigner>,
    pub auth: AuthState,
    pub edge: EdgeSettings,
    /// One chained record per `/mcp` request, and the metrics lines.
    pub audit: Arc<AuditTrail>,
    /// The authorization-server façade, when configured.
    pub facade: Option<Arc<crate::oauth::Facade>>,
}

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
    IdentityKey(#[from] crate::adapters::identity_key::KeyFileError),
    #[error("{0}")]
    IdentitySecret(#[from] crate::adapters::identity_secret::SecretKeyError),
    #[error("{0}")]
    IdentityKms(#[from] crate::adapters::identity_kms::KmsKeyError),
}

/// The revocation checks configured: the deny-list (when it has a source) and each issuer's
/// online check, with their clients built here, once.
async fn revocation(
    config: &Config,
    deny_source: Option<Arc<dyn DenyListSource>>,
) -> Result<Revocation, StartupError> {
    let deny = match (deny_source, &config.deny_list) {
        (Some(source), Some(c)) => Some(Arc::new(DenyListStore::new(
            source,
            DenyListPolicy {
                refresh_every: c.refresh,
                max_staleness: c.max_staleness,
                read_timeout: Duration::from_secs(2),
            },
        ))),
        _ => None,
    };
    let mut online = HashMap::new();
    for issuer in &config.issuers {
        let Some(check) = &issuer.online_check else {
            continue;
        };
        let source: Arc<dyn TokenStatusSource> = match &check.kind {
            OnlineCheckKind::CognitoGetUser { region } => {
                Arc::new(CognitoGetUser::new(cognito_client(region).await))
            }
            OnlineCheckKind::Introspection {
                url,
                client_id,
                client_secret,
            } => Arc::new(Introspection::new(url.clone(), client_id, client_secret)?),
        };
        tracing::info!(issuer = %issuer.issuer, check = source.name(), cache_secs = check.settings.cache_for.as_secs(), fail_open = check.settings.fail_open, "online revocation check on");
        online.insert(
            issuer.issuer.clone(),
            OnlineCheck::new(source, check.settings),
        );
    }
    Ok(Revocation::new(deny, online))
}

/// The DynamoDB client: built once, with bounded retries and timeouts so a throttled or
/// unreachable table costs a bounded wait before the last good snapshot is used.
pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    use aws_config::BehaviorVersion;
    use aws_config::retry::RetryConfig;
    use aws_config::timeout::TimeoutConfig;
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&sdk)
}

impl AppState {
    /// Builds the state from configuration; `env` fills `${VAR}` in the catalog file. Every
    /// issuer's keys and the policy snapshot are loaded (in parallel) before this returns.
    pub async fn build(
        config: &Config,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<Arc<Self>, StartupError> {
        let fetcher: Arc<dyn JwksFetcher> = Arc::new(HttpJwksFetcher::new()?);
        // One DynamoDB client for the policy table and the audit table.
        let dynamodb = if config.policy_table.is_some() || config.audit.table.is_some() {
            Some(dynamodb_client().await)
        } else {
            None
        };
        let source: Arc<dyn ConfigSource> = match (&config.policy_table, &dynamodb) {
            (Some(table), Some(client)) => {
                Arc::new(DynamoConfig::new(client.clone(), table.clone()))
            }
            _ => {
                let path = config.catalog_file.as_deref();
                Arc::new(FileSource::new(
                    path,
                    catalog_file::load(path, env, &config.outbound)?,
                ))
            }
        };
        let mut sinks: Vec<Arc<dyn AuditSink>> = Vec::new();
        if let (Some(table), Some(client)) = (&config.audit.table, &dynamodb) {
            sinks.push(Arc::new(DynamoAuditStore::new(
                client.clone(),
                table.clone(),
                config.audit.ttl_days,
            )));
        }
        // The deny-list lives in the policy table (see adapters::dynamodb_revocation).
        let deny_source: Option<Arc<dyn DenyListSource>> =
            match (&config.policy_table, &dynamodb, &config.deny_list) {
                (Some(table), Some(client), Some(_)) => Some(Arc::new(DynamoDenyList::new(
                    DynamoConfig::new(client.clone(), table.clone()),
                ))),
                _ => None,
            };
        Self::build_full(config, fetcher, source, sinks, deny_source).await
    }

    /// The audit trail: stdout and metrics as configured, plus `sinks`.
    async fn audit_trail(config: &Config, mut sinks: Vec<Arc<dyn AuditSink>>) -> AuditTrail {
        if config.audit.stdout {
            sinks.insert(0, Arc::new(StdoutSink));
        }
        let metrics = config.audit.metrics.then(|| {
            let settings =
                MetricsSettings::new(&config.audit.metrics_namespace, "mcp-oauth-gateway");
            (settings, Arc::new(StdoutSink) as Arc<dyn MetricsSink>)
        });
        // One chain per process: a Lambda execution environment or a standalone server.
        let signer = match &config.audit.kms_key_id {
            Some(key) => Some(
                Arc::new(KmsHeadSigner::new(kms_client().await, key.clone()))
                    as Arc<dyn crate::audit::HeadSigner>,
            ),
            None => {
                tracing::warn!(
                    "no GATEWAY_AUDIT_KMS_KEY_ID: audit chain heads are not signed, so a rewritten chain with recomputed digests cannot be told from the real one"
                );
                None
            }
        };
        AuditTrail::new(uuid::Uuid::new_v4().to_string(), sinks, metrics).with_signer(signer)
    }

    /// As `build`, with the key-document fetcher and the configuration source given (no
    /// deny-list).
    pub async fn build_with(
        config: &Config,
        fetcher: Arc<dyn JwksFetcher>,
        source: Arc<dyn ConfigSource>,
    ) -> Result<Arc<Self>, StartupError> {
        Self::build_full(config, fetcher, source, Vec::new(), None).await
    }

    /// As `build_with`, with audit sinks beyond the configured stdout one and the
    /// deny-list's source.
    pub async fn build_full(
        config: &Config,
        fetcher: Arc<dyn JwksFetcher>,
        source: Arc<dyn ConfigSource>,
        audit_sinks: Vec<Arc<dyn AuditSink>>,
        deny_source: Option<Arc<dyn DenyListSource>>,
    ) -> Result<Arc<Self>, StartupError> {
        let source_name = source.name();
        let targets = target_client()?;
        // One Secrets Manager client: outbound credentials and the identity key's secret.
        let secrets = secrets_client().await;
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
        // Every source's documents lose the items naming a forbidden secret source, then
        // gain the tools of the upstream MCP servers they name.
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
        // The Lambda and Secrets Manager clients are always built (cheap: no network until a call): a refreshed
        // snapshot may add Lambda targets to a catalog that had none at start-up.
        let invoker = TargetRouter::new(
            Arc::new(HttpInvoker::new(
                targets,
                outbound,
                config.target_timeout,
                config.max_target_response_bytes,
            )),
            Arc::new(LambdaInvoker::new(
                lambda_client().await,
                config.target_timeout,
                config.max_target_response_bytes,
            )),
            upstreams,
        );
        for (a, b) in crate::config::issuers::shared_group_namespaces(&config.issuers) {
            tracing::warn!(issuer = %a, other = %b, "these issuers share one group namespace: a policy for a group matches that group in tokens of either; give them distinct group prefixes (GATEWAY_*_GROUP_PREFIX, groupPrefix) unless both are yours to trust alike");
        }
        for (short, long) in crate::config::issuers::overlapping_group_prefixes(&config.issuers) {
            tracing::warn!(issuer = %short.issuer, prefix = %short.group_prefix, other = %long.issuer, other_prefix = %long.group_prefix, "one issuer's group prefix begins the other's: a group the first mints can read as one of the other's (prefix + group = other prefix + group); use prefixes neither of which begins the other, e.g. ending both in ':'");
        }
        // Cognito registration mode: the pool also accepts the app clients registered here.
        let registered = crate::facade::registered_clients(config).await;
        let mut verifier = Verifier::new(
            config.issuers.clone(),
            fetcher,
            RefreshPolicy {
                max_age: config.jwks_max_age,
                ..RefreshPolicy::default()
            },
            config.token_cache_size,
        )
        .with_revocation(Arc::new(revocation(config, deny_source).await?));
        if let Some((issuer, list)) = &registered {
            verifier = verifier.with_registered_clients(issuer, Arc::clone(list));
        }
        // Keys, policies and the deny-list load in parallel; a failed load is logged and
        // refused per request (fail closed) until a refresh succeeds.
        // The identity key loads alongside; a key that cannot be used stops start-up.
        // Background refreshes only outside Lambda, whose process is frozen between
        // invocations: requests drive the refresh there.
        let background = !crate::runtime::under_lambda();
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
            identity_signer(config, secrets, background),
            start_revocation
        );
        let identity = identity?;
        match policies {
            Ok(_) => tracing::info!(source = %source_name, "tool policies loaded"),
            Err(e) => {
                tracing::error!(source = %source_name, error = %e, "tool policies could not be loaded at start-up: every call is refused until they are")
            }
        }
        if let Ok(snapshot) = snapshots.current().await {
            for t in snapshot
                .catalog
                .iter()
                .filter(|t| t.def.target.insecure_http())
            {
                tracing::warn!(tool = %t.def.name, target = %t.def.target.audience(&t.def.name), "insecureHttp: identity statements go to this target in clear text; anyone on the path can read and replay them until they expire");
            }
        }
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
        let facade = crate::facade::build(config, registered.map(|(_, l)| l)).await?;
        let mcp = McpService::new(snapshots, Arc::clone(&identity), Arc::new(invoker), info)
            .with_recorded_arguments(config.audit.argument_tools.iter().cloned());
        Ok(Arc::new(Self {
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
            audit: Arc::new(Self::audit_trail(config, audit_sinks).await),
            facade,
        }))
    }
}

/// The identity-statement signer from the configured key source.
async fn identity_signer(
    config: &Config,
    secrets: aws_sdk_secretsmanager::Client,
    background: bool,
) -> Result<Arc<dyn IdentitySigner>, StartupError> {
    // The statement names the gateway by its canonical URL when it has one.
    let issuer = config
        .resource_url
        .clone()
        .unwrap_or_else(|| "mcp-oauth-gateway".into());
    let key = &config.identity_key;
    Ok(match &key.source {
        IdentityKeySource::File(path) => Arc::new(LocalKeySigner::from_file(path, issuer)?),
        IdentityKeySource::Secret(id) => Arc::new(
            SecretKeySigner::load(secrets, id.clone(), issuer, key.refresh, background).await?,
        ),
        IdentityKeySource::Kms(id) => {
            Arc::new(KmsSigner::load(kms_client().await, id.clone(), issuer).await?)
        }
        IdentityKeySource::Ephemeral => {
            tracing::warn!(
                "no identity key configured (GATEWAY_IDENTITY_KEY_FILE, GATEWAY_IDENTITY_KEY_SECRET or GATEWAY_IDENTITY_KMS_KEY_ID): identity statements use a key that lives only as long as this process"
            );
            Arc::new(LocalKeySigner::ephemeral(issuer))
        }
    })
}
