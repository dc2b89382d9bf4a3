//! Property tests of the tool-policy decision at the MCP core: generated group policies
//! (glob patterns over a small alphabet, allow and deny lists, scope requirements, the
//! every-user group `*`) and a generated catalog are served from an in-memory
//! `ConfigSource` through a real `SnapshotStore` and `McpService`; generated callers list
//! and call every tool through `McpService::handle`, and a recording fake `ToolInvoker`
//! shows which calls got through. Each answer is checked against an independent oracle
//! (its own glob matcher and a from-scratch reading of the rules), and `tools/list` and
//! `tools/call` are checked never to disagree.

mod oracle;
mod service;

mod properties;
