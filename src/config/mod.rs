//! Gateway settings, read once from the environment at start-up (SAM parameters map onto
//! these variables). A bad value stops start-up with an error naming the variable.

pub mod audit;
pub mod facade;
pub mod identity_key;
pub mod issuers;
pub mod outbound;
pub mod revocation;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::auth::IssuerConfig;

/// Everything the gateway is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    /// `GATEWAY_BIND`: the standalone server's address (ignored under Lambda).
    pub bind: SocketAddr,
    /// `GATEWAY_ALLOWED_ORIGINS`: comma-separated browser origins allowed to call `/mcp`.
    /// Empty (the default) refuses every request that carries an `Origin` header.
    pub allowed_origins: Vec<String>,
    /// `GATEWAY_CATALOG_FILE`: a catalog YAML file; the embedded demo catalog when unset.
    pub catalog_file: Option<PathBuf>,
    /// `GATEWAY_TOOLS_TTL_MS`: the `ttlMs` clients may cache list results for.
    pub tools_ttl_ms: u64,
    /// `GATEWAY_TARGET_TIMEOUT_MS`: default time a target gets to answer.
    pub target_timeout: Duration,
    /// `GATEWAY_MAX_TARGET_RESPONSE_BYTES`: larger target answers become tool errors.
    pub max_target_response_bytes: usize,
    /// `GATEWAY_INSTRUCTIONS`: optional guidance for the model, sent at initialize/discover.
    pub instructions: Option<String>,
    /// Trusted token issuers (`GATEWAY_COGNITO_*`, `GATEWAY_OIDC_*`, `GATEWAY_ISSUERS`).
    pub issuers: Vec<IssuerConfig>,
    /// `GATEWAY_RESOURCE_URL`: the canonical MCP URL; derived per request when unset.
    pub resource_url: Option<String>,
    /// `GATEWAY_RESOURCE_METADATA_URL`: where Protected Resource Metadata is served, when
    /// not at the RFC 9728 location derived from the resource URL.
    pub resource_metadata_url: Option<String>,
    /// `GATEWAY_AUTHORIZATION_SERVERS`: advertised in the metadata; the issuers when unset.
    pub authorization_servers: Vec<String>,
    /// `GATEWAY_SCOPES_SUPPORTED`: advertised in the metadata.
    pub scopes_supported: Vec<String>,
    /// `GATEWAY_JWKS_MAX_AGE_SECS`: key sets older than this are refreshed.
    pub jwks_max_age: Duration,
    /// `GATEWAY_TOKEN_CACHE_SIZE`: verified tokens remembered (0 turns the cache off).
    pub token_cache_size: usize,
    /// The key that signs identity statements for targets (`GATEWAY_IDENTITY_KEY_FILE`,
    /// `_SECRET`, `GATEWAY_IDENTITY_KMS_KEY_ID`); an ephemeral key when none is set.
    pub identity_key: identity_key::IdentityKey,
    /// `GATEWAY_POLICY_TABLE`: the DynamoDB table of policies and tools; the catalog file
    /// (or the embedded demo configuration) when unset.
    pub policy_table: Option<String>,
    /// `GATEWAY_POLICY_REFRESH_SECS`: how often policies are re-read.
    pub policy_refresh: Duration,
    /// `GATEWAY_POLICY_MAX_STALENESS_SECS`: past this age without a successful read, calls
    /// are refused.
    pub policy_max_staleness: Duration,
    /// Audit sinks and metrics (`config::audit`).
    pub audit: audit::AuditSettings,
    /// The authorization-server façade (`GATEWAY_FACADE_*`); off when `None`.
    pub facade: Option<facade::FacadeConfig>,
    /// The deny-list (`GATEWAY_REVOCATION_*`): on by default with a policy table.
    pub deny_list: Option<revocation::DenyListConfig>,
    /// Where catalog entries may read outbound secrets from (`GATEWAY_OUTBOUND_*_PREFIX`).
    pub outbound: crate::outbound::SecretSources,
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

/// Splits a comma- or space-separated list, dropping empty items.
pub(crate) fn list(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub use crate::urls::url_is_safe;

pub(crate) fn bad(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        reason: reason.into(),
    }
}

pub(crate) fn number<T>(
    env: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(raw) = env(name).filter(|v| !v.trim().is_empty()) else {
        return Ok(default);
    };
    let value: T = raw
        .trim()
        .parse()
        .map_err(|_| bad(name, format!("{raw:?} is not a whole number")))?;
    if !range.contains(&value) {
        return Err(bad(
            name,
            format!("{value} is outside {}..={}", range.start(), range.end()),
        ));
    }
    Ok(value)
}

fn origin_ok(o: &str) -> bool {
    let rest = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.contains('/') && !r.contains(char::is_whitespace))
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `env`, so tests need not touch the process environment.
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let bind = match env("GATEWAY_BIND").filter(|v| !v.trim().is_empty()) {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(v) => v.trim().parse().map_err(|_| {
                bad(
                    "GATEWAY_BIND",
                    format!("{v:?} is not an address like 127.0.0.1:8080"),
                )
            })?,
        };
        let mut allowed_origins = Vec::new();
        for o in env("GATEWAY_ALLOWED_ORIGINS")
            .unwrap_or_default()
            .split(',')
        {
            let o = o.trim().trim_end_matches('/');
            if o.is_empty() {
                continue;
            }
            if !origin_ok(o) {
                return Err(bad(
                    "GATEWAY_ALLOWED_ORIGINS",
                    format!("{o:?} is not an origin like https://app.example.com"),
                ));
            }
            allowed_origins.push(o.to_ascii_lowercase());
        }
        let catalog_file = env("GATEWAY_CATALOG_FILE")
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from);
        let tools_ttl_ms = number(&env, "GATEWAY_TOOLS_TTL_MS", 30_000u64, 0..=86_400_000)?;
        let timeout_ms = number(&env, "GATEWAY_TARGET_TIMEOUT_MS", 10_000u64, 1..=900_000)?;
        let max_target_response_bytes = number(
            &env,
            "GATEWAY_MAX_TARGET_RESPONSE_BYTES",
            1usize << 20,
            1..=(6usize << 20),
        )?;
        let instructions = env("GATEWAY_INSTRUCTIONS").filter(|v| !v.trim().is_empty());
        let url_setting = |name: &'static str| -> Result<Option<String>, ConfigError> {
            match env(name).filter(|v| !v.trim().is_empty()) {
                None => Ok(None),
                Some(u) if url_is_safe(u.trim()) => Ok(Some(u.trim().to_owned())),
                Some(u) => Err(bad(
                    name,
                    format!("{u:?} must be an https:// URL (http:// only on loopback)"),
                )),
            }
        };
        let resource_url = url_setting("GATEWAY_RESOURCE_URL")?;
        let resource_metadata_url = url_setting("GATEWAY_RESOURCE_METADATA_URL")?;
        let issuers = issuers::from_env(&env, resource_url.as_deref())?;
        let authorization_servers = match env("GATEWAY_AUTHORIZATION_SERVERS") {
            Some(v) if !v.trim().is_empty() => {
                let servers = list(&v);
                if let Some(u) = servers.iter().find(|u| !url_is_safe(u)) {
                    return Err(bad(
                        "GATEWAY_AUTHORIZATION_SERVERS",
                        format!("{u:?} is not an https:// URL"),
                    ));
                }
                servers
            }
            _ => issuers.iter().map(|i| i.issuer.clone()).collect(),
        };
        let scopes_supported = list(&env("GATEWAY_SCOPES_SUPPORTED").unwrap_or_default());
        let jwks_max_age = number(&env, "GATEWAY_JWKS_MAX_AGE_SECS", 3600u64, 60..=86_400)?;
        let token_cache_size =
            number(&env, "GATEWAY_TOKEN_CACHE_SIZE", 10_000usize, 0..=1_000_000)?;
        let policy_table = env("GATEWAY_POLICY_TABLE")
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        if let Some(t) = &policy_table {
            let ok = (3..=255).contains(&t.len())
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
            if !ok {
                return Err(bad(
                    "GATEWAY_POLICY_TABLE",
                    format!("{t:?} is not a DynamoDB table name"),
                ));
            }
        }
        let policy_refresh = number(&env, "GATEWAY_POLICY_REFRESH_SECS", 30u64, 1..=3600)?;
        let policy_max_staleness = number(
            &env,
            "GATEWAY_POLICY_MAX_STALENESS_SECS",
            300u64,
            1..=86_400,
        )?;
        if policy_max_staleness < policy_refresh {
            return Err(bad(
                "GATEWAY_POLICY_MAX_STALENESS_SECS",
                format!(
                    "{policy_max_staleness} is shorter than GATEWAY_POLICY_REFRESH_SECS ({policy_refresh})"
                ),
            ));
        }
        let facade = facade::from_env(&env, &issuers, resource_url.as_deref(), &scopes_supported)?;
        if facade
            .as_ref()
            .is_some_and(|f| matches!(f.registration, facade::FacadeRegistration::Cognito { .. }))
            && policy_table.is_none()
        {
            return Err(bad(
                "GATEWAY_FACADE_REGISTRATION",
                "cognito records registrations in GATEWAY_POLICY_TABLE, which is unset",
            ));
        }
        // With the façade on, clients are sent to it rather than to the IdP.
        let authorization_servers = match &facade {
            Some(f) => vec![f.base.clone()],
            None => authorization_servers,
        };
        let deny_list = revocation::deny_list(&env, policy_table.as_deref())?;
        Ok(Self {
            identity_key: identity_key::from_env(&env)?,
            bind,
            allowed_origins,
            catalog_file,
            tools_ttl_ms,
            target_timeout: Duration::from_millis(timeout_ms),
            max_target_response_bytes,
            instructions,
            issuers,
            resource_url,
            resource_metadata_url,
            authorization_servers,
            scopes_supported,
            jwks_max_age: Duration::from_secs(jwks_max_age),
            token_cache_size,
            policy_table,
            policy_refresh: Duration::from_secs(policy_refresh),
            policy_max_staleness: Duration::from_secs(policy_max_staleness),
            audit: audit::AuditSettings::from_lookup(&env)?,
            facade,
            deny_list,
            outbound: outbound::from_env(&env)?,
        })
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
