//! What `gatewayctl` prints: text for people by default, JSON with `--json`. Items print as
//! YAML (or JSON) that `put` reads back. A closed stdout (`| head`) ends output quietly.

use std::io::Write;
use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};

use super::CliError;
use crate::adapters::dynamodb_admin::ImportReport;
use crate::catalog::{HttpTarget, LambdaTarget, McpTarget, Target, ToolDefinition};
use crate::policy::{ConfigDocument, Decision, GroupPolicy, Rule};

/// The output mode.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub json: bool,
}

/// One `explain` answer. `decision` is `None` for a tool not in the catalog.
pub struct Explained<'a> {
    pub source: &'a str,
    pub tool: &'a str,
    pub groups: &'a [String],
    pub scopes: &'a [String],
    pub decision: Option<&'a Decision>,
    /// The upstream MCP server whose prefix the tool carries, when it is not configured
    /// itself: its tools are known only once the gateway lists them.
    pub upstream: Option<&'a str>,
}

fn joined(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".into()
    } else {
        items.join(", ")
    }
}

pub(super) fn pretty(v: &impl Serialize) -> String {
    serde_json::to_string_pretty(v).expect("values serialize") + "\n"
}

impl Out {
    /// Writes `text` to stdout as it is.
    pub fn raw(&self, text: &str) -> Result<(), CliError> {
        let mut stdout = std::io::stdout().lock();
        match stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
        {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Write {
                path: "standard output".into(),
                error: e,
            }),
            _ => Ok(()),
        }
    }

    pub fn line(&self, text: &str) -> Result<(), CliError> {
        self.raw(&format!("{text}\n"))
    }

    /// One item: YAML, or JSON.
    pub fn item(&self, item: &impl Serialize) -> Result<(), CliError> {
        if self.json {
            self.raw(&pretty(item))
        } else {
            self.raw(&serde_norway::to_string(item).expect("items serialize"))
        }
    }

    /// After a put: the stored item as JSON, or a sentence.
    pub fn stored(&self, item: &impl Serialize, message: &str) -> Result<(), CliError> {
        if self.json {
            self.raw(&pretty(item))
        } else {
            self.line(message)
        }
    }

    /// Rows under a header, columns padded to their widest cell.
    pub(super) fn table(&self, header: &[&str], rows: Vec<Vec<String>>) -> Result<(), CliError> {
        let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut text = String::new();
        let head = header.iter().map(|h| h.to_string());
        for row in std::iter::once(head.collect::<Vec<_>>()).chain(rows) {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:w$}"))
                .collect();
            text.push_str(cells.join("  ").trim_end());
            text.push('\n');
        }
        self.raw(&text)
    }

    pub fn policies(&self, all: &[GroupPolicy]) -> Result<(), CliError> {
        if self.json {
            return self.raw(&pretty(&all));
        }
        let rows = all
            .iter()
            .map(|p| {
                let scopes: Vec<String> = p
                    .scopes
                    .iter()
                    .map(|s| format!("{} -> {}", s.tools, s.scopes.join(" ")))
                    .collect();
                vec![
                    p.group.clone(),
                    p.version.map_or_else(|| "-".into(), |v| v.to_string()),
                    p.updated_at.clone().unwrap_or_else(|| "-".into()),
                    joined(&p.allow),
                    joined(&p.deny),
                    joined(&scopes),
                ]
            })
            .collect();
        self.table(
            &["GROUP", "VERSION", "UPDATED", "ALLOW", "DENY", "SCOPES"],
            rows,
        )
    }

    pub fn tools(&self, all: &[ToolDefinition]) -> Result<(), CliError> {
        if self.json {
            return self.raw(&pretty(&all));
        }
        let rows = all
            .iter()
            .map(|t| {
                let target = match &t.target {
                    Target::Http(HttpTarget { url, auth, .. }) => match auth {
                        Some(auth) => format!("http {url} ({})", auth.describe()),
                        None => format!("http {url}"),
                    },
                    Target::Lambda(LambdaTarget {
                        function, contract, ..
                    }) => format!("lambda {function} ({})", contract.as_str()),
                    Target::Mcp(McpTarget { url, tool, .. }) => format!("mcp {url} tool {tool}"),
                };
                vec![t.name.clone(), t.title.clone().unwrap_or_default(), target]
            })
            .collect();
        self.table(&["NAME", "TITLE", "TARGET"], rows)
    }

    /// The whole configuration: `ConfigDocument::to_yaml`, or JSON in the same order.
    pub fn document(&self, doc: &ConfigDocument) -> String {
        if !self.json {
            return doc.to_yaml();
        }
        let mut doc = doc.clone();
        doc.policies.sort_by(|a, b| a.group.cmp(&b.group));
        doc.tools.sort_by(|a, b| a.name.cmp(&b.name));
        pretty(&doc)
    }

    pub fn import(&self, r: &ImportReport, dry_run: bool) -> Result<(), CliError> {
        if self.json {
            let mut v = serde_json::to_value(r).expect("reports serialize");
            v["dryRun"] = Value::Bool(dry_run);
            return self.raw(&pretty(&v));
        }
        let mut text = String::new();
        let lists = [
            ("added", &r.added),
            ("changed", &r.changed),
            ("unchanged", &r.unchanged),
            ("removed", &r.removed),
        ];
        for (what, names) in lists {
            for name in names {
                text.push_str(&format!("{what:<10} {name}\n"));
            }
        }
        text.push_str(&format!(
            "{} added, {} changed, {} unchanged, {} removed{}\n",
            r.added.len(),
            r.changed.len(),
            r.unchanged.len(),
            r.removed.len(),
            if dry_run {
                " (dry run: nothing written)"
            } else {
                ""
            }
        ));
        self.raw(&text)
    }

    pub fn validated(&self, file: &Path, doc: &ConfigDocument) -> Result<(), CliError> {
        let (p, t, u) = (doc.policies.len(), doc.tools.len(), doc.upstreams.len());
        if self.json {
            let v = json!({"file": file.display().to_string(), "valid": true, "policies": p, "tools": t, "upstreams": u});
            return self.raw(&pretty(&v));
        }
        // Upstream tools are known only when the gateway lists them.
        let upstreams = match u {
            0 => String::new(),
            1 => ", 1 upstream MCP server".to_owned(),
            n => format!(", {n} upstream MCP servers"),
        };
        self.line(&format!(
            "{}: valid: {p} policies, {t} tools{upstreams}",
            file.display()
        ))
    }

    pub fn explain(&self, e: &Explained) -> Result<(), CliError> {
        let (verdict, rule) = match e.decision {
            None => ("deny", Rule::UnknownTool),
            Some(Decision::Allow { rule }) => ("allow", rule.clone()),
            Some(Decision::NeedsScopes { rule, .. }) => ("needs_scopes", rule.clone()),
            Some(Decision::Deny { rule }) => ("deny", rule.clone()),
        };
        let required: &[String] = match e.decision {
            Some(Decision::NeedsScopes { required, .. }) => required,
            _ => &[],
        };
        let missing: Vec<String> = required
            .iter()
            .filter(|s| !e.scopes.contains(s))
            .cloned()
            .collect();
        let policy = match &rule {
            Rule::Allow {
                group,
                pattern,
                version,
            }
            | Rule::Deny {
                group,
                pattern,
                version,
            } => Some((group, pattern, version)),
            _ => None,
        };
        if self.json {
            let v = json!({
                "tool": e.tool,
                "groups": e.groups,
                "scopes": e.scopes,
                "source": e.source,
                "known": e.decision.is_some(),
                "upstream": e.upstream,
                "decision": verdict,
                "rule": rule.to_string(),
                "group": policy.map(|p| p.0),
                "pattern": policy.map(|p| p.1),
                "policyVersion": policy.and_then(|p| *p.2),
                "requiredScopes": required,
                "missingScopes": missing,
            });
            return self.raw(&pretty(&v));
        }
        let mut rows = vec![
            ("tool", e.tool.to_owned()),
            ("groups", joined(e.groups)),
            ("scopes", joined(e.scopes)),
            ("source", e.source.to_owned()),
        ];
        if let Some(u) = e.upstream {
            rows.push((
                "upstream",
                format!(
                    "{u:?} (its tools are listed by the gateway; this one is assumed to exist)"
                ),
            ));
        }
        let verdict = match (verdict, e.decision.is_some()) {
            ("needs_scopes", _) => "needs scopes (allowed once the token has every required scope)",
            ("deny", false) => "deny (unknown tool: not in the catalog)",
            (v, _) => v,
        };
        rows.push(("decision", verdict.to_owned()));
        rows.push(("rule", rule.to_string()));
        if let Some((group, _, version)) = policy {
            let version = version.map_or_else(|| "unversioned".into(), |v| format!("version {v}"));
            rows.push(("policy", format!("{group:?}, {version}")));
        }
        if !required.is_empty() {
            rows.push(("required", required.join(" ")));
            rows.push(("missing", missing.join(" ")));
        }
        let text: String = rows.iter().map(|(k, v)| format!("{k:<9} {v}\n")).collect();
        self.raw(&text)
    }
}
