//! The refresh rhythm of the stores read whole from a source (the policy snapshot, the
//! deny-list, the registered clients): a read is due once the interval has passed since the
//! last attempt, good or bad (so an outage costs one bounded attempt per interval, not one
//! per request); one read runs at a time; where the wiring asks for it (a standalone server, never
//! Lambda) a background tick keeps them fresh.

use std::future::Future;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use tokio::sync::MutexGuard;

/// When the next read is due, and the gate that keeps reads one at a time.
pub struct Rhythm {
    every: Duration,
    last_attempt: RwLock<Option<Instant>>,
    gate: tokio::sync::Mutex<()>,
}

impl Rhythm {
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            last_attempt: RwLock::new(None),
            gate: tokio::sync::Mutex::new(()),
        }
    }

    pub fn every(&self) -> Duration {
        self.every
    }

    /// Whether no read was attempted yet, or the interval has passed since the last one.
    pub fn due(&self) -> bool {
        self.last_attempt
            .read()
            .expect("rhythm lock")
            .is_none_or(|t| t.elapsed() >= self.every)
    }

    /// Records a read starting now, and returns when it started.
    pub fn attempt(&self) -> Instant {
        let now = Instant::now();
        *self.last_attempt.write().expect("rhythm lock") = Some(now);
        now
    }

    /// The right to read, waiting for a read in flight to end first.
    pub async fn flight(&self) -> MutexGuard<'_, ()> {
        self.gate.lock().await
    }

    /// The request-driven refresh. When a read is due, the caller that gets the gate reads
    /// (`refresh`, bounded by `limit`); the others go on with what is held, or, when
    /// `usable` says it cannot be used, wait (bounded by `limit`) for that read.
    pub async fn refresh_when_due<F: Future>(
        &self,
        limit: Duration,
        usable: impl Fn() -> bool,
        refresh: impl FnOnce() -> F,
    ) {
        if !self.due() {
            return;
        }
        match self.gate.try_lock() {
            Ok(_flight) => {
                // Another caller may have read between `due` and the gate.
                if self.due() {
                    let _ = tokio::time::timeout(limit, refresh()).await;
                }
            }
            Err(_) if !usable() => {
                let _ = tokio::time::timeout(limit, self.gate.lock()).await;
            }
            Err(_) => {}
        }
    }
}

/// Calls `tick` on `store` every `every` until the store is dropped. The wiring never asks
/// for this under Lambda: a Lambda process is frozen between invocations, and requests drive
/// the refresh there.
pub fn spawn_ticker<T, F, Fut>(store: &Arc<T>, every: Duration, tick: F)
where
    T: Send + Sync + 'static,
    F: Fn(Arc<T>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    if every.is_zero() {
        return;
    }
    let me: Weak<T> = Arc::downgrade(store);
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let Some(store) = me.upgrade() else { return };
            tick(store).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_due_read_runs_once_and_the_next_waits_for_the_interval() {
        let r = Rhythm::new(Duration::from_secs(60));
        let reads = AtomicUsize::new(0);
        let read = || async {
            r.attempt();
            reads.fetch_add(1, Ordering::SeqCst);
        };
        assert!(r.due());
        r.refresh_when_due(Duration::from_secs(1), || true, read)
            .await;
        r.refresh_when_due(Duration::from_secs(1), || true, read)
            .await;
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        assert!(!r.due());
    }

    /// Runs `refresh_when_due` in a task while a read is in flight; whether it finished
    /// after the scheduler had every chance to run it (it can only be stuck on the gate).
    async fn finishes_beside_a_read_in_flight(r: &Arc<Rhythm>, usable: bool) -> bool {
        let task = {
            let r = Arc::clone(r);
            tokio::spawn(async move {
                r.refresh_when_due(Duration::from_secs(3600), move || usable, || async {})
                    .await
            })
        };
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        let finished = task.is_finished();
        task.abort();
        finished
    }

    #[tokio::test]
    async fn with_a_read_in_flight_others_go_on_or_wait_when_nothing_usable_is_held() {
        let r = Arc::new(Rhythm::new(Duration::ZERO));
        let held = r.flight().await;
        assert!(finishes_beside_a_read_in_flight(&r, true).await);
        assert!(!finishes_beside_a_read_in_flight(&r, false).await);
        drop(held);
        assert!(finishes_beside_a_read_in_flight(&r, false).await);
    }

    #[tokio::test]
    async fn a_read_that_overruns_its_limit_is_abandoned() {
        let r = Rhythm::new(Duration::ZERO);
        r.refresh_when_due(
            Duration::from_millis(10),
            || true,
            std::future::pending::<()>,
        )
        .await;
        // The gate is free again for the next read.
        assert!(r.gate.try_lock().is_ok());
    }
}
