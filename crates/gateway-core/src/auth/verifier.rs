//! The multi-issuer verifier: the token's unverified `iss` picks one configured issuer;
//! that issuer's keys (never the token's) verify it; its rules turn the claims into a
//! `Principal`. Tokens seen before come from the digest cache until they expire.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::cache::{CachedToken, TokenCache};
use super::digest::{TokenDigest, token_digest};
use super::issuer::IssuerConfig;
use super::keystore::{JwksFetcher, KeyStore, RefreshPolicy};
use super::registered::RegisteredClients;
use super::revocation::{Checked, Revocation};
use super::{AuthError, Principal, claims, jws};

struct Issuer {
    config: IssuerConfig,
    keys: Arc<KeyStore>,
}

/// Verifies bearer tokens for every trusted issuer. Built once at start-up.
pub struct Verifier {
    issuers: HashMap<String, Issuer>,
    cache: TokenCache,
    /// Checked after verification on every request, cached tokens included.
    revocation: Option<Arc<Revocation>>,
    /// The issuer whose opaque tokens are accepted (identified by introspection), if any.
    opaque_issuer: Option<String>,
}

/// A verified token: who, and the digest that names the token without keeping it.
#[derive(Debug, Clone)]
pub struct Verified {
    pub principal: Arc<Principal>,
    pub digest: TokenDigest,
    /// Whether it came from the verified-token cache.
    pub cached: bool,
    /// Let through without its issuer's online revocation check (which did not answer,
    /// and the issuer fails open).
    pub revocation_unchecked: bool,
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Verifier {
    pub fn new(
        configs: Vec<IssuerConfig>,
        fetcher: Arc<dyn JwksFetcher>,
        policy: RefreshPolicy,
        cache_capacity: usize,
    ) -> Self {
        let opaque_issuer = configs
            .iter()
            .find(|c| c.online_check.as_ref().is_some_and(|o| o.accept_opaque))
            .map(|c| c.issuer.clone());
        let issuers = configs
            .into_iter()
            .map(|config| {
                let keys = Arc::new(KeyStore::new(
                    config.issuer.clone(),
                    config.keys.clone(),
                    Arc::clone(&fetcher),
                    policy,
                ));
                (config.issuer.clone(), Issuer { config, keys })
            })
            .collect();
        Self {
            issuers,
            cache: TokenCache::new(cache_capacity),
            revocation: None,
            opaque_issuer,
        }
    }

    /// Adds revocation checks (nothing changes when none is configured).
    pub fn with_revocation(mut self, revocation: Arc<Revocation>) -> Self {
        self.revocation = Some(revocation).filter(|r| !r.is_empty());
        self
    }

    /// Lets `issuer` (a Cognito pool) accept the app clients the gateway registered.
    pub fn with_registered_clients(
        mut self,
        issuer: &str,
        registered: Arc<RegisteredClients>,
    ) -> Self {
        if let Some(i) = self.issuers.get_mut(issuer) {
            i.config.registered_clients = Some(registered);
        }
        self
    }

    /// Whether `issuer` still accepts tokens of `client_id`. Asked of cached tokens too,
    /// so a removed registration is refused within the list's refresh interval.
    async fn client_allowed(&self, issuer: &Issuer, client_id: Option<&str>) -> bool {
        if let Some(r) = &issuer.config.registered_clients {
            r.refresh_if_due().await;
        }
        issuer.config.accepts_client(client_id)
    }

    pub fn revocation(&self) -> Option<&Arc<Revocation>> {
        self.revocation.as_ref()
    }

    /// Loads every issuer's keys, all in parallel. Failures are logged; those issuers fail
    /// closed until a later refetch succeeds.
    pub async fn load_all(&self) {
        let loads = self
            .issuers
            .iter()
            .map(|(issuer, i)| async move { (issuer, i.keys.refresh().await) });
        for (issuer, result) in futures_util::future::join_all(loads).await {
            if let Err(e) = result {
                tracing::error!(%issuer, error = %e, "could not load keys at start-up; its tokens are refused until a refetch succeeds");
            }
        }
    }

    /// The key store of one issuer (tests and metrics read it).
    pub fn key_store(&self, issuer: &str) -> Option<&Arc<KeyStore>> {
        self.issuers.get(issuer).map(|i| &i.keys)
    }

    /// Forgets a cached token, so its next use is verified (and revocation-checked) again.
    pub fn forget(&self, digest: &TokenDigest) {
        self.cache.remove(digest);
    }

    /// Verifies a bearer token at the current time.
    pub async fn verify(&self, token: &str) -> Result<Verified, AuthError> {
        self.verify_at(token, now_secs()).await
    }

    /// Verifies a bearer token at time `now` (seconds since the epoch).
    pub async fn verify_at(&self, token: &str, now: u64) -> Result<Verified, AuthError> {
        if token.len() > jws::MAX_TOKEN_BYTES {
            return Err(AuthError::TooLarge);
        }
        let digest = token_digest(token);
        if let Some(hit) = self.cache.get(&digest, now) {
            let still_published = self
                .issuers
                .get(&hit.principal.issuer)
                .filter(|i| hit.introspected || i.keys.keys().get(&hit.kid).is_some());
            if let Some(issuer) = still_published {
                if !self
                    .client_allowed(issuer, hit.principal.client_id.as_deref())
                    .await
                {
                    self.cache.remove(&digest);
                    return Err(AuthError::Client);
                }
                let checked = match &self.revocation {
                    Some(r) => {
                        r.check(token, &digest, &hit.principal, &hit.facts, now)
                            .await?
                    }
                    None => Checked::Confirmed,
                };
                return Ok(Verified {
                    principal: hit.principal,
                    digest,
                    cached: true,
                    revocation_unchecked: checked == Checked::Unchecked,
                });
            }
            // Its key was rotated out (perhaps because it leaked): verify again.
            self.cache.remove(&digest);
        }
        if !token.contains('.') {
            if let (Some(issuer), Some(r)) = (&self.opaque_issuer, &self.revocation) {
                return self.verify_opaque(r, issuer, token, digest, now).await;
            }
        }
        let jws = jws::parse(token)?;
        let iss = claims::unverified_issuer(&jws.payload)?;
        let issuer = self.issuers.get(&iss).ok_or(AuthError::UnknownIssuer)?;
        let key = issuer.keys.key(&jws.kid).await?;
        jws.verify(&key)?;
        claims::check_type(&issuer.config, jws.typ.as_deref())?;
        if let Some(r) = &issuer.config.registered_clients {
            r.refresh_if_due().await;
        }
        let (principal, facts) = claims::validate_with_facts(&issuer.config, &jws.payload, now)?;
        let (principal, facts) = (Arc::new(principal), Arc::new(facts));
        let entry = CachedToken {
            principal: Arc::clone(&principal),
            kid: Arc::from(jws.kid.as_str()),
            facts: Arc::clone(&facts),
            introspected: false,
        };
        // Cached before the revocation check: the check runs on cached tokens too.
        self.cache.insert(digest, entry, now);
        let checked = match &self.revocation {
            Some(r) => r.check(token, &digest, &principal, &facts, now).await?,
            None => Checked::Confirmed,
        };
        Ok(Verified {
            principal,
            digest,
            cached: false,
            revocation_unchecked: checked == Checked::Unchecked,
        })
    }

    /// An opaque token: its issuer's introspection says who it is, the issuer's claim rules
    /// decide, and it is cached like a verified JWT (its online verdict is cached too, so a
    /// revocation shows within the issuer's cache window).
    async fn verify_opaque(
        &self,
        revocation: &Revocation,
        issuer: &str,
        token: &str,
        digest: TokenDigest,
        now: u64,
    ) -> Result<Verified, AuthError> {
        let issuer = self.issuers.get(issuer).ok_or(AuthError::UnknownIssuer)?;
        let response = revocation
            .identify(&issuer.config.issuer, token, &digest)
            .await?;
        let (principal, facts) = claims::validate_introspected(&issuer.config, &response, now)?;
        let (principal, facts) = (Arc::new(principal), Arc::new(facts));
        let entry = CachedToken {
            principal: Arc::clone(&principal),
            kid: Arc::from(""),
            facts: Arc::clone(&facts),
            introspected: true,
        };
        self.cache.insert(digest, entry, now);
        // The deny-list applies to opaque tokens too.
        let checked = revocation
            .check(token, &digest, &principal, &facts, now)
            .await?;
        Ok(Verified {
            principal,
            digest,
            cached: false,
            revocation_unchecked: checked == Checked::Unchecked,
        })
    }
}
