//! Upstream MCP servers in the configuration table: listing, writing (validated, and
//! conditional on existence like tools) and deleting `UPSTREAM#<name>` items.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{AdminError, DynamoAdmin, condition_failed};
use crate::adapters::dynamodb_config::{
    UPSTREAM_PK, upstream_from_item, upstream_sk, upstream_to_item,
};
use crate::federation::{self, Upstream};
use crate::policy::document::DocumentError;

impl DynamoAdmin {
    /// Every upstream, in name order.
    pub async fn list_upstreams(&self) -> Result<Vec<Upstream>, AdminError> {
        let mut all = self
            .query(UPSTREAM_PK)
            .await?
            .into_iter()
            .map(upstream_from_item)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.item_error(e))?;
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// Validates and stores an upstream (created, or replaced).
    pub async fn put_upstream(&self, u: &Upstream) -> Result<Upstream, AdminError> {
        federation::validate(std::slice::from_ref(u)).map_err(DocumentError::from)?;
        let exists = self
            .list_upstreams()
            .await?
            .iter()
            .any(|s| s.name == u.name);
        self.write_upstream(u, exists).await?;
        Ok(u.clone())
    }

    /// Written only if still absent (new) or still present (replacement).
    pub(super) async fn write_upstream(
        &self,
        u: &Upstream,
        exists: bool,
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
            .set_item(Some(upstream_to_item(u)))
            .condition_expression(condition);
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(AdminError::Conflict(format!(
                "upstream {:?} was {} by another writer",
                u.name,
                if exists { "deleted" } else { "created" }
            ))),
            Err(e) => Err(self.sdk_error("PutItem", e)),
        }
    }

    /// Deletes an upstream (its tools leave the catalog at the gateway's next refresh).
    pub async fn delete_upstream(&self, name: &str) -> Result<(), AdminError> {
        let del = self
            .client()
            .delete_item()
            .table_name(self.table())
            .key("pk", AttributeValue::S(UPSTREAM_PK.into()))
            .key("sk", AttributeValue::S(upstream_sk(name)))
            .condition_expression("attribute_exists(pk)");
        match del.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(AdminError::NoUpstream(name.to_owned())),
            Err(e) => Err(self.sdk_error("DeleteItem", e)),
        }
    }
}
