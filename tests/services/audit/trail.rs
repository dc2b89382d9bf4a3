//! The audit scenario: one request of every kind, then every record checked on stdout, in
//! the EMF metrics, in DynamoDB (query, verify, tampering caught) and for leaked secrets.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::StatusCode;
use serde_json::json;

use mcp_oauth_gateway::adapters::audit_dynamodb::chain_pk;
use mcp_oauth_gateway::audit::{AuditRecord, Verdict, sha256_hex, verify};

use super::{CATALOG, PASSWORD, TARGET_KEY};
use crate::support::audit_kit::{
    by_request, call, gatewayctl, json_lines, rpc, spawn_gateway, start_target, wait_for,
};
use crate::support::idp::{TestPool, required_env};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_decision_leaves_a_chained_record_naming_the_user_and_no_secret() {
    required_env("AWS_ENDPOINT_URL");
    let (target, target_seen) = start_target().await;
    let pool = TestPool::seed(
        "audit",
        &[],
        &[
            ("alice", PASSWORD, &["engineering"]),
            ("bob", PASSWORD, &["finance"]),
        ],
        false,
    )
    .await;
    let alice = pool.login("alice").await.access;
    let bob = pool.login("bob").await.access;
    // One signature character changed (not the last, whose low bits are padding).
    let mut forged = alice.clone().into_bytes();
    let at = forged.len() - 10;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();

    let table = format!("audit-{}", uuid::Uuid::new_v4());
    assert!(
        gatewayctl(&["audit", "--audit-table", &table, "table", "create"])
            .status
            .success()
    );
    let dir = std::env::temp_dir().join(format!("audit-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let catalog = dir.join("catalog.yaml");
    std::fs::write(&catalog, CATALOG).unwrap();
    let head_key = super::tamper::hmac_key().await;
    let mut gw = spawn_gateway(&[
        ("GATEWAY_AUDIT_KMS_KEY_ID", &head_key),
        ("GATEWAY_COGNITO_USER_POOL_ID", &pool.pool_id),
        ("GATEWAY_COGNITO_CLIENT_IDS", &pool.client_id),
        ("GATEWAY_COGNITO_JWKS_URL", &pool.jwks_url),
        ("GATEWAY_CATALOG_FILE", catalog.to_str().unwrap()),
        ("GATEWAY_AUDIT_TABLE", &table),
        ("GATEWAY_AUDIT_ARGUMENT_TOOLS", "note"),
        ("AUDIT_TEST_TARGET_URL", &target),
        ("TOOL_SECRET_AUDIT_TARGET_KEY", TARGET_KEY),
    ]);
    let base = gw.base.clone();

    // The scenario, one request at a time (so the chain order is the request order).
    assert_eq!(
        call(&base, &alice, "echo", json!({"text": "hi"})).await,
        StatusCode::OK
    );
    assert_eq!(
        call(&base, &alice, "note", json!({"text": "remember-me"})).await,
        StatusCode::OK
    );
    assert_eq!(
        call(&base, &alice, "broken", json!({})).await,
        StatusCode::OK
    );
    assert_eq!(
        call(&base, &alice, "danger", json!({})).await,
        StatusCode::OK
    );
    assert_eq!(
        call(&base, &alice, "nonexistent", json!({})).await,
        StatusCode::OK
    );
    assert_eq!(call(&base, &bob, "echo", json!({})).await, StatusCode::OK);
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}});
    assert_eq!(rpc(&base, Some(&alice), list.clone()).await, StatusCode::OK);
    assert_eq!(
        rpc(&base, None, list.clone()).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        rpc(&base, Some(&forged), list).await,
        StatusCode::UNAUTHORIZED
    );
    // A client that gives up while the target still works: the gateway drops the request,
    // and still records it.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let gave_up = impatient
        .post(format!("{base}/mcp"))
        .header("accept", "application/json")
        .bearer_auth(&alice)
        .json(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                      "params": {"name": "hang", "arguments": {}}}))
        .send()
        .await;
    assert!(gave_up.is_err(), "the hang target never answers");

    // stdout: the chain's start record, then one record per request, in a chain that
    // verifies.
    let lines = wait_for(&gw.stdout, 11, |v| v["type"] == "audit");
    let records: Vec<AuditRecord> = lines
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
    let reports = verify(&records);
    assert_eq!(reports.len(), 1, "one instance, one chain");
    assert!(reports[0].problems.is_empty(), "{reports:?}");
    let instance = reports[0].instance.clone();
    assert_eq!(
        records.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (0..11).collect::<Vec<_>>()
    );
    assert_eq!(records[0].kind.as_deref(), Some("start"));
    assert!(records[1..].iter().all(|r| r.kind.is_none()));
    let heads = wait_for(&gw.stdout, 11, |v| v["type"] == "audit_head");
    assert!(heads.iter().all(|h| h["algorithm"] == "HMAC_SHA_256"));
    for r in &records {
        assert!(!r.request_id.is_empty() && r.time.ends_with('Z') && r.time_ms > 0);
    }

    let echo = by_request(&records, Some("echo"), Some("alice"));
    assert_eq!(echo.decision, Verdict::Allow);
    assert_eq!(echo.issuer.as_deref(), Some(pool.issuer().as_str()));
    assert!(echo.subject.as_deref().is_some_and(|s| !s.is_empty()));
    assert_eq!(echo.client_id.as_deref(), Some(pool.client_id.as_str()));
    assert_eq!(
        echo.groups.as_deref(),
        Some(&["engineering".to_owned()][..])
    );
    assert_eq!(echo.method.as_deref(), Some("tools/call"));
    // Sent without MCP-Protocol-Version: the revision such requests are taken to speak.
    assert_eq!(echo.protocol_version.as_deref(), Some("2025-03-26"));
    assert_eq!(echo.policy_group.as_deref(), Some("engineering"));
    assert_eq!(echo.policy_version, Some(7));
    assert!(echo.rule.as_deref().unwrap().contains("allows"), "{echo:?}");
    assert_eq!(echo.target_kind.as_deref(), Some("http"));
    // Without its query (a key passed as a query parameter would sit in the trail).
    assert_eq!(
        echo.target,
        Some(format!("{target}/echo")),
        "the tool's URL"
    );
    assert_eq!(echo.target_outcome.as_deref(), Some("ok"));
    assert!(echo.target_us.is_some() && echo.gateway_us >= echo.target_us.unwrap());
    assert_eq!(
        echo.arguments_sha256.as_deref(),
        Some(sha256_hex(br#"{"text":"hi"}"#).as_str())
    );
    assert_eq!(
        echo.arguments, None,
        "values only for tools configured to record them"
    );
    assert_eq!(echo.status, 200);

    let note = by_request(&records, Some("note"), Some("alice"));
    assert_eq!(note.arguments.as_deref(), Some(r#"{"text":"remember-me"}"#));

    let broken = by_request(&records, Some("broken"), Some("alice"));
    assert_eq!(broken.decision, Verdict::Allow);
    assert_eq!(broken.target_outcome.as_deref(), Some("error"));
    assert_eq!(broken.target_error.as_deref(), Some("Status"));
    // Its log line sits in the request's span, which carries the request id.
    let span = format!("request{{request_id={}}}", broken.request_id);
    assert!(
        gw.stderr
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(&span) && l.contains("tool target failed")),
        "no log line in span {span}"
    );

    let danger = by_request(&records, Some("danger"), Some("alice"));
    assert_eq!(danger.decision, Verdict::Deny);
    assert_eq!(danger.reason.as_deref(), Some("deny_rule"));
    assert_eq!(danger.policy_version, Some(7));
    assert_eq!(
        danger.target_outcome, None,
        "a denied call reaches no target"
    );
    let unknown = by_request(&records, Some("nonexistent"), Some("alice"));
    assert_eq!(unknown.reason.as_deref(), Some("unknown_tool"));
    let bob_echo = by_request(&records, Some("echo"), Some("bob"));
    assert_eq!(bob_echo.decision, Verdict::Deny);
    assert_eq!(bob_echo.reason.as_deref(), Some("default_deny"));
    assert_eq!(
        bob_echo.groups.as_deref(),
        Some(&["finance".to_owned()][..])
    );
    let hung = by_request(&records, Some("hang"), Some("alice"));
    assert_eq!(
        hung.decision,
        Verdict::Allow,
        "it was allowed; then the client left"
    );
    assert_eq!(hung.policy_group.as_deref(), Some("engineering"));
    assert_eq!(hung.reason.as_deref(), Some("client_closed"));
    assert_eq!(hung.status, 499);
    assert_eq!(hung.target_outcome, None, "the target never answered");
    let listed = by_request(&records, None, Some("alice"));
    assert_eq!(listed.method.as_deref(), Some("tools/list"));
    assert_eq!(listed.decision, Verdict::Allow);
    let refused: Vec<_> = records
        .iter()
        .filter(|r| r.decision == Verdict::Unauthorized)
        .collect();
    assert_eq!(
        refused
            .iter()
            .map(|r| r.reason.as_deref().unwrap())
            .collect::<Vec<_>>(),
        ["Missing", "BadSignature"]
    );
    assert!(refused.iter().all(|r| r.status == 401
        && r.username.is_none()
        && r.method.is_none()
        && r.protocol_version.is_none()));

    // EMF: one metrics line per request; the sums add up.
    let emf = wait_for(&gw.stdout, 10, |v| v.get("_aws").is_some());
    let sum = |name: &str| {
        emf.iter()
            .map(|v| v[name].as_f64().unwrap_or(0.0))
            .sum::<f64>()
    };
    assert_eq!(sum("Requests"), 10.0);
    assert_eq!(sum("Errors"), 0.0);
    assert_eq!(sum("Allowed"), 5.0);
    assert_eq!(sum("Denied"), 3.0);
    assert_eq!(sum("Unauthorized"), 2.0);
    assert_eq!(sum("TargetErrors"), 1.0);
    assert!(
        sum("TokenCacheHits") >= 5.0,
        "alice's token is verified once"
    );
    assert!(sum("JwksRefreshes") >= 1.0 && sum("JwksCacheHits") >= 1.0);
    assert!(sum("PolicySnapshotHits") >= 1.0);
    for v in &emf {
        assert_eq!(v["Service"], "mcp-oauth-gateway");
        for d in v["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            assert_eq!(d["Namespace"], "McpOAuthGateway");
            for m in d["Metrics"].as_array().unwrap() {
                assert!(v[m["Name"].as_str().unwrap()].is_number(), "{v}");
            }
        }
    }
    let reasons = |key: &str| {
        let mut r: Vec<String> = emf
            .iter()
            .filter_map(|v| v[key].as_str().map(str::to_owned))
            .collect();
        r.sort();
        r
    };
    assert_eq!(
        reasons("DenyReason"),
        ["default_deny", "deny_rule", "unknown_tool"]
    );
    assert_eq!(reasons("AuthFailure"), ["BadSignature", "Missing"]);

    // The same chain from stdout lines in a file, through gatewayctl.
    let log = dir.join("stdout.jsonl");
    std::fs::write(&log, gw.stdout.lock().unwrap().join("\n")).unwrap();
    let file = ["audit", "verify", "--file", log.to_str().unwrap()];
    let signed = |out: std::process::Output| {
        let text = String::from_utf8_lossy(&out.stdout);
        out.status.success() && text.contains("11 records, intact, 11 signed heads verified")
    };
    assert!(signed(gatewayctl(
        &[&file[..], &["--kms-key-id", &head_key]].concat()
    )));
    // Without the key nothing is authenticated, and verify says so.
    let out = gatewayctl(&file);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("UNSIGNED"));

    // DynamoDB: written before each response, so all there now; Queries by user, tool, time.
    let t = ["audit", "--audit-table", table.as_str()];
    let q =
        |extra: &[&str]| json_lines(&gatewayctl(&[&t[..], &["--json", "query"], extra].concat()));
    let mut stored = q(&[]);
    stored.sort_by_key(|r| r.seq);
    assert_eq!(
        stored, records,
        "the table holds exactly the stdout records"
    );
    assert_eq!(q(&["--user", "alice"]).len(), 7);
    let echoes = q(&["--tool", "echo"]);
    assert_eq!(echoes.len(), 2);
    assert!(echoes.iter().all(|r| r.tool.as_deref() == Some("echo")));
    assert_eq!(
        q(&[
            "--user",
            "alice",
            "--from",
            "2000-01-01",
            "--to",
            "2000-01-02"
        ])
        .len(),
        0
    );
    let k = ["--kms-key-id", head_key.as_str()];
    assert!(signed(gatewayctl(&[&t[..], &["verify"], &k].concat())));

    // Tampering: an edited record, then a deleted one.
    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let key = |seq: u64| {
        [
            ("pk", AttributeValue::S(chain_pk(&instance))),
            ("sk", AttributeValue::S(format!("{seq:020}"))),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect::<std::collections::HashMap<_, _>>()
    };
    ddb.update_item()
        .table_name(&table)
        .set_key(Some(key(5)))
        .update_expression("SET username = :u")
        .expression_attribute_values(":u", AttributeValue::S("mallory".into()))
        .send()
        .await
        .expect("edit a record");
    let out = gatewayctl(&[&t[..], &["verify", "--instance", &instance], &k].concat());
    assert!(!out.status.success(), "an edit must be found");
    assert!(String::from_utf8_lossy(&out.stdout).contains("record 5 was edited"));
    ddb.delete_item()
        .table_name(&table)
        .set_key(Some(key(3)))
        .send()
        .await
        .expect("delete a record");
    let out = gatewayctl(&[&t[..], &["verify"], &k].concat());
    assert!(!out.status.success(), "a deletion must be found");
    assert!(String::from_utf8_lossy(&out.stdout).contains("record 3 is missing"));

    // No token, password or target credential in any log line; no caller token at targets.
    let _ = gw.child.kill();
    let _ = gw.child.wait();
    // Let the reader threads take the last lines off the closed pipes.
    std::thread::sleep(Duration::from_millis(200));
    let secrets = [
        alice.as_str(),
        bob.as_str(),
        forged.as_str(),
        PASSWORD,
        TARGET_KEY,
        "audit-query-key",
    ];
    let signature = |t: &str| t.rsplit('.').next().unwrap().to_owned();
    let logs: Vec<String> = [&gw.stdout, &gw.stderr]
        .iter()
        .flat_map(|l| l.lock().unwrap().clone())
        .collect();
    assert!(logs.len() > 20, "debug logging produced lines to check");
    for line in &logs {
        for s in secrets
            .iter()
            .map(|s| s.to_string())
            .chain([signature(&alice), signature(&bob)])
        {
            assert!(!line.contains(&s), "a secret in a log line: {line}");
        }
    }
    let seen = target_seen.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        4,
        "echo, note, broken and hang reached a target"
    );
    for request in &seen {
        for s in [alice.as_str(), bob.as_str(), PASSWORD, &signature(&alice)] {
            assert!(
                !request.contains(s),
                "a caller's token reached a target: {request}"
            );
        }
    }
    assert!(
        seen[0].contains(TARGET_KEY),
        "the target's own credential was sent to it"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
