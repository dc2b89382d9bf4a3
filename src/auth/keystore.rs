//! One issuer's keys: loaded at start-up, refreshed after a max age, refetched on an unknown
//! `kid` at most once per interval with one fetch in flight. A failed refresh keeps the last
//! good set; an issuer whose keys never loaded fails closed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Deserialize;

use super::AuthError;
use super::issuer::KeySource;
use super::jwk::{self, KeySet, VerifyingKey};

/// Keys found in the loaded set, keys not found (an unknown kid), and key-set fetches,
/// process-wide (for the metrics lines).
pub static KEY_HITS: AtomicU64 = AtomicU64::new(0);
pub static KEY_MISSES: AtomicU64 = AtomicU64::new(0);
pub static REFRESHES: AtomicU64 = AtomicU64::new(0);

/// Why a document could not be fetched. Carries no secrets (URLs here are public).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FetchError(pub String);

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

struct Loaded {
    keys: Arc<KeySet>,
    at: Option<Instant>,
}

/// The key store of one issuer.
pub struct KeyStore {
    issuer: String,
    source: KeySource,
    fetcher: Arc<dyn JwksFetcher>,
    policy: RefreshPolicy,
    loaded: RwLock<Loaded>,
    /// When an unknown kid last caused a fetch (the rate limit's clock).
    last_unknown_kid_fetch: RwLock<Option<Instant>>,
    /// A background max-age refresh is under way.
    refreshing: AtomicBool,
    /// Last fetch attempt of any kind: a failing endpoint is retried at most once per
    /// refetch interval, not on every request.
    last_attempt: RwLock<Option<Instant>>,
    /// Single flight: one fetch at a time per issuer.
    gate: tokio::sync::Mutex<()>,
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
            loaded: RwLock::new(Loaded {
                keys: Arc::new(KeySet::default()),
                at: None,
            }),
            last_unknown_kid_fetch: RwLock::new(None),
            refreshing: AtomicBool::new(false),
            last_attempt: RwLock::new(None),
            gate: tokio::sync::Mutex::new(()),
        }
    }

    /// The current key set.
    pub fn keys(&self) -> Arc<KeySet> {
        Arc::clone(&self.loaded.read().expect("key store lock").keys)
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
        let _flight = self.gate.lock().await;
        self.refresh_locked().await
    }

    async fn refresh_locked(&self) -> Result<usize, FetchError> {
        *self.last_attempt.write().expect("key store lock") = Some(Instant::now());
        REFRESHES.fetch_add(1, Ordering::Relaxed);
        let result = async {
            let url = self.jwks_url().await?;
            let bytes = self.fetcher.fetch(&url).await?;
            jwk::parse_jwks(&bytes).map_err(|e| FetchError(e.to_string()))
        }
        .await;
        match result {
            Ok((keys, skipped)) => {
                for why in &skipped {
                    tracing::warn!(issuer = %self.issuer, reason = %why, "JWKS key skipped");
                }
                let n = keys.len();
                if n == 0 {
                    tracing::error!(issuer = %self.issuer, "JWKS has no usable key; keeping the previous set");
                    return Err(FetchError("no usable key".into()));
                }
                *self.loaded.write().expect("key store lock") = Loaded {
                    keys: Arc::new(keys),
                    at: Some(Instant::now()),
                };
                tracing::info!(issuer = %self.issuer, keys = n, "JWKS loaded");
                Ok(n)
            }
            Err(e) => {
                let had = !self.keys().is_empty();
                tracing::error!(issuer = %self.issuer, error = %e, keeping_previous = had, "JWKS refresh failed");
                Err(e)
            }
        }
    }

    fn stale(&self) -> bool {
        let old = {
            let loaded = self.loaded.read().expect("key store lock");
            loaded
                .at
                .is_some_and(|at| at.elapsed() >= self.policy.max_age)
        };
        let backed_off = self
            .last_attempt
            .read()
            .expect("key store lock")
            .is_none_or(|t| t.elapsed() >= self.policy.min_refetch_interval);
        old && backed_off
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
            // Known kid on an old set: answer now, refresh behind, at most one at a time.
            if self.stale() && !self.refreshing.swap(true, Ordering::AcqRel) {
                let me = Arc::clone(self);
                tokio::spawn(async move {
                    // Cleared even if the task is cancelled mid-fetch.
                    struct Done(Arc<KeyStore>);
                    impl Drop for Done {
                        fn drop(&mut self) {
                            self.0.refreshing.store(false, Ordering::Release);
                        }
                    }
                    let done = Done(me);
                    let _ = done.0.refresh().await;
                });
            }
            return Ok(k);
        }
        {
            let _flight = self.gate.lock().await;
            // Another request may have fetched while this one waited.
            if let Some(k) = self.keys().get(kid) {
                return Ok(Arc::clone(k));
            }
            if self.may_refetch() {
                *self.last_unknown_kid_fetch.write().expect("key store lock") =
                    Some(Instant::now());
                let _ = self.refresh_locked().await;
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
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;

    /// An in-memory fetcher: serves what the test sets, counts hits, can be slow.
    struct Fake {
        docs: Mutex<HashMap<String, Result<Vec<u8>, String>>>,
        hits: AtomicUsize,
        delay: Duration,
    }

    use std::collections::HashMap;

    #[async_trait]
    impl JwksFetcher for Fake {
        async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
            self.hits.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            let docs = self.docs.lock().unwrap();
            match docs.get(url) {
                Some(Ok(b)) => Ok(b.clone()),
                Some(Err(e)) => Err(FetchError(e.clone())),
                None => Err(FetchError("404".into())),
            }
        }
    }

    const JWKS: &str = "https://idp.example/jwks";

    fn jwks(kids: &[&str]) -> Vec<u8> {
        let pem = include_bytes!("../../tests/fixtures/keys/ed25519.pem");
        let key = jsonwebtoken::EncodingKey::from_ed_pem(pem).unwrap();
        let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::EdDSA)
            .unwrap();
        let keys: Vec<serde_json::Value> = kids
            .iter()
            .map(|kid| {
                let mut v = serde_json::to_value(&jwk).unwrap();
                v["kid"] = (*kid).into();
                v
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({ "keys": keys })).unwrap()
    }

    fn store(fake: &Arc<Fake>, policy: RefreshPolicy) -> Arc<KeyStore> {
        let fetcher: Arc<dyn JwksFetcher> = Arc::clone(fake) as Arc<dyn JwksFetcher>;
        Arc::new(KeyStore::new(
            "https://idp.example".into(),
            KeySource::Jwks(JWKS.into()),
            fetcher,
            policy,
        ))
    }

    fn fake(doc: Result<Vec<u8>, String>, delay_ms: u64) -> Arc<Fake> {
        Arc::new(Fake {
            docs: Mutex::new(HashMap::from([(JWKS.to_owned(), doc)])),
            hits: AtomicUsize::new(0),
            delay: Duration::from_millis(delay_ms),
        })
    }

    fn serve(fake: &Fake, doc: Result<Vec<u8>, String>) {
        fake.docs.lock().unwrap().insert(JWKS.into(), doc);
    }

    fn hits(fake: &Fake) -> usize {
        fake.hits.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn concurrent_unknown_kids_share_one_fetch() {
        let f = fake(Ok(jwks(&["a"])), 20);
        let s = store(&f, RefreshPolicy::default());
        s.refresh().await.unwrap();
        serve(&f, Ok(jwks(&["a", "b"])));
        let calls = (0..20).map(|_| {
            let s = Arc::clone(&s);
            tokio::spawn(async move { s.key("b").await })
        });
        for c in calls {
            assert_eq!(c.await.unwrap().unwrap().kid, "b");
        }
        assert_eq!(hits(&f), 2, "start-up load plus one refetch");
    }

    #[tokio::test]
    async fn unknown_kids_refetch_at_most_once_per_interval() {
        let f = fake(Ok(jwks(&["a"])), 0);
        let s = store(&f, RefreshPolicy::default());
        s.refresh().await.unwrap();
        assert_eq!(
            s.key("x").await.unwrap_err(),
            AuthError::UnknownKid("https://idp.example".into())
        );
        assert_eq!(
            s.key("y").await.unwrap_err(),
            AuthError::UnknownKid("https://idp.example".into())
        );
        assert_eq!(
            hits(&f),
            2,
            "the second unknown kid waited for the interval"
        );
        let eager = store(
            &f,
            RefreshPolicy {
                min_refetch_interval: Duration::ZERO,
                ..RefreshPolicy::default()
            },
        );
        eager.refresh().await.unwrap();
        let _ = eager.key("x").await;
        let _ = eager.key("y").await;
        assert_eq!(hits(&f), 5);
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_the_last_good_set() {
        let f = fake(Ok(jwks(&["a"])), 0);
        let s = store(&f, RefreshPolicy::default());
        s.refresh().await.unwrap();
        serve(&f, Err("503".into()));
        assert!(s.refresh().await.is_err());
        assert_eq!(s.key("a").await.unwrap().kid, "a");
        // A set with no usable key is a failed refresh too.
        serve(
            &f,
            Ok(br#"{"keys":[{"kty":"oct","kid":"h","k":"AA"}]}"#.to_vec()),
        );
        assert!(s.refresh().await.is_err());
        assert_eq!(s.key("a").await.unwrap().kid, "a");
    }

    #[tokio::test]
    async fn an_issuer_whose_keys_never_loaded_fails_closed_then_recovers() {
        let f = fake(Err("connection refused".into()), 0);
        let s = store(
            &f,
            RefreshPolicy {
                min_refetch_interval: Duration::ZERO,
                ..RefreshPolicy::default()
            },
        );
        assert!(s.refresh().await.is_err());
        assert_eq!(
            s.key("a").await.unwrap_err(),
            AuthError::NoKeys("https://idp.example".into())
        );
        serve(&f, Ok(jwks(&["a"])));
        assert_eq!(s.key("a").await.unwrap().kid, "a");
    }

    #[tokio::test]
    async fn an_old_set_is_refreshed_in_the_background_once() {
        let f = fake(Ok(jwks(&["a"])), 20);
        let s = store(
            &f,
            RefreshPolicy {
                max_age: Duration::ZERO,
                min_refetch_interval: Duration::from_millis(50),
            },
        );
        s.refresh().await.unwrap();
        serve(&f, Ok(jwks(&["a", "b"])));
        tokio::time::sleep(Duration::from_millis(60)).await;
        for _ in 0..10 {
            assert_eq!(s.key("a").await.unwrap().kid, "a");
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(hits(&f), 2, "one background refresh for ten requests");
        assert!(s.keys().get("b").is_some());
    }

    #[tokio::test]
    async fn a_failing_background_refresh_backs_off() {
        let f = fake(Ok(jwks(&["a"])), 0);
        let s = store(
            &f,
            RefreshPolicy {
                max_age: Duration::ZERO,
                ..RefreshPolicy::default()
            },
        );
        s.refresh().await.unwrap();
        serve(&f, Err("503".into()));
        for _ in 0..10 {
            assert_eq!(s.key("a").await.unwrap().kid, "a");
            tokio::task::yield_now().await;
        }
        assert_eq!(
            hits(&f),
            1,
            "no refetch within the interval after the last attempt"
        );
    }

    #[tokio::test]
    async fn discovery_must_name_the_issuer_and_a_safe_jwks_uri() {
        let disco = "https://idp.example/.well-known/openid-configuration";
        let f = fake(Ok(jwks(&["a"])), 0);
        let s = Arc::new(KeyStore::new(
            "https://idp.example".into(),
            KeySource::Discovery(disco.into()),
            Arc::clone(&f) as Arc<dyn JwksFetcher>,
            RefreshPolicy::default(),
        ));
        let doc = |iss: &str, jwks: &str| {
            Ok(serde_json::json!({"issuer": iss, "jwks_uri": jwks})
                .to_string()
                .into_bytes())
        };
        f.docs
            .lock()
            .unwrap()
            .insert(disco.into(), doc("https://evil.example", JWKS));
        assert!(s.refresh().await.unwrap_err().0.contains("another issuer"));
        f.docs.lock().unwrap().insert(
            disco.into(),
            doc("https://idp.example", "http://evil.example/jwks"),
        );
        assert!(s.refresh().await.unwrap_err().0.contains("https"));
        f.docs
            .lock()
            .unwrap()
            .insert(disco.into(), doc("https://idp.example", JWKS));
        assert_eq!(s.refresh().await.unwrap(), 1);
    }
}
