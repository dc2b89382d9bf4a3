//! Unit tests of the deny-list decisions and of its store's refresh, with an in-memory
//! source.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

fn principal(issuer: &str, sub: &str, user: &str, client: &str, jti: &str) -> Principal {
    Principal {
        issuer: issuer.into(),
        subject: sub.into(),
        username: user.into(),
        email: None,
        groups: vec![],
        scopes: vec![],
        client_id: Some(client.into()),
        expires_at: 10_000,
        token_id: Some(jti.into()),
    }
}

fn entry(kind: DenyKind, value: &str) -> DenyEntry {
    DenyEntry {
        kind,
        value: value.into(),
        issuer: None,
        not_before: None,
        expires_at: 5_000,
        revoked_at: None,
        note: None,
    }
}

fn facts(iat: Option<u64>, origin: Option<&str>) -> TokenFacts {
    TokenFacts {
        issued_at: iat,
        origin_token_id: origin.map(str::to_owned),
    }
}

#[test]
fn a_revoked_user_loses_tokens_issued_before_not_others() {
    let alice = principal("iss", "sub-a", "alice", "c1", "j1");
    let bob = principal("iss", "sub-b", "bob", "c1", "j2");
    let list = DenyList::new(vec![DenyEntry {
        not_before: Some(1_000),
        ..entry(DenyKind::User, "alice")
    }]);
    let old = facts(Some(999), None);
    assert_eq!(list.check(&alice, &old, 1_500), Err(Revoked::User));
    assert_eq!(
        list.check(&bob, &old, 1_500),
        Ok(()),
        "other users unaffected"
    );
    assert_eq!(
        list.check(&alice, &facts(Some(1_000), None), 1_500),
        Ok(()),
        "a token issued after the revocation is accepted"
    );
    assert_eq!(
        list.check(&alice, &facts(None, None), 1_500),
        Err(Revoked::User),
        "no iat: cannot prove it is newer"
    );
    assert_eq!(list.check(&alice, &old, 5_000), Ok(()), "entry expired");
    // By sub as well as by user name.
    let by_sub = DenyList::new(vec![entry(DenyKind::User, "sub-a")]);
    assert_eq!(by_sub.check(&alice, &old, 1), Err(Revoked::User));
}

#[test]
fn tokens_by_jti_or_origin_jti_and_clients_and_issuer_scope() {
    let p = principal("iss", "s", "u", "c1", "j1");
    let list = DenyList::new(vec![entry(DenyKind::Token, "j1")]);
    assert_eq!(list.check(&p, &facts(None, None), 1), Err(Revoked::Token));
    let list = DenyList::new(vec![entry(DenyKind::Token, "origin")]);
    assert_eq!(
        list.check(&p, &facts(Some(1), Some("origin")), 1),
        Err(Revoked::Token)
    );
    assert_eq!(list.check(&p, &facts(Some(1), None), 1), Ok(()));
    let list = DenyList::new(vec![entry(DenyKind::Client, "c1")]);
    assert_eq!(list.check(&p, &facts(None, None), 1), Err(Revoked::Client));
    let other_issuer = DenyList::new(vec![DenyEntry {
        issuer: Some("other".into()),
        ..entry(DenyKind::Client, "c1")
    }]);
    assert_eq!(other_issuer.check(&p, &facts(None, None), 1), Ok(()));
    // A user name that equals a client id revokes only the user.
    let list = DenyList::new(vec![entry(DenyKind::User, "c1")]);
    assert_eq!(list.check(&p, &facts(None, None), 1), Ok(()));
}

struct Fake {
    entries: Mutex<Result<Vec<DenyEntry>, String>>,
    loads: AtomicUsize,
}

#[async_trait]
impl DenyListSource for Fake {
    fn name(&self) -> String {
        "fake".into()
    }
    async fn load(&self) -> Result<Vec<DenyEntry>, SourceError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.entries
            .lock()
            .unwrap()
            .clone()
            .map_err(SourceError::Unavailable)
    }
}

fn store(refresh_ms: u64, stale_ms: u64) -> (Arc<Fake>, DenyListStore) {
    let fake = Arc::new(Fake {
        entries: Mutex::new(Ok(vec![])),
        loads: AtomicUsize::new(0),
    });
    let store = DenyListStore::new(
        Arc::clone(&fake) as Arc<dyn DenyListSource>,
        DenyListPolicy {
            refresh_every: Duration::from_millis(refresh_ms),
            max_staleness: Duration::from_millis(stale_ms),
            read_timeout: Duration::from_secs(1),
        },
    );
    (fake, store)
}

#[tokio::test]
async fn a_revocation_shows_after_the_interval_and_not_before() {
    let p = principal("iss", "s", "alice", "c", "j");
    let f = facts(Some(1), None);
    let (fake, s) = store(100, 60_000);
    s.start().await;
    assert_eq!(s.check(&p, &f, 1).await, Ok(()));
    *fake.entries.lock().unwrap() = Ok(vec![entry(DenyKind::User, "alice")]);
    assert_eq!(s.check(&p, &f, 1).await, Ok(()), "cached for the interval");
    assert_eq!(fake.loads.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(s.check(&p, &f, 1).await, Err(Revoked::User));
    *fake.entries.lock().unwrap() = Ok(vec![]);
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(s.check(&p, &f, 1).await, Ok(()), "unrevoked");
}

#[tokio::test]
async fn per_request_mode_reads_every_time() {
    let p = principal("iss", "s", "alice", "c", "j");
    let (fake, s) = store(0, 60_000);
    s.start().await;
    *fake.entries.lock().unwrap() = Ok(vec![entry(DenyKind::Token, "j")]);
    assert_eq!(
        s.check(&p, &facts(None, None), 1).await,
        Err(Revoked::Token)
    );
    assert_eq!(fake.loads.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_unreadable_list_fails_closed_after_the_staleness_limit() {
    let p = principal("iss", "s", "alice", "c", "j");
    let f = facts(None, None);
    let (fake, s) = store(0, 150);
    *fake.entries.lock().unwrap() = Err("down".into());
    s.start().await;
    assert_eq!(
        s.check(&p, &f, 1).await,
        Err(Revoked::DenyListUnavailable),
        "never loaded"
    );
    *fake.entries.lock().unwrap() = Ok(vec![]);
    assert_eq!(s.check(&p, &f, 1).await, Ok(()));
    *fake.entries.lock().unwrap() = Err("down".into());
    assert_eq!(s.check(&p, &f, 1).await, Ok(()), "last good list");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(s.check(&p, &f, 1).await, Err(Revoked::DenyListUnavailable));
}
