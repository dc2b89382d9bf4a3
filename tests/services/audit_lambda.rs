//! The audit trail under the Lambda runtime: the gateway under `cargo lambda watch`
//! (`MCP_WATCH_URL`, started by `make test`) writes its records to the audit table that
//! `scripts/common.sh` creates in moto (`MCP_WATCH_AUDIT_TABLE`). A call with a unique
//! argument must be in the table before its answer arrives, naming the real user, the
//! API Gateway-style and Lambda request ids, and sit in an intact chain of its instance.
//!
//! Needs `MCP_WATCH_URL`, `MCP_WATCH_AUDIT_TABLE`, `MCP_WATCH_AUDIT_KMS_KEY`, `COGNITO_CONFIG`, `MCP_E2E_PYTHON` and
//! `AWS_ENDPOINT_URL` from `make test`; without them it fails, never skips.

use std::process::Command;

use serde_json::{Value, json};

use mcp_oauth_gateway::audit::{AuditRecord, Verdict, sha256_hex};

use crate::support::clients::{cognito_token, required_env};

fn gatewayctl(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gatewayctl"))
        .args(args)
        .output()
        .expect("run gatewayctl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!(
        "gatewayctl {args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn a_call_under_the_lambda_runtime_is_recorded_before_it_is_answered() {
    let url = required_env("MCP_WATCH_URL");
    let table = required_env("MCP_WATCH_AUDIT_TABLE");
    let head_key = required_env("MCP_WATCH_AUDIT_KMS_KEY");
    required_env("AWS_ENDPOINT_URL");
    let token = cognito_token("alice");
    let marker = uuid::Uuid::new_v4().to_string();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "echo", "arguments": {"text": marker}}});
    let resp = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&token)
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .expect("POST /mcp under watch");
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.expect("JSON answer");
    assert!(answer["result"]["isError"].is_null(), "{answer}");

    // Written before the answer: no waiting.
    let (ok, out) = gatewayctl(&[
        "audit",
        "--audit-table",
        &table,
        "--json",
        "query",
        "--tool",
        "echo",
    ]);
    assert!(ok);
    let digest = sha256_hex(json!({"text": marker}).to_string().as_bytes());
    let ours: Vec<AuditRecord> = out
        .lines()
        .map(|l| serde_json::from_str::<AuditRecord>(l).expect("a record per line"))
        .filter(|r| r.arguments_sha256.as_deref() == Some(digest.as_str()))
        .collect();
    assert_eq!(ours.len(), 1, "exactly one record of this call");
    let r = &ours[0];
    assert_eq!(r.username.as_deref(), Some("alice"));
    assert_eq!(r.decision, Verdict::Allow);
    assert_eq!(r.target_outcome.as_deref(), Some("ok"));
    assert_eq!(r.target_kind.as_deref(), Some("http"));
    assert!(
        r.lambda_request_id
            .as_deref()
            .is_some_and(|id| !id.is_empty()),
        "{r:?}"
    );
    assert!(
        r.api_request_id.as_deref().is_some_and(|id| !id.is_empty()),
        "{r:?}"
    );
    assert_eq!(r.request_id, r.api_request_id.clone().unwrap());

    let (ok, out) = gatewayctl(&[
        "audit",
        "--audit-table",
        &table,
        "verify",
        "--instance",
        &r.instance,
        "--kms-key-id",
        &head_key,
    ]);
    assert!(ok, "the instance's chain is intact and signed");
    assert!(out.contains("intact") && out.contains("signed heads verified"));
}
