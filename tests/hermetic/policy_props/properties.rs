//! The properties: generated policies, catalogs and callers, every answer checked against
//! the oracle, `tools/list` and `tools/call` never disagreeing, deny beating allow across
//! groups, and nothing served without an applicable allow.

use std::collections::BTreeSet;

use proptest::prelude::*;

use mcp_oauth_gateway::mcp::{Failure, McpError};
use mcp_oauth_gateway::policy::{ConfigDocument, EVERYONE, GroupPolicy, ScopeRequirement};

use super::oracle::*;
use super::service::*;

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
