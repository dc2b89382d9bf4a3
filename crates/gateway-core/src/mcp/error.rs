//! The one error type of the MCP core. The HTTP edge (`edge::errors`) turns each variant
//! into a status code and a JSON-RPC error; nothing else does.

use super::version::Era;

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

impl McpError {
    /// The stable code of this error: an audit record's `reason` when no policy decision
    /// explains the answer. Stored data that `gatewayctl audit` queries, so a code never
    /// changes once shipped, whatever the variant is called; no detail ever goes in.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Parse => "Parse",
            Self::InvalidRequest(_) => "InvalidRequest",
            Self::BatchUnsupported => "BatchUnsupported",
            Self::MethodNotFound { .. } => "MethodNotFound",
            Self::InvalidParams(_) => "InvalidParams",
            Self::UnknownTool(_) => "UnknownTool",
            Self::HeaderMismatch(_) => "HeaderMismatch",
            Self::UnsupportedProtocolVersion { .. } => "UnsupportedProtocolVersion",
            Self::InsufficientScope { .. } => "InsufficientScope",
            Self::PolicyUnavailable => "PolicyUnavailable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// These strings are stored data (audit records in DynamoDB): never change one. They
    /// are what the `Debug` variant names gave before codes were explicit.
    #[test]
    fn mcp_error_codes_are_pinned() {
        let codes = [
            (McpError::Parse, "Parse"),
            (McpError::InvalidRequest("jsonrpc"), "InvalidRequest"),
            (McpError::BatchUnsupported, "BatchUnsupported"),
            (
                McpError::MethodNotFound {
                    method: "x".into(),
                    era: Era::Modern,
                },
                "MethodNotFound",
            ),
            (McpError::InvalidParams("Name".into()), "InvalidParams"),
            (McpError::UnknownTool("Echo".into()), "UnknownTool"),
            (
                McpError::HeaderMismatch("Mcp-Name".into()),
                "HeaderMismatch",
            ),
            (
                McpError::UnsupportedProtocolVersion {
                    requested: "1999-01-01".into(),
                },
                "UnsupportedProtocolVersion",
            ),
            (
                McpError::InsufficientScope {
                    scopes: vec!["tools:write".into()],
                },
                "InsufficientScope",
            ),
            (McpError::PolicyUnavailable, "PolicyUnavailable"),
        ];
        for (error, code) in codes {
            assert_eq!(error.code(), code, "{error:?}");
        }
    }
}
