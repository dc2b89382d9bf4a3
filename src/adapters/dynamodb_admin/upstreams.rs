//! Upstream MCP servers in the configuration table: listing, writing (validated, and
//! conditional on existence like tools) and deleting `UPSTREAM#<name>` items.

use super::{AdminError, DynamoAdmin};
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
        let what = format!("upstream {:?}", u.name);
        self.put_existing_or_new(upstream_to_item(u), exists, &what)
            .await
    }

    /// Deletes an upstream (its tools leave the catalog at the gateway's next refresh).
    pub async fn delete_upstream(&self, name: &str) -> Result<(), AdminError> {
        self.delete(UPSTREAM_PK, upstream_sk(name), None)
            .await
            .map_err(|e| e.unwrap_or_else(|| AdminError::NoUpstream(name.to_owned())))
    }
}
