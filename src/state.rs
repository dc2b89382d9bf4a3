//! Application state: everything expensive, built once at start-up and shared by every
//! request (catalog, HTTP client, MCP service, edge settings).

use std::sync::Arc;

use crate::adapters::{catalog_file, http_target::HttpInvoker};
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

/// Largest accepted `/mcp` request body.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The state every request handler sees.
pub struct AppState {
    pub mcp: McpService,
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
    /// Builds the state from configuration; `env` fills `${VAR}` in the catalog.
    pub fn build(
        config: &Config,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<Arc<Self>, StartupError> {
        let catalog = catalog_file::load(config.catalog_file.as_deref(), env)?;
        tracing::info!(tools = catalog.len(), "tool catalog loaded");
        let invoker = HttpInvoker::new(config.target_timeout, config.max_target_response_bytes)?;
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
            edge: EdgeSettings {
                allowed_origins: config.allowed_origins.clone(),
                max_body_bytes: MAX_BODY_BYTES,
            },
        }))
    }
}
