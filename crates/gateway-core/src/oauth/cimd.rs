//! Client ID Metadata Documents, fetched once and remembered: a client id URL arrives on
//! unauthenticated `/authorize` and `/token` requests, so without a cache every request
//! would make the gateway fetch it. Successes are kept for `ok_ttl`, failures for
//! `fail_ttl` (a host that is down, slow or refused is not asked again at once). Bounded:
//! past `MAX_ENTRIES` the expired entries go, then the oldest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::registration::{self, ClientRequest};
use super::{CimdFetcher, OAuthError};

const MAX_ENTRIES: usize = 1000;

struct Entry {
    result: Result<ClientRequest, ()>,
    expires_at: u64,
    stored_at: u64,
}

pub struct CimdCache {
    fetcher: Arc<dyn CimdFetcher>,
    ok_ttl: u64,
    fail_ttl: u64,
    entries: Mutex<HashMap<String, Entry>>,
}

impl CimdCache {
    pub fn new(fetcher: Arc<dyn CimdFetcher>, ok_ttl: u64, fail_ttl: u64) -> Self {
        Self {
            fetcher,
            ok_ttl,
            fail_ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, url: &str, now: u64) -> Option<Result<ClientRequest, ()>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(url)
            .filter(|e| e.expires_at > now)
            .map(|e| e.result.clone())
    }

    fn store(&self, url: &str, result: Result<ClientRequest, ()>, now: u64) {
        let ttl = if result.is_ok() {
            self.ok_ttl
        } else {
            self.fail_ttl
        };
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.expires_at > now);
        }
        if entries.len() >= MAX_ENTRIES {
            if let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, e)| e.stored_at)
                .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(
            url.to_owned(),
            Entry {
                result,
                expires_at: now.saturating_add(ttl),
                stored_at: now,
            },
        );
    }

    /// The client a metadata document URL declares; any failure is "unknown client" (the
    /// reason is logged once per fetch, never answered).
    pub async fn client(&self, url: &str, now: u64) -> Result<ClientRequest, OAuthError> {
        if let Some(hit) = self.cached(url, now) {
            return hit.map_err(|()| OAuthError::UnknownClient);
        }
        let fetched = match self.fetcher.fetch(url).await {
            Ok(doc) => registration::parse_document(url, &doc),
            Err(e) => Err(e),
        };
        let result = fetched.map_err(|e| {
            tracing::info!(error = %e, "client metadata document refused");
        });
        self.store(url, result.clone(), now);
        result.map_err(|()| OAuthError::UnknownClient)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting {
        calls: AtomicUsize,
        ok: bool,
    }

    #[async_trait]
    impl CimdFetcher for Counting {
        async fn fetch(&self, url: &str) -> Result<Vec<u8>, OAuthError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.ok {
                Ok(
                    format!(r#"{{"client_id":"{url}","redirect_uris":["http://127.0.0.1/cb"]}}"#)
                        .into_bytes(),
                )
            } else {
                Err(OAuthError::Upstream("down".into()))
            }
        }
    }

    #[tokio::test]
    async fn documents_and_failures_are_fetched_once_per_ttl() {
        let url = "https://app.example/client.json";
        let ok = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            ok: true,
        });
        let cache = CimdCache::new(ok.clone(), 300, 60);
        for now in [10, 20, 309] {
            assert_eq!(
                cache.client(url, now).await.unwrap().redirect_uris,
                ["http://127.0.0.1/cb"]
            );
        }
        assert_eq!(ok.calls.load(Ordering::SeqCst), 1);
        cache.client(url, 310).await.unwrap();
        assert_eq!(ok.calls.load(Ordering::SeqCst), 2, "expired: fetched again");

        let down = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            ok: false,
        });
        let cache = CimdCache::new(down.clone(), 300, 60);
        for now in [0, 1, 59] {
            assert!(matches!(
                cache.client(url, now).await,
                Err(OAuthError::UnknownClient)
            ));
        }
        assert_eq!(
            down.calls.load(Ordering::SeqCst),
            1,
            "failures are cached too"
        );
        let _ = cache.client(url, 60).await;
        assert_eq!(down.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_cache_stays_bounded() {
        let ok = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            ok: true,
        });
        let cache = CimdCache::new(ok, 300, 60);
        for i in 0..(MAX_ENTRIES + 50) {
            let url = format!("https://app.example/c{i}.json");
            cache.client(&url, i as u64).await.unwrap();
        }
        assert!(cache.entries.lock().unwrap().len() <= MAX_ENTRIES);
    }
}
