//! Tokens already verified, by SHA-256 digest, until their `exp`. Bounded: when full,
//! expired entries are dropped and, if it is still full, the new token is simply not cached.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::Principal;
use super::digest::TokenDigest;
use super::revocation::TokenFacts;

/// A verified token as remembered: who, and which key signed it (a token whose key has
/// left the issuer's JWKS is verified again, and so refused).
#[derive(Debug, Clone)]
pub struct CachedToken {
    pub principal: Arc<Principal>,
    pub kid: Arc<str>,
    /// What revocation checks read besides the principal.
    pub facts: Arc<TokenFacts>,
    /// An opaque token identified by introspection (no signing key to still be published).
    pub introspected: bool,
}

/// Lookups answered from the cache and not, process-wide (for the metrics lines).
pub static HITS: AtomicU64 = AtomicU64::new(0);
pub static MISSES: AtomicU64 = AtomicU64::new(0);

/// The verified-token cache.
pub struct TokenCache {
    capacity: usize,
    map: RwLock<HashMap<TokenDigest, CachedToken>>,
}

impl TokenCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            map: RwLock::new(HashMap::new()),
        }
    }

    /// The principal of a token verified before and not expired at `now`.
    pub fn get(&self, digest: &TokenDigest, now: u64) -> Option<CachedToken> {
        let map = self.map.read().expect("token cache lock");
        let hit = map
            .get(digest)
            .filter(|t| t.principal.expires_at > now)
            .cloned();
        let counter = if hit.is_some() { &HITS } else { &MISSES };
        counter.fetch_add(1, Ordering::Relaxed);
        hit
    }

    pub fn insert(&self, digest: TokenDigest, token: CachedToken, now: u64) {
        if self.capacity == 0 {
            return;
        }
        let mut map = self.map.write().expect("token cache lock");
        if map.len() >= self.capacity {
            map.retain(|_, t| t.principal.expires_at > now);
            if map.len() >= self.capacity {
                return;
            }
        }
        map.insert(digest, token);
    }

    /// Forgets one token (revocation uses this).
    pub fn remove(&self, digest: &TokenDigest) {
        self.map.write().expect("token cache lock").remove(digest);
    }

    pub fn len(&self) -> usize {
        self.map.read().expect("token cache lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::digest::token_digest;

    fn principal(exp: u64) -> CachedToken {
        let principal = Arc::new(Principal {
            issuer: "i".into(),
            subject: "s".into(),
            username: "u".into(),
            email: None,
            groups: vec![],
            scopes: vec![],
            client_id: None,
            expires_at: exp,
            token_id: None,
        });
        CachedToken {
            principal,
            kid: "k".into(),
            facts: Arc::default(),
            introspected: false,
        }
    }

    #[test]
    fn entries_live_until_exp_and_the_cache_stays_bounded() {
        let cache = TokenCache::new(2);
        cache.insert(token_digest("a"), principal(100), 0);
        assert!(cache.get(&token_digest("a"), 99).is_some());
        assert!(cache.get(&token_digest("a"), 100).is_none());
        cache.insert(token_digest("b"), principal(200), 0);
        cache.insert(token_digest("c"), principal(200), 0);
        assert_eq!(cache.len(), 2, "full: c is not cached");
        assert!(cache.get(&token_digest("c"), 0).is_none());
        cache.insert(token_digest("c"), principal(200), 150);
        assert!(
            cache.get(&token_digest("c"), 150).is_some(),
            "expired a made room"
        );
        cache.remove(&token_digest("c"));
        assert!(cache.get(&token_digest("c"), 150).is_none());
    }
}
