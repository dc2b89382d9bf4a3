//! One consistent snapshot of catalog and policies, swapped whole on refresh. Refreshed every
//! interval (in the background, and by the first request that finds it old); a failed
//! refresh keeps the last good snapshot until it is older than the allowed staleness, after
//! which calls are refused — never allowed because of an error. The rhythm, the gate and
//! the staleness verdict are the shared reloading store's (`crate::reload`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use super::document::ConfigDocument;
use super::model::PolicySet;
use crate::catalog::Catalog;
use crate::reload::{Reloading, Unusable, spawn_ticker};

/// Requests served from the snapshot in memory, and loads from the source, process-wide
/// (for the metrics lines).
pub static HITS: AtomicU64 = AtomicU64::new(0);
pub static LOADS: AtomicU64 = AtomicU64::new(0);

/// Where the configuration comes from.
#[async_trait]
pub trait ConfigSource: Send + Sync {
    /// For logs: `dynamodb:TABLE`, `file:PATH`.
    fn name(&self) -> String;
    /// Whether the source can change while the gateway runs (a file does not).
    fn refreshes(&self) -> bool;
    async fn load(&self) -> Result<ConfigDocument, SourceError>;
}

/// A source that could not be read (the error of every source port, `crate::source`).
pub use crate::source::SourceError;

/// What every request decides on.
#[derive(Debug)]
pub struct Snapshot {
    pub catalog: Catalog,
    pub policies: PolicySet,
    /// Increments with every successful refresh.
    pub generation: u64,
}

/// Why no snapshot can be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SnapshotError {
    #[error("tool policies were never loaded")]
    Unavailable,
    #[error("tool policies are {age_secs} s old, over the allowed staleness")]
    Stale { age_secs: u64 },
}

/// Refresh timing.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotPolicy {
    pub refresh_every: Duration,
    pub max_staleness: Duration,
    /// The longest a request waits for a refresh it triggered.
    pub refresh_timeout: Duration,
}

pub struct SnapshotStore {
    source: Arc<dyn ConfigSource>,
    policy: SnapshotPolicy,
    /// Reads are not bounded here: only a request waiting for one is (`refresh_timeout`).
    store: Reloading<Snapshot>,
}

impl SnapshotStore {
    pub fn new(source: Arc<dyn ConfigSource>, policy: SnapshotPolicy) -> Self {
        Self {
            source,
            policy,
            store: Reloading::new(policy.refresh_every),
        }
    }

    /// A file never goes stale: it cannot change while the gateway runs.
    fn max_staleness(&self) -> Duration {
        if self.source.refreshes() {
            self.policy.max_staleness
        } else {
            Duration::MAX
        }
    }

    /// Loads now; on failure the previous snapshot stays.
    pub async fn refresh(&self) -> Result<u64, SourceError> {
        let _flight = self.store.flight().await;
        self.refresh_locked().await
    }

    async fn refresh_locked(&self) -> Result<u64, SourceError> {
        LOADS.fetch_add(1, Ordering::Relaxed);
        let source = self.source.name();
        let read = async {
            self.source.load().await.and_then(|doc| {
                doc.compile()
                    .map_err(|e| SourceError::Invalid(e.to_string()))
            })
        };
        let install = |previous: Option<&Snapshot>,
                       (catalog, policies): (Catalog, PolicySet),
                       _| {
            let generation = previous.map_or(1, |p| p.generation + 1);
            tracing::debug!(%source, generation, tools = catalog.len(), policies = policies.len(), "tool policies loaded");
            Snapshot {
                catalog,
                policies,
                generation,
            }
        };
        match self.store.reload_with(read, install).await {
            Ok(snapshot) => Ok(snapshot.generation),
            Err(e) => {
                let age = self.store.age().map(|a| a.as_secs());
                tracing::error!(%source, error = %e, last_good_age_secs = ?age, "tool policy refresh failed; keeping the last good snapshot");
                Err(e)
            }
        }
    }

    /// The snapshot to decide on. A request that finds a refresh due performs it (one at a
    /// time, bounded by the refresh timeout); others go on with the current snapshot, or,
    /// when it is unusable, wait (bounded) for the refresh in flight.
    pub async fn current(&self) -> Result<Arc<Snapshot>, SnapshotError> {
        let due = self.store.due() && (self.source.refreshes() || self.store.get().is_none());
        if due {
            let refresh = || async {
                let _ = self.refresh_locked().await;
            };
            let usable = || self.store.fresh(self.max_staleness()).is_ok();
            self.store
                .refresh_when_due(self.policy.refresh_timeout, usable, refresh)
                .await;
        } else {
            HITS.fetch_add(1, Ordering::Relaxed);
        }
        self.store.fresh(self.max_staleness()).map_err(|e| match e {
            Unusable::Never => SnapshotError::Unavailable,
            Unusable::Stale(age) => SnapshotError::Stale {
                age_secs: age.as_secs(),
            },
        })
    }

    /// Refreshes every interval until the process ends. Standalone only: under Lambda the
    /// process is frozen between invocations, and the request-driven refresh in `current`
    /// does the work.
    pub fn spawn_refresher(self: &Arc<Self>) {
        if !self.source.refreshes() {
            return;
        }
        spawn_ticker(
            self,
            self.policy.refresh_every,
            |store: Arc<Self>| async move {
                if store.store.due() {
                    let _ = store.refresh().await;
                }
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An in-memory source whose document and health the test controls.
    struct Fake {
        doc: Mutex<Result<ConfigDocument, String>>,
        loads: AtomicUsize,
        refreshes: bool,
    }

    #[async_trait]
    impl ConfigSource for Fake {
        fn name(&self) -> String {
            "fake".into()
        }
        fn refreshes(&self) -> bool {
            self.refreshes
        }
        async fn load(&self) -> Result<ConfigDocument, SourceError> {
            self.loads.fetch_add(1, Ordering::SeqCst);
            self.doc
                .lock()
                .unwrap()
                .clone()
                .map_err(SourceError::Unavailable)
        }
    }

    fn doc(allow: &str) -> ConfigDocument {
        ConfigDocument::from_yaml(&format!("policies: [{{group: '*', allow: ['{allow}']}}]"))
            .unwrap()
    }

    fn store(fake: &Arc<Fake>, refresh_ms: u64, stale_ms: u64) -> SnapshotStore {
        SnapshotStore::new(
            Arc::clone(fake) as Arc<dyn ConfigSource>,
            SnapshotPolicy {
                refresh_every: Duration::from_millis(refresh_ms),
                max_staleness: Duration::from_millis(stale_ms),
                refresh_timeout: Duration::from_secs(1),
            },
        )
    }

    fn fake(d: Result<ConfigDocument, String>, refreshes: bool) -> Arc<Fake> {
        Arc::new(Fake {
            doc: Mutex::new(d),
            loads: AtomicUsize::new(0),
            refreshes,
        })
    }

    fn allows(s: &Snapshot, tool: &str) -> bool {
        let none: Vec<String> = vec![];
        crate::policy::Caller::new(&s.policies, &none, &none)
            .decide(tool)
            .visible()
    }

    #[tokio::test]
    async fn never_loaded_is_unavailable_and_a_bad_document_is_refused() {
        let f = fake(Err("table not found".into()), true);
        let s = store(&f, 10_000, 60_000);
        assert!(s.refresh().await.is_err());
        assert_eq!(s.current().await.unwrap_err(), SnapshotError::Unavailable);
        *f.doc.lock().unwrap() = Ok(ConfigDocument::from_yaml(
            "policies: [{group: '*', allow: ['no spaces']}]",
        )
        .unwrap());
        let e = s.refresh().await.unwrap_err();
        assert_eq!(e.code(), "config_invalid", "{e}");
        assert!(e.to_string().contains("invalid configuration"), "{e}");
        assert_eq!(s.current().await.unwrap_err(), SnapshotError::Unavailable);
    }

    #[tokio::test]
    async fn an_old_snapshot_is_refreshed_by_the_next_request() {
        let f = fake(Ok(doc("a")), true);
        let s = store(&f, 0, 60_000);
        s.refresh().await.unwrap();
        *f.doc.lock().unwrap() = Ok(doc("b"));
        let snap = s.current().await.unwrap();
        assert!(allows(&snap, "b") && !allows(&snap, "a"));
        assert_eq!(snap.generation, 2);
    }

    #[tokio::test]
    async fn a_failed_refresh_serves_the_last_good_snapshot_until_it_is_too_old() {
        let f = fake(Ok(doc("a")), true);
        let s = store(&f, 0, 200);
        s.refresh().await.unwrap();
        *f.doc.lock().unwrap() = Err("throttled".into());
        let snap = s.current().await.unwrap();
        assert!(allows(&snap, "a"), "last good snapshot served");
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(
            matches!(s.current().await, Err(SnapshotError::Stale { .. })),
            "refused, never allowed"
        );
        *f.doc.lock().unwrap() = Ok(doc("a"));
        assert!(
            s.current().await.is_ok(),
            "recovers with the next good read"
        );
    }

    #[tokio::test]
    async fn an_outage_costs_one_attempt_per_interval_not_one_per_request() {
        let f = fake(Ok(doc("a")), true);
        let s = store(&f, 100, 60_000);
        s.refresh().await.unwrap();
        *f.doc.lock().unwrap() = Err("throttled".into());
        tokio::time::sleep(Duration::from_millis(150)).await;
        for _ in 0..5 {
            assert!(s.current().await.is_ok(), "last good snapshot");
        }
        assert_eq!(
            f.loads.load(Ordering::SeqCst),
            2,
            "one failed attempt, then back-off"
        );
    }

    #[tokio::test]
    async fn a_fresh_snapshot_is_not_reread_and_a_file_never_goes_stale() {
        let f = fake(Ok(doc("a")), true);
        let s = store(&f, 60_000, 120_000);
        s.refresh().await.unwrap();
        for _ in 0..5 {
            s.current().await.unwrap();
        }
        assert_eq!(f.loads.load(Ordering::SeqCst), 1);
        let file = fake(Ok(doc("a")), false);
        let s = store(&file, 0, 1);
        s.refresh().await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(s.current().await.is_ok());
        assert_eq!(file.loads.load(Ordering::SeqCst), 1);
    }
}
