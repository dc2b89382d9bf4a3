//! The 403 scope step-up: a tool needing a scope the token lacks gets an
//! `insufficient_scope` challenge naming every scope it needs, and never reaches the target.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use mcp_oauth_gateway::policy::EVERYONE;

use super::mcp::{assert_ran, call, list, listed};
use super::table::{Table, dynamodb, policy, policy_gateway, requiring, seed_pool, tools};
use super::targets::EchoTarget;
use crate::support::idp::{self, http, jwt_claims};

/// `name="value"` parameters of a challenge (values without escaped quotes).
fn challenge_params(challenge: &str) -> Vec<(String, String)> {
    let rest = challenge
        .strip_prefix("Bearer ")
        .unwrap_or_else(|| panic!("not a Bearer challenge: {challenge}"));
    rest.split("\", ")
        .map(|part| {
            let (k, v) = part
                .split_once("=\"")
                .unwrap_or_else(|| panic!("malformed challenge parameter {part:?}"));
            (k.to_owned(), v.trim_end_matches('"').to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_needing_a_scope_the_token_lacks_gets_a_403_step_up_challenge() {
    // Cognito access tokens carry `aws.cognito.signin.user.admin`, never `mcp:admin`.
    const COGNITO_SCOPE: &str = "aws.cognito.signin.user.admin";
    let cognito = seed_pool(&[("erin", &["engineering"])]).await;
    let target = EchoTarget::start().await;
    let table = Table::create(dynamodb(None).await).await;
    let everyone = requiring(
        requiring(policy(EVERYONE, &["echo"], &[]), "echo", &[COGNITO_SCOPE]),
        "admin_reset",
        &["mcp:audit"],
    );
    let engineering = requiring(
        policy("engineering", &["admin_*", "echo"], &[]),
        "admin_*",
        &["mcp:admin", COGNITO_SCOPE],
    );
    table
        .seed(
            &[everyone, engineering],
            &tools(&["admin_reset", "admin_users", "echo"], &target.base),
        )
        .await;
    let gateway = policy_gateway(&cognito, &table.name, &[]);
    let erin = cognito.login("erin").await.access;
    let scopes: Vec<String> = jwt_claims(&erin)["scope"]
        .as_str()
        .expect("a scope claim")
        .split(' ')
        .map(str::to_owned)
        .collect();
    assert!(scopes.iter().any(|s| s == COGNITO_SCOPE), "{scopes:?}");
    assert!(!scopes.iter().any(|s| s.starts_with("mcp:")), "{scopes:?}");
    let base = gateway.base.as_str();
    let metadata_url = format!("{base}/.well-known/oauth-protected-resource/mcp");

    // Listed all the same, so that a client can step up when it calls.
    assert_eq!(
        listed(&list(base, &erin).await),
        ["admin_reset", "admin_users", "echo"]
    );
    // A required scope the token has: allowed.
    assert_ran(&call(base, &erin, json!(1), "echo").await, "echo");

    for (id, tool, needed) in [
        (
            json!("step-up-1"),
            "admin_reset",
            vec![COGNITO_SCOPE, "mcp:admin", "mcp:audit"],
        ),
        (json!(42), "admin_users", vec![COGNITO_SCOPE, "mcp:admin"]),
    ] {
        let reply = call(base, &erin, id.clone(), tool).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{tool}: {reply:?}");
        let challenge = idp::challenge(&reply.headers);
        let params = challenge_params(&challenge);
        let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["error", "scope", "resource_metadata"],
            "{challenge}"
        );
        assert_eq!(params[0].1, "insufficient_scope", "{challenge}");
        // Every scope the call needs (those the token has too), each once.
        let asked: Vec<&str> = params[1].1.split(' ').collect();
        let asked_set: BTreeSet<&str> = asked.iter().copied().collect();
        assert_eq!(asked.len(), asked_set.len(), "{challenge}");
        assert_eq!(
            asked_set,
            needed.iter().copied().collect::<BTreeSet<_>>(),
            "{challenge}"
        );
        assert_eq!(params[2].1, metadata_url, "{challenge}");
        assert_eq!(
            challenge,
            format!(
                r#"Bearer error="insufficient_scope", scope="{}", resource_metadata="{metadata_url}""#,
                params[1].1
            )
        );
        assert_eq!(reply.json["jsonrpc"], "2.0", "{reply:?}");
        assert_eq!(reply.json["id"], id, "{reply:?}");
        assert_eq!(reply.json["error"]["code"], -32003, "{reply:?}");
        assert!(reply.json.get("result").is_none(), "{reply:?}");
    }
    assert_eq!(
        target.calls(),
        ["echo"],
        "a step-up never reaches the target"
    );

    // The challenge names the document the gateway serves.
    let metadata: Value = http()
        .get(&metadata_url)
        .send()
        .await
        .expect("GET the metadata")
        .json()
        .await
        .expect("metadata is JSON");
    assert_eq!(metadata["resource"], format!("{base}/mcp"), "{metadata}");
}
