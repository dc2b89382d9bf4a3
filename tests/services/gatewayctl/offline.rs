//! The commands that need no table, and the errors: `validate` without DynamoDB, `explain`
//! showing a decision and its rule, and every mistake reported as one clear line.

use std::path::Path;

use crate::support::gatewayctl::{ctl, ctl_with, demo_org, fresh_table, new_table, scratch, write};

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
