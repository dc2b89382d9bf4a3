//! mcp-oauth-gateway, the app: the HTTP edge (`edge`, which maps every error to a status and
//! a JSON-RPC error in one place), the start-up wiring (`wiring`, from `config`), Lambda
//! or standalone serving (`runtime`, `server`) and the operator CLI (`cli`). What it decides
//! is in `gateway-core`, which cannot reach the network; how it reaches AWS and HTTP is in
//! `gateway-adapters` (docs/architecture.md).

pub mod cli;
pub mod config;
pub mod demo;
pub mod edge;
pub mod runtime;
pub mod server;
pub mod wiring;

// The layers under their old paths, so the binaries, tests and benches name one crate.
pub use gateway_adapters as adapters;
pub use gateway_core::{
    audit, auth, catalog, federation, identity, mcp, oauth, outbound, policy, reload, source,
    targets, urls,
};

pub use edge::app;
pub use edge::state::AppState;
