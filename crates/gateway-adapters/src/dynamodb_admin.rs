//! Writing the DynamoDB configuration table (what `gatewayctl` drives): creating it, putting,
//! reading, listing and deleting group policies, tools and upstream MCP servers
//! (`dynamodb_admin::upstreams`), and importing or exporting the
//! whole configuration document. Layout and item format are `dynamodb_config`'s.
//!
//! Every write is validated first and conditional: a policy is written only if its stored
//! version is still the one read (versions increment on every change), a new item only if
//! none exists, so concurrent writers fail loudly instead of overwriting each other.

use std::time::SystemTime;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use aws_sdk_dynamodb::types::AttributeValue;

use super::dynamodb_config::{DynamoConfig, Item, ItemError, policy_to_item, tool_to_item};
use gateway_core::catalog::{Catalog, CatalogError, ToolDefinition};
use gateway_core::policy::document::DocumentError;
use gateway_core::policy::model::PolicyError;
use gateway_core::policy::{GroupPolicy, PolicySet};

mod import;
mod items;
mod revocations;
mod table;
mod upstreams;
pub use import::ImportReport;
pub use table::TableState;

/// Why an administrative operation failed. Messages name the table and item, never
/// credentials.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("table {0:?} does not exist (create it with `gatewayctl table create`)")]
    NoTable(String),
    #[error(
        "table {0:?} exists with another key schema; this table needs pk (string, partition key) and sk (string, sort key)"
    )]
    WrongSchema(String),
    #[error("table {table:?} is not active after {secs} s")]
    NotActive { table: String, secs: u64 },
    #[error("no policy for group {0:?}")]
    NoPolicy(String),
    #[error("no tool named {0:?}")]
    NoTool(String),
    #[error("no upstream named {0:?}")]
    NoUpstream(String),
    #[error("{0}; nothing was written: read it again and retry")]
    Conflict(String),
    #[error("invalid policy: {0}")]
    Policy(#[from] PolicyError),
    #[error("invalid tool: {0}")]
    Tool(#[from] CatalogError),
    #[error("invalid configuration: {0}")]
    Document(#[from] DocumentError),
    #[error("table {table:?} holds an unreadable {error}")]
    Item { table: String, error: ItemError },
    #[error("cannot reach DynamoDB ({op} on table {table:?}): {detail}")]
    Unreachable {
        op: &'static str,
        table: String,
        detail: String,
    },
    #[error(
        "no usable AWS credentials ({0}); set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    )]
    NoCredentials(String),
    #[error("DynamoDB {op} on table {table:?} failed: {detail}")]
    Failed {
        op: &'static str,
        table: String,
        detail: String,
    },
}

pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    DateTime::from_secs(secs as i64)
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default()
}

/// A policy as compared by import: without the store-managed fields.
fn content(p: &GroupPolicy) -> GroupPolicy {
    GroupPolicy {
        version: None,
        updated_at: None,
        ..p.clone()
    }
}

/// An error and its causes, each once, as one line (their `Display`s only: the `Debug`
/// forms carry raw responses).
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

fn condition_failed<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    matches!(e, SdkError::ServiceError(c) if c.err().code() == Some("ConditionalCheckFailedException"))
}

/// The administrative side of the configuration table.
#[derive(Clone)]
pub struct DynamoAdmin {
    config: DynamoConfig,
}

impl DynamoAdmin {
    pub fn new(config: DynamoConfig) -> Self {
        Self { config }
    }

    pub fn config(&self) -> &DynamoConfig {
        &self.config
    }

    fn table(&self) -> &str {
        self.config.table()
    }

    fn client(&self) -> &aws_sdk_dynamodb::Client {
        self.config.client()
    }

    fn sdk_error<E, R>(&self, op: &'static str, e: SdkError<E, R>) -> AdminError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let table = self.table().to_owned();
        match &e {
            SdkError::ServiceError(c) => {
                let err = c.err();
                let code = err.code().unwrap_or("error");
                if code == "ResourceNotFoundException" {
                    return AdminError::NoTable(table);
                }
                let detail = match err.message() {
                    Some(m) => format!("{code}: {m}"),
                    None => code.to_owned(),
                };
                AdminError::Failed { op, table, detail }
            }
            _ => {
                let detail = causes(&e);
                if detail.contains("credentials") {
                    AdminError::NoCredentials(detail)
                } else if matches!(e, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) {
                    AdminError::Unreachable { op, table, detail }
                } else {
                    AdminError::Failed { op, table, detail }
                }
            }
        }
    }

    fn item_error(&self, error: ItemError) -> AdminError {
        AdminError::Item {
            table: self.table().to_owned(),
            error,
        }
    }

    /// Every item of one collection, across pages (errors mapped for people, unlike
    /// `DynamoConfig::query_all`, which serves the gateway's log).
    async fn query(&self, pk: &str) -> Result<Vec<Item>, AdminError> {
        self.client()
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .map(|r| r.map_err(|e| self.sdk_error("Query", e)))
            .collect()
    }

    /// The stored policy of `group`, if any.
    pub async fn find_policy(&self, group: &str) -> Result<Option<GroupPolicy>, AdminError> {
        self.find(group).await
    }

    pub async fn get_policy(&self, group: &str) -> Result<GroupPolicy, AdminError> {
        self.fetch(group).await
    }

    /// Every policy, in group order.
    pub async fn list_policies(&self) -> Result<Vec<GroupPolicy>, AdminError> {
        self.list().await
    }

    /// Validates and stores a policy as the next version. A `version` in `p` must be the
    /// stored one (optimistic locking for read-edit-write); leave it out to overwrite.
    pub async fn put_policy(&self, p: &GroupPolicy) -> Result<GroupPolicy, AdminError> {
        PolicySet::build(std::slice::from_ref(p))?;
        let stored = self.find_policy(&p.group).await?;
        if let Some(expected) = p.version {
            let now = stored.as_ref().and_then(|s| s.version);
            if now != Some(expected) {
                let now = now.map_or_else(|| "absent".to_owned(), |v| format!("at version {v}"));
                return Err(AdminError::Conflict(format!(
                    "policy for group {:?} is {now}, but the input was edited from version {expected} (drop `version` to overwrite)",
                    p.group
                )));
            }
        }
        self.write_policy(p, stored.as_ref()).await
    }

    /// Writes `p` as the version after `prev`, only if the stored item is still `prev`.
    async fn write_policy(
        &self,
        p: &GroupPolicy,
        prev: Option<&GroupPolicy>,
    ) -> Result<GroupPolicy, AdminError> {
        let mut next = content(p);
        next.version = Some(prev.and_then(|s| s.version).unwrap_or(0) + 1);
        next.updated_at = Some(now_rfc3339());
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(policy_to_item(&next)));
        let put = match prev.map(|s| s.version) {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(Some(v)) => put
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
            Some(None) => put
                .condition_expression("attribute_exists(pk) AND attribute_not_exists(#v)")
                .expression_attribute_names("#v", "version"),
        };
        match put.send().await {
            Ok(_) => Ok(next),
            Err(e) if condition_failed(&e) => Err(AdminError::Conflict(format!(
                "policy for group {:?} was changed by another writer",
                p.group
            ))),
            Err(e) => Err(self.sdk_error("PutItem", e)),
        }
    }

    /// Deletes a group's policy; an absent one is an error.
    pub async fn delete_policy(&self, group: &str) -> Result<(), AdminError> {
        self.remove::<GroupPolicy>(group).await
    }

    /// Deletes one item if it exists (and, given a version, still has it). `Err(None)`:
    /// the condition failed.
    async fn delete(
        &self,
        pk: &str,
        sk: String,
        version: Option<u64>,
    ) -> Result<(), Option<AdminError>> {
        let del = self
            .client()
            .delete_item()
            .table_name(self.table())
            .key("pk", AttributeValue::S(pk.into()))
            .key("sk", AttributeValue::S(sk));
        let del = match version {
            None => del.condition_expression("attribute_exists(pk)"),
            Some(v) => del
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        };
        match del.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(None),
            Err(e) => Err(Some(self.sdk_error("DeleteItem", e))),
        }
    }

    pub async fn find_tool(&self, name: &str) -> Result<Option<ToolDefinition>, AdminError> {
        self.find(name).await
    }

    pub async fn get_tool(&self, name: &str) -> Result<ToolDefinition, AdminError> {
        self.fetch(name).await
    }

    /// Every tool, in name order.
    pub async fn list_tools(&self) -> Result<Vec<ToolDefinition>, AdminError> {
        self.list().await
    }

    /// Validates and stores a tool definition (created, or replaced).
    pub async fn put_tool(&self, t: &ToolDefinition) -> Result<ToolDefinition, AdminError> {
        Catalog::build(vec![t.clone()])?;
        let exists = self.find_tool(&t.name).await?.is_some();
        self.write_tool(t, exists).await?;
        Ok(t.clone())
    }

    /// Tools carry no version: a new tool is written only if still absent, a replacement
    /// only if still present (never resurrecting a concurrently deleted one).
    async fn write_tool(&self, t: &ToolDefinition, exists: bool) -> Result<(), AdminError> {
        self.put_existing_or_new(tool_to_item(t), exists, &format!("tool {:?}", t.name))
            .await
    }

    /// Writes an unversioned item (a tool, an upstream): only if still present when it
    /// replaces one, only if still absent when it is new. `what` names it in a conflict.
    async fn put_existing_or_new(
        &self,
        item: Item,
        exists: bool,
        what: &str,
    ) -> Result<(), AdminError> {
        let condition = if exists {
            "attribute_exists(pk)"
        } else {
            "attribute_not_exists(pk)"
        };
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression(condition);
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(AdminError::Conflict(format!(
                "{what} was {} by another writer",
                if exists { "deleted" } else { "created" }
            ))),
            Err(e) => Err(self.sdk_error("PutItem", e)),
        }
    }

    /// Deletes a tool; an absent one is an error.
    pub async fn delete_tool(&self, name: &str) -> Result<(), AdminError> {
        self.remove::<ToolDefinition>(name).await
    }
}
