//! Who called, as targets learn it: a short-lived statement signed by the gateway, never the
//! caller's token. Pure: the key lives behind `IdentitySigner` (a local key file, a key in
//! AWS Secrets Manager, or an AWS KMS key: see `crate::adapters::identity_key`).

//!
//! ## The audience (`aud`)
//! Each statement names exactly one target (finding 9 of issue #14: the origin, shared by
//! every tool on a host, let a statement minted for one tool be replayed to another):
//! - an HTTP target or a tool of an upstream MCP server: its `url` exactly as the catalog
//!   writes it (after `${VAR}` expansion), which is the URL called: no normalisation, the
//!   query kept; a catalog URL may not carry a `#fragment`, which is never sent.
//! - a Lambda target: `lambda:<function>/<tool>`, the function exactly as the catalog names
//!   it (name or ARN, with any alias) and the gateway's tool name: `/` occurs in neither, so
//!   the pair is unambiguous, and one function serving several tools tells them apart.
//!
//! A target compares `aud` with its own audience byte for byte, allows no leeway on `exp`
//! (`verify`), and receives statements only over https or loopback unless its catalog
//! entry says `insecureHttp: true`.

use async_trait::async_trait;
use serde::Serialize;

use crate::auth::Principal;

pub mod verify;

/// How long a statement is valid. Short: it covers one call (the issue allows 5 minutes).
pub const LIFETIME_SECS: u64 = 60;

/// The HTTP header an HTTP (or MCP) target finds the statement in.
pub const HEADER: &str = "x-gateway-identity";

/// The statement's claims.
#[derive(Debug, Serialize)]
pub struct IdentityClaims<'a> {
    /// The gateway.
    pub iss: &'a str,
    /// The target it is for.
    pub aud: String,
    pub sub: &'a str,
    pub username: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'a str>,
    pub groups: &'a [String],
    /// The issuer that authenticated the caller.
    pub caller_iss: &'a str,
    pub tool: &'a str,
    pub iat: u64,
    pub exp: u64,
    /// The gateway's request id: ties the target's logs to the gateway's.
    pub jti: &'a str,
}

impl<'a> IdentityClaims<'a> {
    pub fn new(
        gateway: &'a str,
        audience: String,
        caller: &'a Principal,
        tool: &'a str,
        request_id: &'a str,
        now: u64,
    ) -> Self {
        Self {
            iss: gateway,
            aud: audience,
            sub: &caller.subject,
            username: &caller.username,
            email: caller.email.as_deref(),
            groups: &caller.groups,
            caller_iss: &caller.issuer,
            tool,
            iat: now,
            exp: now + LIFETIME_SECS,
            jti: request_id,
        }
    }
}

/// Signing failed (the key is unusable). Detail for the log only.
#[derive(Debug, thiserror::Error)]
#[error("identity statement not signed: {0}")]
pub struct SignError(pub String);

/// Signs statements and publishes the public keys targets verify them with.
#[async_trait]
pub trait IdentitySigner: Send + Sync {
    /// The statement's `iss`.
    fn issuer(&self) -> &str;
    /// A compact ES256 JWS whose header names the key (`kid`). Async: a KMS key signs over
    /// the network (bounded by a timeout; a failure means the target is not invoked).
    async fn sign(&self, claims: &IdentityClaims<'_>) -> Result<String, SignError>;
    /// The public JWKS, served at `/.well-known/jwks.json`. It changes when a key rotates:
    /// the key that signs now and the ones that signed recently are all in it.
    fn jwks_json(&self) -> String;
}
