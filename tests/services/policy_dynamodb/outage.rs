//! Failing closed on the policy store: a DynamoDB outage mid-run (last good snapshot, then
//! refusal, then recovery) and start-up without a readable table.

use std::time::Instant;

use reqwest::StatusCode;
use serde_json::json;

use super::mcp::{assert_ran, assert_unavailable, await_list, call, initialize, list, listed};
use super::table::{Table, dynamodb, policy, policy_gateway, seed_pool, tools};
use super::targets::{EchoTarget, PrivateMoto};
use super::{OUTAGE_LIMIT, POLL_EVERY};
use crate::support::idp::free_port;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dynamodb_outage_serves_the_last_good_snapshot_then_refuses_then_recovers() {
    let cognito = seed_pool(&[("erin", &["engineering"])]).await;
    let target = EchoTarget::start().await;
    let mut moto = PrivateMoto::start().await;
    let policies = [policy("engineering", &["echo", "eng_build"], &[])];
    let catalog = tools(&["echo", "eng_build", "ops_restart"], &target.base);
    let table = Table::create(dynamodb(Some(&moto.url)).await).await;
    table.seed(&policies, &catalog).await;
    // The shared moto has no such table: a gateway that ignored the DynamoDB-only endpoint
    // would find nothing to load.
    let shared = dynamodb(None).await;
    assert!(
        shared
            .describe_table()
            .table_name(&table.name)
            .send()
            .await
            .is_err(),
        "the table should exist only in the private moto"
    );
    // DynamoDB at the private moto only; Cognito's JWKS stays on the shared one.
    let gateway = policy_gateway(
        &cognito,
        &table.name,
        &[
            ("AWS_ENDPOINT_URL_DYNAMODB", moto.url.as_str()),
            ("GATEWAY_POLICY_REFRESH_SECS", "1"),
            ("GATEWAY_POLICY_MAX_STALENESS_SECS", "3"),
            // Refused reads are expected here; the assertions say what went wrong.
            ("RUST_LOG", "off"),
        ],
    );
    let erin = cognito.login("erin").await.access;
    let base = gateway.base.as_str();

    let first = list(base, &erin).await;
    assert_eq!(
        first.status,
        StatusCode::OK,
        "the gateway did not load its policies from the private moto at {} \
         (is AWS_ENDPOINT_URL_DYNAMODB honoured?): {first:?}",
        moto.url
    );
    assert_eq!(listed(&first), ["echo", "eng_build"]);
    assert_ran(&call(base, &erin, json!(0), "echo").await, "echo");

    moto.kill();

    // Right after the outage starts: the last good snapshot.
    assert_eq!(
        listed(&list(base, &erin).await),
        ["echo", "eng_build"],
        "the last good snapshot should be served within the staleness limit"
    );

    // Then, within a bounded wait, refused: never allowed because of an error.
    let deadline = Instant::now() + OUTAGE_LIMIT;
    let mut n = 0;
    let mut refused_once = false;
    let calls_at_refusal = loop {
        n += 1;
        let id = json!(format!("outage-{n}"));
        let called = call(base, &erin, id.clone(), "echo").await;
        let listing = list(base, &erin).await;
        for (what, reply) in [("tools/call", &called), ("tools/list", &listing)] {
            assert!(
                reply.status == StatusCode::OK || reply.status == StatusCode::SERVICE_UNAVAILABLE,
                "{what} during the outage: {reply:?}"
            );
        }
        if called.status == StatusCode::OK {
            // Past the limit the snapshot only ages: one refusal means refusals from then on.
            assert!(
                !refused_once,
                "tools/call allowed after the gateway had refused as stale: {called:?}"
            );
            assert_ran(&called, "echo");
        }
        refused_once |= called.status == StatusCode::SERVICE_UNAVAILABLE
            || listing.status == StatusCode::SERVICE_UNAVAILABLE;
        if called.status == StatusCode::SERVICE_UNAVAILABLE
            && listing.status == StatusCode::SERVICE_UNAVAILABLE
        {
            assert_unavailable(&called, &id, "tools/call past the staleness limit");
            assert_unavailable(&listing, &json!(1), "tools/list past the staleness limit");
            break target.calls().len();
        }
        assert!(
            Instant::now() < deadline,
            "tools/call and tools/list still not refused {OUTAGE_LIMIT:?} after DynamoDB went \
             down (staleness limit 3 s): {called:?} / {listing:?}"
        );
        tokio::time::sleep(POLL_EVERY).await;
    };
    // And it stays refused: no call is allowed on a snapshot past the limit.
    for i in 0..10 {
        let id = json!(format!("stale-{i}"));
        for tool in ["echo", "eng_build", "ops_restart", "no_such_tool"] {
            let reply = call(base, &erin, id.clone(), tool).await;
            assert_unavailable(&reply, &id, &format!("tools/call {tool} while stale"));
        }
        assert_unavailable(
            &list(base, &erin).await,
            &json!(1),
            "tools/list while stale",
        );
        tokio::time::sleep(POLL_EVERY).await;
    }
    assert_eq!(
        target.calls().len(),
        calls_at_refusal,
        "no call reached a target once policies were stale"
    );

    // DynamoDB back (a fresh moto on the same port, the table written again): served again.
    let revived = PrivateMoto::start_on(moto.port).await;
    let table = Table::create_named(dynamodb(Some(&revived.url)).await, table.name.clone()).await;
    table.seed(&policies, &catalog).await;
    await_list(base, &erin, &["echo", "eng_build"], "DynamoDB back").await;
    assert_ran(
        &call(base, &erin, json!("back"), "eng_build").await,
        "eng_build",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_without_readable_policies_fails_closed() {
    let cognito = seed_pool(&[("erin", &["engineering"])]).await;
    let target = EchoTarget::start().await;
    let good = Table::create(dynamodb(None).await).await;
    good.seed(
        &[policy("engineering", &["echo"], &[])],
        &tools(&["echo"], &target.base),
    )
    .await;
    let invalid = Table::create(dynamodb(None).await).await;
    invalid
        .seed(
            &[policy("engineering", &["echo", "not a pattern"], &[])],
            &tools(&["echo"], &target.base),
        )
        .await;
    let missing = format!("policies-missing-{}", uuid::Uuid::new_v4());
    let down = format!("http://127.0.0.1:{}", free_port());
    let erin = cognito.login("erin").await.access;

    // The control: the good table, readable.
    let control = policy_gateway(&cognito, &good.name, &[]);
    assert_eq!(listed(&list(&control.base, &erin).await), ["echo"]);

    for (case, table, endpoint) in [
        ("a missing table", missing.as_str(), None),
        (
            // The good table exists on the shared moto; DynamoDB's own endpoint is down.
            "the DynamoDB endpoint down",
            good.name.as_str(),
            Some(down.as_str()),
        ),
        (
            "an invalid policy in the table",
            invalid.name.as_str(),
            None,
        ),
    ] {
        // Failed reads are expected here; the assertions say what went wrong. The deny-list
        // (same table) is off: its own outage refuses tokens before any decision, which
        // tests/services/revocation_denylist.rs covers.
        let mut extra = vec![("RUST_LOG", "off"), ("GATEWAY_REVOCATION_DENY_LIST", "off")];
        if let Some(url) = endpoint {
            extra.push(("AWS_ENDPOINT_URL_DYNAMODB", url));
        }
        let gateway = policy_gateway(&cognito, table, &extra);
        let base = gateway.base.as_str();
        // It serves, and its keys loaded: the token is accepted, a forged one is not.
        let init = initialize(base, &erin).await;
        assert_eq!(init.status, StatusCode::OK, "{case}: initialize: {init:?}");
        let forged = list(base, "e30.e30.c2ln").await;
        assert_eq!(
            forged.status,
            StatusCode::UNAUTHORIZED,
            "{case}: {forged:?}"
        );
        // Every decision is refused.
        for round in 0..2 {
            assert_unavailable(
                &list(base, &erin).await,
                &json!(1),
                &format!("{case}: tools/list #{round}"),
            );
            let id = json!(format!("{round}"));
            assert_unavailable(
                &call(base, &erin, id.clone(), "echo").await,
                &id,
                &format!("{case}: tools/call #{round}"),
            );
        }
    }
    assert!(target.calls().is_empty(), "{:?}", target.calls());
}
