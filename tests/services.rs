//! The gateway and `gatewayctl` against the services `make test` starts, checked from Rust:
//! moto (Cognito, DynamoDB, Secrets Manager, KMS; `AWS_ENDPOINT_URL`), the local OIDC
//! provider (`OIDC_ISSUER`, or private ones from `MCP_E2E_NODE`) and the functions under
//! `cargo lambda watch` (`MCP_WATCH_URL`, `MCP_WATCH_INVOKE_URL`). Without them these tests
//! fail, they never skip.
//!
//! Identity providers: Cognito tokens (`auth_cognito.rs`), OIDC tokens and key handling
//! (`auth_oidc/`), revocation by deny-list, Cognito and introspection (`revocation_*.rs`).
//! Configuration and secrets: policies in DynamoDB (`policy_dynamodb/`), `gatewayctl`
//! (`gatewayctl/`), forbidden secret sources (`outbound_sources.rs`), outbound credentials
//! (`outbound_auth.rs`), identity-statement keys in Secrets Manager and KMS
//! (`identity_keys/`). The audit trail, spawned (`audit/`) and under the Lambda runtime
//! (`audit_lambda.rs`); Lambda targets through watch's Invoke API (`lambda_targets.rs`); no
//! secret in any log line at `trace` (`log_secrets.rs`).
//!
//! The gateway runs in-process (`support::router`), spawned (`support::idp`,
//! `support::audit_kit`) or under watch. Real third-party MCP clients and servers and the
//! OAuth façade's sign-ins are in `tests/e2e.rs`.

mod support;

mod services {
    mod audit;
    mod audit_lambda;
    mod auth_cognito;
    mod auth_oidc;
    mod faults;
    mod gatewayctl;
    mod identity_keys;
    mod lambda_targets;
    mod log_secrets;
    mod outbound_auth;
    mod outbound_sources;
    mod policy_dynamodb;
    mod revocation_cognito;
    mod revocation_denylist;
    mod revocation_introspection;
}
