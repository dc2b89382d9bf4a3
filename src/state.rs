//! Application state: everything expensive, built once at start-up and shared by every
//! request (catalog, HTTP clients, token verifier with its loaded keys, MCP service).

use std::sync::Arc;

use crate::adapters::jwks_http::HttpJwksFetcher;
use crate::adapters::{catalog_file, http_target::HttpInvoker};
use crate::auth::keystore::RefreshPolicy;
use crate::auth::{JwksFetcher, Verifier};
use crate::catalog::StaticCatalog;
use crate::config::{Config, ConfigError};
use crate::mcp::{McpService, ServerInfo};

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
    pub auth: AuthState,
    pub edge: EdgeSettings,
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
}

impl AppState {
    /// Builds the state from configuration; `env` fills `${VAR}` in the catalog. Every
    /// issuer's keys are loaded (in parallel) before this returns.
    pub async fn build(
        config: &Config,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<Arc<Self>, StartupError> {
        let fetcher: Arc<dyn JwksFetcher> = Arc::new(HttpJwksFetcher::new()?);
        Self::build_with(config, env, fetcher).await
    }

    /// As `build`, with the fetcher of key documents given (tests count or break fetches).
    pub async fn build_with(
        config: &Config,
        env: &impl Fn(&str) -> Option<String>,
        fetcher: Arc<dyn JwksFetcher>,
    ) -> Result<Arc<Self>, StartupError> {
        let catalog = catalog_file::load(config.catalog_file.as_deref(), env)?;
        tracing::info!(tools = catalog.len(), "tool catalog loaded");
        let invoker = HttpInvoker::new(config.target_timeout, config.max_target_response_bytes)?;
        let verifier = Verifier::new(
            config.issuers.clone(),
            fetcher,
            RefreshPolicy {
                max_age: config.jwks_max_age,
                ..RefreshPolicy::default()
            },
            config.token_cache_size,
        );
        verifier.load_all().await;
        let info = ServerInfo {
            name: "mcp-oauth-gateway".into(),
            title: "MCP OAuth Gateway".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            instructions: config.instructions.clone(),
            tools_ttl_ms: config.tools_ttl_ms,
        };
        let mcp = McpService::new(
            Arc::new(StaticCatalog(Arc::new(catalog))),
            Arc::new(invoker),
            info,
        );
        Ok(Arc::new(Self {
            mcp,
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
        }))
    }
}
