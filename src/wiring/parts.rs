//! The parts of the wiring that each turn one section of `Config` into a built thing: the
//! revocation checks, the audit trail, the identity signer, and the start-up warnings.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::{Clients, StartupError};
use crate::adapters::audit_kms::KmsHeadSigner;
use crate::adapters::audit_stdout::StdoutSink;
use crate::adapters::cognito_getuser::CognitoGetUser;
use crate::adapters::identity_key::LocalKeySigner;
use crate::adapters::identity_kms::KmsSigner;
use crate::adapters::identity_secret::SecretKeySigner;
use crate::adapters::introspection_http::Introspection;
use crate::audit::{AuditSink, AuditTrail, HeadSigner, MetricsSettings, MetricsSink};
use crate::auth::revocation::{
    DenyListPolicy, DenyListSource, DenyListStore, OnlineCheck, OnlineCheckKind, Revocation,
    TokenStatusSource,
};
use crate::config::Config;
use crate::config::identity_key::IdentityKeySource;
use crate::identity::IdentitySigner;
use crate::policy::SnapshotStore;

/// The revocation checks configured: the deny-list (when it has a source) and each issuer's
/// online check, with their clients built here, once.
pub(super) fn revocation(
    config: &Config,
    clients: &Clients,
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
                Arc::new(CognitoGetUser::new(clients.aws.cognito_in(region)))
            }
            OnlineCheckKind::Introspection {
                url,
                client_id,
                client_secret,
            } => Arc::new(Introspection::new(
                &clients.http,
                url.clone(),
                client_id,
                client_secret,
            )?),
        };
        tracing::info!(issuer = %issuer.issuer, check = source.name(), cache_secs = check.settings.cache_for.as_secs(), fail_open = check.settings.fail_open, "online revocation check on");
        online.insert(
            issuer.issuer.clone(),
            OnlineCheck::new(source, check.settings),
        );
    }
    Ok(Revocation::new(deny, online))
}

/// The audit trail: stdout and metrics as configured, plus `sinks`; one chain per process
/// (a Lambda execution environment or a standalone server).
pub(super) fn audit_trail(
    config: &Config,
    clients: &Clients,
    mut sinks: Vec<Arc<dyn AuditSink>>,
) -> AuditTrail {
    if config.audit.stdout {
        sinks.insert(0, Arc::new(StdoutSink));
    }
    let metrics = config.audit.metrics.then(|| {
        let settings = MetricsSettings::new(&config.audit.metrics_namespace, "mcp-oauth-gateway");
        (settings, Arc::new(StdoutSink) as Arc<dyn MetricsSink>)
    });
    let signer = match &config.audit.kms_key_id {
        Some(key) => {
            Some(Arc::new(KmsHeadSigner::new(clients.aws.kms(), key.clone())) as Arc<dyn HeadSigner>)
        }
        None => {
            tracing::warn!(
                "no GATEWAY_AUDIT_KMS_KEY_ID: audit chain heads are not signed, so a rewritten chain with recomputed digests cannot be told from the real one"
            );
            None
        }
    };
    AuditTrail::new(uuid::Uuid::new_v4().to_string(), sinks, metrics).with_signer(signer)
}

/// The identity-statement signer from the configured key source.
pub(super) async fn identity_signer(
    config: &Config,
    clients: &Clients,
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
            Arc::new(KmsSigner::load(clients.aws.kms(), id.clone(), issuer).await?)
        }
        IdentityKeySource::Ephemeral => {
            tracing::warn!(
                "no identity key configured (GATEWAY_IDENTITY_KEY_FILE, GATEWAY_IDENTITY_KEY_SECRET or GATEWAY_IDENTITY_KMS_KEY_ID): identity statements use a key that lives only as long as this process"
            );
            Arc::new(LocalKeySigner::ephemeral(issuer))
        }
    })
}

/// Issuers whose groups can be read as one another's.
pub(super) fn warn_about_issuers(config: &Config) {
    for (a, b) in crate::config::issuers::shared_group_namespaces(&config.issuers) {
        tracing::warn!(issuer = %a, other = %b, "these issuers share one group namespace: a policy for a group matches that group in tokens of either; give them distinct group prefixes (GATEWAY_*_GROUP_PREFIX, groupPrefix) unless both are yours to trust alike");
    }
    for (short, long) in crate::config::issuers::overlapping_group_prefixes(&config.issuers) {
        tracing::warn!(issuer = %short.issuer, prefix = %short.group_prefix, other = %long.issuer, other_prefix = %long.group_prefix, "one issuer's group prefix begins the other's: a group the first mints can read as one of the other's (prefix + group = other prefix + group); use prefixes neither of which begins the other, e.g. ending both in ':'");
    }
}

/// Targets that receive identity statements in clear text.
pub(super) async fn warn_about_insecure_targets(snapshots: &SnapshotStore) {
    if let Ok(snapshot) = snapshots.current().await {
        for t in snapshot
            .catalog
            .iter()
            .filter(|t| t.def.target.insecure_http())
        {
            tracing::warn!(tool = %t.def.name, target = %t.def.target.audience(&t.def.name), "insecureHttp: identity statements go to this target in clear text; anyone on the path can read and replay them until they expire");
        }
    }
}
