//! The online check: asking the token's issuer whether it still stands (Cognito `GetUser`,
//! RFC 7662 introspection), with the verdict cached per token digest (never the token) for
//! a configured time, so a busy client costs one call per window, not one per request.
//! When the issuer does not answer in time the token is refused, unless the issuer's
//! settings allow failing open — then it passes, unchecked, with a warning in the log and a
//! mark on its audit record.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::opaque_limits::{NegativeCache, OpaqueLimits, RETRY_AFTER, TokenBucket};
use super::{Checked, Revoked};
use crate::auth::digest::TokenDigest;
use crate::source::SourceError;

/// What the issuer says of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Refused(Revoked),
}

/// An issuer's online check (an adapter: Cognito, introspection over HTTP).
#[async_trait]
pub trait TokenStatusSource: Send + Sync {
    /// For logs: `cognito GetUser`, `introspection`.
    fn name(&self) -> &'static str;
    /// The token's status; `Err` (never holding the token) when the issuer could not say.
    async fn status(&self, token: &str) -> Result<TokenStatus, SourceError>;
    /// For an opaque token: its claims (a JSON object) when active, `None` when not.
    /// Only introspection can do this.
    async fn introspect(&self, _token: &str) -> Result<Option<Vec<u8>>, SourceError> {
        Err(SourceError::Unsupported(self.name()))
    }
}

/// Per-issuer tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnlineSettings {
    /// How long a verdict is reused; zero asks on every request.
    pub cache_for: Duration,
    /// The longest the issuer gets to answer.
    pub timeout: Duration,
    /// Allow a token the issuer could not check in time (logged as a warning).
    pub fail_open: bool,
    /// Negative cache and rate limit of opaque-token introspection (`opaque_limits`).
    pub opaque: OpaqueLimits,
}

/// A client secret: compared, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Which online check an issuer gets (configuration; the adapters implement them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnlineCheckKind {
    /// Cognito `GetUser` with the access token itself (no AWS credentials needed).
    CognitoGetUser { region: String },
    /// RFC 7662 introspection with the gateway's own client credentials.
    Introspection {
        url: String,
        client_id: String,
        client_secret: Secret,
    },
}

/// An issuer's online check as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineCheckConfig {
    pub kind: OnlineCheckKind,
    pub settings: OnlineSettings,
    /// Accept opaque (non-JWT) access tokens, identified by introspection alone. At most one
    /// issuer may: an opaque token does not say whose it is.
    pub accept_opaque: bool,
}

/// Verdicts remembered at most.
const CAPACITY: usize = 10_000;

/// One issuer's online check with its verdict cache.
pub struct OnlineCheck {
    source: Arc<dyn TokenStatusSource>,
    settings: OnlineSettings,
    verdicts: RwLock<HashMap<TokenDigest, (TokenStatus, Instant)>>,
    /// Opaque tokens refused lately (by digest), and the bound on introspection requests.
    refused: NegativeCache,
    bucket: TokenBucket,
}

impl OnlineCheck {
    pub fn new(source: Arc<dyn TokenStatusSource>, settings: OnlineSettings) -> Self {
        Self {
            source,
            settings,
            verdicts: RwLock::new(HashMap::new()),
            refused: NegativeCache::default(),
            bucket: TokenBucket::new(settings.opaque.rate_per_sec, settings.opaque.burst),
        }
    }

    fn cached(&self, digest: &TokenDigest) -> Option<TokenStatus> {
        let map = self.verdicts.read().expect("verdict cache lock");
        map.get(digest)
            .filter(|(_, at)| at.elapsed() < self.settings.cache_for)
            .map(|(v, _)| *v)
    }

    fn remember(&self, digest: TokenDigest, verdict: TokenStatus) {
        if self.settings.cache_for.is_zero() {
            return;
        }
        let mut map = self.verdicts.write().expect("verdict cache lock");
        if map.len() >= CAPACITY {
            let ttl = self.settings.cache_for;
            map.retain(|_, (_, at)| at.elapsed() < ttl);
            if map.len() >= CAPACITY {
                return;
            }
        }
        map.insert(digest, (verdict, Instant::now()));
    }

    /// Refuses a token its issuer no longer stands behind; `Unchecked` when the issuer did
    /// not answer and this issuer fails open.
    pub async fn check(&self, token: &str, digest: &TokenDigest) -> Result<Checked, Revoked> {
        let verdict = match self.cached(digest) {
            Some(v) => v,
            None => {
                let asked = tokio::time::timeout(self.settings.timeout, self.source.status(token));
                match asked.await {
                    Ok(Ok(v)) => {
                        self.remember(*digest, v);
                        v
                    }
                    Ok(Err(error)) => return self.unanswered(&error),
                    Err(_) => return self.unanswered(&SourceError::TimedOut),
                }
            }
        };
        match verdict {
            TokenStatus::Active => Ok(Checked::Confirmed),
            TokenStatus::Refused(why) => Err(why),
        }
    }

    /// The claims of an opaque token, from the issuer (never fail-open: without an answer
    /// there is no one to let in). The verdict is remembered like `check`'s; a refusal is
    /// also remembered in the negative cache, and the issuer is asked only within the rate
    /// limit (see `opaque_limits`), so random strings cannot turn into a request each.
    pub async fn identify(&self, token: &str, digest: &TokenDigest) -> Result<Vec<u8>, Revoked> {
        if let Some(why) = self.refused.get(digest) {
            return Err(why);
        }
        if !self.bucket.try_take() {
            tracing::warn!(check = %self.source.name(), "introspection rate limit reached: opaque token refused unasked");
            return Err(Revoked::IntrospectionLimited);
        }
        let asked = tokio::time::timeout(self.settings.timeout, self.source.introspect(token));
        match asked.await {
            Ok(Ok(Some(claims))) => {
                self.remember(*digest, TokenStatus::Active);
                Ok(claims)
            }
            Ok(Ok(None)) => {
                self.remember(*digest, TokenStatus::Refused(Revoked::Inactive));
                let ttl = self.settings.opaque.negative_ttl;
                self.refused.remember(*digest, Revoked::Inactive, ttl);
                Err(Revoked::Inactive)
            }
            Ok(Err(error)) => {
                tracing::warn!(check = %self.source.name(), code = error.code(), %error, "opaque token could not be identified: refused");
                self.refused
                    .remember(*digest, Revoked::CheckUnavailable, RETRY_AFTER);
                Err(Revoked::CheckUnavailable)
            }
            Err(_) => {
                self.refused
                    .remember(*digest, Revoked::CheckUnavailable, RETRY_AFTER);
                Err(Revoked::CheckUnavailable)
            }
        }
    }

    fn unanswered(&self, error: &SourceError) -> Result<Checked, Revoked> {
        let code = error.code();
        let check = self.source.name();
        if self.settings.fail_open {
            // The request's audit record says so too (`revocationUnchecked`).
            tracing::warn!(%check, code, %error, "revocation check unavailable: token ALLOWED unchecked (fail-open is configured for this issuer)");
            Ok(Checked::Unchecked)
        } else {
            tracing::warn!(%check, code, %error, "revocation check unavailable: token refused (fail closed)");
            Err(Revoked::CheckUnavailable)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::digest::token_digest;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Fake {
        answer: Mutex<Result<TokenStatus, SourceError>>,
        delay: Duration,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl TokenStatusSource for Fake {
        fn name(&self) -> &'static str {
            "fake"
        }
        async fn status(&self, _token: &str) -> Result<TokenStatus, SourceError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            self.answer.lock().unwrap().clone()
        }
    }

    fn check(cache_ms: u64, delay_ms: u64, fail_open: bool) -> (Arc<Fake>, OnlineCheck) {
        let fake = Arc::new(Fake {
            answer: Mutex::new(Ok(TokenStatus::Active)),
            delay: Duration::from_millis(delay_ms),
            calls: AtomicUsize::new(0),
        });
        let settings = OnlineSettings {
            cache_for: Duration::from_millis(cache_ms),
            timeout: Duration::from_millis(100),
            fail_open,
            opaque: OpaqueLimits::default(),
        };
        (
            Arc::clone(&fake),
            OnlineCheck::new(fake as Arc<dyn TokenStatusSource>, settings),
        )
    }

    #[tokio::test]
    async fn verdicts_are_cached_per_token_for_the_window() {
        let (fake, c) = check(150, 0, false);
        let (t, d) = ("tok", token_digest("tok"));
        assert_eq!(c.check(t, &d).await, Ok(Checked::Confirmed));
        *fake.answer.lock().unwrap() = Ok(TokenStatus::Refused(Revoked::SignedOut));
        assert_eq!(
            c.check(t, &d).await,
            Ok(Checked::Confirmed),
            "cached verdict"
        );
        assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
        let other = token_digest("other");
        assert_eq!(c.check("other", &other).await, Err(Revoked::SignedOut));
        tokio::time::sleep(Duration::from_millis(170)).await;
        assert_eq!(c.check(t, &d).await, Err(Revoked::SignedOut), "window over");
    }

    #[tokio::test]
    async fn zero_asks_every_time() {
        let (fake, c) = check(0, 0, false);
        let d = token_digest("t");
        for _ in 0..3 {
            c.check("t", &d).await.unwrap();
        }
        assert_eq!(fake.calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn no_answer_refuses_unless_failing_open_is_allowed() {
        let (_, closed) = check(60_000, 300, false);
        let d = token_digest("t");
        assert_eq!(closed.check("t", &d).await, Err(Revoked::CheckUnavailable));
        let (fake, open) = check(60_000, 300, true);
        assert_eq!(open.check("t", &d).await, Ok(Checked::Unchecked));
        *fake.answer.lock().unwrap() = Err(SourceError::Unavailable("throttled".into()));
        assert_eq!(
            open.check("t", &d).await,
            Ok(Checked::Unchecked),
            "errors are not cached"
        );
        assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
        let (fake, closed) = check(60_000, 0, false);
        *fake.answer.lock().unwrap() = Err(SourceError::Unavailable("throttled".into()));
        assert_eq!(closed.check("t", &d).await, Err(Revoked::CheckUnavailable));
    }
}
