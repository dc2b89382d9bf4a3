//! The one decision function: may this caller call this tool? `tools/list` shows exactly the
//! tools for which it does not deny, and `tools/call` obeys it, so the two never disagree.
//!
//! Default deny; any matching deny pattern of any applicable policy beats every allow; the
//! caller's groups (and the every-user policy) are unioned; scopes required by any
//! applicable policy for the tool are all required.

use std::collections::BTreeSet;

use super::model::{CompiledPolicy, PolicySet};

/// Which rule decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// `deny` pattern of a group's policy.
    Deny {
        group: String,
        pattern: String,
        version: Option<u64>,
    },
    /// `allow` pattern of a group's policy (scope requirements met).
    Allow {
        group: String,
        pattern: String,
        version: Option<u64>,
    },
    /// No applicable policy allows the tool.
    DefaultDeny,
    /// No such tool in the catalog.
    UnknownTool,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = |v: &Option<u64>| {
            v.map(|v| format!(" (policy version {v})"))
                .unwrap_or_default()
        };
        match self {
            Rule::Deny {
                group,
                pattern,
                version,
            } => {
                write!(f, "group {group:?} denies {pattern:?}{}", v(version))
            }
            Rule::Allow {
                group,
                pattern,
                version,
            } => {
                write!(f, "group {group:?} allows {pattern:?}{}", v(version))
            }
            Rule::DefaultDeny => write!(f, "no applicable policy allows it (default deny)"),
            Rule::UnknownTool => write!(f, "no such tool"),
        }
    }
}

/// The outcome for one caller and one tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow {
        rule: Rule,
    },
    /// Allowed once the token carries every scope in `required` (all the call needs, not
    /// only the missing ones: what a step-up `scope=` must name).
    NeedsScopes {
        required: Vec<String>,
        rule: Rule,
    },
    Deny {
        rule: Rule,
    },
}

impl Decision {
    /// Whether `tools/list` shows the tool: everything a call would not deny (a tool that
    /// needs a scope is listed, so the client can step up when it calls).
    pub fn visible(&self) -> bool {
        !matches!(self, Decision::Deny { .. })
    }

    /// The rule that decided.
    pub fn rule(&self) -> &Rule {
        match self {
            Decision::Allow { rule }
            | Decision::Deny { rule }
            | Decision::NeedsScopes { rule, .. } => rule,
        }
    }

    /// The stable code of a refusal: an audit record's `reason` and the `DenyReason` metric
    /// dimension; `None` for an allow. Stored data that `gatewayctl audit` and dashboards
    /// query, so a code never changes once shipped, whatever the variants are called.
    pub fn reason_code(&self) -> Option<&'static str> {
        match self {
            Decision::Allow { .. } => None,
            Decision::NeedsScopes { .. } => Some("insufficient_scope"),
            Decision::Deny { rule } => Some(match rule {
                Rule::Deny { .. } => "deny_rule",
                Rule::UnknownTool => "unknown_tool",
                // An allow rule never denies; were it to, it is no rule that denies.
                Rule::DefaultDeny | Rule::Allow { .. } => "default_deny",
            }),
        }
    }
}

/// The policies that apply to one caller, resolved once per request.
pub struct Caller<'a> {
    policies: Vec<&'a CompiledPolicy>,
    scopes: &'a [String],
}

impl<'a> Caller<'a> {
    pub fn new(set: &'a PolicySet, groups: &[String], scopes: &'a [String]) -> Self {
        Self {
            policies: set.applicable(groups),
            scopes,
        }
    }

    /// Whether `tools/list` shows the tool: exactly `decide(tool).visible()` (a property
    /// test holds the two together), without building the rule that explains it.
    pub fn visible(&self, tool: &str) -> bool {
        let denied = self
            .policies
            .iter()
            .any(|p| p.deny.iter().any(|d| d.matches(tool)));
        !denied
            && self
                .policies
                .iter()
                .any(|p| p.allow.iter().any(|a| a.matches(tool)))
    }

    /// Decides for a tool that exists in the catalog (callers check existence first, and
    /// treat an unknown tool exactly like a denied one).
    pub fn decide(&self, tool: &str) -> Decision {
        for p in &self.policies {
            if let Some(d) = p.deny.iter().find(|d| d.matches(tool)) {
                return Decision::Deny {
                    rule: Rule::Deny {
                        group: p.group.clone(),
                        pattern: d.as_str().to_owned(),
                        version: p.version,
                    },
                };
            }
        }
        let allowed = self
            .policies
            .iter()
            .find_map(|p| p.allow.iter().find(|a| a.matches(tool)).map(|a| (p, a)));
        let Some((p, a)) = allowed else {
            return Decision::Deny {
                rule: Rule::DefaultDeny,
            };
        };
        let rule = Rule::Allow {
            group: p.group.clone(),
            pattern: a.as_str().to_owned(),
            version: p.version,
        };
        let required: BTreeSet<&String> = self
            .policies
            .iter()
            .flat_map(|p| p.scopes.iter())
            .filter(|(pattern, _)| pattern.matches(tool))
            .flat_map(|(_, scopes)| scopes.iter())
            .collect();
        if required.iter().all(|s| self.scopes.contains(s)) {
            Decision::Allow { rule }
        } else {
            Decision::NeedsScopes {
                required: required.into_iter().cloned().collect(),
                rule,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model::{EVERYONE, GroupPolicy, ScopeRequirement};

    fn policy(group: &str, allow: &[&str], deny: &[&str]) -> GroupPolicy {
        GroupPolicy {
            group: group.into(),
            description: None,
            allow: allow.iter().map(|s| s.to_string()).collect(),
            deny: deny.iter().map(|s| s.to_string()).collect(),
            scopes: vec![],
            version: Some(3),
            updated_at: None,
        }
    }

    fn groups(g: &[&str]) -> Vec<String> {
        g.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_deny_union_and_deny_wins() {
        let set = PolicySet::build(&[
            policy("eng", &["echo", "calc*"], &[]),
            policy("finance", &["ledger_*"], &["calc_admin"]),
            policy(EVERYONE, &["current_time"], &[]),
        ])
        .unwrap();
        let none: Vec<String> = vec![];
        let eng = groups(&["eng"]);
        let c = Caller::new(&set, &eng, &none);
        assert!(matches!(c.decide("echo"), Decision::Allow { .. }));
        assert!(matches!(c.decide("calc_admin"), Decision::Allow { .. }));
        assert!(matches!(c.decide("current_time"), Decision::Allow { .. }));
        assert_eq!(
            c.decide("ledger_read"),
            Decision::Deny {
                rule: Rule::DefaultDeny
            }
        );
        let both = groups(&["eng", "finance"]);
        let c = Caller::new(&set, &both, &none);
        assert!(matches!(c.decide("ledger_read"), Decision::Allow { .. }));
        assert_eq!(
            c.decide("calc_admin"),
            Decision::Deny {
                rule: Rule::Deny {
                    group: "finance".into(),
                    pattern: "calc_admin".into(),
                    version: Some(3)
                }
            }
        );
        let nobody = groups(&[]);
        let c = Caller::new(&set, &nobody, &none);
        assert!(matches!(c.decide("current_time"), Decision::Allow { .. }));
        assert_eq!(
            c.decide("echo"),
            Decision::Deny {
                rule: Rule::DefaultDeny
            }
        );
    }

    #[test]
    fn required_scopes_are_all_named() {
        let mut eng = policy("eng", &["crm_*"], &[]);
        eng.scopes = vec![ScopeRequirement {
            tools: "crm_*".into(),
            scopes: vec!["crm:read".into()],
        }];
        let mut everyone = policy(EVERYONE, &[], &[]);
        everyone.scopes = vec![ScopeRequirement {
            tools: "crm_write".into(),
            scopes: vec!["crm:write".into()],
        }];
        let set = PolicySet::build(&[eng, everyone]).unwrap();
        let g = groups(&["eng"]);
        let scopes: Vec<String> = vec!["crm:read".into()];
        let c = Caller::new(&set, &g, &scopes);
        assert!(matches!(c.decide("crm_read"), Decision::Allow { .. }));
        let d = c.decide("crm_write");
        assert!(
            matches!(&d, Decision::NeedsScopes { required, .. } if required == &["crm:read", "crm:write"])
        );
        assert!(d.visible());
        assert!(c.visible("crm_write") && !c.visible("other"));
        let none: Vec<String> = vec![];
        let c = Caller::new(&set, &g, &none);
        assert!(
            matches!(c.decide("crm_read"), Decision::NeedsScopes { required, .. } if required == ["crm:read"])
        );
    }

    /// These strings are stored data (audit records in DynamoDB, metric dimensions):
    /// never change one.
    #[test]
    fn refusal_codes_are_pinned() {
        let rule = |allow: bool| {
            let (group, pattern, version) = ("eng".into(), "e*".into(), Some(1));
            match allow {
                true => Rule::Allow {
                    group,
                    pattern,
                    version,
                },
                false => Rule::Deny {
                    group,
                    pattern,
                    version,
                },
            }
        };
        let deny = |rule| Decision::Deny { rule };
        let codes = [
            (Decision::Allow { rule: rule(true) }, None),
            (
                Decision::NeedsScopes {
                    required: vec!["crm:write".into()],
                    rule: rule(true),
                },
                Some("insufficient_scope"),
            ),
            (deny(rule(false)), Some("deny_rule")),
            (deny(Rule::UnknownTool), Some("unknown_tool")),
            (deny(Rule::DefaultDeny), Some("default_deny")),
            (deny(rule(true)), Some("default_deny")),
        ];
        for (decision, code) in codes {
            assert_eq!(decision.reason_code(), code, "{decision:?}");
        }
    }
}
