//! Configuration documents as the gateway reads its catalog file and `gatewayctl import`
//! reads what it stores (`adapters::catalog_file::parse`, `${NAME_URL}` expansion and every
//! check included). A document it accepts exports (`to_yaml`, what `gatewayctl export`
//! writes) to text that reads back as the same document and still compiles: an export is
//! always importable.

use mcp_oauth_gateway::adapters::catalog_file;
use mcp_oauth_gateway::outbound::SecretSources;
use mcp_oauth_gateway::policy::ConfigDocument;

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Every `${..._URL}` is set, to a loopback base; any other name is unset.
    let env = |var: &str| {
        var.ends_with("_URL")
            .then(|| "http://127.0.0.1:9".to_owned())
    };
    let Ok(doc) = catalog_file::parse("fuzz", text, &env, &SecretSources::default()) else {
        return;
    };
    let exported = doc.to_yaml();
    let again = ConfigDocument::from_yaml(&exported).expect("an export reads back");
    let mut sorted = doc.clone();
    sorted.policies.sort_by(|a, b| a.group.cmp(&b.group));
    sorted.tools.sort_by(|a, b| a.name.cmp(&b.name));
    sorted.upstreams.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(again, sorted, "an export reads back as the same document");
    again
        .compile()
        .expect("an accepted document compiles after its round trip");
}
