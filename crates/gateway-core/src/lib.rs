//! gateway-core: what the gateway decides, with no way to reach the network. MCP framing
//! and dispatch, token verification, tool policies, the catalog model, federation, the OAuth
//! façade's logic, the audit model and identity statements; every store, service and target
//! sits behind a trait here, implemented in `gateway-adapters`. This crate depends on no
//! AWS SDK, HTTP client or server, axum or Lambda crate, so it cannot import one.

pub mod audit;
pub mod auth;
pub mod catalog;
pub mod federation;
pub mod identity;
pub mod mcp;
pub mod oauth;
pub mod outbound;
pub mod policy;
pub mod reload;
pub mod source;
pub mod targets;
pub mod urls;
