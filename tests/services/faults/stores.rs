//! The gateway's own dependencies failing: moto's DynamoDB (policies, deny-list and audit
//! table through one endpoint) down, resetting, throttling, silent, slow and cut off; the
//! issuer's JWKS down, silent, garbage and cut off while the issuer rotates its keys. The
//! last good policies serve until their staleness limit, then every request is refused 503
//! (fail closed), each within the SDK's bounds and each with its stdout audit record; a
//! token under a kid the gateway cannot fetch is refused 401 while tokens under the keys it
//! holds still pass; the dependency back, requests are served again.

use std::time::Duration;

use serde_json::json;

use super::{Answer, Rig, assert_ok, rig};
use crate::support::fault_proxy::{Fault, http_answer};
use crate::support::router::tokens;

/// DynamoDB's client gives an operation 5 s (three attempts); the audit write waits for it.
const STORE_BOUND: Duration = Duration::from_secs(8);
/// Staleness limit (4 s) plus a refresh interval, plus room for a loaded machine.
const STALE_WITHIN: Duration = Duration::from_secs(20);

fn throttled() -> Fault {
    Fault::Respond(http_answer(
        "400 Bad Request",
        "application/x-amz-json-1.0",
        br#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#,
    ))
}

/// One DynamoDB fault: served from the last good snapshot at first, refused 503 once it is
/// too old, every answer within the bound and audited; then back.
async fn dynamodb_fault(rig: &Rig, what: &str, fault: Fault) {
    assert_ok(&rig.call("echo").await);
    rig.dynamo.set(fault);
    let refused = rig
        .until(
            STALE_WITHIN,
            &format!("DynamoDB {what}: refused"),
            || async {
                let before = rig.records().len();
                let a = rig.list().await;
                assert!(a.took < STORE_BOUND, "DynamoDB {what}: {a:?}");
                assert!([200, 503].contains(&a.status), "DynamoDB {what}: {a:?}");
                let r = rig.record(before + 1);
                assert_eq!(r["status"], a.status, "DynamoDB {what}: {r}");
                (a.status == 503).then_some(a)
            },
        )
        .await;
    assert_unavailable(&refused, what);
    // Failing closed: a call is refused too, and reaches no target.
    let reached = rig.stub.echo_bodies.lock().unwrap().len();
    let call = rig.call("echo").await;
    assert_eq!(call.status, 503, "DynamoDB {what}: {call:?}");
    assert_eq!(rig.stub.echo_bodies.lock().unwrap().len(), reached);

    rig.dynamo.set(Fault::Pass);
    rig.until(
        STALE_WITHIN,
        &format!("DynamoDB {what}: served again"),
        || async {
            let a = rig.list().await;
            (a.status == 200).then_some(a)
        },
    )
    .await;
    assert_ok(&rig.call("echo").await);
}

fn assert_unavailable(a: &Answer, what: &str) {
    assert_eq!(a.body["error"]["code"], -32603, "DynamoDB {what}: {a:?}");
    assert!(a.body.get("result").is_none(), "{a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_down_resetting_or_throttling_serves_then_fails_closed_then_recovers() {
    let rig = rig("faults-ddb-a", &[]).await;
    dynamodb_fault(&rig, "down", Fault::Down).await;
    dynamodb_fault(&rig, "resetting", Fault::Reset).await;
    dynamodb_fault(&rig, "throttling", throttled()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_silent_slow_or_cut_off_serves_then_fails_closed_then_recovers() {
    let rig = rig("faults-ddb-b", &[]).await;
    dynamodb_fault(&rig, "silent", Fault::Blackhole).await;
    dynamodb_fault(&rig, "slow", Fault::Slow(Duration::from_secs(3))).await;
    dynamodb_fault(&rig, "cut off", Fault::CutAfter(40)).await;
}

/// The key store refetches an unknown kid at most every 10 s, after any fetch.
const REFETCH_INTERVAL: Duration = Duration::from_millis(10_500);
/// The JWKS client's whole-request time-out (5 s) plus room.
const JWKS_BOUND: Duration = Duration::from_secs(8);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_jwks_keeps_the_keys_held_refuses_unknown_ones_and_a_rotation_lands() {
    let rig = rig("faults-jwks", &[]).await;
    let issuer = rig.stub.base_url.clone();
    let rotated = tokens::sign("rsa-next", &tokens::claims(&issuer));
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    // The issuer starts signing with a key it has not published yet — and its JWKS fails.
    for (what, fault) in [
        ("down", Fault::Down),
        ("silent", Fault::Blackhole),
        (
            "garbage",
            Fault::Respond(http_answer(
                "200 OK",
                "text/html",
                b"<html>maintenance</html>",
            )),
        ),
        ("cut off", Fault::CutAfter(60)),
    ] {
        tokio::time::sleep(REFETCH_INTERVAL).await;
        rig.jwks.set(fault);
        let before = rig.records().len();
        let a = rig.rpc_as(&rotated, list.clone()).await;
        assert_eq!(a.status, 401, "JWKS {what}: {a:?}");
        assert!(a.took < JWKS_BOUND, "JWKS {what}: {a:?}");
        let r = rig.record(before + 1);
        assert_eq!(r["decision"], "unauthorized", "JWKS {what}: {r}");
        // Tokens under the keys already held still pass.
        assert_ok(&rig.call("echo").await);
        rig.jwks.set(Fault::Pass);
    }
    // The new key published and the JWKS back: the next refetch finds it.
    {
        let mut jwks = rig.stub.jwks.lock().unwrap();
        let next = tokens::public_jwk(tokens::key("rsa-next"));
        jwks["keys"].as_array_mut().unwrap().push(next);
    }
    tokio::time::sleep(REFETCH_INTERVAL).await;
    let a = rig.rpc_as(&rotated, list).await;
    assert_eq!(a.status, 200, "after the rotation: {a:?}");
    assert!(a.body["result"]["tools"].is_array(), "{a:?}");
}

/// KMS, which signs each call's identity statement, failing every way: the call is a tool
/// error (`NotInvoked`) within KMS's bound (3 s) and a margin, the target is never reached
/// unsigned, nothing names the key; KMS back, calls run again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_failing_every_way_fails_the_call_before_its_target_then_recovers() {
    let endpoint = crate::support::required_env("AWS_ENDPOINT_URL");
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&endpoint)
        .load()
        .await;
    let kms = aws_sdk_kms::Client::new(&config);
    let key = kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::EccNistP256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap();
    let key_id = key.key_metadata().unwrap().key_id().to_owned();
    let proxy = crate::support::fault_proxy::FaultProxy::start(&endpoint).await;
    let rig = rig(
        "faults-kms",
        &[
            ("GATEWAY_IDENTITY_KMS_KEY_ID", key_id.as_str()),
            ("AWS_ENDPOINT_URL_KMS", proxy.url.as_str()),
        ],
    )
    .await;
    assert_ok(&rig.call("echo").await);
    for (what, fault) in [
        ("down", Fault::Down),
        ("resetting", Fault::Reset),
        ("silent", Fault::Blackhole),
        ("slow", Fault::Slow(Duration::from_secs(4))),
    ] {
        proxy.set(fault);
        let before = rig.records().len();
        let reached = rig.stub.echo_bodies.lock().unwrap().len();
        let a = rig.call("echo").await;
        super::assert_tool_error(&a);
        assert!(a.took < STORE_BOUND, "KMS {what}: {a:?}");
        assert!(!a.body.to_string().contains(&key_id), "{a:?}");
        assert_eq!(
            rig.stub.echo_bodies.lock().unwrap().len(),
            reached,
            "KMS {what}"
        );
        let r = rig.record(before + 1);
        assert_eq!(r["targetError"], "NotInvoked", "KMS {what}: {r}");
        proxy.set(Fault::Pass);
        assert_ok(&rig.call("echo").await);
    }
}
