//! The whole configuration as one document — tools, upstream MCP servers and group policies — in the shape the
//! embedded YAML file, `gatewayctl import/export` and `validate` share.

use serde::{Deserialize, Serialize};

use super::model::{GroupPolicy, PolicySet};
use crate::catalog::{Catalog, ToolDefinition};
use crate::federation::{self, Upstream};
use crate::outbound::SecretSources;

/// Tools and policies, as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigDocument {
    #[serde(default)]
    pub policies: Vec<GroupPolicy>,
    #[serde(default)]
    pub tools: Vec<ToolDefinition>,
    /// Upstream MCP servers whose tools join the catalog (`crate::federation`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstreams: Vec<Upstream>,
}

/// Why a document cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("YAML: {0}")]
    Syntax(#[from] serde_norway::Error),
    #[error("{0}")]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error("{0}")]
    Policy(#[from] super::model::PolicyError),
    #[error("{0}")]
    Upstream(#[from] federation::FederationError),
}

impl ConfigDocument {
    pub fn from_yaml(text: &str) -> Result<Self, DocumentError> {
        Ok(serde_norway::from_str(text)?)
    }

    /// YAML with policies and tools each in name order, so exports diff cleanly.
    pub fn to_yaml(&self) -> String {
        let mut doc = self.clone();
        doc.policies.sort_by(|a, b| a.group.cmp(&b.group));
        doc.tools.sort_by(|a, b| a.name.cmp(&b.name));
        doc.upstreams.sort_by(|a, b| a.name.cmp(&b.name));
        serde_norway::to_string(&doc).expect("documents serialize")
    }

    /// Checks that every tool and upstream reads its credentials only from sources
    /// `sources` allows; the first that does not is the error, naming it and the field.
    /// `validate`, `import`, `tool put`, `upstream put` and a catalog file at start-up
    /// refuse a document that fails this.
    pub fn check_sources(&self, sources: &SecretSources) -> Result<(), DocumentError> {
        for t in &self.tools {
            crate::catalog::check_sources(&t.name, &t.target, sources)?;
        }
        for u in &self.upstreams {
            u.check_sources(sources)?;
        }
        Ok(())
    }

    /// Leaves out every tool and upstream that names a source `sources` refuses (stored by
    /// an older version or written to the table directly) and says why for each: the
    /// gateway's snapshot loads use this, so such an item is never used while the others
    /// stay available.
    pub fn screen(&mut self, sources: &SecretSources) -> Vec<DocumentError> {
        let mut refused = Vec::new();
        self.tools.retain(|t| {
            let checked = crate::catalog::check_sources(&t.name, &t.target, sources);
            checked.map_err(|e| refused.push(e.into())).is_ok()
        });
        self.upstreams.retain(|u| {
            let checked = u.check_sources(sources);
            checked.map_err(|e| refused.push(e.into())).is_ok()
        });
        refused
    }

    /// Validates everything and builds what decisions run on.
    pub fn compile(self) -> Result<(Catalog, PolicySet), DocumentError> {
        federation::validate(&self.upstreams)?;
        let policies = PolicySet::build(&self.policies)?;
        let catalog = Catalog::build(self.tools)?;
        Ok((catalog, policies))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_round_trip_is_stable() {
        let text = r#"
policies:
  - group: engineering
    description: Engineers
    allow: [echo, "calc*"]
    deny: [calc_admin]
    scopes: [{tools: "calc*", scopes: ["mcp:tools"]}]
  - group: "*"
    allow: [current_time]
tools:
  - name: echo
    inputSchema: {type: object}
    target: {kind: http, url: "https://tools.example/echo"}
"#;
        let doc = ConfigDocument::from_yaml(text).unwrap();
        assert_eq!(doc.policies.len(), 2);
        let again = ConfigDocument::from_yaml(&doc.to_yaml()).unwrap();
        assert_eq!(again.policies[0].group, "*", "sorted by group");
        assert_eq!(again.to_yaml(), doc.to_yaml());
        let (catalog, policies) = again.compile().unwrap();
        assert_eq!((catalog.len(), policies.len()), (1, 2));
    }

    #[test]
    fn unknown_fields_and_bad_items_are_refused() {
        assert!(ConfigDocument::from_yaml("policy: []").is_err());
        assert!(ConfigDocument::from_yaml("policies: [{group: a, alow: [x]}]").is_err());
        let doc =
            ConfigDocument::from_yaml("policies: [{group: a, allow: ['bad pattern']}]").unwrap();
        assert!(
            doc.compile()
                .unwrap_err()
                .to_string()
                .contains("bad pattern")
        );
    }
}
