//! The MCP core: JSON-RPC framing, protocol versions and eras, method dispatch, and the
//! SSE decoding an upstream's answers need.
//! Imports no AWS SDK and no HTTP client.

pub mod dispatch;
pub mod error;
pub mod jsonrpc;
mod messages;
pub mod protocol;
pub mod sse;
pub mod version;

pub use dispatch::{CallContext, Failure, McpService, Outcome, ServerInfo};
pub use error::McpError;
pub use protocol::TransportHeaders;
pub use version::{Era, Version};
