//! For the tests that run the standalone gateway against moto's Cognito or the OIDC
//! provider (in `tests/services/`: `auth_cognito.rs`, `auth_oidc/`, `policy_dynamodb/`,
//! `audit/`, `lambda_targets.rs`, `revocation_*.rs`, `log_secrets.rs`): the HTTP client
//! and unique resource URLs (here, beside `support`'s required environment and free ports);
//! spawned processes that are killed when dropped, the standalone gateway and private
//! `oidc-provider` instances, both on 127.0.0.1 only (`idp/process.rs`); fresh Cognito user
//! pools seeded in moto with AdminInitiateAuth logins (`TestPool`, `idp/cognito.rs`); tokens
//! from the OIDC provider and its `/__admin/*` side channel, `POST /mcp tools/list` over real
//! HTTP, and small JWT helpers that read or rewrite a token without verifying it
//! (`idp/requests.rs`). All are re-exported: users name them `idp::…`.

mod cognito;
mod process;
mod requests;

// Each test binary uses a different subset: a re-export it never uses is no mistake.
#[allow(unused_imports)]
pub use cognito::*;
#[allow(unused_imports)]
pub use process::*;
#[allow(unused_imports)]
pub use requests::*;

use std::time::Duration;

// The whole tree's helpers (support/mod.rs), under this module's name too; a binary
// that takes neither from here is no mistake.
#[allow(unused_imports)]
pub use super::{free_port, required_env};

/// A resource URL no other test uses (an audience for OIDC tokens; nothing listens there).
pub fn unique_resource() -> String {
    format!("http://127.0.0.1:1/{}/mcp", uuid::Uuid::new_v4())
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}
