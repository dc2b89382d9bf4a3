//! One reloading store: a value read whole from a source and re-read every interval, the
//! shape the policy snapshot, the deny-list, the registered clients, the JWKS key store and
//! the identity-key secret share. [`Reloading`] owns the value held and when the read that
//! produced it started, the last attempt, the gate that keeps reads one at a time, when a
//! read is due, whether what is held is too old to use, and the bound on one read; each
//! store keeps only what its source and its callers need (what to read, what to log, what
//! a refusal is called).
//!
//! The rules, in one place:
//! - a read is due once the interval has passed since the last attempt, good or bad, so an
//!   outage costs one bounded attempt per interval, not one per request;
//! - a failed read (an error, or the bound running out) keeps the last good value;
//! - a value is as old as the read that produced it, counted from when that read started
//!   (it may be older than when the read ended, never younger); past the caller's staleness
//!   limit it is refused, so what depends on it fails closed;
//! - reads that overlap (a store that reads on every request) never let an older read
//!   replace a newer one;
//! - where the wiring asks for it (a standalone server, never Lambda) a background tick
//!   keeps the store fresh; elsewhere requests drive the refresh.
//!
//! What stays in a store: the deny-list's per-request mode (an interval of zero reads on
//! every request, ungated); the registered clients' changes made between reads; the key
//! store's age-based refresh in the background and its separately rate-limited refetch on
//! an unknown `kid` (a different question: "is a key missing?", not "is the set due?"); the
//! secret's key rotation bookkeeping. Those are each one store's semantics, not the shape.

use std::future::Future;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use tokio::sync::OwnedMutexGuard;

/// Beyond a read's own time-out, how long a request waits for a read in flight (so the
/// outer bound never cuts short a read that bounds itself).
pub const READ_MARGIN: Duration = Duration::from_millis(500);

/// A read that ran out of time; counted as a failed read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("read timed out")]
pub struct TimedOut;

/// Why nothing held can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// No read ever succeeded.
    Never,
    /// The last good value is this old, over the limit.
    Stale(Duration),
}

/// The right to read, one at a time; the gate opens again when it is dropped (a task
/// cancelled mid-read included).
pub struct Flight {
    _gate: OwnedMutexGuard<()>,
}

/// What the store reads the time from: the real clock, or a test's.
type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// A value held, and when the read that produced it started (`None`: no read did, it was
/// changed here before the first one).
struct Held<T> {
    value: Arc<T>,
    at: Option<Instant>,
}

/// The value of a store read whole from a source, with its refresh rhythm.
pub struct Reloading<T> {
    every: Duration,
    read_timeout: Option<Duration>,
    held: RwLock<Option<Held<T>>>,
    last_attempt: RwLock<Option<Instant>>,
    gate: Arc<tokio::sync::Mutex<()>>,
    clock: Clock,
}

impl<T> Reloading<T> {
    /// Nothing held yet; a read is due at once.
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            read_timeout: None,
            held: RwLock::new(None),
            last_attempt: RwLock::new(None),
            gate: Arc::new(tokio::sync::Mutex::new(())),
            clock: Arc::new(Instant::now),
        }
    }

    /// Holding `value`, read just now by the caller (a start-up read that must succeed);
    /// the next read is due after the interval.
    pub fn loaded(every: Duration, value: T) -> Self {
        let store = Self::new(every);
        let now = (store.clock)();
        *store.last_attempt.write().expect("reload lock") = Some(now);
        *store.held.write().expect("reload lock") = Some(Held {
            value: Arc::new(value),
            at: Some(now),
        });
        store
    }

    /// Every read is abandoned after `read_timeout`, and counts as failed.
    pub fn bounded(mut self, read_timeout: Duration) -> Self {
        self.read_timeout = Some(read_timeout);
        self
    }

    #[cfg(test)]
    pub(crate) fn with_clock(
        mut self,
        clock: impl Fn() -> Instant + Send + Sync + 'static,
    ) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub fn every(&self) -> Duration {
        self.every
    }

    /// What is held, however old.
    pub fn get(&self) -> Option<Arc<T>> {
        let held = self.held.read().expect("reload lock");
        held.as_ref().map(|h| Arc::clone(&h.value))
    }

    /// How old what is held is: since the read that produced it started.
    pub fn age(&self) -> Option<Duration> {
        let at = self.held.read().expect("reload lock").as_ref()?.at?;
        Some((self.clock)().saturating_duration_since(at))
    }

    /// What is held, unless it is older than `max_staleness` (`Duration::MAX`: never too old).
    pub fn fresh(&self, max_staleness: Duration) -> Result<Arc<T>, Unusable> {
        let held = self.held.read().expect("reload lock");
        let held = held.as_ref().ok_or(Unusable::Never)?;
        match held
            .at
            .map(|at| (self.clock)().saturating_duration_since(at))
        {
            Some(age) if age > max_staleness => Err(Unusable::Stale(age)),
            _ => Ok(Arc::clone(&held.value)),
        }
    }

    /// Whether no read was attempted yet, or the interval has passed since the last one.
    pub fn due(&self) -> bool {
        let now = (self.clock)();
        self.last_attempt
            .read()
            .expect("reload lock")
            .is_none_or(|t| now.saturating_duration_since(t) >= self.every)
    }

    /// A change made here between reads (`change` answers `None` for no change); what it
    /// holds stays as old as the read it came from.
    pub fn update(&self, change: impl FnOnce(Option<&T>) -> Option<T>) {
        let mut held = self.held.write().expect("reload lock");
        if let Some(value) = change(held.as_ref().map(|h| &*h.value)) {
            let at = held.as_ref().and_then(|h| h.at);
            *held = Some(Held {
                value: Arc::new(value),
                at,
            });
        }
    }

    /// The right to read, waiting for a read in flight to end first.
    pub async fn flight(&self) -> Flight {
        Flight {
            _gate: Arc::clone(&self.gate).lock_owned().await,
        }
    }

    /// The right to read, unless a read is in flight (for a read in a task of its own).
    pub fn try_flight(&self) -> Option<Flight> {
        let gate = Arc::clone(&self.gate).try_lock_owned().ok()?;
        Some(Flight { _gate: gate })
    }

    /// Reads now (the caller holds a [`Flight`], or reads may overlap), replacing what is
    /// held on success; on failure what is held stays. What is held after a success.
    pub async fn reload<E: From<TimedOut>>(
        &self,
        read: impl Future<Output = Result<T, E>>,
    ) -> Result<Arc<T>, E> {
        self.reload_with(read, |_, value, _| value).await
    }

    /// [`Self::reload`], building the value from what was read, what is held and when the
    /// read started. `install` runs under the store's lock: nothing changes the value
    /// between it and the swap.
    pub async fn reload_with<R, E: From<TimedOut>>(
        &self,
        read: impl Future<Output = Result<R, E>>,
        install: impl FnOnce(Option<&T>, R, Instant) -> T,
    ) -> Result<Arc<T>, E> {
        let started = (self.clock)();
        *self.last_attempt.write().expect("reload lock") = Some(started);
        let read = match self.read_timeout {
            Some(limit) => tokio::time::timeout(limit, read)
                .await
                .unwrap_or_else(|_| Err(TimedOut.into())),
            None => read.await,
        }?;
        let mut held = self.held.write().expect("reload lock");
        // Reads may overlap: an older read never replaces a newer.
        if let Some(h) = held
            .as_ref()
            .filter(|h| h.at.is_some_and(|at| at > started))
        {
            return Ok(Arc::clone(&h.value));
        }
        let value = Arc::new(install(held.as_ref().map(|h| &*h.value), read, started));
        *held = Some(Held {
            value: Arc::clone(&value),
            at: Some(started),
        });
        Ok(value)
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

/// Calls `tick` on `store` every `every` (the first time at once) until the store is
/// dropped. The wiring never asks for this under Lambda: a Lambda process is frozen between
/// invocations, and requests drive the refresh there.
pub fn spawn_ticker<S, F, Fut>(store: &Arc<S>, every: Duration, tick: F)
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    if every.is_zero() {
        return;
    }
    let me: Weak<S> = Arc::downgrade(store);
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
mod tests;
