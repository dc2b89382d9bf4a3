//! The facts an audit record is made of, typed, as the parts of the gateway that learn them
//! note them down: the edge (who asked, when, how the request ended) and the MCP dispatcher
//! (what was asked, what was decided, what the target did). Failures are held as their
//! stable codes, never as error values, so no detail (a URL, an upstream's message) can
//! reach a record. `assemble` is the one function that turns facts into an `AuditRecord`.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::Principal;
use crate::policy::Decision;

use super::record::now_ms;

/// What the dispatcher learnt of one message. Empty fields were not reached. Noted in the
/// caller's value as dispatch goes, so a request dropped half-way keeps what was known.
#[derive(Debug, Default, Clone)]
pub struct CallFacts {
    /// The JSON-RPC method (requests and notifications).
    pub method: Option<String>,
    /// The protocol revision the request spoke (for `initialize`, the one negotiated).
    pub protocol_version: Option<&'static str>,
    /// `tools/call`: the tool named.
    pub tool: Option<String>,
    /// `tools/call`: its arguments, once they were found to be an object.
    pub arguments: Option<Arguments>,
    /// `tools/call`: the policy decision with its rule (an unknown tool is a denial by
    /// `Rule::UnknownTool`).
    pub decision: Option<Decision>,
    /// `tools/call`: the target, once the call was allowed and about to be made.
    pub target: Option<TargetCall>,
    /// The code of the MCP error the message was answered with (`McpError::code`); `None`
    /// after a result.
    pub error: Option<&'static str>,
}

/// A call's arguments as the trail keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arguments {
    /// Hex SHA-256 of the `arguments` JSON text as received.
    pub sha256: String,
    /// The text itself, only for tools configured to record values.
    pub recorded: Option<String>,
}

/// The target a call went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetCall {
    /// The catalog's `kind` (`http`, `lambda`, `mcp`).
    pub kind: &'static str,
    /// Who the target is (the identity statement's audience, without its query).
    pub name: String,
    /// How it answered; `None` while it is still working (a request dropped then).
    pub answer: Option<TargetAnswer>,
}

/// How a target answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetAnswer {
    /// Time spent waiting for it.
    pub latency: Duration,
    /// The code of its failure (`TargetError::code`); `None` after a good answer.
    pub error: Option<&'static str>,
}

/// What the edge learnt of one `/mcp` request, with the dispatcher's facts inside.
#[derive(Debug, Clone)]
pub struct RequestFacts {
    /// The id the client's error messages and the logs carry.
    pub request_id: String,
    pub api_request_id: Option<String>,
    pub lambda_request_id: Option<String>,
    /// When the request arrived, in ms since the epoch.
    pub arrived_ms: u64,
    /// The verified caller; `None` before (or without) a valid token.
    pub caller: Option<Arc<Principal>>,
    /// Let through without the issuer's online revocation check, which did not answer.
    pub revocation_unchecked: bool,
    /// What the MCP core learnt (empty when the request never reached it).
    pub call: CallFacts,
}

impl RequestFacts {
    /// A request arriving now.
    pub fn arrived(
        request_id: &str,
        api_request_id: Option<String>,
        lambda_request_id: Option<String>,
    ) -> Self {
        Self {
            request_id: request_id.to_owned(),
            api_request_id,
            lambda_request_id,
            arrived_ms: now_ms(),
            caller: None,
            revocation_unchecked: false,
            call: CallFacts::default(),
        }
    }
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Refused for a missing or bad token: the `AuthError` code.
    Unauthorized(&'static str),
    /// Refused at the HTTP level before the MCP core (media type, size, method): the edge
    /// error's code.
    Refused(&'static str),
    /// The MCP core's answer went out (a result or an error: `CallFacts::error`).
    Answered,
    /// The client went away before the answer did (standalone mode cancels the work).
    ClientClosed,
}

impl Ending {
    /// The reason the ending itself gives, whatever was decided.
    pub fn code(self) -> Option<&'static str> {
        match self {
            Self::Unauthorized(code) | Self::Refused(code) => Some(code),
            Self::Answered => None,
            Self::ClientClosed => Some("client_closed"),
        }
    }
}
