//! The one helper tree of the three test binaries (`tests/hermetic.rs`, `tests/services.rs`,
//! `tests/e2e.rs`; each declares `mod support;`): the gateway in-process through its router
//! (`router`), spawned gateways and identity providers (`idp`), spawned servers and real
//! clients (`clients`, `oauth`), `gatewayctl` against moto (`gatewayctl`), the audit
//! scenario's targets and gateway (`audit_kit`), upstream MCP servers (`upstreams`) and the
//! outbound credentials in-process gateways read from the environment (`tool_secrets`).
//!
//! Each binary uses a different part of this tree, and a helper only another binary calls is
//! dead code in this one: hence the one `allow(dead_code)` here, for the support tree only
//! (dead code in a test module itself is still reported).
#![allow(dead_code)]

pub mod audit_kit;
pub mod clients;
pub mod gatewayctl;
pub mod idp;
pub mod oauth;
pub mod router;
pub mod tool_secrets;
pub mod upstreams;

/// A variable that `make test` exports. Missing (or empty) means the suite was not started
/// the right way: fail loudly, never skip.
pub fn required_env(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not set: run the suite with `make test`, which installs and starts what \
                 it needs (moto, the OIDC provider, cargo lambda watch) and exports it (or see \
                 scripts/common.sh to start them by hand)"
            )
        })
}

/// A port on 127.0.0.1 that nothing listens on right now (bound, then released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a throwaway port");
    l.local_addr().expect("local address").port()
}
