//! Per-group decisions: what `tools/list` shows each group, denied and unknown tools
//! answered alike, and a policy change picked up without a restart.

use serde_json::json;

use mcp_oauth_gateway::policy::EVERYONE;

use super::mcp::{assert_ran, assert_unknown_tool, await_list, call, list, listed};
use super::table::{Table, dynamodb, policy, policy_gateway, seed_pool, tool, tools};
use super::targets::EchoTarget;
use crate::support::idp::jwt_claims;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_decide_the_tool_list_and_denied_tools_look_unknown() {
    let cognito = seed_pool(&[
        ("erin", &["engineering"]),
        ("finn", &["finance"]),
        ("bo", &["engineering", "finance"]),
        ("nadia", &[]),
    ])
    .await;
    let target = EchoTarget::start().await;
    let table = Table::create(dynamodb(None).await).await;
    table
        .seed(
            &[
                policy(EVERYONE, &["current_time"], &[]),
                policy("engineering", &["echo", "eng_*"], &["eng_secret"]),
                policy("finance", &["echo", "ledger_*"], &["eng_deploy"]),
            ],
            &tools(
                &[
                    "ledger_write",
                    "echo",
                    "eng_secret",
                    "hr_payroll",
                    "current_time",
                    "eng_deploy",
                    "ledger_read",
                    "eng_build",
                ],
                &target.base,
            ),
        )
        .await;
    let gateway = policy_gateway(&cognito, &table.name, &[]);
    let erin = cognito.login("erin").await.access;
    let finn = cognito.login("finn").await.access;
    let bo = cognito.login("bo").await.access;
    let nadia = cognito.login("nadia").await.access;
    assert_eq!(jwt_claims(&erin)["cognito:groups"], json!(["engineering"]));

    // Exactly the allowed tools, in name order; groups unioned, a deny of either wins.
    let base = gateway.base.as_str();
    assert_eq!(
        listed(&list(base, &erin).await),
        ["current_time", "echo", "eng_build", "eng_deploy"]
    );
    assert_eq!(
        listed(&list(base, &finn).await),
        ["current_time", "echo", "ledger_read", "ledger_write"]
    );
    assert_eq!(
        listed(&list(base, &bo).await),
        [
            "current_time",
            "echo",
            "eng_build",
            "ledger_read",
            "ledger_write"
        ]
    );
    assert_eq!(listed(&list(base, &nadia).await), ["current_time"]);
    let entry = &list(base, &erin).await.json["result"]["tools"][2];
    assert_eq!(
        entry,
        &json!({
            "name": "eng_build", "title": "Tool eng_build", "description": "Runs eng_build",
            "inputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}}
        })
    );

    // Allowed calls reach the target.
    assert_ran(&call(base, &erin, json!(1), "eng_build").await, "eng_build");
    assert_ran(
        &call(base, &finn, json!(2), "ledger_read").await,
        "ledger_read",
    );
    assert_ran(
        &call(base, &nadia, json!(3), "current_time").await,
        "current_time",
    );
    assert_eq!(target.calls(), ["eng_build", "ledger_read", "current_time"]);

    // Default deny, an explicit deny, another group's deny and a tool that does not exist:
    // the same answer, byte for byte, but for the name it echoes.
    let id = json!("same-id");
    let refusals = [
        (&erin, "ledger_read"),
        (&erin, "eng_secret"),
        (&bo, "eng_deploy"),
        (&nadia, "hr_payroll"),
        (&erin, "no_such_tool"),
    ];
    let mut shapes = Vec::new();
    for (token, name) in refusals {
        let reply = call(base, token, id.clone(), name).await;
        assert_unknown_tool(&reply, name);
        assert_eq!(reply.json["id"], id, "{reply:?}");
        assert!(reply.text.contains(name), "the name is echoed: {reply:?}");
        shapes.push((
            name,
            reply.headers.get("content-type").cloned(),
            reply.text.replace(name, "<NAME>"),
        ));
    }
    let (first, first_type, first_body) = &shapes[0];
    for (name, content_type, body) in &shapes[1..] {
        assert_eq!(
            (content_type, body),
            (first_type, first_body),
            "{name} is answered differently from {first}"
        );
    }
    assert_eq!(
        target.calls().len(),
        3,
        "refused calls never reach a target"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_change_takes_effect_without_a_restart() {
    let cognito = seed_pool(&[("erin", &["engineering"])]).await;
    let target = EchoTarget::start().await;
    let table = Table::create(dynamodb(None).await).await;
    table
        .seed(
            &[policy("engineering", &["eng_build"], &[])],
            &tools(&["eng_build", "eng_deploy", "ops_restart"], &target.base),
        )
        .await;
    let gateway = policy_gateway(
        &cognito,
        &table.name,
        &[("GATEWAY_POLICY_REFRESH_SECS", "1")],
    );
    let erin = cognito.login("erin").await.access;
    let base = gateway.base.as_str();

    assert_eq!(listed(&list(base, &erin).await), ["eng_build"]);
    assert_unknown_tool(
        &call(base, &erin, json!(1), "eng_deploy").await,
        "eng_deploy",
    );

    // A wider allow.
    let mut engineering = policy("engineering", &["eng_*"], &[]);
    engineering.version = Some(2);
    table.put_policy(&engineering).await;
    await_list(base, &erin, &["eng_build", "eng_deploy"], "allow eng_*").await;
    assert_ran(
        &call(base, &erin, json!(2), "eng_deploy").await,
        "eng_deploy",
    );

    // A new tool in the catalog.
    table.put_tool(&tool("eng_test", &target.base)).await;
    await_list(
        base,
        &erin,
        &["eng_build", "eng_deploy", "eng_test"],
        "tool eng_test added",
    )
    .await;

    // A deny.
    engineering.deny = vec!["eng_build".into()];
    engineering.version = Some(3);
    table.put_policy(&engineering).await;
    await_list(base, &erin, &["eng_deploy", "eng_test"], "deny eng_build").await;
    assert_unknown_tool(&call(base, &erin, json!(3), "eng_build").await, "eng_build");

    // The policy gone: default deny.
    table.delete_policy("engineering").await;
    await_list(base, &erin, &[], "policy deleted").await;
    assert_unknown_tool(
        &call(base, &erin, json!(4), "eng_deploy").await,
        "eng_deploy",
    );

    assert_eq!(target.calls(), ["eng_deploy"], "only the allowed call ran");
}
