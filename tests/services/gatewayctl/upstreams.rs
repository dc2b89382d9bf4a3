//! `gatewayctl upstream put|get|list|delete`: one upstream MCP server at a time, its URL
//! variables expanded, validated beside the stored upstreams (no shared prefix), listed with
//! where its credential comes from and never a secret, and exported with the document.

use crate::support::gatewayctl::{ctl, ctl_with, new_table, scratch, write};

#[test]
fn upstreams_round_trip_one_at_a_time() {
    let t = new_table("upstream");
    let dir = scratch("upstream");
    let docs = write(
        &dir,
        "docs.yaml",
        "name: docs\nurl: ${DOCS_MCP_URL}\ntools: [search, 'read_*']\n\
         auth: {kind: header, name: x-api-key, value: {secret: mcp-gateway/tools/docs-api-key}}\n",
    );
    let docs = docs.to_str().unwrap();
    // The URL's variable must be set: nothing is stored with a hole in it.
    ctl(&["--table", &t, "upstream", "put", docs]).fails_with("DOCS_MCP_URL is not set");
    let url = [("DOCS_MCP_URL", "https://docs.example.com/mcp")];
    let put = ctl_with(&["--table", &t, "upstream", "put", docs], None, &url).ok();
    assert_eq!(put.stdout.trim(), "stored upstream docs (tools docs___*)");

    // A second upstream may not take the first one's prefix; under its own it is stored.
    let clash = "name: wiki\nurl: https://wiki.example.com/mcp\nprefix: docs\n";
    ctl_with(&["--table", &t, "upstream", "put", "-"], Some(clash), &[])
        .fails_with("share the prefix \"docs\"");
    let wiki = "{\"name\": \"wiki\", \"url\": \"https://wiki.example.com/mcp\"}";
    ctl_with(&["--table", &t, "upstream", "put", "-"], Some(wiki), &[]).ok();
    ctl_with(
        &["--table", &t, "upstream", "put", "-"],
        Some("name: 'bad name'\nurl: https://x.example.com/mcp\n"),
        &[],
    )
    .fails_with("name must be 1-64 characters");

    let list = ctl(&["--table", &t, "upstream", "list"]).ok().stdout;
    let rows: Vec<Vec<&str>> = list
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        ["NAME", "PREFIX", "URL", "TOOLS", "AUTH"],
        "{list}"
    );
    assert_eq!(
        rows[1],
        [
            "docs",
            "docs",
            "https://docs.example.com/mcp",
            "search,read_*",
            "header",
            "x-api-key",
            "from",
            "secret",
            "mcp-gateway/tools/docs-api-key"
        ],
        "{list}"
    );
    assert_eq!(
        rows[2],
        ["wiki", "wiki", "https://wiki.example.com/mcp", "*", "-"],
        "{list}"
    );

    let got = ctl(&["--table", &t, "--json", "upstream", "get", "docs"])
        .ok()
        .json();
    assert_eq!(got["url"], "https://docs.example.com/mcp");
    assert_eq!(
        got["auth"]["value"]["secret"],
        "mcp-gateway/tools/docs-api-key"
    );
    // The whole document carries both; deleting one leaves the other.
    let exported = ctl(&["--table", &t, "--json", "export"]).ok().json();
    assert_eq!(
        exported["upstreams"].as_array().unwrap().len(),
        2,
        "{exported}"
    );
    let deleted = ctl(&["--table", &t, "upstream", "delete", "wiki"]).ok();
    assert_eq!(deleted.stdout.trim(), "deleted upstream wiki");
    ctl(&["--table", &t, "upstream", "delete", "wiki"]).fails_with("no upstream named \"wiki\"");
    ctl(&["--table", &t, "upstream", "get", "wiki"]).fails_with("no upstream named \"wiki\"");
    let names: Vec<String> = ctl(&["--table", &t, "--json", "upstream", "list"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["docs"]);
}
