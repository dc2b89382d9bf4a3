//! The authorization-server façade end to end on the standalone server, against the local
//! oidc-provider (login and consent pages) and moto's Cognito: metadata, registration,
//! the loopback relay's refusals and pass-throughs, PKCE held by the client alone, the
//! TypeScript SDK signing a user in headlessly and stepping up, and Cognito app clients
//! created per registration and removed with `gatewayctl clients`.
//!
//! Needs `MCP_E2E_NODE`, `OIDC_ISSUER`, `COGNITO_CONFIG` and `AWS_ENDPOINT_URL` (moto), which
//! `make test` sets; without them these tests fail, they never skip.

use std::process::Command;

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

#[path = "support/clients.rs"]
mod clients;
use clients::*;

/// The relay's client at the local oidc-provider (tests/idp/oidc_provider.mjs).
const RELAY_CLIENT: &str = "mcp-gateway-relay";

const CATALOG: &str = "\
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

struct Gateway {
    _tools: Server,
    _gateway: Server,
    base: String,
    resource: String,
}

/// Demo tools (verifying who called) and a gateway whose façade fronts the local provider.
async fn facade_gateway(extra: &[(&str, &str)]) -> Gateway {
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
        _gateway: gateway,
        base,
        resource,
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

async fn register(base: &str, body: Value) -> (StatusCode, Value) {
    let resp = http()
        .post(format!("{base}/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}

fn query(location: &str) -> std::collections::HashMap<String, String> {
    let url = url::Url::parse(location).unwrap();
    url.query_pairs().into_owned().collect()
}

#[tokio::test]
async fn metadata_sends_clients_to_the_facade_and_registration_checks_redirect_uris() {
    let g = facade_gateway(&[]).await;
    let prm: Value = http()
        .get(format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            g.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prm["authorization_servers"], json!([g.base]), "{prm}");

    let idp: Value = http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            required_env("OIDC_ISSUER")
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resp = http()
        .get(format!("{}/.well-known/oauth-authorization-server", g.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let md: Value = resp.json().await.unwrap();
    assert_eq!(md["issuer"], g.base);
    assert_eq!(
        md["authorization_endpoint"],
        format!("{}/authorize", g.base)
    );
    assert_eq!(md["token_endpoint"], format!("{}/token", g.base));
    assert_eq!(md["registration_endpoint"], format!("{}/register", g.base));
    assert_eq!(
        md["jwks_uri"], idp["jwks_uri"],
        "the IdP still signs the tokens"
    );
    assert_eq!(md["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(md["token_endpoint_auth_methods_supported"], json!(["none"]));
    assert!(md.get("client_id_metadata_document_supported").is_none());
    assert!(md.get("introspection_endpoint").is_none(), "{md}");

    for (body, error) in [
        (
            json!({"redirect_uris": ["http://evil.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["http://localhost:3000/cb"]}),
            "invalid_redirect_uri",
        ),
        (json!({"redirect_uris": []}), "invalid_redirect_uri"),
        (
            json!({"redirect_uris": ["https://app.example/cb#x"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb"], "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
        ),
        (json!("not an object"), "invalid_client_metadata"),
    ] {
        let (status, answer) = register(&g.base, body.clone()).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert_eq!(answer["error"], error, "{body} -> {answer}");
    }
    let (status, answer) = register(
        &g.base,
        json!({"redirect_uris": ["http://127.0.0.1:4444/cb", "https://app.example/cb"],
               "client_name": "Test", "token_endpoint_auth_method": "client_secret_basic"}),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["token_endpoint_auth_method"], "none");
    assert_eq!(answer["client_name"], "Test");
    assert_eq!(
        answer["redirect_uris"],
        json!(["http://127.0.0.1:4444/cb", "https://app.example/cb"])
    );
    assert!(answer.get("client_secret").is_none());
    assert!(answer["client_id"].as_str().is_some_and(|c| !c.is_empty()));
}

#[tokio::test]
async fn the_relay_never_redirects_elsewhere_and_passes_pkce_and_state_through() {
    let g = facade_gateway(&[]).await;
    let (_, reg) = register(
        &g.base,
        json!({"redirect_uris": ["http://127.0.0.1:4444/cb"]}),
    )
    .await;
    let client_id = reg["client_id"].as_str().unwrap().to_owned();
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let authorize = |client: &str, redirect: &str, pkce: bool| {
        let mut q = vec![
            ("response_type", "code".to_owned()),
            ("client_id", client.to_owned()),
            ("redirect_uri", redirect.to_owned()),
            ("state", "client state/+&=".to_owned()),
            ("scope", "mcp:tools".to_owned()),
            ("resource", g.resource.clone()),
        ];
        if pkce {
            q.push(("code_challenge", challenge.to_owned()));
            q.push(("code_challenge_method", "S256".to_owned()));
        }
        let url = url::Url::parse_with_params(&format!("{}/authorize", g.base), &q).unwrap();
        http().get(url).send()
    };

    // Unregistered redirect URIs and unknown or altered client ids: an error page, never a redirect.
    let mut forged = client_id.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for (client, redirect, status) in [
        (client_id.as_str(), "http://evil.example/cb", 400),
        (client_id.as_str(), "http://127.0.0.1:4444/other", 400),
        (client_id.as_str(), "https://127.0.0.1:4444/cb", 400),
        (
            client_id.as_str(),
            "http://127.0.0.1:4444@evil.example/cb",
            400,
        ),
        (forged.as_str(), "http://127.0.0.1:4444/cb", 401),
        (RELAY_CLIENT, "http://127.0.0.1:4444/cb", 401),
    ] {
        let resp = authorize(client, redirect, true).await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{redirect}");
        assert!(resp.headers().get("location").is_none(), "{redirect}");
    }

    // A registered loopback URI on another port: off to the IdP with the client's PKCE
    // challenge unchanged, the relay's own client and callback, and a signed state.
    let resp = authorize(&client_id, "http://127.0.0.1:5555/cb", true)
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{}/auth?", required_env("OIDC_ISSUER"))),
        "{location}"
    );
    let q = query(&location);
    assert_eq!(q["code_challenge"], challenge);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["client_id"], RELAY_CLIENT);
    assert_eq!(q["redirect_uri"], format!("{}/oauth/callback", g.base));
    assert_eq!(q["resource"], g.resource);
    assert_eq!(q["scope"], "mcp:tools");
    let relay_state = q["state"].clone();
    assert_ne!(relay_state, "client state/+&=");

    // Without PKCE the client hears about it at its own redirect URI, with its state.
    let resp = authorize(&client_id, "http://127.0.0.1:5555/cb", false)
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let back = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with("http://127.0.0.1:5555/cb?"), "{back}");
    assert_eq!(query(&back)["error"], "invalid_request");
    assert_eq!(query(&back)["state"], "client state/+&=");

    // The IdP's answer goes back to the client's redirect URI with its state unchanged.
    let callback = |state: &str, extra: &[(&str, &str)]| {
        let mut q: Vec<(&str, &str)> = vec![("state", state)];
        q.extend_from_slice(extra);
        let url = url::Url::parse_with_params(&format!("{}/oauth/callback", g.base), &q).unwrap();
        http().get(url).send()
    };
    let resp = callback(&relay_state, &[("code", "the-code")])
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let back = query(resp.headers()["location"].to_str().unwrap());
    assert_eq!(back["code"], "the-code");
    assert_eq!(back["state"], "client state/+&=");
    assert!(
        resp.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("http://127.0.0.1:5555/cb?")
    );
    let resp = callback(&relay_state, &[("error", "access_denied")])
        .await
        .unwrap();
    let back = query(resp.headers()["location"].to_str().unwrap());
    assert_eq!(back["error"], "access_denied");
    assert!(!back.contains_key("code"));
    // An altered relay state, or none: an error page.
    let (body, tag) = relay_state.split_once('.').unwrap();
    for bad in [
        format!("{body}x.{tag}"),
        format!("{body}.{}", &tag[1..]),
        String::new(),
    ] {
        let resp = callback(&bad, &[("code", "c")]).await.unwrap();
        assert_eq!(resp.status(), 400);
        assert!(resp.headers().get("location").is_none());
    }

    let resp = http()
        .post(format!("{}/token", g.base))
        .form(&[
            ("grant_type", "password"),
            ("client_id", client_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
}

#[tokio::test]
async fn only_the_clients_verifier_redeems_the_code() {
    let g = facade_gateway(&[]).await;
    let report = run_client(
        &required_env("MCP_E2E_NODE"),
        &["tests/clients/oauth_pkce_check.mjs", &g.base, &g.resource],
    );
    assert_eq!(report["stateReturned"], true, "{report}");
    assert_eq!(
        report["wrongVerifier"],
        json!({"status": 400, "error": "invalid_grant"})
    );
    assert_eq!(report["noVerifier"]["status"], 400, "{report}");
    assert_eq!(report["rightVerifier"]["status"], 200, "{report}");
    assert_eq!(report["rightVerifier"]["hasAccessToken"], true);
    assert_eq!(
        report["codeReused"],
        json!({"status": 400, "error": "invalid_grant"})
    );
    // The token is the IdP's, for this gateway: it opens /mcp.
    let token = report["accessToken"].as_str().unwrap();
    let resp = http()
        .post(&g.resource)
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn the_typescript_sdk_signs_the_user_in_and_steps_up_for_a_wider_scope() {
    let g = facade_gateway(&[]).await;
    let node = required_env("MCP_E2E_NODE");
    let alice = run_client(
        &node,
        &[
            "tests/clients/ts_oauth_client.mjs",
            &g.resource,
            "--login",
            "alice",
            "--call",
            r#"echo={"text":"hello through the facade"}"#,
            "--call",
            r#"admin_echo={"text":"needs mcp:admin"}"#,
        ],
    );
    assert_eq!(alice["protocolVersion"], "2025-11-25", "{alice}");
    assert_eq!(alice["registrations"], 1, "{alice}");
    assert_eq!(alice["statesIntact"], true, "{alice}");
    // First sign-in with the advertised scope; the 403 insufficient_scope makes a second.
    assert_eq!(alice["signIns"], 2, "{alice}");
    assert_eq!(alice["scopes"][0], "mcp:tools", "{alice}");
    assert!(
        alice["scopes"][1]
            .as_str()
            .is_some_and(|s| s.contains("mcp:admin")),
        "{alice}"
    );
    assert_eq!(
        alice["tools"],
        json!(["admin_echo", "current_time", "echo"]),
        "{alice}"
    );
    for call in ["echo", "admin_echo"] {
        let r = &alice["calls"][call];
        assert_eq!(r["isError"], false, "{alice}");
        assert!(
            r["text"].as_str().unwrap().contains("\"caller\":\"alice\""),
            "{alice}"
        );
    }
    // Bob signs in as himself and sees what his groups allow.
    let bob = run_client(
        &node,
        &[
            "tests/clients/ts_oauth_client.mjs",
            &g.resource,
            "--login",
            "bob",
        ],
    );
    assert_eq!(bob["tools"], json!(["current_time"]), "{bob}");
    assert_eq!(bob["signIns"], 1, "{bob}");
}

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
}
