//! DynamoDB as the configuration source. One table, two item collections under a fixed
//! partition key each, so the gateway reads everything in three paginated queries (run in
//! parallel) and never scans:
//!
//! | pk       | sk              | attributes                                           |
//! |----------|-----------------|------------------------------------------------------|
//! | `POLICY` | `GROUP#<group>` | group, description, allow, deny, scopes, version, updatedAt |
//! | `TOOL`   | `TOOL#<name>`   | name, title, description, inputSchema, outputSchema, annotations, target |
//! | `UPSTREAM` | `UPSTREAM#<name>` | name, url, prefix, tools, timeoutMs, auth             |
//!
//! Attributes are native DynamoDB types (lists, maps, numbers), readable in the console.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use gateway_core::catalog::ToolDefinition;
use gateway_core::federation::Upstream;
use gateway_core::policy::snapshot::SourceError;
use gateway_core::policy::{ConfigDocument, ConfigSource, GroupPolicy};

pub const POLICY_PK: &str = "POLICY";
pub const TOOL_PK: &str = "TOOL";
pub const UPSTREAM_PK: &str = "UPSTREAM";

pub type Item = HashMap<String, AttributeValue>;

/// The sort key of a group's policy.
pub fn policy_sk(group: &str) -> String {
    format!("GROUP#{group}")
}

/// The sort key of a tool.
pub fn tool_sk(name: &str) -> String {
    format!("TOOL#{name}")
}

/// The sort key of an upstream MCP server.
pub fn upstream_sk(name: &str) -> String {
    format!("UPSTREAM#{name}")
}

/// Why an item could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    #[error("item {sk:?}: {error}")]
    Format {
        sk: String,
        error: serde_dynamo::Error,
    },
}

fn with_keys(mut item: Item, pk: &str, sk: String) -> Item {
    item.insert("pk".into(), AttributeValue::S(pk.into()));
    item.insert("sk".into(), AttributeValue::S(sk));
    item
}

fn without_keys(mut item: Item) -> (String, Item) {
    item.remove("pk");
    let sk = match item.remove("sk") {
        Some(AttributeValue::S(s)) => s,
        _ => String::new(),
    };
    (sk, item)
}

pub fn policy_to_item(p: &GroupPolicy) -> Item {
    let item: Item = serde_dynamo::to_item(p).expect("policies serialize");
    with_keys(item, POLICY_PK, policy_sk(&p.group))
}

pub fn tool_to_item(t: &ToolDefinition) -> Item {
    let item: Item = serde_dynamo::to_item(t).expect("tools serialize");
    with_keys(item, TOOL_PK, tool_sk(&t.name))
}

pub fn upstream_to_item(u: &Upstream) -> Item {
    let item: Item = serde_dynamo::to_item(u).expect("upstreams serialize");
    with_keys(item, UPSTREAM_PK, upstream_sk(&u.name))
}

pub fn upstream_from_item(item: Item) -> Result<Upstream, ItemError> {
    let (sk, item) = without_keys(item);
    serde_dynamo::from_item(item).map_err(|error| ItemError::Format { sk, error })
}

pub fn policy_from_item(item: Item) -> Result<GroupPolicy, ItemError> {
    let (sk, item) = without_keys(item);
    serde_dynamo::from_item(item).map_err(|error| ItemError::Format { sk, error })
}

pub fn tool_from_item(item: Item) -> Result<ToolDefinition, ItemError> {
    let (sk, item) = without_keys(item);
    serde_dynamo::from_item(item).map_err(|error| ItemError::Format { sk, error })
}

/// One line on why an SDK call failed: the service's error code and message, or the
/// transport failure and its cause — not the whole raw response.
pub fn brief<E, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> String
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if let Some(service) = e.as_service_error() {
        let code = service.code().unwrap_or("unknown error");
        return match service.message() {
            Some(m) => format!("{code}: {m}"),
            None => code.to_owned(),
        };
    }
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// The configuration table.
#[derive(Clone)]
pub struct DynamoConfig {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoConfig {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }

    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Every item of one collection, across pages.
    pub async fn query_all(&self, pk: &str) -> Result<Vec<Item>, SourceError> {
        let pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        pages.collect::<Result<Vec<_>, _>>().await.map_err(|e| {
            SourceError::Unavailable(format!(
                "DynamoDB query of {}/{pk} failed: {}",
                self.table,
                brief(&e)
            ))
        })
    }

    /// The whole configuration: three paginated queries, in parallel.
    pub async fn load_document(&self) -> Result<ConfigDocument, SourceError> {
        let (policies, tools, upstreams) = futures_util::future::try_join3(
            self.query_all(POLICY_PK),
            self.query_all(TOOL_PK),
            self.query_all(UPSTREAM_PK),
        )
        .await?;
        let bad = |e: ItemError| SourceError::Malformed(format!("table {}: {e}", self.table));
        Ok(ConfigDocument {
            policies: policies
                .into_iter()
                .map(policy_from_item)
                .collect::<Result<_, _>>()
                .map_err(bad)?,
            tools: tools
                .into_iter()
                .map(tool_from_item)
                .collect::<Result<_, _>>()
                .map_err(bad)?,
            upstreams: upstreams
                .into_iter()
                .map(upstream_from_item)
                .collect::<Result<_, _>>()
                .map_err(bad)?,
        })
    }
}

#[async_trait]
impl ConfigSource for DynamoConfig {
    fn name(&self) -> String {
        format!("dynamodb:{}", self.table)
    }

    fn refreshes(&self) -> bool {
        true
    }

    async fn load(&self) -> Result<ConfigDocument, SourceError> {
        self.load_document().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::policy::ScopeRequirement;

    #[test]
    fn items_round_trip_with_native_types() {
        let p = GroupPolicy {
            group: "eng".into(),
            description: Some("Engineers".into()),
            allow: vec!["crm_*".into()],
            deny: vec![],
            scopes: vec![ScopeRequirement {
                tools: "crm_*".into(),
                scopes: vec!["crm:read".into()],
            }],
            version: Some(4),
            updated_at: Some("2026-11-27T00:00:00Z".into()),
        };
        let item = policy_to_item(&p);
        assert_eq!(item["pk"], AttributeValue::S("POLICY".into()));
        assert_eq!(item["sk"], AttributeValue::S("GROUP#eng".into()));
        assert!(matches!(item["allow"], AttributeValue::L(_)));
        assert_eq!(item["version"], AttributeValue::N("4".into()));
        assert_eq!(policy_from_item(item).unwrap(), p);

        let yaml = "tools:\n- name: t\n  inputSchema: {type: object, properties: {n: {type: integer, minimum: -5}}}\n  target: {kind: http, url: 'https://x/t', timeoutMs: 500}\n";
        let t = ConfigDocument::from_yaml(yaml).unwrap().tools.remove(0);
        let item = tool_to_item(&t);
        assert!(matches!(item["inputSchema"], AttributeValue::M(_)));
        assert_eq!(tool_from_item(item).unwrap(), t);
    }

    /// Found by the dynamo_item fuzz target: a schema number written as a float with no
    /// fraction (`48E-0`) is stored as `48` and read back as the integer 48 — the same JSON
    /// number, so the schema means what it did; and a second round trip changes nothing.
    #[test]
    fn a_float_with_no_fraction_reads_back_as_the_same_number() {
        let yaml = "tools:\n- name: t\n  inputSchema: {type: object, properties: {n: {type: number, maximum: 48E-0, minimum: 0.5}}}\n  target: {kind: http, url: 'https://x/t'}\n";
        let t = ConfigDocument::from_yaml(yaml).unwrap().tools.remove(0);
        let n = &t.input_schema["properties"]["n"];
        assert_eq!(n["maximum"].as_f64(), Some(48.0));
        let item = tool_to_item(&t);
        let back = tool_from_item(item).unwrap();
        let m = &back.input_schema["properties"]["n"];
        assert_eq!(m["maximum"].as_f64(), Some(48.0), "the same number");
        assert_eq!(m["minimum"].as_f64(), Some(0.5), "a fraction is kept");
        assert_eq!(
            tool_from_item(tool_to_item(&back)).unwrap(),
            back,
            "a fixed point"
        );
    }
}
