//! Cognito's online revocation check (`GATEWAY_COGNITO_GET_USER`), end to end against
//! moto's Cognito: the standalone gateway asks `GetUser` with the access token, caches the
//! verdict per token for the configured window (1 s here), and refuses a token once Cognito
//! no longer stands behind it.
//!
//! What moto emulates (checked with boto3 against moto 5 before writing these tests): after
//! `global_sign_out` and `admin_user_global_sign_out` GetUser answers
//! NotAuthorizedException ("Invalid token") for every token issued before; after
//! `admin_disable_user`, NotAuthorizedException (message "username"; real Cognito says
//! "User is disabled."), and after `admin_enable_user` moto accepts the user's old tokens
//! again (real Cognito may not); after `admin_delete_user`, UserNotFoundException.
//! `revoke_token` (refresh-token revocation) is not implemented by moto (HTTP 500), so it
//! is not tested here.
//!
//! Needs `AWS_ENDPOINT_URL` and `AWS_REGION` (moto), which `make test` exports; without them
//! these tests fail, they never skip.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::gatewayctl;
use crate::support::idp::{self, Process, TestPool, tools_list};

/// Far above the 1 s verdict cache: a bound on the poll, not a timing assertion.
const LIMIT: Duration = Duration::from_secs(15);
const POLL_EVERY: Duration = Duration::from_millis(50);
const PASSWORD: &str = "Revoke-Passw0rd!";

async fn seed(users: &[&str]) -> TestPool {
    let users: Vec<(&str, &str, &[&str])> = users.iter().map(|u| (*u, PASSWORD, &[][..])).collect();
    TestPool::seed("revoke-cognito", &[], &users, false).await
}

/// The gateway with GetUser on and a 1 s verdict cache (plus `extra`).
fn gateway(pool: &TestPool, extra: &[(&str, &str)]) -> Process {
    let mut env = vec![
        ("GATEWAY_COGNITO_GET_USER", "true"),
        ("GATEWAY_COGNITO_GET_USER_CACHE_SECS", "1"),
    ];
    env.extend_from_slice(extra);
    pool.gateway(&env)
}

async fn status(gw: &Process, token: &str) -> StatusCode {
    tools_list(&gw.base, Some(token)).await.0
}

async fn until(gw: &Process, token: &str, want: StatusCode) -> Duration {
    let start = Instant::now();
    loop {
        if status(gw, token).await == want {
            return start.elapsed();
        }
        assert!(start.elapsed() < LIMIT, "still not {want} after {LIMIT:?}");
        tokio::time::sleep(POLL_EVERY).await;
    }
}

#[tokio::test]
async fn a_global_sign_out_by_the_user_or_an_admin_refuses_their_tokens() {
    let pool = seed(&["alice", "bob", "carol"]).await;
    let gw = gateway(&pool, &[]);
    let alice = pool.login("alice").await.access;
    let bob = pool.login("bob").await.access;
    let carol = pool.login("carol").await.access;
    for t in [&alice, &bob, &carol] {
        assert_eq!(status(&gw, t).await, StatusCode::OK);
    }

    pool.idp
        .global_sign_out()
        .access_token(&alice)
        .send()
        .await
        .expect("GlobalSignOut");
    let took = until(&gw, &alice, StatusCode::UNAUTHORIZED).await;
    println!("cognito GetUser (1 s cache): sign-out to first 401 took {took:?}");

    pool.idp
        .admin_user_global_sign_out()
        .user_pool_id(&pool.pool_id)
        .username("bob")
        .send()
        .await
        .expect("AdminUserGlobalSignOut");
    until(&gw, &bob, StatusCode::UNAUTHORIZED).await;
    assert_eq!(
        status(&gw, &carol).await,
        StatusCode::OK,
        "others unaffected"
    );

    // Logging in again gives a token that passes.
    let again = pool.login("alice").await.access;
    assert_eq!(status(&gw, &again).await, StatusCode::OK);
}

#[tokio::test]
async fn a_disabled_user_is_refused_and_gets_through_again_once_re_enabled() {
    let pool = seed(&["dave"]).await;
    let gw = gateway(&pool, &[]);
    let dave = pool.login("dave").await.access;
    assert_eq!(status(&gw, &dave).await, StatusCode::OK);

    pool.idp
        .admin_disable_user()
        .user_pool_id(&pool.pool_id)
        .username("dave")
        .send()
        .await
        .expect("AdminDisableUser");
    until(&gw, &dave, StatusCode::UNAUTHORIZED).await;

    pool.idp
        .admin_enable_user()
        .user_pool_id(&pool.pool_id)
        .username("dave")
        .send()
        .await
        .expect("AdminEnableUser");
    let fresh = pool.login("dave").await.access;
    assert_eq!(status(&gw, &fresh).await, StatusCode::OK);
}

#[tokio::test]
async fn a_deleted_user_is_refused() {
    let pool = seed(&["erin", "carol"]).await;
    let gw = gateway(&pool, &[]);
    let erin = pool.login("erin").await.access;
    let carol = pool.login("carol").await.access;
    assert_eq!(status(&gw, &erin).await, StatusCode::OK);

    pool.idp
        .admin_delete_user()
        .user_pool_id(&pool.pool_id)
        .username("erin")
        .send()
        .await
        .expect("AdminDeleteUser");
    until(&gw, &erin, StatusCode::UNAUTHORIZED).await;
    assert_eq!(status(&gw, &carol).await, StatusCode::OK);
}

#[tokio::test]
async fn cognito_out_of_reach_refuses_unless_failing_open_is_allowed() {
    let pool = seed(&["frank"]).await;
    let frank = pool.login("frank").await.access;
    // The JWKS still comes from moto (its URL is configured); only Cognito's API is away.
    let nowhere = format!("http://127.0.0.1:{}", idp::free_port());
    let away = [
        (
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
            nowhere.as_str(),
        ),
        ("GATEWAY_ONLINE_CHECK_TIMEOUT_MS", "500"),
    ];
    let closed = gateway(&pool, &away);
    // Refused as an outage (503: retry later), not as a bad token a client would discard.
    assert_eq!(
        status(&closed, &frank).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // Failing open lets the token through, and its audit record says it went unchecked.
    let audit_table = format!("revocation-audit-{}", uuid::Uuid::new_v4().simple());
    gatewayctl::ctl(&["audit", "--audit-table", &audit_table, "table", "create"]).ok();
    let mut open_env = away.to_vec();
    open_env.push(("GATEWAY_COGNITO_GET_USER_FAIL_OPEN", "true"));
    open_env.push(("GATEWAY_AUDIT_TABLE", &audit_table));
    let open = gateway(&pool, &open_env);
    assert_eq!(status(&open, &frank).await, StatusCode::OK);
    // Another method on /mcp is refused after the same check, and says so too.
    let get = idp::http()
        .get(format!("{}/mcp", open.base))
        .bearer_auth(&frank)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    let records = gatewayctl::ctl(&[
        "audit",
        "--audit-table",
        &audit_table,
        "--json",
        "query",
        "--user",
        "frank",
    ])
    .ok();
    let records: Vec<serde_json::Value> = records
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "{records:?}");
    let allowed: Vec<_> = records
        .iter()
        .filter(|r| r["decision"] == "allow")
        .collect();
    assert_eq!(allowed.len(), 1, "{records:?}");
    assert!(
        records
            .iter()
            .any(|r| r["status"] == 405 && r["reason"] == "MethodNotAllowed"),
        "{records:?}"
    );
    assert!(
        records.iter().all(|r| r["revocationUnchecked"] == true),
        "{records:?}"
    );
}
