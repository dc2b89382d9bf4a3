//! What the audit trail needs from one dispatched message, filled in by the dispatcher as
//! it goes and handed back beside its `Outcome`/`Failure`, so the edge writes one record
//! per request instead of the dispatcher logging from many places.

use std::time::Duration;

use crate::policy::Decision;

/// The facts of one message. Empty fields were not reached.
#[derive(Debug, Default, Clone)]
pub struct CallFacts {
    /// The JSON-RPC method (requests and notifications).
    pub method: Option<String>,
    /// The protocol revision the request spoke (for `initialize`, the one negotiated).
    pub protocol_version: Option<&'static str>,
    /// `tools/call`: the tool named.
    pub tool: Option<String>,
    /// `tools/call`: the policy decision with its rule (an unknown tool is a denial by
    /// `Rule::UnknownTool`).
    pub decision: Option<Decision>,
    /// The catalog's `kind` of the target invoked.
    pub target_kind: Option<String>,
    /// Who the target is (the identity statement's audience).
    pub target: Option<String>,
    /// Why the target failed (its error's variant name); `None` after a good answer.
    pub target_error: Option<String>,
    /// Time spent waiting for the target (set only when it was invoked).
    pub target_latency: Option<Duration>,
    /// Hex SHA-256 of the `arguments` JSON text.
    pub arguments_sha256: Option<String>,
    /// The `arguments` JSON text, for tools configured to record values.
    pub arguments: Option<String>,
}
