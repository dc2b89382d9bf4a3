//! The deny-list: revoked users (a not-before time: every token issued earlier is refused),
//! single tokens (`jti`, or Cognito's `origin_jti`), and whole app clients. Entries end at
//! their `expires_at` (set to at least the longest token lifetime, after which every token
//! they could refuse has expired anyway).
//!
//! The list is read whole from a [`DenyListSource`] and kept in memory, refreshed the way
//! the policy snapshot is: every interval (in the background in standalone mode, by the
//! first request that finds it old under Lambda), one read at a time; a failed read keeps
//! the last good list until it is older than the allowed staleness, after which every token
//! is refused (fail closed). An interval of zero reads the list on every request. The
//! rhythm, the gate, the bound on a read and the staleness verdict are the shared reloading
//! store's (`crate::reload`); the per-request mode is this store's own.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Revoked, TokenFacts};
use crate::auth::Principal;
use crate::reload::{READ_MARGIN, Reloading, spawn_ticker};
use crate::source::SourceError;

/// What an entry revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DenyKind {
    /// A user, by `sub` or user name.
    User,
    /// One token, by `jti` or `origin_jti`.
    Token,
    /// An app client, by client id.
    Client,
}

/// One revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DenyEntry {
    pub kind: DenyKind,
    pub value: String,
    /// Only tokens of this issuer; every trusted issuer when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Users: tokens issued (`iat`) before this are refused; absent: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<u64>,
    /// Seconds since the epoch; the entry is ignored from then on (and the store's TTL
    /// deletes it eventually).
    pub expires_at: u64,
    /// When and why, for people (RFC 3339 time, free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl DenyEntry {
    fn applies(&self, p: &Principal, now: u64) -> bool {
        self.expires_at > now && self.issuer.as_ref().is_none_or(|i| *i == p.issuer)
    }
}

/// The deny-list, indexed for per-request lookups (by kind, then value: lookups by `&str`
/// allocate nothing).
#[derive(Debug, Default)]
pub struct DenyList {
    by_value: HashMap<DenyKind, HashMap<String, Vec<DenyEntry>>>,
}

impl DenyList {
    pub fn new(entries: Vec<DenyEntry>) -> Self {
        let mut by_value: HashMap<DenyKind, HashMap<String, Vec<DenyEntry>>> = HashMap::new();
        for e in entries {
            by_value
                .entry(e.kind)
                .or_default()
                .entry(e.value.clone())
                .or_default()
                .push(e);
        }
        Self { by_value }
    }

    pub fn len(&self) -> usize {
        self.by_value
            .values()
            .flat_map(HashMap::values)
            .map(Vec::len)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_value.is_empty()
    }

    fn hits(&self, kind: DenyKind, value: &str) -> impl Iterator<Item = &DenyEntry> {
        self.by_value
            .get(&kind)
            .and_then(|m| m.get(value))
            .into_iter()
            .flatten()
    }

    /// Whether a verified token is revoked at `now`, and how.
    pub fn check(&self, p: &Principal, facts: &TokenFacts, now: u64) -> Result<(), Revoked> {
        if self.by_value.is_empty() {
            return Ok(());
        }
        // A token without `iat` cannot show it came after the revocation: refused.
        let user_hit = [&p.subject, &p.username]
            .into_iter()
            .flat_map(|v| self.hits(DenyKind::User, v))
            .any(|e| {
                e.applies(p, now)
                    && e.not_before
                        .is_none_or(|nbf| facts.issued_at.is_none_or(|iat| iat < nbf))
            });
        if user_hit {
            return Err(Revoked::User);
        }
        let token_hit = [&p.token_id, &facts.origin_token_id]
            .into_iter()
            .flatten()
            .flat_map(|v| self.hits(DenyKind::Token, v))
            .any(|e| e.applies(p, now));
        if token_hit {
            return Err(Revoked::Token);
        }
        let client_hit = p
            .client_id
            .iter()
            .flat_map(|v| self.hits(DenyKind::Client, v))
            .any(|e| e.applies(p, now));
        if client_hit {
            return Err(Revoked::Client);
        }
        Ok(())
    }
}

/// Where the deny-list is kept.
#[async_trait]
pub trait DenyListSource: Send + Sync {
    /// For logs: `dynamodb:TABLE`.
    fn name(&self) -> String;
    /// Every entry.
    async fn load(&self) -> Result<Vec<DenyEntry>, SourceError>;
}

/// Refresh timing.
#[derive(Debug, Clone, Copy)]
pub struct DenyListPolicy {
    /// Zero: read on every request.
    pub refresh_every: Duration,
    pub max_staleness: Duration,
    /// The longest one read may take.
    pub read_timeout: Duration,
}

/// The deny-list as the gateway holds it.
pub struct DenyListStore {
    source: Arc<dyn DenyListSource>,
    policy: DenyListPolicy,
    store: Reloading<DenyList>,
}

impl DenyListStore {
    pub fn new(source: Arc<dyn DenyListSource>, policy: DenyListPolicy) -> Self {
        Self {
            source,
            policy,
            store: Reloading::new(policy.refresh_every).bounded(policy.read_timeout),
        }
    }

    pub fn policy(&self) -> DenyListPolicy {
        self.policy
    }

    fn usable(&self) -> Option<Arc<DenyList>> {
        self.store.fresh(self.policy.max_staleness).ok()
    }

    /// Reads the list now; on failure the previous one stays. Not gated: in per-request
    /// mode reads overlap (and an older one never replaces a newer).
    pub async fn refresh(&self) -> Result<usize, SourceError> {
        let read = async { self.source.load().await.map(DenyList::new) };
        match self.store.reload(read).await {
            Ok(list) => Ok(list.len()),
            Err(e) => {
                tracing::error!(source = %self.source.name(), code = e.code(), error = %e, "deny-list read failed; keeping the last good list");
                Err(e)
            }
        }
    }

    async fn refresh_gated(&self) -> Result<usize, SourceError> {
        let _flight = self.store.flight().await;
        self.refresh().await
    }

    /// The list to decide on, refreshed first when due.
    pub async fn current(&self) -> Option<Arc<DenyList>> {
        if self.policy.refresh_every.is_zero() {
            // Per request: every request reads for itself.
            let _ = self.refresh().await;
        } else {
            // The read bounds itself (and logs its failure); the margin only keeps the
            // outer bound from cutting it short.
            let limit = self.policy.read_timeout + READ_MARGIN;
            let refresh = || async {
                let _ = self.refresh().await;
            };
            self.store
                .refresh_when_due(limit, || self.usable().is_some(), refresh)
                .await;
        }
        self.usable()
    }

    /// Refuses a revoked token; refuses every token when no list young enough is held.
    pub async fn check(&self, p: &Principal, facts: &TokenFacts, now: u64) -> Result<(), Revoked> {
        let list = self.current().await.ok_or(Revoked::DenyListUnavailable)?;
        list.check(p, facts, now)
    }

    /// Loads the list (start-up), then refreshes it every interval in the background, in
    /// standalone mode only: a Lambda process is frozen between invocations, and the
    /// request-driven refresh in `current` does the work.
    pub async fn start(&self) {
        match self.refresh_gated().await {
            Ok(n) => tracing::info!(source = %self.source.name(), entries = n, "deny-list loaded"),
            Err(_) => {
                tracing::error!(source = %self.source.name(), "deny-list could not be loaded at start-up: every token is refused until it is")
            }
        }
    }

    /// The background refresh (see `start`).
    pub fn spawn_refresher(self: &Arc<Self>) {
        spawn_ticker(
            self,
            self.policy.refresh_every,
            |store: Arc<Self>| async move {
                if store.store.due() {
                    let _ = store.refresh_gated().await;
                }
            },
        );
    }
}

#[cfg(test)]
#[path = "denylist_tests.rs"]
mod tests;
