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
pub mod fault_proxy;
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

/// A port on 127.0.0.1 that nothing listens on now, for a process a test starts with it.
///
/// Not one the system picks (port 0): that port is free again once released, and until the
/// process binds it the system may give it to anything else that asks for a port, another
/// test's listener or any outgoing connection (a gateway once found its port taken that
/// way). These ports lie below the system's ephemeral range, which it never hands out by
/// itself, and this process gives each at most once; one found in use is passed over.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let pool = below_ephemeral_ports();
    // Each test process starts elsewhere in the pool: ports of a process that just ended
    // may still be held by its children on their way out.
    let start = std::process::id() as usize * 7919;
    for _ in 0..pool.len() {
        let i = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % pool.len();
        let port = pool.start + i as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port on 127.0.0.1 in {pool:?}")
}

/// Up to 16384 ports just below the ephemeral range (Linux's
/// `net.ipv4.ip_local_port_range`, 32768-60999 by default), never below 1024.
fn below_ephemeral_ports() -> std::ops::Range<u16> {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let pool = low.saturating_sub(16384).max(1024)..low;
    assert!(
        pool.len() >= 1024,
        "the ephemeral port range starts at {low}: too few ports below it for the tests"
    );
    pool
}
