//! The audit trail end to end: the standalone gateway binary (spawned on 127.0.0.1, stdout
//! and stderr captured) trusts a fresh Cognito pool in moto, decides on a catalog file
//! and calls HTTP targets served here; records also go to a fresh DynamoDB audit table in
//! moto, created with `gatewayctl audit table create`. One scenario — good calls, argument
//! values recorded for one tool, a target failure, a deny rule, an unknown tool, a user
//! without a policy, `tools/list`, no token and a forged token — then checks:
//! every stdout record field by field and its chain; the EMF metrics lines and their sums;
//! the DynamoDB copy through `gatewayctl audit query` (by user, tool, time) and `verify`,
//! which must then catch an edited and a deleted item; and that no token, password or
//! target credential appears in any log line, nor a caller's token at the target. A
//! client that gives up mid-call still leaves its record. A second test sends 60 requests
//! at once: all land in the table, in one intact, signed chain. `tamper` replays finding 5
//! of issue #14 (overwrites, deletions, a rewrite with recomputed digests).
//!
//! Needs `AWS_ENDPOINT_URL` and `AWS_REGION` (moto), which `make test` exports; without
//! them this test fails, it never skips.

mod concurrency;
mod tamper;
mod trail;

/// The password of every user in the test pools.
const PASSWORD: &str = "Audit-Passw0rd!";
/// The credential the gateway sends to the targets, which must never reach a log line.
const TARGET_KEY: &str = "target-key-3f9c1b7e";
const CATALOG: &str = r#"
policies:
  - group: engineering
    allow: [echo, note, broken, danger, hang]
    deny: [danger]
    version: 7
tools:
  - name: echo
    inputSchema: {type: object}
    target:
      kind: http
      url: "${AUDIT_TEST_TARGET_URL}/echo?key=audit-query-key"
      auth: {kind: header, name: x-api-key, value: {env: TOOL_SECRET_AUDIT_TARGET_KEY}}
  - name: note
    inputSchema: {type: object}
    target: {kind: http, url: "${AUDIT_TEST_TARGET_URL}/echo"}
  - name: broken
    inputSchema: {type: object}
    target: {kind: http, url: "${AUDIT_TEST_TARGET_URL}/fail"}
  - name: danger
    inputSchema: {type: object}
    target: {kind: http, url: "${AUDIT_TEST_TARGET_URL}/echo"}
  - name: hang
    inputSchema: {type: object}
    target: {kind: http, url: "${AUDIT_TEST_TARGET_URL}/hang"}
"#;
