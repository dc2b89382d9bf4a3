//! The independent oracle: its own glob matcher and a from-scratch reading of the rules
//! (what a caller may see and call, which scopes a call needs), and the test that pins the
//! oracle to the documented examples and the refusal to one shape.

use std::collections::{BTreeMap, BTreeSet};

use mcp_oauth_gateway::policy::{ConfigDocument, EVERYONE, GroupPolicy};

use super::service::*;

/// Glob match, written differently from the gateway's: plain recursion (`*` any run,
/// `?` exactly one character). Inputs here are a few characters long.
pub fn glob(pattern: &[u8], name: &[u8]) -> bool {
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

pub fn matches(pattern: &str, name: &str) -> bool {
    glob(pattern.as_bytes(), name.as_bytes())
}

/// What the rules say about one tool for one caller.
#[derive(Debug, PartialEq, Eq)]
pub enum Expected {
    /// Not listed; a call is refused as an unknown tool.
    Hidden,
    /// Listed; a call reaches the target.
    Allowed,
    /// Listed; a call is refused until the token carries all of these.
    NeedsScopes(BTreeSet<String>),
}

pub struct Oracle<'a> {
    /// The policies that apply to the caller: `*` and the caller's groups.
    pub applicable: Vec<&'a GroupPolicy>,
    pub scopes: &'a BTreeSet<String>,
}

impl<'a> Oracle<'a> {
    pub fn new(
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

    pub fn any_allow(&self) -> bool {
        self.applicable.iter().any(|p| !p.allow.is_empty())
    }

    pub fn denied(&self, tool: &str) -> bool {
        self.applicable
            .iter()
            .any(|p| p.deny.iter().any(|d| matches(d, tool)))
    }

    pub fn expect(&self, tool: &str, exists: bool) -> Expected {
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
