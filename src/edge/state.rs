//! What every request handler sees: the state built once at start-up by `crate::wiring`
//! and owned by the edge.

use std::sync::Arc;

use crate::audit::AuditTrail;
use crate::auth::Verifier;
use crate::identity::IdentitySigner;
use crate::mcp::McpService;

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
