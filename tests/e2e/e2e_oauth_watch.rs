//! The authorization-server façade of the gateway under `cargo lambda watch` (what `make dev`
//! runs): its issuer carries watch's `/lambda-url/mcp-oauth-gateway` prefix, so clients find
//! it by OpenID Connect discovery's path appending, and real MCP clients (the TypeScript SDK,
//! mcp-remote) sign a user in at the local oidc-provider through it and call the demo tools.
//!
//! Needs `MCP_WATCH_URL`, `MCP_E2E_NODE` and `OIDC_ISSUER`, which `make test` sets; without
//! them these tests fail, they never skip.

use serde_json::{Value, json};

use crate::support::clients::*;

/// The façade's issuer: the gateway's base URL under watch.
fn facade_base() -> String {
    let mcp = required_env("MCP_WATCH_URL");
    mcp.strip_suffix("/mcp")
        .unwrap_or_else(|| panic!("MCP_WATCH_URL {mcp} does not end in /mcp"))
        .to_owned()
}

async fn get_json(url: &str) -> Value {
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn the_facade_is_found_below_the_function_prefix() {
    let base = facade_base();
    let prm = get_json(&format!("{base}/.well-known/oauth-protected-resource/mcp")).await;
    assert_eq!(prm["authorization_servers"], json!([base]), "{prm}");

    // Where a client looks first for an issuer with a path (RFC 8414 path insertion) is
    // outside the function; OpenID Connect discovery's path appending is inside it.
    let md = get_json(&format!("{base}/.well-known/openid-configuration")).await;
    assert_eq!(md["issuer"], base, "{md}");
    for (member, path) in [
        ("authorization_endpoint", "authorize"),
        ("token_endpoint", "token"),
        ("registration_endpoint", "register"),
    ] {
        assert_eq!(md[member], format!("{base}/{path}"), "{md}");
    }
    assert_eq!(
        md["code_challenge_methods_supported"],
        json!(["S256"]),
        "{md}"
    );
    let rfc8414 = get_json(&format!("{base}/.well-known/oauth-authorization-server")).await;
    assert_eq!(rfc8414, md);

    // The consent page's cookie is scoped to the façade's path under the function prefix.
    let reg: Value = reqwest::Client::new()
        .post(format!("{base}/register"))
        .json(&json!({"redirect_uris": ["http://127.0.0.1:7/cb"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = url::Url::parse_with_params(
        &format!("{base}/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", reg["client_id"].as_str().unwrap()),
            ("redirect_uri", "http://127.0.0.1:7/cb"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    let page = reqwest::get(url).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("mcp_gw_csrf=")
            && cookie.contains("Path=/lambda-url/mcp-oauth-gateway;"),
        "{cookie}"
    );
}

#[tokio::test]
async fn the_typescript_sdk_signs_users_in_through_the_facade_under_watch() {
    let base = facade_base();
    let mcp = required_env("MCP_WATCH_URL");
    let node = required_env("MCP_E2E_NODE");
    let alice = run_client(
        &node,
        &[
            "tests/clients/ts_oauth_client.mjs",
            &mcp,
            "--login",
            "alice",
            "--call",
            r#"echo={"text":"signed in under watch"}"#,
        ],
    );
    let appended = format!("200 {base}/.well-known/openid-configuration");
    assert!(
        alice["discovery"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == appended.as_str()),
        "{alice}"
    );
    assert_eq!(alice["registrations"], 1, "{alice}");
    assert_eq!(alice["signIns"], 1, "{alice}");
    // Through the gateway's consent page, whose cookies work under watch's function prefix.
    assert_eq!(alice["consents"], 1, "{alice}");
    assert_eq!(alice["statesIntact"], true, "{alice}");
    assert_eq!(alice["protocolVersion"], "2025-11-25", "{alice}");
    let tools = alice["tools"].as_array().unwrap();
    assert!(tools.iter().any(|t| t == "echo"), "{alice}");
    let echo = &alice["calls"]["echo"];
    assert_eq!(echo["isError"], false, "{alice}");
    assert!(
        caller_is(echo["text"].as_str().unwrap(), "alice")
            && echo["text"]
                .as_str()
                .unwrap()
                .contains("signed in under watch"),
        "{alice}"
    );

    // Bob signs in as himself and sees only what finance may use.
    let bob = run_client(
        &node,
        &["tests/clients/ts_oauth_client.mjs", &mcp, "--login", "bob"],
    );
    assert_eq!(bob["tools"], json!(["calculate", "current_time"]), "{bob}");
}

#[test]
fn mcp_remote_signs_in_through_the_facade_under_watch() {
    let dir = std::env::temp_dir().join(format!("mcp-remote-watch-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = mcp_remote(&required_env("MCP_WATCH_URL"), &dir, &[]);
    assert_eq!(report["protocolVersion"], "2025-11-25", "{report}");
    let browsed = std::fs::read_to_string(dir.join("browser.log")).unwrap();
    assert!(
        browsed.contains("gateway consent page: approve"),
        "{browsed}"
    );
}

/// The Inspector CLI signing in by itself under watch: the gateway's consent page approved
/// in its browser, then the call as alice.
#[test]
fn the_inspector_cli_signs_in_through_the_facade_under_watch() {
    let callback = format!("http://127.0.0.1:{}/oauth/callback", free_port());
    let (call, browsed) = inspector(&[
        &required_env("MCP_WATCH_URL"),
        "--transport",
        "http",
        "--callback-url",
        &callback,
        "--method",
        "tools/call",
        "--tool-name",
        "echo",
        "--tool-arg",
        "text=signed in under watch",
    ]);
    let text = call["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{call}"));
    assert!(caller_is(text, "alice"), "{call}");
    assert!(
        browsed.contains("gateway consent page: approve"),
        "{browsed}"
    );
}
