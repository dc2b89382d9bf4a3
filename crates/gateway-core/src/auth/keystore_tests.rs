//! Unit tests of the key store: refresh, unknown-kid refetch limits, back-off, single flight, discovery.

use super::*;
use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

/// An in-memory fetcher: serves what the test sets, counts hits, can be slow.
struct Fake {
    docs: Mutex<HashMap<String, Result<Vec<u8>, String>>>,
    hits: AtomicUsize,
    delay: Duration,
}

use std::collections::HashMap;

#[async_trait]
impl JwksFetcher for Fake {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        self.hits.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        let docs = self.docs.lock().unwrap();
        match docs.get(url) {
            Some(Ok(b)) => Ok(b.clone()),
            Some(Err(e)) => Err(FetchError(e.clone())),
            None => Err(FetchError("404".into())),
        }
    }
}

const JWKS: &str = "https://idp.example/jwks";

fn jwks(kids: &[&str]) -> Vec<u8> {
    let pem = include_bytes!("../../../../tests/fixtures/keys/ed25519.pem");
    let key = jsonwebtoken::EncodingKey::from_ed_pem(pem).unwrap();
    let jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::EdDSA).unwrap();
    let keys: Vec<serde_json::Value> = kids
        .iter()
        .map(|kid| {
            let mut v = serde_json::to_value(&jwk).unwrap();
            v["kid"] = (*kid).into();
            v
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "keys": keys })).unwrap()
}

fn store(fake: &Arc<Fake>, policy: RefreshPolicy) -> Arc<KeyStore> {
    let fetcher: Arc<dyn JwksFetcher> = Arc::clone(fake) as Arc<dyn JwksFetcher>;
    Arc::new(KeyStore::new(
        "https://idp.example".into(),
        KeySource::Jwks(JWKS.into()),
        fetcher,
        policy,
    ))
}

fn fake(doc: Result<Vec<u8>, String>, delay_ms: u64) -> Arc<Fake> {
    Arc::new(Fake {
        docs: Mutex::new(HashMap::from([(JWKS.to_owned(), doc)])),
        hits: AtomicUsize::new(0),
        delay: Duration::from_millis(delay_ms),
    })
}

fn serve(fake: &Fake, doc: Result<Vec<u8>, String>) {
    fake.docs.lock().unwrap().insert(JWKS.into(), doc);
}

fn hits(fake: &Fake) -> usize {
    fake.hits.load(Ordering::SeqCst)
}

#[tokio::test]
async fn concurrent_unknown_kids_share_one_fetch() {
    let f = fake(Ok(jwks(&["a"])), 20);
    let s = store(&f, RefreshPolicy::default());
    s.refresh().await.unwrap();
    serve(&f, Ok(jwks(&["a", "b"])));
    let calls = (0..20).map(|_| {
        let s = Arc::clone(&s);
        tokio::spawn(async move { s.key("b").await })
    });
    for c in calls {
        assert_eq!(c.await.unwrap().unwrap().kid, "b");
    }
    assert_eq!(hits(&f), 2, "start-up load plus one refetch");
}

#[tokio::test]
async fn unknown_kids_refetch_at_most_once_per_interval() {
    let f = fake(Ok(jwks(&["a"])), 0);
    let s = store(&f, RefreshPolicy::default());
    s.refresh().await.unwrap();
    assert_eq!(
        s.key("x").await.unwrap_err(),
        AuthError::UnknownKid("https://idp.example".into())
    );
    assert_eq!(
        s.key("y").await.unwrap_err(),
        AuthError::UnknownKid("https://idp.example".into())
    );
    assert_eq!(
        hits(&f),
        2,
        "the second unknown kid waited for the interval"
    );
    let eager = store(
        &f,
        RefreshPolicy {
            min_refetch_interval: Duration::ZERO,
            ..RefreshPolicy::default()
        },
    );
    eager.refresh().await.unwrap();
    let _ = eager.key("x").await;
    let _ = eager.key("y").await;
    assert_eq!(hits(&f), 5);
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_last_good_set() {
    let f = fake(Ok(jwks(&["a"])), 0);
    let s = store(&f, RefreshPolicy::default());
    s.refresh().await.unwrap();
    serve(&f, Err("503".into()));
    assert!(s.refresh().await.is_err());
    assert_eq!(s.key("a").await.unwrap().kid, "a");
    // A set with no usable key is a failed refresh too.
    serve(
        &f,
        Ok(br#"{"keys":[{"kty":"oct","kid":"h","k":"AA"}]}"#.to_vec()),
    );
    assert!(s.refresh().await.is_err());
    assert_eq!(s.key("a").await.unwrap().kid, "a");
}

#[tokio::test]
async fn an_issuer_whose_keys_never_loaded_fails_closed_then_recovers() {
    let f = fake(Err("connection refused".into()), 0);
    let s = store(
        &f,
        RefreshPolicy {
            min_refetch_interval: Duration::ZERO,
            ..RefreshPolicy::default()
        },
    );
    assert!(s.refresh().await.is_err());
    assert_eq!(
        s.key("a").await.unwrap_err(),
        AuthError::NoKeys("https://idp.example".into())
    );
    serve(&f, Ok(jwks(&["a"])));
    assert_eq!(s.key("a").await.unwrap().kid, "a");
}

#[tokio::test]
async fn an_old_set_is_refreshed_in_the_background_once() {
    let f = fake(Ok(jwks(&["a"])), 20);
    let s = store(
        &f,
        RefreshPolicy {
            max_age: Duration::ZERO,
            min_refetch_interval: Duration::from_millis(50),
        },
    );
    s.refresh().await.unwrap();
    serve(&f, Ok(jwks(&["a", "b"])));
    tokio::time::sleep(Duration::from_millis(60)).await;
    for _ in 0..10 {
        assert_eq!(s.key("a").await.unwrap().kid, "a");
    }
    tokio::time::sleep(Duration::from_millis(40)).await;
    assert_eq!(hits(&f), 2, "one background refresh for ten requests");
    assert!(s.keys().get("b").is_some());
}

#[tokio::test]
async fn a_failing_background_refresh_backs_off() {
    let f = fake(Ok(jwks(&["a"])), 0);
    let s = store(
        &f,
        RefreshPolicy {
            max_age: Duration::ZERO,
            ..RefreshPolicy::default()
        },
    );
    s.refresh().await.unwrap();
    serve(&f, Err("503".into()));
    for _ in 0..10 {
        assert_eq!(s.key("a").await.unwrap().kid, "a");
        tokio::task::yield_now().await;
    }
    assert_eq!(
        hits(&f),
        1,
        "no refetch within the interval after the last attempt"
    );
}

#[tokio::test]
async fn discovery_must_name_the_issuer_and_a_safe_jwks_uri() {
    let disco = "https://idp.example/.well-known/openid-configuration";
    let f = fake(Ok(jwks(&["a"])), 0);
    let s = Arc::new(KeyStore::new(
        "https://idp.example".into(),
        KeySource::Discovery(disco.into()),
        Arc::clone(&f) as Arc<dyn JwksFetcher>,
        RefreshPolicy::default(),
    ));
    let doc = |iss: &str, jwks: &str| {
        Ok(serde_json::json!({"issuer": iss, "jwks_uri": jwks})
            .to_string()
            .into_bytes())
    };
    f.docs
        .lock()
        .unwrap()
        .insert(disco.into(), doc("https://evil.example", JWKS));
    assert!(s.refresh().await.unwrap_err().0.contains("another issuer"));
    f.docs.lock().unwrap().insert(
        disco.into(),
        doc("https://idp.example", "http://evil.example/jwks"),
    );
    assert!(s.refresh().await.unwrap_err().0.contains("https"));
    f.docs
        .lock()
        .unwrap()
        .insert(disco.into(), doc("https://idp.example", JWKS));
    assert_eq!(s.refresh().await.unwrap(), 1);
}
