//! Federation: the tools of upstream Streamable HTTP MCP servers join the catalog as
//! `<prefix>___<tool>`, re-listed with every snapshot refresh, so policies (which see only
//! the prefixed names) and `tools/list` treat them like any other tool.
//!
//! Pure: the upstream's listing comes through `UpstreamLister` (`adapters::mcp_upstream`).
//! An upstream that cannot be listed keeps the tools of its last good listing (calls to it
//! then fail as tool errors); one that was never listed contributes nothing. Neither ever
//! fails the snapshot: one broken upstream must not take every other tool down.
//!
//! This file is the model (an upstream's definition, its validation, naming a listing's
//! tools); `source.rs` joins the listings to a configuration source's documents.

mod source;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::{self, McpTarget, Target, ToolDefinition};
use crate::outbound::{OutboundAuth, SecretSources};
use crate::policy::model::Pattern;
use crate::targets::TargetError;

pub use source::FederatedSource;

/// Between the prefix and the upstream's tool name (AgentCore Gateway's convention).
pub const SEPARATOR: &str = "___";

/// The longest a listing may take: the whole refresh a request waits for is bounded at 3 s.
pub const LIST_TIMEOUT: Duration = Duration::from_millis(2_000);

/// An upstream MCP server, as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Upstream {
    /// Names the upstream in logs and listings; the default prefix.
    pub name: String,
    /// The server's Streamable HTTP endpoint.
    pub url: String,
    /// What its tools are called under: `<prefix>___<tool>`. Defaults to `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Which of its tools to take (glob patterns on the upstream's names); all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// The gateway's own credentials for the upstream (`crate::outbound`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<OutboundAuth>,
    /// Lets identity statements go to it over plain `http://` off the host (see
    /// `catalog::Target`); its tools inherit it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_http: bool,
}

/// What is wrong with an upstream's definition.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FederationError {
    #[error("upstream {0:?}: name must be 1-64 characters of A-Z a-z 0-9 _ -")]
    BadName(String),
    #[error("upstream {0:?}: prefix must be 1-64 characters of A-Z a-z 0-9 _ -")]
    BadPrefix(String),
    #[error("upstream {0:?} is defined more than once")]
    Duplicate(String),
    #[error("upstreams {0:?} and {1:?} share the prefix {2:?}")]
    SharedPrefix(String, String, String),
    #[error("upstream {name:?}: tools pattern {pattern:?} must be 1-128 of A-Z a-z 0-9 _ - . * ?")]
    BadPattern { name: String, pattern: String },
    #[error("upstream {0}")]
    Endpoint(String),
    /// A secret source the allow-list refuses; the text is the field's path and why.
    #[error("upstream {name:?}: {field}")]
    ForbiddenSecret { name: String, field: String },
}

fn short_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Upstream {
    pub fn prefix(&self) -> &str {
        self.prefix.as_deref().unwrap_or(&self.name)
    }

    fn check(&self) -> Result<(), FederationError> {
        if !short_name(&self.name) {
            return Err(FederationError::BadName(self.name.clone()));
        }
        if !short_name(self.prefix()) {
            return Err(FederationError::BadPrefix(self.name.clone()));
        }
        for p in &self.tools {
            if Pattern::parse(p).is_none() {
                return Err(FederationError::BadPattern {
                    name: self.name.clone(),
                    pattern: p.clone(),
                });
            }
        }
        catalog::check_endpoint(
            &self.name,
            &self.url,
            self.auth.as_ref(),
            self.insecure_http,
        )
        .map_err(|e| FederationError::Endpoint(e.to_string().replacen("tool ", "", 1)))?;
        if !catalog::timeout_is_valid(self.timeout_ms) {
            return Err(FederationError::Endpoint(format!(
                "{:?}: timeoutMs must be between 1 and 900000",
                self.name
            )));
        }
        Ok(())
    }

    /// Checks that the upstream's credentials come only from sources `sources` allows.
    pub fn check_sources(&self, sources: &SecretSources) -> Result<(), FederationError> {
        match self
            .auth
            .as_ref()
            .map(|a| crate::outbound::check_sources(a, sources))
        {
            Some(Err(reason)) => Err(FederationError::ForbiddenSecret {
                name: self.name.clone(),
                field: format!("auth.{reason}"),
            }),
            _ => Ok(()),
        }
    }

    /// The target its tool `tool` is called through.
    pub fn target(&self, tool: &str) -> Target {
        Target::Mcp(McpTarget {
            url: self.url.clone(),
            tool: tool.to_owned(),
            timeout_ms: self.timeout_ms,
            auth: self.auth.clone(),
            insecure_http: self.insecure_http,
        })
    }
}

/// Checks every upstream and that names and prefixes are unique.
pub fn validate(upstreams: &[Upstream]) -> Result<(), FederationError> {
    let mut names = HashSet::new();
    let mut prefixes: HashMap<&str, &str> = HashMap::new();
    for u in upstreams {
        u.check()?;
        if !names.insert(u.name.as_str()) {
            return Err(FederationError::Duplicate(u.name.clone()));
        }
        if let Some(other) = prefixes.insert(u.prefix(), &u.name) {
            return Err(FederationError::SharedPrefix(
                other.to_owned(),
                u.name.clone(),
                u.prefix().to_owned(),
            ));
        }
    }
    Ok(())
}

/// Lists an upstream's tools: each entry as the upstream sent it, every page.
#[async_trait]
pub trait UpstreamLister: Send + Sync {
    async fn list_tools(&self, upstream: &Upstream) -> Result<Vec<Value>, TargetError>;
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    name: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    input_schema: Value,
    #[serde(default)]
    output_schema: Option<Value>,
    #[serde(default)]
    annotations: Option<Value>,
}

/// The catalog entries for an upstream's listing, and why any entry was left out.
pub fn federate(upstream: &Upstream, listed: &[Value]) -> (Vec<ToolDefinition>, Vec<String>) {
    let patterns: Vec<Pattern> = upstream
        .tools
        .iter()
        .filter_map(|p| Pattern::parse(p))
        .collect();
    let mut tools = Vec::new();
    let mut skipped = Vec::new();
    for entry in listed {
        let t: Listed = match serde_json::from_value(entry.clone()) {
            Ok(t) => t,
            Err(e) => {
                skipped.push(format!("an entry is not a tool: {e}"));
                continue;
            }
        };
        if !patterns.is_empty() && !patterns.iter().any(|p| p.matches(&t.name)) {
            continue;
        }
        let def = ToolDefinition {
            name: format!("{}{SEPARATOR}{}", upstream.prefix(), t.name),
            title: t.title,
            description: t.description,
            input_schema: t.input_schema,
            output_schema: t.output_schema,
            // Hints only; anything but an object is dropped rather than refusing the tool.
            annotations: t.annotations.filter(Value::is_object),
            target: upstream.target(&t.name),
        };
        match catalog::check(&def) {
            Ok(()) => tools.push(def),
            Err(e) => skipped.push(format!("{:?}: {e}", t.name)),
        }
    }
    (tools, skipped)
}

#[cfg(test)]
mod tests;
