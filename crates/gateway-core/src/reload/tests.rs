//! Unit tests of the reloading store: due-ness, one read at a time, the last good value,
//! staleness and the bound on a read. Time is a clock the test moves, never a real sleep.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::source::SourceError;

/// A clock that moves only when the test says so.
#[derive(Clone)]
struct TestClock(Arc<Mutex<Instant>>);

impl TestClock {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(Instant::now())))
    }
    fn now(&self) -> Instant {
        *self.0.lock().unwrap()
    }
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

fn store(every: Duration, clock: &TestClock) -> Reloading<u32> {
    let clock = clock.clone();
    Reloading::new(every).with_clock(move || clock.now())
}

async fn good(v: u32) -> Result<u32, SourceError> {
    Ok(v)
}

async fn bad() -> Result<u32, SourceError> {
    Err(SourceError::Unavailable("down".to_owned()))
}

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_read_is_due_once_the_interval_has_passed_since_the_last_attempt_good_or_bad() {
    let clock = TestClock::new();
    let s = store(MINUTE, &clock);
    assert!(s.due(), "never read");
    s.reload(good(1)).await.unwrap();
    assert!(!s.due());
    clock.advance(Duration::from_secs(59));
    assert!(!s.due());
    clock.advance(Duration::from_secs(1));
    assert!(s.due());
    assert!(s.reload(bad()).await.is_err());
    assert!(!s.due(), "a failed read counts as an attempt");
    clock.advance(MINUTE);
    assert!(s.due());
}

#[tokio::test]
async fn a_due_read_runs_once_and_the_next_waits_for_the_interval() {
    let r = Reloading::<u32>::new(MINUTE);
    let reads = AtomicUsize::new(0);
    let read = || async {
        let _ = r
            .reload(async {
                reads.fetch_add(1, Ordering::SeqCst);
                Ok::<_, SourceError>(1)
            })
            .await;
    };
    assert!(r.due());
    r.refresh_when_due(Duration::from_secs(1), || true, read)
        .await;
    r.refresh_when_due(Duration::from_secs(1), || true, read)
        .await;
    assert_eq!(reads.load(Ordering::SeqCst), 1);
    assert!(!r.due());
}

#[tokio::test]
async fn concurrent_requests_share_one_due_read() {
    let r = Arc::new(Reloading::<u32>::new(MINUTE));
    let reads = Arc::new(AtomicUsize::new(0));
    let (open, opened) = tokio::sync::watch::channel(false);
    let callers: Vec<_> = (0..10)
        .map(|_| {
            let (r, reads, opened) = (Arc::clone(&r), Arc::clone(&reads), opened.clone());
            tokio::spawn(async move {
                let read = || async {
                    let _ = r
                        .reload(async {
                            reads.fetch_add(1, Ordering::SeqCst);
                            // Held open until every caller has had its chance.
                            let _ = opened.clone().wait_for(|o| *o).await;
                            Ok::<_, SourceError>(1)
                        })
                        .await;
                };
                r.refresh_when_due(Duration::from_secs(3600), || false, read)
                    .await;
            })
        })
        .collect();
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    open.send(true).unwrap();
    for c in callers {
        c.await.unwrap();
    }
    assert_eq!(reads.load(Ordering::SeqCst), 1);
    assert_eq!(r.get().as_deref(), Some(&1));
}

#[tokio::test]
async fn reads_under_the_gate_never_overlap() {
    let r = Arc::new(Reloading::<u32>::new(Duration::ZERO));
    let (in_flight, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let readers: Vec<_> = (0..5)
        .map(|i| {
            let (r, in_flight, most) = (Arc::clone(&r), Arc::clone(&in_flight), Arc::clone(&most));
            tokio::spawn(async move {
                let _flight = r.flight().await;
                r.reload(async {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    for _ in 0..5 {
                        tokio::task::yield_now().await;
                    }
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    Ok::<_, SourceError>(i)
                })
                .await
                .unwrap();
            })
        })
        .collect();
    for reader in readers {
        reader.await.unwrap();
    }
    assert_eq!(most.load(Ordering::SeqCst), 1);
    assert!(r.try_flight().is_some(), "the gate is free again");
}

/// Runs `refresh_when_due` in a task while a read is in flight; whether it finished
/// after the scheduler had every chance to run it (it can only be stuck on the gate).
async fn finishes_beside_a_read_in_flight(r: &Arc<Reloading<()>>, usable: bool) -> bool {
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
    let r = Arc::new(Reloading::new(Duration::ZERO));
    let held = r.flight().await;
    assert!(r.try_flight().is_none());
    assert!(finishes_beside_a_read_in_flight(&r, true).await);
    assert!(!finishes_beside_a_read_in_flight(&r, false).await);
    drop(held);
    assert!(finishes_beside_a_read_in_flight(&r, false).await);
}

#[tokio::test]
async fn a_failed_read_keeps_the_last_good_value_and_its_age() {
    let clock = TestClock::new();
    let s = store(Duration::ZERO, &clock);
    assert_eq!(
        s.reload(bad()).await,
        Err(SourceError::Unavailable("down".to_owned()))
    );
    assert!(s.get().is_none());
    s.reload(good(1)).await.unwrap();
    clock.advance(Duration::from_secs(5));
    assert!(s.reload(bad()).await.is_err());
    assert_eq!(s.get().as_deref(), Some(&1));
    assert_eq!(s.age(), Some(Duration::from_secs(5)));
}

#[tokio::test]
async fn past_the_staleness_limit_what_is_held_is_refused() {
    let clock = TestClock::new();
    let s = store(Duration::ZERO, &clock);
    assert_eq!(s.fresh(MINUTE).unwrap_err(), Unusable::Never);
    s.reload(good(1)).await.unwrap();
    clock.advance(MINUTE);
    assert_eq!(s.fresh(MINUTE).as_deref(), Ok(&1), "at the limit");
    clock.advance(Duration::from_secs(1));
    assert!(s.reload(bad()).await.is_err());
    assert_eq!(
        s.fresh(MINUTE).unwrap_err(),
        Unusable::Stale(Duration::from_secs(61))
    );
    assert_eq!(s.fresh(Duration::MAX).as_deref(), Ok(&1), "no limit");
    s.reload(good(2)).await.unwrap();
    assert_eq!(s.fresh(MINUTE).as_deref(), Ok(&2), "recovers");
}

#[tokio::test]
async fn a_read_that_hangs_times_out_as_a_failure() {
    let clock = TestClock::new();
    let s = store(MINUTE, &clock).bounded(Duration::from_millis(10));
    s.reload(good(1)).await.unwrap();
    clock.advance(MINUTE);
    let hang = std::future::pending::<Result<u32, SourceError>>();
    assert_eq!(s.reload(hang).await, Err(SourceError::TimedOut));
    assert_eq!(s.get().as_deref(), Some(&1), "last good value");
    assert!(!s.due(), "an attempt");
}

#[tokio::test]
async fn a_request_driven_read_that_overruns_its_limit_is_abandoned() {
    let r = Reloading::<()>::new(Duration::ZERO);
    r.refresh_when_due(
        Duration::from_millis(10),
        || true,
        std::future::pending::<()>,
    )
    .await;
    assert!(
        r.try_flight().is_some(),
        "the gate is free for the next read"
    );
}

#[tokio::test]
async fn an_older_read_never_replaces_a_newer_one() {
    let clock = TestClock::new();
    let s = store(Duration::ZERO, &clock);
    let (finish, finished) = tokio::sync::oneshot::channel::<()>();
    let older = s.reload(async {
        let _ = finished.await;
        Ok::<_, SourceError>(1)
    });
    let newer = async {
        clock.advance(Duration::from_secs(1));
        let newer = s.reload(good(2)).await;
        let _ = finish.send(());
        newer
    };
    let (older, newer) = tokio::join!(older, newer);
    assert_eq!((older.as_deref(), newer.as_deref()), (Ok(&2), Ok(&2)));
    assert_eq!(s.get().as_deref(), Some(&2));
}

#[tokio::test]
async fn a_change_between_reads_keeps_the_age_of_the_read_and_install_sees_it() {
    let clock = TestClock::new();
    let s = store(Duration::ZERO, &clock);
    s.update(|v| Some(v.copied().unwrap_or(0) + 10));
    assert_eq!((s.get().as_deref(), s.age()), (Some(&10), None));
    s.reload(good(1)).await.unwrap();
    clock.advance(Duration::from_secs(3));
    s.update(|_| None);
    s.update(|v| v.map(|v| v + 1));
    assert_eq!(s.get().as_deref(), Some(&2));
    assert_eq!(s.age(), Some(Duration::from_secs(3)));
    let summed = s.reload_with(good(5), |held, read, _| held.unwrap() + read);
    assert_eq!(summed.await.as_deref(), Ok(&7));
}

#[test]
fn a_loaded_store_holds_its_value_and_is_not_due() {
    let s = Reloading::loaded(MINUTE, 1u32);
    assert_eq!(s.fresh(MINUTE).as_deref(), Ok(&1));
    assert!(!s.due());
}
