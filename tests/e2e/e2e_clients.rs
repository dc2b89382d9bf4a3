//! Real MCP clients (official TypeScript SDK, Python `mcp`) against the gateway over real
//! HTTP in both runtimes: the standalone server (spawned here) and the function under
//! `cargo lambda watch` (started by `make test`, URL in `MCP_WATCH_URL`).
//!
//! Clients carry real tokens: a Cognito access token from moto (`COGNITO_CONFIG`, seeded by
//! `make test`) and an OIDC access token from the local provider (`OIDC_ISSUER`).
//!
//! Needs `MCP_E2E_NODE`, `MCP_E2E_PYTHON`, `MCP_WATCH_URL`, `COGNITO_CONFIG` and
//! `OIDC_ISSUER`, which `make test` sets after installing and starting everything; without
//! them these tests fail, they never skip.

use std::process::Command;

use serde_json::Value;

use crate::support::clients::*;

/// Demo tools and a gateway trusting the seeded Cognito pool and the local OIDC provider.
async fn standalone() -> (Server, Server, String) {
    let port = free_port();
    let resource = format!("http://127.0.0.1:{port}/mcp");
    // The demo tools verify the gateway's statement of who called with its published keys.
    let tools_port = free_port();
    let tools_bind = format!("127.0.0.1:{tools_port}");
    let tools_origin = format!("http://{tools_bind}");
    let gateway_jwks = format!("http://127.0.0.1:{port}/.well-known/jwks.json");
    let tools = spawn(
        env!("CARGO_BIN_EXE_demo-tools"),
        &[
            ("DEMO_TOOLS_BIND", tools_bind.as_str()),
            ("DEMO_GATEWAY_ISSUER", resource.as_str()),
            ("DEMO_GATEWAY_JWKS_URL", gateway_jwks.as_str()),
            ("DEMO_TOOLS_AUDIENCE", tools_origin.as_str()),
        ],
    );
    register_resource(&resource).await;
    let cognito = cognito_config();
    let bind = format!("127.0.0.1:{port}");
    let gateway = spawn(
        env!("CARGO_BIN_EXE_mcp-oauth-gateway"),
        &[
            ("GATEWAY_BIND", bind.as_str()),
            ("DEMO_TOOLS_URL", tools.base.as_str()),
            ("GATEWAY_RESOURCE_URL", resource.as_str()),
            ("GATEWAY_OIDC_ISSUER", required_env("OIDC_ISSUER").as_str()),
            (
                "GATEWAY_COGNITO_USER_POOL_ID",
                cognito["userPoolId"].as_str().unwrap(),
            ),
            (
                "GATEWAY_COGNITO_CLIENT_IDS",
                cognito["clientId"].as_str().unwrap(),
            ),
            (
                "GATEWAY_COGNITO_JWKS_URL",
                cognito["jwksUrl"].as_str().unwrap(),
            ),
        ],
    );
    (tools, gateway, resource)
}

/// The demo tools alice sees everywhere; under watch the demo organisation adds the
/// upstream MCP server's tools and tests/fixtures/watch-targets.yaml more.
const DEMO_TOOLS: [&str; 3] = ["calculate", "current_time", "echo"];

fn check(report: &Value, protocol: &str, echo: &str, caller: Option<&str>, exact: bool) {
    assert_eq!(report["protocolVersion"], protocol, "{report}");
    let tools: Vec<&str> = report["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    if exact {
        assert_eq!(tools, DEMO_TOOLS, "{report}");
    } else {
        for t in DEMO_TOOLS
            .iter()
            .chain(&["sleep", "everything___echo", "lambda___echo"])
        {
            assert!(tools.contains(t), "{t} missing: {report}");
        }
    }
    assert!(
        report["echo"].as_str().is_some_and(|t| t.contains(echo)),
        "{report}"
    );
    if let Some(user) = caller {
        let expected = format!("\"caller\":\"{user}\"");
        assert!(
            report["echo"]
                .as_str()
                .is_some_and(|t| t.contains(&expected)),
            "the tool should say who called: {report}"
        );
    }
}

/// Every client and era against one MCP URL: the TypeScript SDK with a Cognito token, the
/// Python SDK in both eras (2026-07-28; 2025-11-25 and 2025-06-18 through the handshake) with
/// an OIDC token; and no client gets in without a token.
async fn all_clients(url: &str, caller: Option<&str>, exact: bool) {
    let node = required_env("MCP_E2E_NODE");
    let python = required_env("MCP_E2E_PYTHON");
    let cognito = format!("Authorization: Bearer {}", cognito_token("alice"));
    let oidc = format!("Authorization: Bearer {}", oidc_token(url).await);

    let ts = run_client(
        &node,
        &["tests/clients/ts_client.mjs", url, "--header", &cognito],
    );
    check(&ts, "2025-11-25", "hello from ts", caller, exact);
    // The Python SDK's default probes `server/discover` and speaks 2026-07-28.
    let py = run_client(
        &python,
        &["tests/clients/py_client.py", url, "--header", &oidc],
    );
    check(&py, "2026-07-28", "hello from python", caller, exact);
    let py_legacy = run_client(
        &python,
        &[
            "tests/clients/py_client.py",
            url,
            "--mode",
            "legacy",
            "--header",
            &oidc,
        ],
    );
    check(&py_legacy, "2025-11-25", "hello from python", caller, exact);
    let py_older = run_client(
        &python,
        &[
            "tests/clients/py_client.py",
            url,
            "--mode",
            "legacy",
            "--offer",
            "2025-06-18",
            "--header",
            &oidc,
        ],
    );
    check(&py_older, "2025-06-18", "hello from python", caller, exact);

    let anonymous = client(&node, &["tests/clients/ts_client.mjs", url]);
    assert!(
        !anonymous.status.success(),
        "a client without a token got in"
    );
    let forged = client(
        &python,
        &[
            "tests/clients/py_client.py",
            url,
            "--header",
            "Authorization: Bearer e30.e30.c2ln",
        ],
    );
    assert!(
        !forged.status.success(),
        "a client with a forged token got in"
    );
}

#[tokio::test]
async fn real_clients_through_the_standalone_server() {
    let (_tools, _gateway, resource) = standalone().await;
    all_clients(&resource, Some("alice"), true).await;
}

#[tokio::test]
async fn real_clients_through_cargo_lambda_watch() {
    all_clients(&required_env("MCP_WATCH_URL"), Some("alice"), false).await;
}

#[test]
fn standalone_start_up_refuses_bad_configuration_naming_the_setting() {
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-oauth-gateway"))
        .env("GATEWAY_BIND", "127.0.0.1:0")
        .env("GATEWAY_COGNITO_USER_POOL_ID", "us-east-1_Pool1")
        .env("GATEWAY_COGNITO_CLIENT_IDS", "c")
        .env("GATEWAY_TOOLS_TTL_MS", "soon")
        .env("DEMO_TOOLS_URL", "http://127.0.0.1:1")
        .output()
        .expect("run the gateway");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("GATEWAY_TOOLS_TTL_MS"), "{stderr}");

    let out = Command::new(env!("CARGO_BIN_EXE_mcp-oauth-gateway"))
        .env("GATEWAY_BIND", "127.0.0.1:0")
        .env("GATEWAY_COGNITO_USER_POOL_ID", "us-east-1_Pool1")
        .env("GATEWAY_COGNITO_CLIENT_IDS", "c")
        .env_remove("DEMO_TOOLS_URL")
        .output()
        .expect("run the gateway");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DEMO_TOOLS_URL is not set"), "{stderr}");

    // No trusted issuer at all: refuse to start rather than serve anyone.
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-oauth-gateway"))
        .env("GATEWAY_BIND", "127.0.0.1:0")
        .env("DEMO_TOOLS_URL", "http://127.0.0.1:1")
        .env_remove("GATEWAY_COGNITO_USER_POOL_ID")
        .env_remove("GATEWAY_OIDC_ISSUER")
        .env_remove("GATEWAY_ISSUERS")
        .output()
        .expect("run the gateway");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("GATEWAY_ISSUERS: no trusted issuer"),
        "{stderr}"
    );
}
