//! The MCP endpoint over HTTP, handshake era (2025-03-26, 2025-06-18, 2025-11-25) and the
//! rules of every era (HTTP methods, origins, media types, body limits, framing).
//! The per-request era (2026-07-28) is in `protocol_modern.rs`.
//!
//! Every JSON-RPC body is validated against the official schema of the version it speaks.

mod handshake;
mod http;
mod tools;

use crate::support::router::rpc;
use serde_json::{Value, json};

/// An `initialize` request offering `version` (none: the field is left out).
fn initialize(version: Option<&str>) -> Value {
    let mut params = json!({
        "capabilities": {},
        "clientInfo": { "name": "protocol-test", "version": "0.0.0" },
    });
    if let Some(v) = version {
        params["protocolVersion"] = v.into();
    }
    rpc(1, "initialize", params)
}

/// A `tools/call` request for `name` with `arguments`.
fn call(id: i64, name: &str, arguments: Value) -> Value {
    rpc(
        id,
        "tools/call",
        json!({ "name": name, "arguments": arguments }),
    )
}
