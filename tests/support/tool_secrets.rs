//! The outbound credentials that in-process gateways read from this process's environment
//! (`{env: TOOL_SECRET_…}` in a catalog), set once, before `main`.
//!
//! The gateway reads such a variable with `std::env::var` when it calls the tool
//! (`gateway-adapters`' `outbound_auth`), not through the lookup a test gives
//! `Config::from_lookup` and `wiring::start`, so the value has to be in the real
//! environment. Setting it from a test (`std::env::set_var`, behind a `Once`) was sound
//! while each test file was a process of its own and only its own tests ran; in one binary
//! the other tests' threads may be reading the environment at that moment (the AWS SDK's
//! configuration, `Command::spawn`, and C code such as `getaddrinfo`, which Rust's
//! environment lock does not cover). So every such variable is set here, from the process's
//! initialiser list, before `main`: before the test harness or any test started a thread.
//! Tests only read them, through [`assert_set`].

use super::upstreams::PY_KEY;

/// The static header of `tests/services/outbound_auth.rs`.
pub const OA_API_KEY: &str = "oa-test-key-6c1f0d2e";

/// Every variable and its value; each name is read by one test file only.
const VARS: [(&str, &str); 4] = [
    // tests/services/outbound_auth.rs: a static header and two client secrets.
    ("TOOL_SECRET_OA_API_KEY", OA_API_KEY),
    ("TOOL_SECRET_OA_ALICE", "alice-secret"),
    ("TOOL_SECRET_OA_STUB", "stub-secret"),
    // tests/e2e/federation.rs: the Python upstream's API key.
    ("TOOL_SECRET_FED_PY_KEY", PY_KEY),
];

/// Run by the dynamic loader with the other initialisers of `.init_array`, before `main`.
/// (The suite runs on Linux only; elsewhere nothing sets the variables and [`assert_set`]
/// says so.)
#[used]
#[cfg_attr(target_os = "linux", unsafe(link_section = ".init_array"))]
static SET_BEFORE_MAIN: extern "C" fn() = set_before_main;

extern "C" fn set_before_main() {
    for (name, value) in VARS {
        // SAFETY: this runs before `main`, while the process has a single thread, so
        // nothing reads the environment while it changes.
        unsafe { std::env::set_var(name, value) };
    }
}

/// Asserts that every variable holds its value (they are set before `main`; this catches a
/// platform where that did not happen, before a tool call fails for want of one).
#[track_caller]
pub fn assert_set() {
    for (name, value) in VARS {
        assert_eq!(
            std::env::var(name).ok().as_deref(),
            Some(value),
            "{name} was not set before main (tests/support/tool_secrets.rs)"
        );
    }
}
