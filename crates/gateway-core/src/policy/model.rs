//! The policy model: group policies with allow/deny tool patterns and required scopes, as
//! stored (YAML, DynamoDB) and as validated for decisions.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The group name whose policy applies to every authenticated user.
pub const EVERYONE: &str = "*";

/// Scopes a call needs when the tool matches `tools`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScopeRequirement {
    /// A tool pattern (`crm_*`).
    pub tools: String,
    pub scopes: Vec<String>,
}

/// What one group may see and call. `group: "*"` is the policy of every authenticated user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupPolicy {
    pub group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<ScopeRequirement>,
    /// Managed by the store: incremented on every change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// Managed by the store: RFC 3339 time of the last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// What is wrong with a policy; each names the group.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("policy #{index}: group name must be 1-256 printable characters")]
    BadGroup { index: usize },
    #[error("group {0:?} has more than one policy")]
    Duplicate(String),
    #[error(
        "group {group:?}: pattern {pattern:?} must be 1-128 characters of A-Z a-z 0-9 _ - . * ?"
    )]
    BadPattern { group: String, pattern: String },
    #[error("group {group:?}: scope {scope:?} is not an OAuth scope token")]
    BadScope { group: String, scope: String },
    #[error("group {group:?}: a scope requirement for {tools:?} lists no scopes")]
    NoScopes { group: String, tools: String },
}

/// A tool-name glob: `*` any run of characters, `?` exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(String);

impl Pattern {
    pub fn parse(p: &str) -> Option<Self> {
        let ok = (1..=128).contains(&p.len())
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.*?".contains(&b));
        ok.then(|| Self(p.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `name` matches; iterative, linear in practice, no backtracking blow-up.
    pub fn matches(&self, name: &str) -> bool {
        let (p, n) = (self.0.as_bytes(), name.as_bytes());
        let (mut pi, mut ni) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while ni < n.len() {
            if pi < p.len() && (p[pi] == b'?' || p[pi] == n[ni]) {
                pi += 1;
                ni += 1;
            } else if pi < p.len() && p[pi] == b'*' {
                star = Some((pi, ni));
                pi += 1;
            } else if let Some((sp, sn)) = star {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|b| *b == b'*')
    }
}

/// A validated policy, patterns compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledPolicy {
    pub group: String,
    pub allow: Vec<Pattern>,
    pub deny: Vec<Pattern>,
    pub scopes: Vec<(Pattern, Vec<String>)>,
    pub version: Option<u64>,
}

/// Every policy, by group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicySet {
    by_group: HashMap<String, CompiledPolicy>,
}

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
fn scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

fn compile(policy: &GroupPolicy) -> Result<CompiledPolicy, PolicyError> {
    let pattern = |p: &String| {
        Pattern::parse(p).ok_or_else(|| PolicyError::BadPattern {
            group: policy.group.clone(),
            pattern: p.clone(),
        })
    };
    let mut scopes = Vec::with_capacity(policy.scopes.len());
    for req in &policy.scopes {
        if req.scopes.is_empty() {
            return Err(PolicyError::NoScopes {
                group: policy.group.clone(),
                tools: req.tools.clone(),
            });
        }
        if let Some(bad) = req.scopes.iter().find(|s| !scope_token(s)) {
            return Err(PolicyError::BadScope {
                group: policy.group.clone(),
                scope: bad.clone(),
            });
        }
        scopes.push((pattern(&req.tools)?, req.scopes.clone()));
    }
    Ok(CompiledPolicy {
        group: policy.group.clone(),
        allow: policy.allow.iter().map(pattern).collect::<Result<_, _>>()?,
        deny: policy.deny.iter().map(pattern).collect::<Result<_, _>>()?,
        scopes,
        version: policy.version,
    })
}

impl PolicySet {
    /// Validates every policy; the first problem wins.
    pub fn build(policies: &[GroupPolicy]) -> Result<Self, PolicyError> {
        let mut by_group = HashMap::with_capacity(policies.len());
        for (index, p) in policies.iter().enumerate() {
            let printable = !p.group.is_empty()
                && p.group.len() <= 256
                && !p.group.chars().any(char::is_control);
            if !printable {
                return Err(PolicyError::BadGroup { index });
            }
            let compiled = compile(p)?;
            if by_group.insert(p.group.clone(), compiled).is_some() {
                return Err(PolicyError::Duplicate(p.group.clone()));
            }
        }
        Ok(Self { by_group })
    }

    /// The policies that apply to a caller in `groups`: every-user policy first, then the
    /// caller's groups in name order (so explanations are deterministic).
    pub fn applicable<'a>(&'a self, groups: &[String]) -> Vec<&'a CompiledPolicy> {
        let mut out: Vec<&CompiledPolicy> = groups
            .iter()
            .filter(|g| g.as_str() != EVERYONE)
            .filter_map(|g| self.by_group.get(g))
            .collect();
        out.sort_by(|a, b| a.group.cmp(&b.group));
        out.dedup_by(|a, b| a.group == b.group);
        if let Some(everyone) = self.by_group.get(EVERYONE) {
            out.insert(0, everyone);
        }
        out
    }

    pub fn len(&self) -> usize {
        self.by_group.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_group.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, n: &str) -> bool {
        Pattern::parse(p).unwrap().matches(n)
    }

    #[test]
    fn globs() {
        assert!(m("*", "anything"));
        assert!(m("*", ""));
        assert!(m("crm_*", "crm_read"));
        assert!(m("crm_*", "crm_"));
        assert!(!m("crm_*", "crm"));
        assert!(m("*_admin", "db_admin"));
        assert!(!m("*_admin", "db_admin2"));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(!m("a*b*c", "aXbYbZ"));
        assert!(m("ec?o", "echo"));
        assert!(!m("ec?o", "eco"));
        assert!(m("echo", "echo"));
        assert!(!m("echo", "echo2"));
        assert!(m("**", "x"));
        assert!(Pattern::parse("").is_none());
        assert!(Pattern::parse("a b").is_none());
        assert!(Pattern::parse("[a]").is_none());
    }

    #[test]
    fn validation_names_the_group() {
        let p = |group: &str, allow: &[&str]| GroupPolicy {
            group: group.into(),
            description: None,
            allow: allow.iter().map(|s| s.to_string()).collect(),
            deny: vec![],
            scopes: vec![],
            version: None,
            updated_at: None,
        };
        assert!(PolicySet::build(&[p("eng", &["echo", "crm_*"])]).is_ok());
        assert_eq!(
            PolicySet::build(&[p("eng", &["bad pattern"])]).unwrap_err(),
            PolicyError::BadPattern {
                group: "eng".into(),
                pattern: "bad pattern".into()
            }
        );
        assert_eq!(
            PolicySet::build(&[p("eng", &[]), p("eng", &[])]).unwrap_err(),
            PolicyError::Duplicate("eng".into())
        );
        assert_eq!(
            PolicySet::build(&[p("", &[])]).unwrap_err(),
            PolicyError::BadGroup { index: 0 }
        );
        let mut s = p("eng", &["*"]);
        s.scopes = vec![ScopeRequirement {
            tools: "crm_*".into(),
            scopes: vec!["crm write".into()],
        }];
        assert!(matches!(
            PolicySet::build(&[s.clone()]),
            Err(PolicyError::BadScope { .. })
        ));
        s.scopes[0].scopes.clear();
        assert!(matches!(
            PolicySet::build(&[s]),
            Err(PolicyError::NoScopes { .. })
        ));
    }

    #[test]
    fn applicable_policies_are_everyone_then_groups_in_order() {
        let p = |g: &str| GroupPolicy {
            group: g.into(),
            description: None,
            allow: vec![],
            deny: vec![],
            scopes: vec![],
            version: None,
            updated_at: None,
        };
        let set = PolicySet::build(&[p("b"), p("a"), p(EVERYONE)]).unwrap();
        let groups = [
            "b".to_string(),
            "x".into(),
            "a".into(),
            "b".into(),
            "*".into(),
        ];
        let names: Vec<_> = set
            .applicable(&groups)
            .iter()
            .map(|c| c.group.as_str())
            .collect();
        assert_eq!(names, ["*", "a", "b"]);
    }
}
