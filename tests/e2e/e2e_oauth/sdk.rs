//! The TypeScript SDK signing users in through the façade on the standalone server: one
//! browser (the gateway's consent once, its cookie on the step-up), both revisions, and
//! each user seeing what their groups allow.

use serde_json::json;

use crate::support::clients::*;
use crate::support::oauth::*;

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
    // One browser: the gateway's consent page the first time, its cookie the second.
    assert_eq!(alice["consents"], 1, "{alice}");
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
    // The same sign-in with the SDK offering the 2025-06-18 revision.
    let older = run_client(
        &node,
        &[
            "tests/clients/ts_oauth_client.mjs",
            &g.resource,
            "--protocol",
            "2025-06-18",
            "--call",
            r#"echo={"text":"older revision"}"#,
        ],
    );
    assert_eq!(older["protocolVersion"], "2025-06-18", "{older}");
    assert_eq!(older["calls"]["echo"]["isError"], false, "{older}");
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
