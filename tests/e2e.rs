//! End to end with real third-party MCP peers: the official TypeScript and Python SDKs,
//! mcp-remote and the MCP Inspector as clients, server-everything and a Python SDK server as
//! federated upstreams, and the authorization-server façade signing users in at the local
//! OIDC provider. Everything `make test` starts is used (moto, the OIDC provider, `cargo
//! lambda watch`, `MCP_E2E_NODE`, `MCP_E2E_PYTHON`); without it these tests fail, they never
//! skip.
//!
//! Real clients against the standalone server and the Lambda runtime (`e2e_clients.rs`),
//! every target kind under watch (`e2e_targets.rs`), the façade on the standalone server
//! (`e2e_oauth.rs`, `e2e_oauth_cimd.rs`, `e2e_oauth_clients.rs`), under watch
//! (`e2e_oauth_watch.rs`) and registering Cognito app clients (`e2e_oauth_cognito.rs`), and
//! upstream MCP servers federated through the in-process gateway (`federation.rs`).

mod support;

mod e2e {
    mod e2e_clients;
    mod e2e_oauth;
    mod e2e_oauth_cimd;
    mod e2e_oauth_clients;
    mod e2e_oauth_cognito;
    mod e2e_oauth_watch;
    mod e2e_targets;
    mod federation;
}
