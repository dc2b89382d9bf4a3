//! Group tool policies stored in DynamoDB, end to end: the standalone gateway binary
//! (spawned on 127.0.0.1) reads its policies and catalog from a table in moto's DynamoDB
//! and decides with real Cognito access tokens from moto's Cognito, over real HTTP. Every
//! test seeds its own user pool (users, groups) and its own table (created with the item
//! layout of `adapters::dynamodb_config`); tool targets are a tiny echo server started
//! here. Covered: per-group `tools/list`, denied and unknown tools answered alike, a policy
//! change picked up without a restart, the 403 scope step-up, a DynamoDB outage (a private
//! moto_server, killed mid-run: last good snapshot, then refusal, then recovery) and
//! start-up without a readable table (fail closed).
//!
//! Needs `AWS_ENDPOINT_URL` and `AWS_REGION` (moto, Cognito and DynamoDB) and
//! `MCP_E2E_MOTO_SERVER` (the `moto_server` to start private instances with), which
//! `make test` exports; without them these tests fail, they never skip.

mod mcp;
mod table;
mod targets;

mod decisions;
mod outage;
mod step_up;

use std::time::Duration;

/// How long a change may take to show: generous against a 1 s refresh interval (a bound
/// on a poll, not a timing assertion).
const CHANGE_LIMIT: Duration = Duration::from_secs(10);
/// How long an outage may take to exceed a 3 s staleness limit and be refused.
const OUTAGE_LIMIT: Duration = Duration::from_secs(15);
const POLL_EVERY: Duration = Duration::from_millis(200);
const PASSWORD: &str = "Policy-Passw0rd!";
