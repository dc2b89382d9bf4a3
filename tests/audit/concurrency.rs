//! Concurrent requests: group-committed batches of at most 25 records, all landing in one
//! intact chain.

use reqwest::StatusCode;
use serde_json::json;

use crate::PASSWORD;
use crate::idp::{TestPool, required_env};
use crate::kit::{gatewayctl, json_lines, rpc, spawn_gateway};

/// Concurrent requests share BatchWriteItem calls (group commit): every record still lands,
/// once, in one intact chain.
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
    let gw = spawn_gateway(&[
        ("GATEWAY_COGNITO_USER_POOL_ID", &pool.pool_id),
        ("GATEWAY_COGNITO_CLIENT_IDS", &pool.client_id),
        ("GATEWAY_COGNITO_JWKS_URL", &pool.jwks_url),
        ("DEMO_TOOLS_URL", "http://127.0.0.1:1"),
        ("GATEWAY_AUDIT_TABLE", &table),
        (
            "RUST_LOG",
            "mcp_oauth_gateway::adapters::audit_dynamodb=debug",
        ),
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
    assert_eq!(seqs, (0..N as u64).collect::<Vec<_>>());
    let out = gatewayctl(&[&t[..], &["verify"]].concat());
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{N} records, intact")));
    let batches: Vec<String> = gw
        .stderr
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("audit batch written"))
        .cloned()
        .collect();
    // How many share a call depends on timing; that each went out once, in batches of at
    // most 25, does not.
    let sizes: Vec<usize> = batches
        .iter()
        .map(|l| {
            let n = l.split("records=").nth(1).expect("a batch size");
            n.split(' ').next().unwrap().parse().expect("a number")
        })
        .collect();
    eprintln!(
        "{} BatchWriteItem calls for {N} records: {sizes:?}",
        sizes.len()
    );
    assert_eq!(sizes.iter().sum::<usize>(), N);
    assert!(sizes.iter().all(|&n| (1..=25).contains(&n)));
    assert!(batches.iter().all(|l| l.contains("ok=true")));
}
