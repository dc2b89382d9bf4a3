//! `import`: idempotent, reporting what changed, and pruning what the files no longer name.

use serde_json::Value;

use mcp_oauth_gateway::policy::ConfigDocument;

use crate::support::gatewayctl::{
    DEMO_URL, EVERYTHING_URL, content, ctl, demo_org, new_table, report, scratch, write,
};

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
