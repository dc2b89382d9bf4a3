//! Shared by the façade tests (included with `#[path]`, beside support/clients.rs): a
//! standalone gateway whose authorization-server façade fronts the local oidc-provider, demo
//! tools that verify who called, and small HTTP helpers that never follow redirects.
#![allow(dead_code)]

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;

use crate::clients::*;

/// The relay's client at the local oidc-provider (tests/idp/oidc_provider.mjs).
pub const RELAY_CLIENT: &str = "mcp-gateway-relay";

pub const CATALOG: &str = "\
policies:
  - {group: '*', allow: [current_time]}
  - {group: engineering, allow: [echo]}
  - group: admins
    allow: ['*']
    scopes: [{tools: 'admin_*', scopes: ['mcp:admin']}]
tools:
  - {name: echo, inputSchema: {type: object}, target: {kind: http, url: '${DEMO_TOOLS_URL}/echo'}}
  - {name: admin_echo, inputSchema: {type: object}, target: {kind: http, url: '${DEMO_TOOLS_URL}/echo'}}
  - {name: current_time, inputSchema: {type: object}, target: {kind: http, url: '${DEMO_TOOLS_URL}/current_time'}}
";

pub struct Gateway {
    pub _tools: Server,
    pub gateway: Server,
    pub base: String,
    pub resource: String,
}

/// Demo tools (verifying who called) and a gateway whose façade fronts the local provider.
pub async fn facade_gateway(extra: &[(&str, &str)]) -> Gateway {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let resource = format!("{base}/mcp");
    let tools_port = free_port();
    let tools = spawn(
        env!("CARGO_BIN_EXE_demo-tools"),
        &[
            ("DEMO_TOOLS_BIND", &format!("127.0.0.1:{tools_port}")),
            ("DEMO_GATEWAY_ISSUER", &resource),
            (
                "DEMO_GATEWAY_JWKS_URL",
                &format!("{base}/.well-known/jwks.json"),
            ),
            (
                "DEMO_TOOLS_AUDIENCE",
                &format!("http://127.0.0.1:{tools_port}"),
            ),
        ],
    );
    let dir = std::env::temp_dir().join(format!("e2e-oauth-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let catalog = dir.join("catalog.yaml");
    std::fs::write(&catalog, CATALOG).unwrap();
    register_resource(&resource).await;
    let issuer = required_env("OIDC_ISSUER");
    let bind = format!("127.0.0.1:{port}");
    let mut env = vec![
        ("GATEWAY_BIND", bind.as_str()),
        ("DEMO_TOOLS_URL", tools.base.as_str()),
        ("GATEWAY_RESOURCE_URL", resource.as_str()),
        ("GATEWAY_OIDC_ISSUER", issuer.as_str()),
        ("GATEWAY_CATALOG_FILE", catalog.to_str().unwrap()),
        ("GATEWAY_SCOPES_SUPPORTED", "mcp:tools"),
        ("GATEWAY_FACADE_ISSUER", issuer.as_str()),
        ("GATEWAY_FACADE_CLIENT_ID", RELAY_CLIENT),
    ];
    env.extend_from_slice(extra);
    let gateway = spawn(env!("CARGO_BIN_EXE_mcp-oauth-gateway"), &env);
    Gateway {
        _tools: tools,
        gateway,
        base,
        resource,
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

pub async fn register(base: &str, body: Value) -> (StatusCode, Value) {
    let resp = http()
        .post(format!("{base}/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}

pub fn query(location: &str) -> std::collections::HashMap<String, String> {
    let url = url::Url::parse(location).unwrap();
    url.query_pairs().into_owned().collect()
}
