//! One issuer's keys: loaded at start-up, refreshed after a max age, refetched on an unknown
//! `kid` at most once per interval with one fetch in flight. A failed refresh keeps the last
//! good set; an issuer whose keys never loaded fails closed.
//!
//! The set, the gate, and the back-off after any fetch (good or bad) are the shared
//! reloading store's (`crate::reload`, its interval the refetch interval). What stays here
//! is this store's own: a set is refreshed when it is older than the max age, behind the
//! request that noticed (never making it wait), and an unknown `kid` refetches under its
//! own rate limit, waiting for a fetch in flight rather than going on without it. Keys
//! never go stale: a set that no longer verifies a token is found out by its `kid`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Deserialize;

use super::AuthError;
use super::issuer::KeySource;
use super::jwk::{self, KeySet, VerifyingKey};
use crate::reload::{Flight, Reloading, TimedOut};

/// Keys found in the loaded set, keys not found (an unknown kid), and key-set fetches,
/// process-wide (for the metrics lines).
pub static KEY_HITS: AtomicU64 = AtomicU64::new(0);
pub static KEY_MISSES: AtomicU64 = AtomicU64::new(0);
pub static REFRESHES: AtomicU64 = AtomicU64::new(0);

/// Why a document could not be fetched. Carries no secrets (URLs here are public).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FetchError(pub String);

impl From<TimedOut> for FetchError {
    fn from(t: TimedOut) -> Self {
        Self(t.to_string())
    }
}

/// Fetches a public document (JWKS, OpenID discovery) with a size cap.
#[async_trait]
pub trait JwksFetcher: Send + Sync {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError>;
}

/// Timing of refreshes.
#[derive(Debug, Clone, Copy)]
pub struct RefreshPolicy {
    /// A key set older than this is refreshed in the background.
    pub max_age: Duration,
    /// Unknown-kid refetches are at most this frequent.
    pub min_refetch_interval: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(3600),
            min_refetch_interval: Duration::from_secs(10),
        }
    }
}

/// The key store of one issuer.
pub struct KeyStore {
    issuer: String,
    source: KeySource,
    fetcher: Arc<dyn JwksFetcher>,
    policy: RefreshPolicy,
    /// Due once the refetch interval has passed since the last fetch of any kind: a failing
    /// endpoint is retried at most that often, not on every request. Fetches are bounded by
    /// the fetcher, not here.
    keys: Reloading<KeySet>,
    /// When an unknown kid last caused a fetch (the rate limit's clock).
    last_unknown_kid_fetch: RwLock<Option<Instant>>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: Option<String>,
    jwks_uri: Option<String>,
}

impl KeyStore {
    pub fn new(
        issuer: String,
        source: KeySource,
        fetcher: Arc<dyn JwksFetcher>,
        policy: RefreshPolicy,
    ) -> Self {
        Self {
            issuer,
            source,
            fetcher,
            policy,
            keys: Reloading::new(policy.min_refetch_interval),
            last_unknown_kid_fetch: RwLock::new(None),
        }
    }

    /// The current key set (empty until one loads).
    pub fn keys(&self) -> Arc<KeySet> {
        self.keys.get().unwrap_or_default()
    }

    async fn jwks_url(&self) -> Result<String, FetchError> {
        match &self.source {
            KeySource::Jwks(url) => Ok(url.clone()),
            KeySource::Discovery(url) => {
                let bytes = self.fetcher.fetch(url).await?;
                let doc: Discovery = serde_json::from_slice(&bytes)
                    .map_err(|_| FetchError("discovery document is not JSON".into()))?;
                // OpenID Connect Discovery 1.0 §4.3: the document must name this issuer.
                if doc.issuer.as_deref() != Some(self.issuer.as_str()) {
                    return Err(FetchError("discovery document names another issuer".into()));
                }
                let jwks = doc
                    .jwks_uri
                    .ok_or_else(|| FetchError("discovery document has no jwks_uri".into()))?;
                if !crate::urls::url_is_safe(&jwks) {
                    return Err(FetchError(
                        "jwks_uri must be https (or http on loopback)".into(),
                    ));
                }
                Ok(jwks)
            }
        }
    }

    /// Fetches and installs the key set now. On failure the previous set stays.
    pub async fn refresh(&self) -> Result<usize, FetchError> {
        let flight = self.keys.flight().await;
        self.refresh_locked(&flight).await
    }

    /// A fetch by the holder of the gate.
    async fn refresh_locked(&self, _flight: &Flight) -> Result<usize, FetchError> {
        REFRESHES.fetch_add(1, Ordering::Relaxed);
        let read = async {
            let fetched = async {
                let url = self.jwks_url().await?;
                let bytes = self.fetcher.fetch(&url).await?;
                jwk::parse_jwks(&bytes).map_err(|e| FetchError(e.to_string()))
            }
            .await;
            match fetched {
                Ok((keys, skipped)) => {
                    for why in &skipped {
                        tracing::warn!(issuer = %self.issuer, reason = %why, "JWKS key skipped");
                    }
                    if keys.is_empty() {
                        tracing::error!(issuer = %self.issuer, "JWKS has no usable key; keeping the previous set");
                        return Err(FetchError("no usable key".into()));
                    }
                    Ok(keys)
                }
                Err(e) => {
                    let had = !self.keys().is_empty();
                    tracing::error!(issuer = %self.issuer, error = %e, keeping_previous = had, "JWKS refresh failed");
                    Err(e)
                }
            }
        };
        let keys = self.keys.reload(read).await?;
        tracing::info!(issuer = %self.issuer, keys = keys.len(), "JWKS loaded");
        Ok(keys.len())
    }

    /// Older than the max age, and not fetched within the refetch interval.
    fn stale(&self) -> bool {
        let old = self
            .keys
            .age()
            .is_some_and(|age| age >= self.policy.max_age);
        old && self.keys.due()
    }

    fn may_refetch(&self) -> bool {
        self.last_unknown_kid_fetch
            .read()
            .expect("key store lock")
            .is_none_or(|t| t.elapsed() >= self.policy.min_refetch_interval)
    }

    /// The key for `kid`: from the current set, else after one rate-limited refetch.
    pub async fn key(self: &Arc<Self>, kid: &str) -> Result<Arc<VerifyingKey>, AuthError> {
        let known = self.keys().get(kid).cloned();
        let counter = if known.is_some() {
            &KEY_HITS
        } else {
            &KEY_MISSES
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if let Some(k) = known {
            // Known kid on an old set: answer now, refresh behind, at most one at a time
            // (the task holds the gate, released even if it is cancelled mid-fetch).
            if let Some(flight) = self.stale().then(|| self.keys.try_flight()).flatten() {
                let me = Arc::clone(self);
                tokio::spawn(async move {
                    let _ = me.refresh_locked(&flight).await;
                });
            }
            return Ok(k);
        }
        {
            let flight = self.keys.flight().await;
            // Another request may have fetched while this one waited.
            if let Some(k) = self.keys().get(kid) {
                return Ok(Arc::clone(k));
            }
            if self.may_refetch() {
                *self.last_unknown_kid_fetch.write().expect("key store lock") =
                    Some(Instant::now());
                let _ = self.refresh_locked(&flight).await;
            }
        }
        let keys = self.keys();
        match keys.get(kid) {
            Some(k) => Ok(Arc::clone(k)),
            None if keys.is_empty() => {
                tracing::error!(issuer = %self.issuer, "no keys were ever loaded: refusing its tokens");
                Err(AuthError::NoKeys(self.issuer.clone()))
            }
            None => Err(AuthError::UnknownKid(self.issuer.clone())),
        }
    }
}

#[cfg(test)]
#[path = "keystore_tests.rs"]
mod tests;
