//! `gatewayctl`, the real binary, against moto's DynamoDB (`AWS_ENDPOINT_URL`, set by `make
//! test`; these tests fail without it, they never reach real AWS). Every test uses its own
//! fresh table: round trips, idempotent import, export, prune, validate without DynamoDB,
//! explain, every error as one line with a non-zero exit, and a table over 1 MB read back
//! through the gateway's own paginated loader.

#[path = "support/gatewayctl.rs"]
mod support;

use std::path::Path;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use mcp_oauth_gateway::adapters::dynamodb_config::DynamoConfig;
use mcp_oauth_gateway::policy::ConfigDocument;

use support::{
    DEMO_URL, EVERYTHING_URL, content, ctl, ctl_with, demo_org, fresh_table, new_table, report,
    scratch, write,
};

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
    let tool = "name: lookup\ntitle: Lookup\ninputSchema: {type: object}\ntarget: {kind: http, url: '${GWCTL_BASE}/lookup', timeoutMs: 500}\n";
    let env = [("GWCTL_BASE", "https://tools.example/v1/")];
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
        .fails_with("environment variable GWCTL_BASE is not set");
    let bad = "name: x\ninputSchema: {type: string}\ntarget: {kind: http, url: 'https://x'}\n";
    ctl_with(&["--table", &t, "tool", "put", "-"], Some(bad), &[])
        .fails_with("inputSchema must be a JSON Schema object");
    ctl(&["--table", &t, "tool", "delete", "lookup"]).ok();
    ctl(&["--table", &t, "tool", "get", "lookup"]).fails_with("no tool named \"lookup\"");
    ctl(&["--table", &t, "tool", "delete", "lookup"]).fails_with("no tool named \"lookup\"");
}

#[test]
fn import_is_idempotent_reports_changes_and_prunes() {
    let t = new_table("import");
    let dir = scratch("import");
    let org = std::fs::read_to_string(demo_org()).unwrap();
    let path = write(&dir, "org.yaml", &org);
    let file = path.to_str().unwrap();
    let all: Vec<String> = [
        "policy *",
        "policy admins",
        "policy engineering",
        "policy finance",
        "tool calculate",
        "tool current_time",
        "tool echo",
        "tool sleep",
        "upstream everything",
    ]
    .map(String::from)
    .into();
    let none: Vec<String> = vec![];

    let dry = ctl(&["--table", &t, "--json", "import", file, "--dry-run"]).ok();
    assert_eq!(report(&dry)[0], all);
    assert_eq!(dry.json()["dryRun"], true);
    assert!(
        ctl(&["--table", &t, "--json", "export"]).ok().json()["policies"] == Value::Array(vec![])
    );
    let first = ctl(&["--table", &t, "--json", "import", file]).ok();
    assert_eq!(
        report(&first),
        [all.clone(), none.clone(), none.clone(), none.clone()]
    );

    let out = dir.join("export.yaml");
    ctl(&["--table", &t, "export", "-o", out.to_str().unwrap()]).ok();
    let exported = ConfigDocument::from_yaml(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(
        exported
            .policies
            .iter()
            .all(|p| p.version == Some(1) && p.updated_at.is_some())
    );
    let expected = ConfigDocument::from_yaml(
        &org.replace("${DEMO_TOOLS_URL}", DEMO_URL)
            .replace("${EVERYTHING_MCP_URL}", EVERYTHING_URL),
    )
    .unwrap();
    assert_eq!(content(exported.clone()), content(expected));
    assert_eq!(
        ctl(&["--table", &t, "export"]).ok().stdout,
        exported.to_yaml()
    );

    let second = ctl(&["--table", &t, "--json", "import", file]).ok();
    assert_eq!(
        report(&second),
        [none.clone(), none.clone(), all.clone(), none.clone()]
    );
    let text = ctl(&["--table", &t, "import", file]).ok().stdout;
    assert!(
        text.ends_with("0 added, 0 changed, 9 unchanged, 0 removed\n"),
        "{text}"
    );

    // Edit one policy and one tool, add a policy, drop a policy and a tool.
    let edited = org
        .replace(
            "allow: [calculate]\n    deny: [echo]",
            "allow: [calculate, current_time]\n    deny: [echo]",
        )
        .replace("Handy to check the path", "Useful to check the path")
        .replace(
            "  - group: engineering\n",
            "  - group: sales\n    allow: [current_time]\n\n  - group: engineering\n",
        );
    let (cut, rest) = edited.split_at(edited.find("  - group: admins").unwrap());
    let edited = format!("{cut}{}", &rest[rest.find("\n\n").unwrap() + 2..]);
    let start = edited.find("  - name: calculate").unwrap();
    let end = edited.find("  - name: current_time").unwrap();
    let edited = format!("{}{}", &edited[..start], &edited[end..]);
    let path = write(&dir, "edited.yaml", &edited);
    let file = path.to_str().unwrap();
    let third = ctl(&["--table", &t, "--json", "import", file]).ok();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        report(&third),
        [
            s(&["policy sales"]),
            s(&["policy finance", "tool echo"]),
            s(&[
                "policy *",
                "policy engineering",
                "tool current_time",
                "tool sleep",
                "upstream everything"
            ]),
            none.clone()
        ]
    );
    let finance = ctl(&["--table", &t, "--json", "policy", "get", "finance"])
        .ok()
        .json();
    assert_eq!(finance["version"], 2);

    let removed = s(&["policy admins", "tool calculate"]);
    let dry = ctl(&[
        "--table",
        &t,
        "--json",
        "import",
        file,
        "--prune",
        "--dry-run",
    ])
    .ok();
    assert_eq!(report(&dry)[3], removed);
    ctl(&["--table", &t, "policy", "get", "admins"]).ok();
    let pruned = ctl(&["--table", &t, "--json", "import", file, "--prune"]).ok();
    assert_eq!(report(&pruned)[3], removed);
    assert_eq!(report(&pruned)[2].len(), 8);
    ctl(&["--table", &t, "policy", "get", "admins"]).fails_with("no policy for group \"admins\"");
    ctl(&["--table", &t, "tool", "get", "calculate"]).fails_with("no tool named \"calculate\"");

    // Upstreams are imported, exported and pruned like the rest.
    let (head, tail) = edited.split_at(edited.find("upstreams:").unwrap());
    let no_upstream = format!("{head}{}", &tail[tail.find("\ntools:").unwrap() + 1..]);
    let path = write(&dir, "no-upstream.yaml", &no_upstream);
    let file = path.to_str().unwrap();
    let pruned = ctl(&["--table", &t, "--json", "import", file, "--prune"]).ok();
    assert_eq!(report(&pruned)[3], s(&["upstream everything"]));
    assert!(ctl(&["--table", &t, "--json", "export"]).ok().json()["upstreams"].is_null());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn validate_needs_no_dynamodb() {
    let dir = scratch("validate");
    let unreachable = ["--endpoint-url", "http://127.0.0.1:1", "--table", "nowhere"];
    let run = |file: &Path, env: &[(&str, &str)]| {
        let mut args = unreachable.to_vec();
        args.extend(["validate", file.to_str().unwrap()]);
        ctl_with(&args, None, env)
    };
    let good = run(&demo_org(), &[]).ok();
    assert!(
        good.stdout
            .ends_with("valid: 4 policies, 4 tools, 1 upstream MCP server\n"),
        "{}",
        good.stdout
    );
    // An unset variable is only a warning: validate checks the document, not the deployment.
    let good = run(&demo_org(), &[("DEMO_TOOLS_URL", "")]);
    assert_eq!(good.code, 0, "{}", good.stderr);

    let cases = [
        (
            "syntax.yaml",
            "policies: [{group: eng, allow: [echo]\n",
            "YAML: did not find expected ',' or '}'",
        ),
        (
            "field.yaml",
            "policies: [{group: eng, alow: [echo]}]\n",
            "unknown field `alow`",
        ),
        (
            "pattern.yaml",
            "policies: [{group: eng, allow: ['a b']}]\n",
            "group \"eng\": pattern \"a b\"",
        ),
        (
            "dup.yaml",
            "policies: [{group: eng}, {group: eng}]\n",
            "group \"eng\" has more than one policy",
        ),
        (
            "url.yaml",
            "tools: [{name: t, inputSchema: {type: object}, target: {kind: http, url: 'ftp://x'}}]\n",
            "tool \"t\": target url \"ftp://x\"",
        ),
    ];
    for (name, text, needle) in cases {
        let path = write(&dir, name, text);
        let out = run(&path, &[]).fails_with(needle);
        assert!(out.stderr.contains(name), "{}", out.stderr);
    }
    run(&dir.join("absent.yaml"), &[]).fails_with("absent.yaml: cannot read");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn explain_shows_the_decision_and_its_rule() {
    let t = new_table("explain");
    ctl(&["--table", &t, "import", demo_org().to_str().unwrap()]).ok();
    let explain = |groups: &str, tool: &str| {
        ctl(&[
            "--table", &t, "--json", "explain", "--groups", groups, "--tool", tool,
        ])
        .ok()
        .json()
    };
    let alice = explain("engineering,admins", "echo");
    assert_eq!(alice["decision"], "allow");
    assert_eq!(
        alice["rule"],
        "group \"admins\" allows \"*\" (policy version 1)"
    );
    let bob = explain("finance", "echo");
    assert_eq!(bob["decision"], "deny");
    assert_eq!(
        bob["rule"],
        "group \"finance\" denies \"echo\" (policy version 1)"
    );
    assert_eq!(
        (bob["group"].as_str(), bob["policyVersion"].as_u64()),
        (Some("finance"), Some(1))
    );
    assert_eq!(
        explain("finance", "calculate")["rule"],
        "group \"finance\" allows \"calculate\" (policy version 1)"
    );
    // A federated tool is decided on its prefixed name, its upstream named.
    let fed = explain("engineering", "everything___echo");
    assert_eq!(
        (fed["decision"].as_str(), fed["upstream"].as_str()),
        (Some("allow"), Some("everything"))
    );
    assert_eq!(explain("finance", "everything___echo")["decision"], "deny");
    assert_eq!(explain("engineering", "other___echo")["known"], false);
    assert_eq!(
        explain("", "current_time")["rule"],
        "group \"*\" allows \"current_time\" (policy version 1)"
    );
    assert_eq!(
        explain("", "echo")["rule"],
        "no applicable policy allows it (default deny)"
    );
    let unknown = explain("admins", "no_such_tool");
    assert_eq!(
        (unknown["decision"].as_str(), unknown["known"].as_bool()),
        (Some("deny"), Some(false))
    );

    let text = ctl(&[
        "--table", &t, "explain", "--groups", "finance", "--tool", "echo",
    ])
    .ok()
    .stdout;
    assert!(
        text.contains("decision  deny\n")
            && text.contains("rule      group \"finance\" denies \"echo\""),
        "{text}"
    );
    assert!(text.contains("policy    \"finance\", version 1"), "{text}");

    // From a file (no table), with a tool that the admins' scope requirement covers.
    let dir = scratch("explain");
    let org = std::fs::read_to_string(demo_org()).unwrap();
    let extra = "\n  - name: admin_reset\n    inputSchema: {type: object}\n    target: {kind: http, url: 'https://x/reset'}\n";
    let file = write(&dir, "org.yaml", &format!("{org}{extra}"));
    let args = [
        "--endpoint-url",
        "http://127.0.0.1:1",
        "explain",
        "--file",
        file.to_str().unwrap(),
        "--groups",
        "admins",
        "--tool",
        "admin_reset",
    ];
    let text = ctl(&args).ok().stdout;
    assert!(
        text.contains("decision  needs scopes") && text.contains("required  mcp:admin"),
        "{text}"
    );
    let with = [&args[..], &["--scopes", "mcp:tools,mcp:admin", "--json"]].concat();
    assert_eq!(ctl(&with).ok().json()["decision"], "allow");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn mistakes_are_one_clear_line() {
    let t = fresh_table("missing");
    ctl(&["--table", &t, "policy", "list"]).fails_with(&format!("table \"{t}\" does not exist"));
    ctl(&["policy", "list"]).fails_with("no table: pass --table TABLE or set GATEWAY_POLICY_TABLE");
    ctl(&["--table", "x", "policy", "list"]).fails_with("\"x\" is not a DynamoDB table name");
    ctl(&[
        "--table",
        &t,
        "--endpoint-url",
        "http://127.0.0.1:1",
        "policy",
        "list",
    ])
    .fails_with("cannot reach DynamoDB");
    let real = new_table("mistakes");
    ctl(&["--table", &real, "policy", "delete", "nobody"])
        .fails_with("no policy for group \"nobody\"");
    let dir = scratch("mistakes");
    let bad = write(
        &dir,
        "bad.yaml",
        "policies:\n  - group: eng\n   allow: [echo]\n",
    );
    ctl(&["--table", &real, "import", bad.to_str().unwrap()]).fails_with("bad.yaml: YAML:");
    // Nothing was written by the refused import.
    assert_eq!(
        ctl(&["--table", &real, "export"]).ok().stdout,
        "policies: []\ntools: []\n"
    );
    std::fs::remove_dir_all(dir).ok();
    let help = ctl(&["policy", "put", "--help"]).ok().stdout;
    assert!(help.contains("Usage: gatewayctl policy put"), "{help}");
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
    let client = mcp_oauth_gateway::state::dynamodb_client().await;
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
    let client = mcp_oauth_gateway::state::dynamodb_client().await;
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
