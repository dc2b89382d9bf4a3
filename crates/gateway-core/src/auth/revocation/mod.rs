//! Revocation: what closes the gap between a token that verifies locally and a user who was
//! signed out, disabled or revoked since it was issued. Runs after signature and claims
//! verification on every request, cached tokens included, so the verified-token cache
//! never outlives a revocation by more than the windows configured here:
//!
//! - a deny-list (users, single tokens, app clients) read from a store through
//!   [`DenyListSource`], refreshed every interval (`denylist`);
//! - per issuer, an online check of the token at its issuer (Cognito `GetUser`, RFC 7662
//!   introspection) through [`TokenStatusSource`], with its verdict cached per token digest
//!   (`online`).
//!
//! Pure: the stores and services are behind those two traits (adapters in `crate::adapters`).

pub mod denylist;
pub mod online;
pub mod opaque_limits;

use std::collections::HashMap;
use std::sync::Arc;

pub use denylist::{DenyEntry, DenyKind, DenyList, DenyListPolicy, DenyListSource, DenyListStore};
pub use online::{
    OnlineCheck, OnlineCheckConfig, OnlineCheckKind, OnlineSettings, Secret, TokenStatus,
    TokenStatusSource,
};
pub use opaque_limits::OpaqueLimits;

use super::digest::TokenDigest;
use super::{AuthError, Principal};

/// Why a token that verified is refused all the same. Logged; the client only learns
/// "invalid token".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Revoked {
    #[error("revoked user")]
    User,
    #[error("revoked token")]
    Token,
    #[error("revoked client")]
    Client,
    #[error("signed out or token revoked at the issuer")]
    SignedOut,
    #[error("user disabled at the issuer")]
    Disabled,
    #[error("user no longer exists at the issuer")]
    UserGone,
    #[error("token inactive at the issuer (introspection)")]
    Inactive,
    /// The deny-list could not be read for longer than allowed: fail closed.
    #[error("deny-list unavailable")]
    DenyListUnavailable,
    /// The issuer did not answer the online check in time, and failing open is not allowed.
    #[error("online check unavailable")]
    CheckUnavailable,
    /// More opaque tokens to introspect than the issuer's rate limit allows: refused
    /// without asking (fail closed), as an outage (503, retry later).
    #[error("introspection rate limit reached")]
    IntrospectionLimited,
}

/// What the revocation checks could say about a token they let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// Every configured check answered (or none is configured).
    Confirmed,
    /// The issuer's online check did not answer and the issuer fails open: let through
    /// unchecked, which its audit record says.
    Unchecked,
}

impl Revoked {
    /// Not a revocation but an outage: the status could not be learnt.
    pub fn is_outage(&self) -> bool {
        matches!(
            self,
            Self::DenyListUnavailable | Self::CheckUnavailable | Self::IntrospectionLimited
        )
    }
}

/// Claims revocation needs that a `Principal` does not carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFacts {
    /// `iat`, seconds since the epoch.
    pub issued_at: Option<u64>,
    /// Cognito's `origin_jti`: the id of the authentication event (and refresh token) the
    /// access token descends from.
    pub origin_token_id: Option<String>,
}

/// Every revocation mechanism configured, built once at start-up.
#[derive(Default)]
pub struct Revocation {
    deny: Option<Arc<DenyListStore>>,
    /// Online checks by issuer (`iss`).
    online: HashMap<String, OnlineCheck>,
}

impl Revocation {
    pub fn new(deny: Option<Arc<DenyListStore>>, online: HashMap<String, OnlineCheck>) -> Self {
        Self { deny, online }
    }

    /// Whether anything is configured (if not, the verifier skips the call).
    pub fn is_empty(&self) -> bool {
        self.deny.is_none() && self.online.is_empty()
    }

    pub fn deny_list(&self) -> Option<&Arc<DenyListStore>> {
        self.deny.as_ref()
    }

    /// Loads the deny-list (start-up) and, when `background` (a standalone server, never
    /// Lambda), starts its background refresh.
    pub async fn start(&self, background: bool) {
        if let Some(deny) = &self.deny {
            deny.start().await;
            if background {
                deny.spawn_refresher();
            }
        }
    }

    /// The claims of an opaque token of `issuer`, from its online check (introspection).
    pub async fn identify(
        &self,
        issuer: &str,
        token: &str,
        digest: &TokenDigest,
    ) -> Result<Vec<u8>, AuthError> {
        let online = self
            .online
            .get(issuer)
            .ok_or(AuthError::Malformed("not three dot-separated parts"))?;
        online
            .identify(token, digest)
            .await
            .map_err(AuthError::Revoked)
    }

    /// Refuses a verified token that was revoked. The cheap, local deny-list first; then
    /// the issuer's online check, if it has one.
    pub async fn check(
        &self,
        token: &str,
        digest: &TokenDigest,
        principal: &Principal,
        facts: &TokenFacts,
        now: u64,
    ) -> Result<Checked, AuthError> {
        if let Some(deny) = &self.deny {
            deny.check(principal, facts, now)
                .await
                .map_err(AuthError::Revoked)?;
        }
        match self.online.get(&principal.issuer) {
            Some(online) => online
                .check(token, digest)
                .await
                .map_err(AuthError::Revoked),
            None => Ok(Checked::Confirmed),
        }
    }
}
