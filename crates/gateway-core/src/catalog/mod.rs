//! The tool catalog model: what a tool is, where it is served, and the validated, ordered,
//! pre-serialized set of tools the gateway answers from.
//!
//! Pure: sources (the catalog file, DynamoDB) produce `ToolDefinition`s; this module
//! validates them and builds the immutable `Catalog` a policy snapshot holds.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

mod target;

pub use target::{
    HttpTarget, LambdaContract, LambdaTarget, McpTarget, Target, check_endpoint, check_sources,
    origin, timeout_is_valid,
};

/// One tool as configured: its MCP face and its target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToolDefinition {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub input_schema: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
    pub target: Target,
}

/// What is wrong with a catalog; each names the tool and the field.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CatalogError {
    #[error("tool #{index}: name {name:?} must be 1-128 characters of A-Z a-z 0-9 _ - .")]
    BadName { index: usize, name: String },
    #[error("tool {0:?} is defined more than once")]
    Duplicate(String),
    #[error("tool {name:?}: {field} must be a JSON Schema object{extra}")]
    BadSchema {
        name: String,
        field: &'static str,
        extra: &'static str,
    },
    #[error("tool {name:?}: annotations must be an object")]
    BadAnnotations { name: String },
    #[error("tool {name:?}: target url {url:?} must be an absolute http:// or https:// URL")]
    BadUrl { name: String, url: String },
    #[error(
        "tool {name:?}: target url {url:?} would receive identity statements in clear text: use https://, a loopback host, or mark the target insecureHttp: true"
    )]
    InsecureUrl { name: String, url: String },
    #[error("tool {name:?}: target timeoutMs must be between 1 and 900000")]
    BadTimeout { name: String },
    #[error("tool {name:?}: target function {function:?} is not a Lambda function name or ARN")]
    BadFunction { name: String, function: String },
    #[error("tool {name:?}: target auth: {reason}")]
    BadAuth { name: String, reason: String },
    #[error("tool {name:?}: target tool must be 1-256 characters without control characters")]
    BadUpstreamTool { name: String },
    /// A secret source the allow-list refuses (`crate::outbound::sources`); `field` is its
    /// path in the definition, `target.auth.value.env` for instance.
    #[error("tool {name:?}: {field}")]
    ForbiddenSecret { name: String, field: String },
}

/// A tool ready to serve: its definition and its `tools/list` entry, serialized once.
#[derive(Debug)]
pub struct Tool {
    pub def: ToolDefinition,
    pub listing: Box<RawValue>,
}

/// A validated, immutable set of tools in name order (the order `tools/list` uses).
#[derive(Debug, Default)]
pub struct Catalog {
    tools: BTreeMap<String, Arc<Tool>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Listing<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    input_schema: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_schema: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<&'a Value>,
}

fn valid_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn check_schema(
    name: &str,
    field: &'static str,
    schema: &Value,
    need_object_type: bool,
) -> Result<(), CatalogError> {
    let bad = |extra| CatalogError::BadSchema {
        name: name.to_owned(),
        field,
        extra,
    };
    let obj = schema.as_object().ok_or(bad(""))?;
    if need_object_type && obj.get("type") != Some(&Value::from("object")) {
        return Err(bad(" with \"type\": \"object\""));
    }
    Ok(())
}

/// Checks one definition on its own (duplicates are the catalog's to find).
pub fn check(def: &ToolDefinition) -> Result<(), CatalogError> {
    validate(0, def)
}

/// Whether `name` is a valid tool name: 1-128 of `A-Z a-z 0-9 _ - .`.
pub fn name_is_valid(name: &str) -> bool {
    valid_name(name)
}

fn validate(index: usize, def: &ToolDefinition) -> Result<(), CatalogError> {
    if !valid_name(&def.name) {
        return Err(CatalogError::BadName {
            index,
            name: def.name.clone(),
        });
    }
    check_schema(&def.name, "inputSchema", &def.input_schema, true)?;
    if let Some(out) = &def.output_schema {
        check_schema(&def.name, "outputSchema", out, true)?;
    }
    if def.annotations.as_ref().is_some_and(|a| !a.is_object()) {
        return Err(CatalogError::BadAnnotations {
            name: def.name.clone(),
        });
    }
    target::validate(&def.name, &def.target)?;
    Ok(())
}

impl Catalog {
    /// Validates every definition and builds the catalog; the first problem wins.
    pub fn build(defs: Vec<ToolDefinition>) -> Result<Self, CatalogError> {
        let mut tools = BTreeMap::new();
        for (index, def) in defs.into_iter().enumerate() {
            validate(index, &def)?;
            let listing = serde_json::value::to_raw_value(&Listing {
                name: &def.name,
                title: def.title.as_deref(),
                description: def.description.as_deref(),
                input_schema: &def.input_schema,
                output_schema: def.output_schema.as_ref(),
                annotations: def.annotations.as_ref(),
            })
            .expect("tool listings serialize infallibly");
            let name = def.name.clone();
            if tools
                .insert(name.clone(), Arc::new(Tool { def, listing }))
                .is_some()
            {
                return Err(CatalogError::Duplicate(name));
            }
        }
        Ok(Self { tools })
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Tool>> {
        self.tools.get(name)
    }

    /// Every tool, in name order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Tool>> {
        self.tools.values()
    }

    pub fn len(&self) -> usize {
        self.tools.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str, url: &str) -> ToolDefinition {
        ToolDefinition {
            name: name.into(),
            title: None,
            description: Some("d".into()),
            input_schema: json!({"type": "object"}),
            output_schema: None,
            annotations: None,
            target: Target::Http(HttpTarget {
                insecure_http: false,
                url: url.into(),
                timeout_ms: None,
                auth: None,
            }),
        }
    }

    #[test]
    fn builds_in_name_order_with_listings() {
        let c = Catalog::build(vec![
            tool("zeta", "https://a/z"),
            tool("alpha", "https://a/a"),
        ])
        .unwrap();
        let names: Vec<_> = c.iter().map(|t| t.def.name.as_str()).collect();
        assert_eq!(names, ["alpha", "zeta"]);
        let listing: Value = serde_json::from_str(c.get("alpha").unwrap().listing.get()).unwrap();
        assert_eq!(
            listing,
            json!({"name": "alpha", "description": "d", "inputSchema": {"type": "object"}})
        );
    }

    #[test]
    fn refuses_bad_definitions() {
        let dup = Catalog::build(vec![tool("a", "https://x/1"), tool("a", "https://x/2")]);
        assert_eq!(dup.unwrap_err(), CatalogError::Duplicate("a".into()));
        assert!(matches!(
            Catalog::build(vec![tool("bad name", "https://x")]),
            Err(CatalogError::BadName { .. })
        ));
        assert!(matches!(
            Catalog::build(vec![tool("", "https://x")]),
            Err(CatalogError::BadName { .. })
        ));
        assert!(matches!(
            Catalog::build(vec![tool("a", "ftp://x")]),
            Err(CatalogError::BadUrl { .. })
        ));
        assert!(matches!(
            Catalog::build(vec![tool("a", "http:///x")]),
            Err(CatalogError::BadUrl { .. })
        ));
        let mut t = tool("a", "https://x");
        t.input_schema = json!({"type": "string"});
        assert!(matches!(
            Catalog::build(vec![t]),
            Err(CatalogError::BadSchema { .. })
        ));
        let mut t = tool("a", "https://x");
        t.annotations = Some(json!([1]));
        assert!(matches!(
            Catalog::build(vec![t]),
            Err(CatalogError::BadAnnotations { .. })
        ));
        let mut t = tool("a", "https://x");
        t.target = Target::Http(HttpTarget {
            insecure_http: false,
            url: "https://x".into(),
            timeout_ms: Some(0),
            auth: None,
        });
        assert!(matches!(
            Catalog::build(vec![t]),
            Err(CatalogError::BadTimeout { .. })
        ));
        let mut t = tool("a", "https://x");
        t.target = serde_json::from_value(json!({"kind": "http", "url": "https://x",
            "auth": {"kind": "header", "name": "host", "value": {"env": "K"}}}))
        .unwrap();
        let err = Catalog::build(vec![t]).unwrap_err();
        assert!(matches!(err, CatalogError::BadAuth { .. }));
        assert!(
            err.to_string()
                .starts_with("tool \"a\": target auth: header \"host\"")
        );
        let mut t = tool("a", "https://x");
        t.target = serde_json::from_value(json!({"kind": "http", "url": "http://crm.example/x",
            "auth": {"kind": "header", "name": "x-api-key", "value": {"env": "K"}}}))
        .unwrap();
        assert!(matches!(
            Catalog::build(vec![t]),
            Err(CatalogError::BadAuth { .. })
        ));
    }
}
