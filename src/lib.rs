//! mcp-oauth-gateway: OAuth-protected, policy-controlled MCP tools behind one endpoint.
//!
//! Layout: a pure core (`mcp`, `catalog`, `federation`, `policy`, `targets`) that imports no AWS SDK and no HTTP
//! client; `adapters`, one file per external system; `edge`, the HTTP surface that maps
//! every error to a status and a JSON-RPC error; `runtime`, Lambda or standalone serving.

pub mod adapters;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod edge;
pub mod facade;
pub mod federation;
pub mod identity;
pub mod mcp;
pub mod oauth;
pub mod outbound;
pub mod policy;
pub mod refresh;
pub mod runtime;
pub mod server;
pub mod state;
pub mod targets;
pub mod urls;

pub use edge::app;
pub use state::AppState;
