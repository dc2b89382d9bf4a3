//! Concurrent requests: one conditional PutItem each, heads signed for many at once
//! (group commit), all landing in one intact, signed chain.

use reqwest::StatusCode;
use serde_json::json;

use super::PASSWORD;
use crate::support::audit_kit::{gatewayctl, json_lines, rpc, spawn_gateway};
use crate::support::idp::{TestPool, required_env};

/// Concurrent requests each put their own record (no batch writes, which could delete) and
/// share signed heads: every record still lands, once, in one intact, signed chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_records_all_land_in_one_intact_chain() {
    required_env("AWS_ENDPOINT_URL");
    let pool = TestPool::seed("audit-batch", &[], &[("carol", PASSWORD, &[])], false).await;
    let carol = pool.login("carol").await.access;
    let table = format!("audit-{}", uuid::Uuid::new_v4());
    let t = ["audit", "--audit-table", table.as_str()];
    assert!(
        gatewayctl(&[&t[..], &["table", "create"]].concat())
            .status
            .success()
    );
    let key = super::tamper::hmac_key().await;
    let gw = spawn_gateway(&[
        ("GATEWAY_COGNITO_USER_POOL_ID", &pool.pool_id),
        ("GATEWAY_COGNITO_CLIENT_IDS", &pool.client_id),
        ("GATEWAY_COGNITO_JWKS_URL", &pool.jwks_url),
        ("DEMO_TOOLS_URL", "http://127.0.0.1:1"),
        ("GATEWAY_AUDIT_TABLE", &table),
        ("GATEWAY_AUDIT_KMS_KEY_ID", &key),
        ("RUST_LOG", "gateway_adapters::audit_dynamodb=debug"),
    ]);
    const N: usize = 60;
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}});
    let calls = (0..N).map(|_| rpc(&gw.base, Some(&carol), list.clone()));
    for status in futures_util::future::join_all(calls).await {
        assert_eq!(status, StatusCode::OK);
    }
    let stored = json_lines(&gatewayctl(
        &[&t[..], &["--json", "query", "--user", "carol"]].concat(),
    ));
    assert_eq!(stored.len(), N);
    let mut seqs: Vec<u64> = stored.iter().map(|r| r.seq).collect();
    seqs.sort_unstable();
    // seq 0 is the chain's start record.
    assert_eq!(seqs, (1..=N as u64).collect::<Vec<_>>());
    let out = gatewayctl(&[&t[..], &["verify", "--kms-key-id", &key]].concat());
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("{} records, intact", N + 1)),
        "{text}"
    );
    let stderr = gw.stderr.lock().unwrap().clone();
    let written = stderr
        .iter()
        .filter(|l| l.contains("audit record written"))
        .count();
    assert_eq!(written, N + 1, "one put per record");
    assert!(stderr.iter().all(|l| !l.contains("ok=false")));
    assert!(stderr.iter().all(|l| !l.contains("not signed")));
}
