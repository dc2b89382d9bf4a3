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

