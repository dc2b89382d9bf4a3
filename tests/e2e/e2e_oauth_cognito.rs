//! The façade's Cognito registration mode against moto: each `POST /register` creates a
//! public app client (authorization code + PKCE, the relay's callback, the configured
//! scopes) recorded in the policy table, up to `GATEWAY_FACADE_MAX_REGISTRATIONS`;
//! `gatewayctl clients list|remove` lists it and deletes it at Cognito. moto has no hosted login, so the sign-in itself is tested against
//! the local oidc-provider (tests/e2e/e2e_oauth.rs).
//!
//! Needs `COGNITO_CONFIG` and `AWS_ENDPOINT_URL` (moto), which `make test` sets; without
//! them this test fails, it never skips.

use std::process::Command;

use serde_json::{Value, json};

use crate::support::clients::*;
use crate::support::oauth::*;
mod abuse;

fn gatewayctl(table: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gatewayctl"))
        .arg("--table")
        .arg(table)
        .args(args)
        .output()
        .expect("run gatewayctl")
}

/// A gateway trusting the seeded pool, reading `table`, whose façade creates a Cognito app
/// client per registration (plus `extra` settings); and its base URL.
fn registering_gateway(table: &str, extra: &[(&str, &str)]) -> (Server, String) {
    let cognito = cognito_config();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let bind = format!("127.0.0.1:{port}");
    let resource = format!("{base}/mcp");
    let mut env = vec![
        ("GATEWAY_BIND", bind.as_str()),
        ("GATEWAY_RESOURCE_URL", &resource),
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
        ("GATEWAY_POLICY_TABLE", table),
        ("GATEWAY_FACADE_ISSUER", cognito["issuer"].as_str().unwrap()),
        ("GATEWAY_FACADE_REGISTRATION", "cognito"),
        ("GATEWAY_FACADE_SCOPES", "openid email"),
    ];
    env.extend_from_slice(extra);
    (spawn(env!("CARGO_BIN_EXE_mcp-oauth-gateway"), &env), base)
}

#[tokio::test]
async fn cognito_registrations_create_app_clients_that_gatewayctl_lists_and_removes() {
    let cognito = cognito_config();
    let pool = cognito["userPoolId"].as_str().unwrap();
    let table = format!("oauth-{}", uuid::Uuid::new_v4().simple());
    let out = gatewayctl(&table, &["table", "create"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_gateway, base) =
        registering_gateway(&table, &[("GATEWAY_FACADE_MAX_REGISTRATIONS", "1")]);
    let (status, answer) = register(
        &base,
        json!({"redirect_uris": ["http://127.0.0.1:7777/callback"], "client_name": "Claude Code"}),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    let (status, refused) =
        register(&base, json!({"redirect_uris": ["http://evil.example/cb"]})).await;
    assert_eq!(
        (status.as_u16(), refused["error"].as_str()),
        (400, Some("invalid_redirect_uri"))
    );
    // Anyone may register: past GATEWAY_FACADE_MAX_REGISTRATIONS no more app clients are made.
    let second =
        json!({"redirect_uris": ["http://127.0.0.1:8888/callback"], "client_name": "Cursor"});
    let (status, full) = register(&base, second.clone()).await;
    assert_eq!(
        (status.as_u16(), full["error"].as_str()),
        (403, Some("access_denied")),
        "{full}"
    );

    let out = gatewayctl(&table, &["--json", "clients", "list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let rec = &listed[0];
    assert_eq!(rec["clientName"], "Claude Code");
    assert_eq!(
        rec["redirectUris"],
        json!(["http://127.0.0.1:7777/callback"])
    );
    let app_client = rec["clientId"].as_str().unwrap().to_owned();

    // The app client at Cognito: public, code flow, only the relay's callback, our scopes.
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let described = idp
        .describe_user_pool_client()
        .user_pool_id(pool)
        .client_id(&app_client)
        .send()
        .await
        .expect("the created app client exists");
    let c = described.user_pool_client().unwrap();
    assert_eq!(c.client_secret(), None);
    assert_eq!(c.callback_urls(), [format!("{base}/oauth/callback")]);
    assert_eq!(c.allowed_o_auth_scopes(), ["openid", "email"]);
    assert_eq!(c.allowed_o_auth_flows().len(), 1);
    assert_eq!(c.allowed_o_auth_flows()[0].as_str(), "code");

    let out = gatewayctl(&table, &["clients", "remove", &app_client]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gone = idp
        .describe_user_pool_client()
        .user_pool_id(pool)
        .client_id(&app_client)
        .send()
        .await;
    assert!(gone.is_err(), "the app client is deleted at Cognito");
    let out = gatewayctl(&table, &["--json", "clients", "list"]);
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!([])
    );
    let out = gatewayctl(&table, &["clients", "remove", &app_client]);
    assert!(!out.status.success(), "removing twice is an error");
    // The removed registration no longer counts against the limit.
    let (status, answer) = register(&base, second).await;
    assert_eq!(status, 201, "{answer}");
}

/// `tools/list` at the gateway with `token`: the status and the tool names.
async fn tools_list(resource: &str, token: &str) -> (u16, Vec<String>) {
    let resp = http()
        .post(resource)
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let mut names: Vec<String> = body["result"]["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    (status, names)
}

#[tokio::test]
async fn tokens_of_registered_app_clients_are_accepted_until_gatewayctl_removes_them() {
    let cognito = cognito_config();
    let table = format!("oauth-{}", uuid::Uuid::new_v4().simple());
    let doc = std::env::temp_dir().join(format!("{table}.yaml"));
    let catalog = [
        "policies:",
        "  - {group: '*', allow: [current_time]}",
        "  - {group: engineering, allow: [echo]}",
        "tools:",
        "  - {name: echo, inputSchema: {type: object}, target: {kind: http, url: 'http://127.0.0.1:1/echo'}}",
        "  - {name: current_time, inputSchema: {type: object}, target: {kind: http, url: 'http://127.0.0.1:1/time'}}",
    ];
    std::fs::write(&doc, catalog.join("\n")).unwrap();
    for args in [&["table", "create"][..], &["import", doc.to_str().unwrap()]] {
        let out = gatewayctl(&table, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (_gateway, base) = registering_gateway(&table, &[]);
    let resource = format!("{base}/mcp");
    let (status, answer) = register(
        &base,
        json!({"redirect_uris": ["http://127.0.0.1:7777/callback"], "client_name": "Claude Code"}),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    let out = gatewayctl(&table, &["--json", "clients", "list"]);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let app_client = listed[0]["clientId"].as_str().unwrap().to_owned();

    // alice (engineering) through the registered app client: her tools.
    let registered = cognito_token_for_client("alice", &app_client);
    assert_eq!(
        tools_list(&resource, &registered).await,
        (200, vec!["current_time".to_owned(), "echo".to_owned()])
    );
    // An app client of the same pool that neither configuration nor the gateway made.
    let other = cognito_token_for_client("alice", cognito["otherClientId"].as_str().unwrap());
    assert_eq!(tools_list(&resource, &other).await.0, 401);

    // Removed (by another process): refused once the gateway re-reads the record.
    let out = gatewayctl(&table, &["clients", "remove", &app_client]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut status = 0;
    for _ in 0..120 {
        status = tools_list(&resource, &registered).await.0;
        if status == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(status, 401, "the removed client's token is still accepted");
}
