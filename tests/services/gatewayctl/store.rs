//! Writing to and reading from the table: `table create`, policy and tool round trips,
//! concurrent puts, and a table over 1 MB read back through the gateway's paginated loader.

use aws_sdk_dynamodb::types::AttributeValue;

use mcp_oauth_gateway::adapters::dynamodb_config::DynamoConfig;

use crate::support::gatewayctl::{ctl, ctl_with, new_table, report, scratch, write};

#[test]
fn table_create_is_idempotent() {
    let table = new_table("create");
    let again = ctl(&["--table", &table, "table", "create"]).ok();
    assert_eq!(again.stdout.trim(), format!("table {table} already exists"));
}

#[test]
fn policy_round_trip_versions_every_change() {
    let t = new_table("policy");
    let dir = scratch("policy");
    let file = write(
        &dir,
        "eng.yaml",
        "group: engineering\nallow: [echo, 'calc*']\n",
    );
    let put = ctl(&["--table", &t, "policy", "put", file.to_str().unwrap()]).ok();
    assert_eq!(put.stdout.trim(), "policy engineering is now version 1");
    let got = ctl(&["--table", &t, "--json", "policy", "get", "engineering"])
        .ok()
        .json();
    assert_eq!(got["version"], 1);
    assert_eq!(got["allow"], serde_json::json!(["echo", "calc*"]));
    let at = got["updatedAt"].as_str().unwrap();
    assert!(
        at.len() == 20 && at.ends_with('Z') && at.as_bytes()[10] == b'T',
        "{at}"
    );

    // JSON on stdin; no version: overwrite as the next one.
    let json = r#"{"group": "engineering", "allow": ["echo"], "deny": ["calc_admin"]}"#;
    let put = ctl_with(
        &["--table", &t, "--json", "policy", "put", "-"],
        Some(json),
        &[],
    )
    .ok();
    assert_eq!(put.json()["version"], 2);
    // An edit of a stale copy is refused, and nothing is written.
    let stale = "group: engineering\nallow: ['*']\nversion: 1\n";
    ctl_with(&["--table", &t, "policy", "put", "-"], Some(stale), &[])
        .fails_with("is at version 2, but the input was edited from version 1");
    // The current version is accepted (a read-edit-write round trip).
    let yaml = ctl(&["--table", &t, "policy", "get", "engineering"])
        .ok()
        .stdout;
    ctl_with(&["--table", &t, "policy", "put", "-"], Some(&yaml), &[]).ok();

    let other = "group: '*'\nallow: [current_time]\n";
    ctl_with(&["--table", &t, "policy", "put", "-"], Some(other), &[]).ok();
    let list = ctl(&["--table", &t, "--json", "policy", "list"])
        .ok()
        .json();
    let groups: Vec<(&str, u64)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["group"].as_str().unwrap(), p["version"].as_u64().unwrap()))
        .collect();
    assert_eq!(groups, [("*", 1), ("engineering", 3)]);
    let text = ctl(&["--table", &t, "policy", "list"]).ok().stdout;
    assert!(
        text.starts_with("GROUP") && text.contains("engineering  3"),
        "{text}"
    );

    ctl(&["--table", &t, "policy", "delete", "engineering"]).ok();
    ctl(&["--table", &t, "policy", "get", "engineering"])
        .fails_with("no policy for group \"engineering\"");
    ctl(&["--table", &t, "policy", "delete", "engineering"])
        .fails_with("no policy for group \"engineering\"");
    let bad = "group: eng\nallow: ['crm writer']\n";
    ctl_with(&["--table", &t, "policy", "put", "-"], Some(bad), &[])
        .fails_with("pattern \"crm writer\"");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn tool_round_trip_expands_the_url() {
    let t = new_table("tool");
    let tool = "name: lookup\ntitle: Lookup\ninputSchema: {type: object}\ntarget: {kind: http, url: '${GWCTL_BASE_URL}/lookup', timeoutMs: 500}\n";
    let env = [("GWCTL_BASE_URL", "https://tools.example/v1/")];
    let put = ctl_with(&["--table", &t, "tool", "put", "-"], Some(tool), &env).ok();
    assert_eq!(put.stdout.trim(), "stored tool lookup");
    let got = ctl(&["--table", &t, "--json", "tool", "get", "lookup"])
        .ok()
        .json();
    assert_eq!(got["target"]["url"], "https://tools.example/v1/lookup");
    assert_eq!(got["target"]["timeoutMs"], 500);
    let list = ctl(&["--table", &t, "tool", "list"]).ok().stdout;
    assert!(
        list.contains("lookup  Lookup  http https://tools.example/v1/lookup"),
        "{list}"
    );
    ctl_with(&["--table", &t, "tool", "put", "-"], Some(tool), &[])
        .fails_with("environment variable GWCTL_BASE_URL is not set");
    let bad = "name: x\ninputSchema: {type: string}\ntarget: {kind: http, url: 'https://x'}\n";
    ctl_with(&["--table", &t, "tool", "put", "-"], Some(bad), &[])
        .fails_with("inputSchema must be a JSON Schema object");
    ctl(&["--table", &t, "tool", "delete", "lookup"]).ok();
    ctl(&["--table", &t, "tool", "get", "lookup"]).fails_with("no tool named \"lookup\"");
    ctl(&["--table", &t, "tool", "delete", "lookup"]).fails_with("no tool named \"lookup\"");
}

/// ~1.3 MB of policy items: the gateway's loader (and export) must follow the pages.
#[tokio::test]
async fn a_table_over_one_megabyte_loads_completely() {
    let t = new_table("large");
    let pattern = |i: usize, k: usize| format!("tool_{i:04}_{k}_{}", "x".repeat(110));
    let policies: Vec<String> = (0..600)
        .map(|i| {
            let allow: Vec<String> = (0..4).map(|k| pattern(i, k)).collect();
            format!(
                "  - group: group-{i:04}\n    description: '{}'\n    allow: [{}]\n",
                "d".repeat(1700),
                allow.join(", ")
            )
        })
        .collect();
    let text = format!("policies:\n{}", policies.concat());
    assert!(text.len() > 1_300_000, "{}", text.len());
    let dir = scratch("large");
    let file = write(&dir, "large.yaml", &text);
    let run = ctl(&["--table", &t, "--json", "import", file.to_str().unwrap()]).ok();
    assert_eq!(report(&run)[0].len(), 600);

    // The gateway's client reads AWS_ENDPOINT_URL, AWS_REGION and credentials from the environment.
    assert!(
        std::env::var("AWS_REGION").is_ok(),
        "AWS_REGION must be set (make test sets it)"
    );
    let client = mcp_oauth_gateway::adapters::aws_clients::AwsClients::load()
        .await
        .dynamodb();
    // One query really is not enough: DynamoDB (and moto) stop a page at 1 MB.
    let page = client
        .query()
        .table_name(&t)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S("POLICY".into()))
        .send()
        .await
        .unwrap();
    assert!(page.last_evaluated_key().is_some() && page.count() < 600);
    let doc = DynamoConfig::new(client, t.clone())
        .load_document()
        .await
        .unwrap();
    assert_eq!(doc.policies.len(), 600);
    let groups: std::collections::BTreeSet<_> = doc.policies.iter().map(|p| &p.group).collect();
    assert_eq!(groups.len(), 600);
    assert!(
        doc.policies
            .iter()
            .all(|p| p.allow.len() == 4 && p.version == Some(1))
    );
    let exported = ctl(&["--table", &t, "--json", "export"]).ok().json();
    assert_eq!(exported["policies"].as_array().unwrap().len(), 600);
    std::fs::remove_dir_all(dir).ok();
}

/// Concurrent writers of one policy: every write that succeeds gets its own version, every
/// other one fails as a conflict; none is silently lost.
#[tokio::test]
async fn concurrent_puts_never_lose_an_update() {
    use mcp_oauth_gateway::adapters::dynamodb_admin::{AdminError, DynamoAdmin};
    use mcp_oauth_gateway::policy::GroupPolicy;
    let t = new_table("race");
    let client = mcp_oauth_gateway::adapters::aws_clients::AwsClients::load()
        .await
        .dynamodb();
    let admin = DynamoAdmin::new(DynamoConfig::new(client, t));
    let writes = (0..16).map(|i| {
        let admin = admin.clone();
        tokio::spawn(async move {
            let p: GroupPolicy =
                serde_norway::from_str(&format!("group: eng\nallow: [tool_{i}]\n")).unwrap();
            admin.put_policy(&p).await
        })
    });
    let mut versions = Vec::new();
    for w in writes.collect::<Vec<_>>() {
        match w.await.unwrap() {
            Ok(p) => versions.push(p.version.unwrap()),
            Err(AdminError::Conflict(m)) => assert!(m.contains("another writer"), "{m}"),
            Err(e) => panic!("{e}"),
        }
    }
    versions.sort();
    let n = versions.len() as u64;
    assert_eq!(versions, (1..=n).collect::<Vec<_>>());
    assert_eq!(admin.get_policy("eng").await.unwrap().version, Some(n));
}
