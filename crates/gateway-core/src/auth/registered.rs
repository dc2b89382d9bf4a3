//! The app clients the gateway registered itself (the façade's Cognito registration mode):
//! a shared allow-list a Cognito issuer consults beside its configured client ids.
//!
//! The list is read whole from a [`RegisteredClientSource`] (the registrations record) and
//! refreshed like the deny-list, by the shared reloading store (`crate::reload`): every
//! interval, in the background in standalone mode, by the first request that finds it old
//! under Lambda, one read at a time. A registration by this process is added at once; a
//! removal elsewhere (`gatewayctl clients remove`) shows at the next refresh. A failed read
//! keeps the last good list (fail closed: nothing is accepted that was not read or
//! registered here), and the list never goes stale.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::reload::{READ_MARGIN, Reloading, spawn_ticker};
use crate::source::SourceError;

/// Where the registrations are recorded.
#[async_trait]
pub trait RegisteredClientSource: Send + Sync {
    /// For logs: `dynamodb:TABLE`.
    fn name(&self) -> String;
    /// Every client id registered for `issuer`.
    async fn load(&self, issuer: &str) -> Result<Vec<String>, SourceError>;
}

/// The registered client ids as this process holds them.
pub struct RegisteredClients {
    issuer: String,
    source: Arc<dyn RegisteredClientSource>,
    read_timeout: Duration,
    ids: Reloading<HashSet<String>>,
    /// Registered here, and when: a read that started earlier may not show them yet.
    added: RwLock<HashMap<String, Instant>>,
}

// Compared by identity: an `IssuerConfig` holding one is equal only to its clones.
impl PartialEq for RegisteredClients {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for RegisteredClients {}

impl std::fmt::Debug for RegisteredClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredClients")
            .field("source", &self.source.name())
            .field("count", &self.ids.get().map_or(0, |ids| ids.len()))
            .finish()
    }
}

impl RegisteredClients {
    /// An empty list (nothing accepted until the first read or registration).
    pub fn new(
        issuer: String,
        source: Arc<dyn RegisteredClientSource>,
        refresh_every: Duration,
        read_timeout: Duration,
    ) -> Self {
        Self {
            issuer,
            source,
            read_timeout,
            ids: Reloading::new(refresh_every).bounded(read_timeout),
            added: RwLock::new(HashMap::new()),
        }
    }

    /// Whether `client_id` is one the gateway registered (as last read or added here).
    pub fn contains(&self, client_id: &str) -> bool {
        self.ids.get().is_some_and(|ids| ids.contains(client_id))
    }

    /// A client this process just registered: accepted at once, before the next read.
    pub fn insert(&self, client_id: &str) {
        self.added
            .write()
            .expect("registered lock")
            .insert(client_id.to_owned(), Instant::now());
        self.ids.update(|ids| match ids {
            Some(ids) if ids.contains(client_id) => None,
            // Before the first read nothing is held: the registration starts the list.
            ids => {
                let mut next = ids.cloned().unwrap_or_default();
                next.insert(client_id.to_owned());
                Some(next)
            }
        });
    }

    /// A client this process removed: refused at once.
    pub fn remove(&self, client_id: &str) {
        self.added
            .write()
            .expect("registered lock")
            .remove(client_id);
        self.ids.update(|ids| {
            let mut next = ids.filter(|ids| ids.contains(client_id))?.clone();
            next.remove(client_id);
            Some(next)
        });
    }

    /// Reads the list now; on failure the previous one stays.
    pub async fn refresh(&self) -> Result<usize, SourceError> {
        // Runs under the list's lock, which `insert` takes only after recording in `added`:
        // a registration made here is either in `added` now or lands in the list after.
        let merge = |_: Option<&HashSet<String>>, read: Vec<String>, started: Instant| {
            let mut ids: HashSet<String> = read.into_iter().collect();
            // Registrations made here while the read ran stay; older ones the read
            // either shows or (removed since) rightly drops.
            let mut added = self.added.write().expect("registered lock");
            added.retain(|_, at| *at >= started);
            ids.extend(added.keys().cloned());
            ids
        };
        match self
            .ids
            .reload_with(self.source.load(&self.issuer), merge)
            .await
        {
            Ok(ids) => Ok(ids.len()),
            Err(e) => {
                tracing::error!(source = %self.source.name(), code = e.code(), error = %e, "registered clients read failed; keeping the last good list");
                Err(e)
            }
        }
    }

    /// Refreshes when due, one read at a time; never waits for another request's read
    /// (the current list stands meanwhile).
    pub async fn refresh_if_due(&self) {
        let refresh = || async {
            let _ = self.refresh().await;
        };
        // What is held is always usable (fail closed: it holds only what was read or
        // registered here), so no request waits for another's read.
        self.ids
            .refresh_when_due(self.read_timeout + READ_MARGIN, || true, refresh)
            .await;
    }

    /// Loads the list (start-up).
    pub async fn start(&self) {
        let _flight = self.ids.flight().await;
        match self.refresh().await {
            Ok(n) => {
                tracing::info!(source = %self.source.name(), clients = n, "registered clients loaded")
            }
            Err(_) => {
                tracing::error!(source = %self.source.name(), "registered clients could not be loaded at start-up: only the configured client ids are accepted until they are")
            }
        }
    }

    /// The background refresh, in standalone mode only: a Lambda process is frozen between
    /// invocations, and the verifier's request-driven `refresh_if_due` does the work.
    pub fn spawn_refresher(self: &Arc<Self>) {
        spawn_ticker(self, self.ids.every(), |list: Arc<Self>| async move {
            list.refresh_if_due().await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Source(Mutex<Result<Vec<String>, String>>);

    #[async_trait]
    impl RegisteredClientSource for Source {
        fn name(&self) -> String {
            "test".into()
        }
        async fn load(&self, _issuer: &str) -> Result<Vec<String>, SourceError> {
            self.0
                .lock()
                .unwrap()
                .clone()
                .map_err(SourceError::Unavailable)
        }
    }

    #[tokio::test]
    async fn reads_replace_the_list_and_a_failed_read_keeps_the_last_good_one() {
        let source = Arc::new(Source(Mutex::new(Ok(vec!["a".into(), "b".into()]))));
        let list = RegisteredClients::new(
            "https://idp".into(),
            Arc::clone(&source) as _,
            Duration::ZERO,
            Duration::from_secs(1),
        );
        assert!(!list.contains("a"), "nothing before the first read");
        list.start().await;
        assert!(list.contains("a") && list.contains("b"));
        list.insert("c");
        assert!(list.contains("c"), "a registration here counts at once");
        *source.0.lock().unwrap() = Ok(vec!["a".into()]);
        list.refresh_if_due().await;
        assert!(
            !list.contains("b") && !list.contains("c"),
            "removed elsewhere"
        );
        *source.0.lock().unwrap() = Err("down".into());
        list.refresh_if_due().await;
        assert!(list.contains("a") && !list.contains("b"), "last good list");
        list.remove("a");
        assert!(!list.contains("a"));
    }
}
