//! The gateway in-process, driven through its router: a stub tool target, the gateway app
//! built over it, one-shot requests, validation against the official MCP JSON Schemas, and
//! the test issuer's keys and tokens (`tokens`).

pub mod tokens;

mod gateway;
mod requests;
mod schema;
mod stub;

// Each test binary uses a different subset: a re-export it never uses is no mistake.
#[allow(unused_imports)]
pub use gateway::*;
#[allow(unused_imports)]
pub use requests::*;
#[allow(unused_imports)]
pub use schema::*;
#[allow(unused_imports)]
pub use stub::*;

/// Every protocol version the gateway speaks, newest first.
pub const ALL_VERSIONS: [&str; 4] = ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"];
/// The per-request-era version.
pub const MODERN: &str = "2026-07-28";
