//! The deny-list, end to end: the standalone gateway (spawned on 127.0.0.1) reads its
//! policies and its deny-list from a table in moto's DynamoDB, created and written by the
//! real `gatewayctl` binary (`table create`, `revoke`, `unrevoke`), and decides on real
//! Cognito access tokens from moto's Cognito, over real HTTP, with the default settings
//! (the deny-list is on because a policy table is set; refreshed every second).
//!
//! A revocation must show within the refresh interval; the tests poll for it with a
//! generous bound (a bound on a poll, not a timing assertion) and print how long it took.
//!
//! Needs `AWS_ENDPOINT_URL` and `AWS_REGION` (moto), which `make test` exports; without them
//! these tests fail, they never skip.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::gatewayctl;
use crate::support::idp::{self, Process, TestPool, jwt_claims, tools_list};

/// Far above the 1 s default refresh: a bound on the poll, not a timing assertion.
const LIMIT: Duration = Duration::from_secs(15);
const POLL_EVERY: Duration = Duration::from_millis(50);

const USERS: [(&str, &str, &[&str]); 2] = [
    ("alice", "Alice-Passw0rd!", &["engineering"]),
    ("carol", "Carol-Passw0rd!", &[]),
];

struct Setup {
    pool: TestPool,
    table: String,
    gateway: Process,
}

/// A fresh pool, a fresh table made by `gatewayctl table create`, and a gateway reading it
/// with default revocation settings.
async fn setup(tag: &str) -> Setup {
    let pool = TestPool::seed(tag, &[], &USERS, false).await;
    let table = gatewayctl::new_table(tag);
    let gateway = pool.gateway(&[("GATEWAY_POLICY_TABLE", table.as_str())]);
    Setup {
        pool,
        table,
        gateway,
    }
}

impl Setup {
    fn ctl(&self, args: &[&str]) -> gatewayctl::Run {
        let mut all = vec!["--table", self.table.as_str()];
        all.extend_from_slice(args);
        gatewayctl::ctl(&all).ok()
    }

    async fn status(&self, token: &str) -> StatusCode {
        tools_list(&self.gateway.base, Some(token)).await.0
    }

    /// Polls until `token` gets `want`; how long that took.
    async fn until(&self, token: &str, want: StatusCode) -> Duration {
        let start = Instant::now();
        loop {
            if self.status(token).await == want {
                return start.elapsed();
            }
            assert!(start.elapsed() < LIMIT, "still not {want} after {LIMIT:?}");
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
}

#[tokio::test]
async fn revoking_a_user_refuses_all_their_tokens_within_the_window_and_unrevoke_restores() {
    let s = setup("revoke-user").await;
    let alice1 = s.pool.login("alice").await.access;
    let alice2 = s.pool.login("alice").await.access;
    let carol = s.pool.login("carol").await.access;
    for t in [&alice1, &alice2, &carol] {
        // Also puts them in the gateway's verified-token cache.
        assert_eq!(s.status(t).await, StatusCode::OK);
    }

    s.ctl(&["revoke", "user", "alice", "--note", "left the company"]);
    let took = s.until(&alice1, StatusCode::UNAUTHORIZED).await;
    println!("deny-list, default settings: revocation to first 401 took {took:?}");
    let (_, headers, _) = tools_list(&s.gateway.base, Some(&alice2)).await;
    assert!(
        idp::challenge(&headers).contains(r#"error="invalid_token""#),
        "a revoked token is an invalid token"
    );
    assert_eq!(s.status(&alice2).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        s.status(&carol).await,
        StatusCode::OK,
        "other users unaffected"
    );

    // A login after the revocation (iat has whole seconds: wait for the next one) passes.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let fresh = s.pool.login("alice").await.access;
    assert_eq!(s.status(&fresh).await, StatusCode::OK);

    let listed = gatewayctl::ctl(&["--table", &s.table, "--json", "revocations"])
        .ok()
        .json();
    assert_eq!(listed[0]["kind"], "user");
    assert_eq!(listed[0]["value"], "alice");
    assert!(listed[0]["expiresAt"].as_u64().unwrap() > listed[0]["notBefore"].as_u64().unwrap());

    s.ctl(&["unrevoke", "user", "alice"]);
    s.until(&alice1, StatusCode::OK).await;
    assert_eq!(s.status(&alice2).await, StatusCode::OK);
    gatewayctl::ctl(&["--table", &s.table, "unrevoke", "user", "alice"])
        .fails_with("no revocation");
}

#[tokio::test]
async fn revoking_one_token_by_jti_or_origin_jti_leaves_the_others() {
    let s = setup("revoke-token").await;
    let first = s.pool.login("alice").await.access;
    let second = s.pool.login("alice").await.access;
    let third = s.pool.login("alice").await.access;
    for t in [&first, &second, &third] {
        assert_eq!(s.status(t).await, StatusCode::OK);
    }
    let jti = jwt_claims(&first)["jti"].as_str().unwrap().to_owned();
    s.ctl(&["revoke", "token", &jti]);
    s.until(&first, StatusCode::UNAUTHORIZED).await;
    assert_eq!(s.status(&second).await, StatusCode::OK);

    let origin = jwt_claims(&second)["origin_jti"]
        .as_str()
        .expect("moto's access tokens carry origin_jti")
        .to_owned();
    s.ctl(&["revoke", "token", &origin]);
    s.until(&second, StatusCode::UNAUTHORIZED).await;
    assert_eq!(s.status(&third).await, StatusCode::OK);

    s.ctl(&["unrevoke", "token", &jti]);
    s.until(&first, StatusCode::OK).await;
}

#[tokio::test]
async fn revoking_an_app_client_refuses_its_tokens_and_an_issuer_scope_is_respected() {
    let s = setup("revoke-client").await;
    let alice = s.pool.login("alice").await.access;
    let carol = s.pool.login("carol").await.access;
    assert_eq!(s.status(&alice).await, StatusCode::OK);

    // Limited to another issuer: these tokens are not concerned.
    s.ctl(&[
        "revoke",
        "client",
        &s.pool.client_id,
        "--issuer",
        "https://idp.example.com",
    ]);
    // And a user revocation for an issuer that is this pool's.
    s.ctl(&["revoke", "user", "carol", "--issuer", &s.pool.issuer()]);
    s.until(&carol, StatusCode::UNAUTHORIZED).await;
    assert_eq!(s.status(&alice).await, StatusCode::OK);

    s.ctl(&["revoke", "client", &s.pool.client_id]);
    s.until(&alice, StatusCode::UNAUTHORIZED).await;
    s.ctl(&["unrevoke", "client", &s.pool.client_id]);
    s.until(&alice, StatusCode::OK).await;
}

#[tokio::test]
async fn the_deny_list_can_be_read_on_every_request() {
    let pool = TestPool::seed("revoke-per-request", &[], &USERS, false).await;
    let table = gatewayctl::new_table("revoke-per-request");
    let gateway = pool.gateway(&[
        ("GATEWAY_POLICY_TABLE", table.as_str()),
        ("GATEWAY_REVOCATION_REFRESH_MS", "0"),
    ]);
    let alice = pool.login("alice").await.access;
    assert_eq!(
        tools_list(&gateway.base, Some(&alice)).await.0,
        StatusCode::OK
    );
    gatewayctl::ctl(&["--table", &table, "revoke", "user", "alice"]).ok();
    // Read per request: the very next request sees it.
    assert_eq!(
        tools_list(&gateway.base, Some(&alice)).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_unreadable_deny_list_refuses_good_tokens_as_an_outage() {
    let pool = TestPool::seed("revoke-outage", &[], &USERS, false).await;
    let missing = gatewayctl::fresh_table("revoke-outage");
    let gateway = pool.gateway(&[
        ("GATEWAY_POLICY_TABLE", missing.as_str()),
        ("RUST_LOG", "off"),
    ]);
    let alice = pool.login("alice").await.access;
    let (status, _, body) = tools_list(&gateway.base, Some(&alice)).await;
    // Fail closed, as an outage: 503 (retry later), never the tools.
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.get("result").is_none(), "{body}");
    assert!(
        !body.to_string().contains(&missing),
        "no table name in the answer: {body}"
    );
    // A bad token is still a bad token.
    let (status, _, _) = tools_list(&gateway.base, Some("e30.e30.c2ln")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
