//! gateway-adapters: one file per external system (AWS services, HTTP endpoints, files),
//! each implementing a trait of `gateway-core`.

pub mod audit_dynamodb;
pub mod audit_kms;
pub mod audit_stdout;
pub mod aws_clients;
pub mod catalog_file;
pub mod cimd_http;
pub mod cognito_clients;
pub mod cognito_getuser;
pub mod dynamodb_admin;
pub mod dynamodb_config;
pub mod dynamodb_revocation;
pub mod http_clients;
pub mod http_target;
pub mod identity_key;
pub mod identity_kms;
pub mod identity_secret;
pub mod introspection_http;
pub mod jwks_http;
pub mod lambda_target;
pub mod mcp_upstream;
pub mod oauth_idp;
pub mod outbound_auth;
pub mod registrations;
pub mod targets;

// The statement verifier of the core against statements this crate's local key signs.
#[cfg(test)]
mod identity_key_tests;
