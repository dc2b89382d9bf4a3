//! Upstream MCP servers in the configuration table: listing, writing (validated, and
//! conditional on existence like tools) and deleting `UPSTREAM#<name>` items.

use super::{AdminError, DynamoAdmin};
use crate::dynamodb_config::upstream_to_item;
use gateway_core::federation::{self, Upstream};
use gateway_core::policy::document::DocumentError;

impl DynamoAdmin {
    /// Every upstream, in name order.
    pub async fn list_upstreams(&self) -> Result<Vec<Upstream>, AdminError> {
        self.list().await
    }

    /// One upstream by name.
    pub async fn get_upstream(&self, name: &str) -> Result<Upstream, AdminError> {
        self.fetch(name).await
    }

    /// Validates and stores an upstream (created, or replaced), beside the stored ones: its
    /// prefix may not be another upstream's.
    pub async fn put_upstream(&self, u: &Upstream) -> Result<Upstream, AdminError> {
        let stored = self.list_upstreams().await?;
        let exists = stored.iter().any(|s| s.name == u.name);
        let mut all: Vec<Upstream> = stored.into_iter().filter(|s| s.name != u.name).collect();
        all.push(u.clone());
        federation::validate(&all).map_err(DocumentError::from)?;
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
        self.remove::<Upstream>(name).await
    }
}
