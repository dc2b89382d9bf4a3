//! Property tests of the tool-policy decision at the MCP core: generated group policies
//! (glob patterns over a small alphabet, allow and deny lists, scope requirements, the
//! every-user group `*`) and a generated catalog are served from an in-memory
//! `ConfigSource` through a real `SnapshotStore` and `McpService`; generated callers list
//! and call every tool through `McpService::handle`, and a recording fake `ToolInvoker`
//! shows which calls got through. Each answer is checked against an independent oracle
//! (its own glob matcher and a from-scratch reading of the rules), and `tools/list` and
//! `tools/call` are checked never to disagree.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use proptest::prelude::*;
use serde_json::{Value, json};

use mcp_oauth_gateway::adapters::identity_key::LocalKeySigner;
use mcp_oauth_gateway::auth::Principal;
use mcp_oauth_gateway::catalog::{Target, ToolDefinition};
use mcp_oauth_gateway::mcp::{
    CallContext, Failure, McpError, McpService, Outcome, ServerInfo, TransportHeaders,
};
use mcp_oauth_gateway::policy::snapshot::{SnapshotPolicy, SourceError};
use mcp_oauth_gateway::policy::{
    ConfigDocument, ConfigSource, EVERYONE, GroupPolicy, ScopeRequirement, SnapshotStore,
};
use mcp_oauth_gateway::targets::{TargetError, ToolCall, ToolInvoker, ToolOutput};

// ---------------------------------------------------------------------------------------
// In-memory fakes
// ---------------------------------------------------------------------------------------

/// The configuration, from memory.
struct MemorySource(ConfigDocument);

#[async_trait]
impl ConfigSource for MemorySource {
    fn name(&self) -> String {
        "memory".into()
    }

    fn refreshes(&self) -> bool {
        false
    }

    async fn load(&self) -> Result<ConfigDocument, SourceError> {
        Ok(self.0.clone())
    }
}

/// Records the name of every tool it is asked to run, and answers with it.
#[derive(Default)]
struct RecordingInvoker {
    calls: Mutex<Vec<String>>,
}

impl RecordingInvoker {
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait]
impl ToolInvoker for RecordingInvoker {
    async fn invoke(&self, call: ToolCall<'_>) -> Result<ToolOutput, TargetError> {
        let name = call.tool.def.name.clone();
        self.calls.lock().unwrap().push(name.clone());
        Ok(ToolOutput::Text(format!("ran {name}")))
    }
}

// ---------------------------------------------------------------------------------------
// The independent oracle
// ---------------------------------------------------------------------------------------

/// Glob match, written differently from the gateway's: plain recursion (`*` any run,
/// `?` exactly one character). Inputs here are a few characters long.
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (None, Some(_)) => false,
        (Some(b'*'), _) => {
            glob(&pattern[1..], name) || (!name.is_empty() && glob(pattern, &name[1..]))
        }
        (Some(_), None) => false,
        (Some(b'?'), Some(_)) => glob(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) => p == n && glob(&pattern[1..], &name[1..]),
    }
}

fn matches(pattern: &str, name: &str) -> bool {
    glob(pattern.as_bytes(), name.as_bytes())
}

/// What the rules say about one tool for one caller.
#[derive(Debug, PartialEq, Eq)]
enum Expected {
    /// Not listed; a call is refused as an unknown tool.
    Hidden,
    /// Listed; a call reaches the target.
    Allowed,
    /// Listed; a call is refused until the token carries all of these.
    NeedsScopes(BTreeSet<String>),
}

struct Oracle<'a> {
    /// The policies that apply to the caller: `*` and the caller's groups.
    applicable: Vec<&'a GroupPolicy>,
    scopes: &'a BTreeSet<String>,
}

impl<'a> Oracle<'a> {
    fn new(
        policies: &'a [GroupPolicy],
        groups: &BTreeSet<String>,
        scopes: &'a BTreeSet<String>,
    ) -> Self {
        let applicable = policies
            .iter()
            .filter(|p| p.group == EVERYONE || groups.contains(&p.group))
            .collect();
        Self { applicable, scopes }
    }

    fn any_allow(&self) -> bool {
        self.applicable.iter().any(|p| !p.allow.is_empty())
    }

    fn denied(&self, tool: &str) -> bool {
        self.applicable
            .iter()
            .any(|p| p.deny.iter().any(|d| matches(d, tool)))
    }

    fn expect(&self, tool: &str, exists: bool) -> Expected {
        let allowed = self
            .applicable
            .iter()
            .any(|p| p.allow.iter().any(|a| matches(a, tool)));
        if !exists || !allowed || self.denied(tool) {
            return Expected::Hidden;
        }
        let required: BTreeSet<String> = self
            .applicable
            .iter()
            .flat_map(|p| &p.scopes)
            .filter(|r| matches(&r.tools, tool))
            .flat_map(|r| r.scopes.iter().cloned())
            .collect();
        if required.is_subset(self.scopes) {
            Expected::Allowed
        } else {
            Expected::NeedsScopes(required)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Driving McpService through its public API
// ---------------------------------------------------------------------------------------

const NO_HEADERS: TransportHeaders<'static> = TransportHeaders {
    protocol_version: None,
    method: None,
    name: None,
};

struct Gateway {
    service: McpService,
    invoker: Arc<RecordingInvoker>,
}

impl Gateway {
    async fn new(doc: ConfigDocument) -> Self {
        let store = Arc::new(SnapshotStore::new(
            Arc::new(MemorySource(doc)),
            SnapshotPolicy {
                refresh_every: Duration::from_secs(3600),
                max_staleness: Duration::from_secs(3600),
                refresh_timeout: Duration::from_secs(5),
            },
        ));
        store
            .refresh()
            .await
            .expect("generated configurations are valid");
        let invoker = Arc::new(RecordingInvoker::default());
        let info = ServerInfo {
            name: "props".into(),
            title: "Props".into(),
            version: "0".into(),
            instructions: None,
            tools_ttl_ms: 1000,
        };
        let identity = Arc::new(LocalKeySigner::ephemeral("https://gateway.test/mcp".into()));
        let service = McpService::new(
            store,
            identity,
            Arc::clone(&invoker) as Arc<dyn ToolInvoker>,
            info,
        );
        Self { service, invoker }
    }

    async fn handle(&self, body: Value, ctx: &CallContext) -> Result<Value, Failure> {
        let bytes = serde_json::to_vec(&body).unwrap();
        match self.service.handle(&bytes, &NO_HEADERS, ctx).await? {
            Outcome::Reply(reply) => Ok(serde_json::from_slice(&reply).expect("JSON reply")),
            Outcome::Accepted => panic!("a request was answered with 202: {body}"),
        }
    }

    async fn list(&self, ctx: &CallContext) -> Vec<String> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        let reply = self
            .handle(body, ctx)
            .await
            .unwrap_or_else(|f| panic!("tools/list failed: {:?}", f.error));
        reply["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("not a list result: {reply}"))
            .iter()
            .map(|t| t["name"].as_str().expect("tool name").to_owned())
            .collect()
    }

    async fn call(&self, tool: &str, ctx: &CallContext) -> Result<Value, Failure> {
        let body = json!({
            "jsonrpc": "2.0", "id": "c", "method": "tools/call",
            "params": {"name": tool, "arguments": {"x": 1}}
        });
        self.handle(body, ctx).await
    }
}

fn context(groups: &BTreeSet<String>, scopes: &BTreeSet<String>) -> CallContext {
    CallContext {
        deadline: None,
        request_id: "props".into(),
        principal: Arc::new(Principal {
            issuer: "https://issuer.example".into(),
            subject: "sub".into(),
            username: "user".into(),
            email: None,
            groups: groups.iter().cloned().collect(),
            scopes: scopes.iter().cloned().collect(),
            client_id: None,
            expires_at: u64::MAX,
            token_id: None,
        }),
    }
}

fn tool(name: &str) -> ToolDefinition {
    ToolDefinition {
        name: name.into(),
        title: None,
        description: Some(format!("the {name} tool")),
        input_schema: json!({"type": "object"}),
        output_schema: None,
        annotations: None,
        target: Target::Http {
            url: "http://127.0.0.1:1/unused".into(),
            timeout_ms: None,
            auth: None,
        },
    }
}

// ---------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------

/// Tool names: 1-4 characters of a 4-letter alphabet, so patterns often match.
fn name() -> impl Strategy<Value = String> {
    "[ab_c]{1,4}"
}

/// Patterns: the same alphabet with `*` and `?`, plus the catch-all `*` now and then.
fn pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("*".to_owned()),
        6 => "[ab_c*?]{1,4}",
    ]
}

fn scope() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["s1", "s2", "s3", "mcp:admin"]).prop_map(str::to_owned)
}

/// Policy groups: four named groups and the every-user policy.
fn policy_group() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["g1", "g2", "g3", "g4", EVERYONE]).prop_map(str::to_owned)
}

/// A caller's groups may name groups without a policy, and `*` itself.
fn caller_group() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["g1", "g2", "g3", "g4", "nopolicy", EVERYONE]).prop_map(str::to_owned)
}

fn policies() -> impl Strategy<Value = Vec<GroupPolicy>> {
    let body = (
        prop::collection::vec(pattern(), 0..4),
        prop::collection::vec(pattern(), 0..3),
        prop::collection::vec((pattern(), prop::collection::vec(scope(), 1..3)), 0..3),
    );
    prop::collection::btree_map(policy_group(), body, 0..=5).prop_map(|m| {
        m.into_iter()
            .map(|(group, (allow, deny, scopes))| GroupPolicy {
                group,
                description: None,
                allow,
                deny,
                scopes: scopes
                    .into_iter()
                    .map(|(tools, scopes)| ScopeRequirement { tools, scopes })
                    .collect(),
                version: Some(1),
                updated_at: None,
            })
            .collect()
    })
}

type Callers = Vec<(BTreeSet<String>, BTreeSet<String>)>;

fn callers() -> impl Strategy<Value = Callers> {
    prop::collection::vec(
        (
            prop::collection::btree_set(caller_group(), 0..4),
            prop::collection::btree_set(scope(), 0..4),
        ),
        1..5,
    )
}

fn catalog() -> impl Strategy<Value = BTreeSet<String>> {
    prop::collection::btree_set(name(), 10..=40)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

/// Lists and calls every tool (and some unknown names) as every caller, checking each
/// answer against the oracle and list against call.
async fn check_everything(
    policies: Vec<GroupPolicy>,
    names: BTreeSet<String>,
    callers: Callers,
    unknown: Vec<String>,
) -> Result<(), TestCaseError> {
    let doc = ConfigDocument {
        policies: policies.clone(),
        tools: names.iter().map(|n| tool(n)).collect(),
        ..ConfigDocument::default()
    };
    let gateway = Gateway::new(doc).await;
    let unknown: BTreeSet<String> = unknown.into_iter().filter(|n| !names.contains(n)).collect();

    for (groups, scopes) in &callers {
        let ctx = context(groups, scopes);
        let oracle = Oracle::new(&policies, groups, scopes);
        let listed = gateway.list(&ctx).await;

        // Name order, no duplicates.
        prop_assert!(
            listed.windows(2).all(|w| w[0] < w[1]),
            "list not in strict name order: {listed:?}"
        );
        // Exactly the tools the oracle shows: default deny, groups unioned, deny wins.
        let expected: Vec<String> = names
            .iter()
            .filter(|n| oracle.expect(n, true) != Expected::Hidden)
            .cloned()
            .collect();
        prop_assert_eq!(
            &listed,
            &expected,
            "groups {:?} scopes {:?}",
            groups,
            scopes
        );
        for t in &listed {
            prop_assert!(
                !oracle.denied(t),
                "{t} is listed though a deny pattern matches it"
            );
        }
        if !oracle.any_allow() {
            prop_assert!(listed.is_empty(), "no applicable allow, yet {listed:?}");
        }

        for t in names.iter().chain(&unknown) {
            let exists = names.contains(t);
            let is_listed = listed.binary_search(t).is_ok();
            let before = gateway.invoker.calls().len();
            let answer = gateway.call(t, &ctx).await;
            let calls = gateway.invoker.calls();
            let reached = calls.len() > before;
            match &answer {
                Ok(reply) => {
                    prop_assert!(is_listed, "{t} was called but is not listed: {reply}");
                    prop_assert_eq!(oracle.expect(t, exists), Expected::Allowed, "{}", t);
                    prop_assert_eq!(&calls[before..], std::slice::from_ref(t));
                    prop_assert_eq!(reply["id"].as_str(), Some("c"));
                    prop_assert!(reply["result"]["isError"].is_null(), "{reply}");
                }
                Err(Failure { id, error }) => {
                    prop_assert!(!reached, "{t}: refused ({error:?}) but the target ran");
                    prop_assert_eq!(id.as_ref().map(|_| ()), Some(()), "refusal without the id");
                    match error {
                        // Denied and unknown alike: -32602 with nothing but the name.
                        McpError::UnknownTool(n) => {
                            prop_assert_eq!(n, t);
                            prop_assert!(
                                !is_listed,
                                "{t} is listed, yet a call is refused as unknown"
                            );
                            prop_assert_eq!(oracle.expect(t, exists), Expected::Hidden, "{}", t);
                        }
                        McpError::InsufficientScope { scopes: needed } => {
                            prop_assert!(is_listed, "{t} needs a step-up but is not listed");
                            let needed_set: BTreeSet<String> = needed.iter().cloned().collect();
                            prop_assert_eq!(
                                needed_set.len(),
                                needed.len(),
                                "duplicate scopes {:?}",
                                needed
                            );
                            prop_assert!(
                                !needed_set.is_subset(scopes),
                                "{t}: step-up asked for {needed:?}, all of which the caller has"
                            );
                            prop_assert_eq!(
                                oracle.expect(t, exists),
                                Expected::NeedsScopes(needed_set),
                                "{}",
                                t
                            );
                        }
                        other => prop_assert!(false, "{t}: unexpected refusal {other:?}"),
                    }
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// List and call agree for every tool, and both match the rules.
    #[test]
    fn list_and_call_agree_with_the_rules(
        policies in policies(),
        names in catalog(),
        callers in callers(),
        unknown in prop::collection::vec(name(), 0..6),
    ) {
        runtime().block_on(check_everything(policies, names, callers, unknown))?;
    }

    /// A deny pattern of any applicable policy beats every allow, whichever group has it,
    /// including the every-user policy denying what a group allows.
    #[test]
    fn deny_beats_allow_across_groups(
        names in catalog(),
        denied in pattern(),
        allow_group in prop::sample::select(vec!["g1", EVERYONE]),
        deny_group in prop::sample::select(vec!["g2", EVERYONE]),
    ) {
        let policy = |group: &str, allow: Vec<String>, deny: Vec<String>| GroupPolicy {
            group: group.into(),
            description: None,
            allow,
            deny,
            scopes: vec![],
            version: None,
            updated_at: None,
        };
        let policies = if allow_group == deny_group {
            vec![policy(allow_group, vec!["*".into()], vec![denied.clone()])]
        } else {
            vec![
                policy(allow_group, vec!["*".into()], vec![]),
                policy(deny_group, vec![], vec![denied.clone()]),
            ]
        };
        let caller: Callers = vec![(
            ["g1", "g2"].iter().map(|s| s.to_string()).collect(),
            BTreeSet::new(),
        )];
        let expected: Vec<String> = names.iter().filter(|n| !matches(&denied, n)).cloned().collect();
        runtime().block_on(async {
            let ctx = context(&caller[0].0, &caller[0].1);
            let doc = ConfigDocument {
                policies: policies.clone(),
                tools: names.iter().map(|n| tool(n)).collect(),
        ..ConfigDocument::default()
            };
            let gateway = Gateway::new(doc).await;
            prop_assert_eq!(gateway.list(&ctx).await, expected);
            check_everything(policies, names, caller, vec![]).await
        })?;
    }

    /// A caller none of whose applicable policies allows anything sees nothing and can
    /// call nothing, whatever the deny lists and scope requirements say.
    #[test]
    fn without_an_applicable_allow_nothing_is_listed_or_called(
        names in catalog(),
        policies in policies(),
        scopes in prop::collection::btree_set(scope(), 0..4),
    ) {
        // Strip every allow that would apply to a caller in g1 (and `*`).
        let policies: Vec<GroupPolicy> = policies
            .into_iter()
            .map(|mut p| {
                if p.group == "g1" || p.group == EVERYONE {
                    p.allow.clear();
                }
                p
            })
            .collect();
        let groups: BTreeSet<String> = ["g1".to_string(), "nopolicy".into()].into();
        runtime().block_on(async {
            let doc = ConfigDocument {
                policies: policies.clone(),
                tools: names.iter().map(|n| tool(n)).collect(),
        ..ConfigDocument::default()
            };
            let gateway = Gateway::new(doc).await;
            let ctx = context(&groups, &scopes);
            prop_assert!(gateway.list(&ctx).await.is_empty());
            for t in &names {
                let answer = gateway.call(t, &ctx).await;
                prop_assert!(
                    matches!(&answer, Err(Failure { error: McpError::UnknownTool(n), .. }) if n == t),
                    "{}: {:?}", t, answer.map_err(|f| f.error)
                );
            }
            prop_assert!(gateway.invoker.calls().is_empty());
            Ok(())
        })?;
    }
}

/// The denied-or-unknown refusal is one error whatever the reason, and the oracle's glob
/// agrees with the documented examples.
#[test]
fn oracle_glob_and_refusal_shape() {
    assert!(matches("*", ""));
    assert!(matches("crm_*", "crm_read"));
    assert!(!matches("crm_*", "crm"));
    assert!(matches("a*b*c", "aXbYbZc"));
    assert!(!matches("ec?o", "eco"));

    runtime().block_on(async {
        let policies = vec![GroupPolicy {
            group: "g1".into(),
            description: None,
            allow: vec!["*".into()],
            deny: vec!["secret".into()],
            scopes: vec![],
            version: None,
            updated_at: None,
        }];
        let gateway = Gateway::new(ConfigDocument {
            policies,
            tools: vec![tool("secret"), tool("open")],
            ..ConfigDocument::default()
        })
        .await;
        let groups: BTreeSet<String> = ["g1".to_string()].into();
        let ctx = context(&groups, &BTreeSet::new());
        let mut errors = BTreeMap::new();
        for t in ["secret", "absent"] {
            let failure = gateway.call(t, &ctx).await.expect_err("refused");
            errors.insert(t, failure.error.to_string().replace(t, "NAME"));
        }
        assert_eq!(errors["secret"], errors["absent"]);
        assert_eq!(errors["secret"], "Unknown tool: NAME");
        assert_eq!(gateway.list(&ctx).await, ["open"]);
        assert!(gateway.invoker.calls().is_empty());
    });
}
