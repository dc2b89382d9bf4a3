//! What keeps opaque-token introspection from being an amplifier against the issuer: any
//! string without a dot is a candidate opaque token, so without this every random bearer
//! string cost one introspection request. Here:
//!
//! - a negative cache: tokens the issuer called inactive (or unknown) are remembered by
//!   their SHA-256 digest (never the token) for a short time, bounded in size; a token whose
//!   introspection failed is remembered for a second, so one token is asked about at most
//!   once a second however often it is sent;
//! - a token bucket over every introspection request of the issuer: beyond its rate (after
//!   a burst) opaque tokens are refused as "check unavailable" (503, retry later), never let
//!   in — fail closed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Revoked;
use crate::auth::digest::TokenDigest;

/// Negative verdicts remembered at most.
pub const NEGATIVE_CAPACITY: usize = 10_000;
/// How long a failed introspection stops the same token being asked about again.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The limits (configuration).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpaqueLimits {
    /// How long an inactive token is remembered (`GATEWAY_INTROSPECTION_NEGATIVE_CACHE_SECS`).
    pub negative_ttl: Duration,
    /// Introspection requests per second, on average (`GATEWAY_INTROSPECTION_RATE`).
    pub rate_per_sec: f64,
    /// Requests allowed at once above the rate (`GATEWAY_INTROSPECTION_BURST`).
    pub burst: f64,
}

impl Default for OpaqueLimits {
    fn default() -> Self {
        Self {
            negative_ttl: Duration::from_secs(60),
            rate_per_sec: 20.0,
            burst: 40.0,
        }
    }
}

impl Eq for OpaqueLimits {}

/// Tokens refused recently, by digest, with why and until when.
#[derive(Default)]
pub struct NegativeCache {
    entries: Mutex<HashMap<TokenDigest, (Revoked, Instant)>>,
}

impl NegativeCache {
    /// The remembered refusal of this token, if it still stands.
    pub fn get(&self, digest: &TokenDigest) -> Option<Revoked> {
        let map = self.entries.lock().expect("negative cache lock");
        map.get(digest)
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(why, _)| *why)
    }

    /// Remembers a refusal for `ttl`. When full, expired entries go first, then (a flood of
    /// distinct tokens) an arbitrary half: the bound holds, and the rate limit still caps
    /// what the forgotten ones can cost.
    pub fn remember(&self, digest: TokenDigest, why: Revoked, ttl: Duration) {
        let mut map = self.entries.lock().expect("negative cache lock");
        if map.len() >= NEGATIVE_CAPACITY {
            let now = Instant::now();
            map.retain(|_, (_, until)| now < *until);
            if map.len() >= NEGATIVE_CAPACITY {
                let drop: Vec<TokenDigest> =
                    map.keys().take(NEGATIVE_CAPACITY / 2).copied().collect();
                for k in drop {
                    map.remove(&k);
                }
            }
        }
        map.insert(digest, (why, Instant::now() + ttl));
    }

    pub fn len(&self) -> usize {
        self.entries.lock().expect("negative cache lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A token bucket: `burst` requests at once, refilled at `rate_per_sec`.
pub struct TokenBucket {
    rate_per_sec: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    pub fn new(rate_per_sec: f64, burst: f64) -> Self {
        Self {
            rate_per_sec,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Takes one request's worth if there is one.
    pub fn try_take(&self) -> bool {
        let mut s = self.state.lock().expect("rate limit lock");
        let now = Instant::now();
        let refill = now.duration_since(s.1).as_secs_f64() * self.rate_per_sec;
        s.0 = (s.0 + refill).min(self.burst);
        s.1 = now;
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::digest::token_digest;

    #[test]
    fn refusals_are_remembered_by_digest_for_their_time_and_the_size_is_bounded() {
        let c = NegativeCache::default();
        let d = token_digest("nope");
        assert_eq!(c.get(&d), None);
        c.remember(d, Revoked::Inactive, Duration::from_secs(60));
        assert_eq!(c.get(&d), Some(Revoked::Inactive));
        c.remember(d, Revoked::Inactive, Duration::ZERO);
        assert_eq!(c.get(&d), None, "expired");
        for i in 0..(NEGATIVE_CAPACITY + 10) {
            c.remember(
                token_digest(&i.to_string()),
                Revoked::Inactive,
                Duration::from_secs(60),
            );
        }
        assert!(c.len() <= NEGATIVE_CAPACITY);
    }

    #[test]
    fn the_bucket_allows_its_burst_then_refuses() {
        let b = TokenBucket::new(0.001, 3.0);
        assert!((0..3).all(|_| b.try_take()));
        assert!(!b.try_take());
    }
}
