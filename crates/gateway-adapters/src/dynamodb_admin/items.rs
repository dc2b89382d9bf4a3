//! The kinds of configuration item the admin code reads and deletes by key — group
//! policies, tools, upstream MCP servers — behind one trait, so finding, listing and
//! deleting are written once. Writing stays per kind: policies are versioned, tools and
//! upstreams conditional on existence, and each validates differently.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{AdminError, DynamoAdmin};
use crate::dynamodb_config::{
    Item, ItemError, POLICY_PK, TOOL_PK, UPSTREAM_PK, policy_from_item, policy_sk, tool_from_item,
    tool_sk, upstream_from_item, upstream_sk,
};
use gateway_core::catalog::ToolDefinition;
use gateway_core::federation::Upstream;
use gateway_core::policy::GroupPolicy;

/// One kind of item: its collection, its sort key from its name, how it reads.
pub(super) trait AdminItem: Sized {
    const PK: &'static str;
    fn sk(key: &str) -> String;
    /// What the item is listed by (a group, a tool's or an upstream's name).
    fn key(&self) -> &str;
    fn from_item(item: Item) -> Result<Self, ItemError>;
    /// The error for an item that is not there.
    fn missing(key: &str) -> AdminError;
}

impl AdminItem for GroupPolicy {
    const PK: &'static str = POLICY_PK;
    fn sk(key: &str) -> String {
        policy_sk(key)
    }
    fn key(&self) -> &str {
        &self.group
    }
    fn from_item(item: Item) -> Result<Self, ItemError> {
        policy_from_item(item)
    }
    fn missing(key: &str) -> AdminError {
        AdminError::NoPolicy(key.to_owned())
    }
}

impl AdminItem for ToolDefinition {
    const PK: &'static str = TOOL_PK;
    fn sk(key: &str) -> String {
        tool_sk(key)
    }
    fn key(&self) -> &str {
        &self.name
    }
    fn from_item(item: Item) -> Result<Self, ItemError> {
        tool_from_item(item)
    }
    fn missing(key: &str) -> AdminError {
        AdminError::NoTool(key.to_owned())
    }
}

impl AdminItem for Upstream {
    const PK: &'static str = UPSTREAM_PK;
    fn sk(key: &str) -> String {
        upstream_sk(key)
    }
    fn key(&self) -> &str {
        &self.name
    }
    fn from_item(item: Item) -> Result<Self, ItemError> {
        upstream_from_item(item)
    }
    fn missing(key: &str) -> AdminError {
        AdminError::NoUpstream(key.to_owned())
    }
}

impl DynamoAdmin {
    /// The stored item named `key`, if any (a consistent read).
    pub(super) async fn find<T: AdminItem>(&self, key: &str) -> Result<Option<T>, AdminError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("pk", AttributeValue::S(T::PK.into()))
            .key("sk", AttributeValue::S(T::sk(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.sdk_error("GetItem", e))?;
        out.item
            .map(T::from_item)
            .transpose()
            .map_err(|e| self.item_error(e))
    }

    /// As `find`, an absent item being an error.
    pub(super) async fn fetch<T: AdminItem>(&self, key: &str) -> Result<T, AdminError> {
        self.find(key).await?.ok_or_else(|| T::missing(key))
    }

    /// Every item of the kind, in key order.
    pub(super) async fn list<T: AdminItem>(&self) -> Result<Vec<T>, AdminError> {
        let mut all = self
            .query(T::PK)
            .await?
            .into_iter()
            .map(T::from_item)
            .collect::<Result<Vec<T>, _>>()
            .map_err(|e| self.item_error(e))?;
        all.sort_by(|a, b| a.key().cmp(b.key()));
        Ok(all)
    }

    /// Deletes the item named `key`; an absent one is an error.
    pub(super) async fn remove<T: AdminItem>(&self, key: &str) -> Result<(), AdminError> {
        self.delete(T::PK, T::sk(key), None)
            .await
            .map_err(|e| e.unwrap_or_else(|| T::missing(key)))
    }
}
