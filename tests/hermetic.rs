//! The tests that need nothing but this repository and its own binaries: no moto, no OIDC
//! provider, no `cargo lambda watch`, no Node or Python, no variable from `make test`. So
//! this binary also runs on its own: `cargo test --test hermetic`.
//!
//! Most drive the gateway in-process through its router over a stub target
//! (`support::router`): the MCP protocol in every era, validated against the official
//! schemas (`protocol/`, `protocol_modern.rs`), the recorded Lambda events (`events.rs`)
//! and the same events mangled (`event_props.rs`), bad input at every endpoint (`bad_input.rs`),
//! every JWT attack of the checklist (`auth_hardening/`), group policies (`policy_http.rs`)
//! and their property tests (`policy_props/`). Some need no gateway at all: Wycheproof's
//! JWS vectors (`wycheproof.rs`), template.yaml (`template.rs`) and the architecture's
//! rules, crate dependencies by `cargo tree --offline` and no import cycle
//! (`architecture.rs`). Two spawn this package's binaries on 127.0.0.1 and nothing else:
//! the standalone server's limits over raw TCP (`standalone_server.rs`) and demo-tools'
//! checks of identity statements (`demo_tools_statements.rs`).
//!
//! A test that needs a service from `make test` belongs in `tests/services.rs` or
//! `tests/e2e.rs`, never here.

mod support;

mod hermetic {
    mod architecture;
    mod auth_hardening;
    mod bad_input;
    mod demo_tools_statements;
    mod event_props;
    mod events;
    mod policy_http;
    mod policy_props;
    mod protocol;
    mod protocol_modern;
    mod standalone_server;
    mod template;
    mod wycheproof;
}
