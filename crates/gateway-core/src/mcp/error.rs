//! The one error type of the MCP core. The HTTP edge (`edge::errors`) turns each variant
//! into a status code and a JSON-RPC error; nothing else does.

use super::protocol::Era;

/// Why an MCP message could not be answered with a result.
///
/// Messages are what the client sees: they never carry internal detail. `Internal` keeps its
/// detail for the log only.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("Parse error: the body is not valid JSON")]
    Parse,
    #[error("Invalid request: {0}")]
    InvalidRequest(&'static str),
    #[error("Invalid request: JSON-RPC batches are not supported")]
    BatchUnsupported,
    #[error("Method not found: {method}")]
    MethodNotFound { method: String, era: Era },
    #[error("Invalid params: {0}")]
    InvalidParams(String),
    /// Also what a tool the caller may not use looks like, so existence is not revealed.
    #[error("Unknown tool: {0}")]
    UnknownTool(String),
    #[error("Header mismatch: {0}")]
    HeaderMismatch(String),
    #[error("Unsupported protocol version: {requested}")]
    UnsupportedProtocolVersion { requested: String },
    /// The tool needs scopes the token lacks: every scope the call needs, for step-up.
    #[error("Forbidden: this tool needs scope {}", scopes.join(" "))]
    InsufficientScope { scopes: Vec<String> },
    /// No usable policy snapshot (never loaded, or stale past the limit): refuse, never allow.
    #[error("Service unavailable: tool policies cannot be read right now; try again later")]
    PolicyUnavailable,
}
