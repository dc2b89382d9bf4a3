//! For the tests that run the standalone gateway against moto's Cognito or the OIDC
//! provider (`tests/services/`: `auth_cognito.rs`, `auth_oidc/`, `policy_dynamodb/`,
//! `audit/`, `lambda_targets.rs`, `revocation_*.rs`, `log_secrets.rs`): required
//! environment, free ports and the HTTP client (here); spawned
//! processes that are killed when dropped, the standalone gateway and private
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

/// A variable that `make test` exports. Missing means the suite was not started the right
/// way: fail loudly, never skip.
pub fn required_env(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not set: run the suite with `make test`, which starts moto (Cognito) and \
                 the OIDC provider and exports it (or see scripts/common.sh to start them by hand)"
            )
        })
}

/// A port on 127.0.0.1 that nothing listens on right now (bound, then released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a throwaway port");
    l.local_addr().expect("local address").port()
}

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
