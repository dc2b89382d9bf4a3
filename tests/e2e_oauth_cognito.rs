//! The façade's Cognito registration mode against moto: each `POST /register` creates a
//! public app client (authorization code + PKCE, the relay's callback, the configured
//! scopes) recorded in the policy table, up to `GATEWAY_FACADE_MAX_REGISTRATIONS`;
//! `gatewayctl clients list|remove` lists it and deletes it at Cognito. moto has no hosted login, so the sign-in itself is tested against
//! the local oidc-provider (tests/e2e_oauth.rs).
//!
//! Needs `COGNITO_CONFIG` and `AWS_ENDPOINT_URL` (moto), which `make test` sets; without
//! them this test fails, it never skips.

use std::process::Command;

use serde_json::{Value, json};

#[path = "support/clients.rs"]
mod clients;
#[path = "support/oauth.rs"]
mod oauth;
use clients::*;
use oauth::*;

fn gatewayctl(table: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gatewayctl"))
        .arg("--table")
        .arg(table)
        .args(args)
        .output()
        .expect("run gatewayctl")
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
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let resource = format!("{base}/mcp");
    let _gateway = spawn(
        env!("CARGO_BIN_EXE_mcp-oauth-gateway"),
        &[
            ("GATEWAY_BIND", &format!("127.0.0.1:{port}")),
            ("GATEWAY_RESOURCE_URL", &resource),
            ("GATEWAY_COGNITO_USER_POOL_ID", pool),
            (
                "GATEWAY_COGNITO_CLIENT_IDS",
                cognito["clientId"].as_str().unwrap(),
            ),
            (
                "GATEWAY_COGNITO_JWKS_URL",
                cognito["jwksUrl"].as_str().unwrap(),
            ),
            ("GATEWAY_POLICY_TABLE", &table),
            ("GATEWAY_FACADE_ISSUER", cognito["issuer"].as_str().unwrap()),
            ("GATEWAY_FACADE_REGISTRATION", "cognito"),
            ("GATEWAY_FACADE_SCOPES", "openid email"),
            ("GATEWAY_FACADE_MAX_REGISTRATIONS", "1"),
        ],
    );
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
