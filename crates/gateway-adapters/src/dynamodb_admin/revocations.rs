//! Writing the deny-list (what `gatewayctl revoke` and `unrevoke` drive): one item per
//! revocation in the configuration table, layout and item format `dynamodb_revocation`'s.
//! A revocation overwrites an earlier one of the same user, token or client (the newest
//! not-before time is the one that counts); removing an absent one is an error.

use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveSpecification};

use super::{AdminError, DynamoAdmin, condition_failed};
use crate::dynamodb_revocation::{
    REVOKED_PK, TTL_ATTRIBUTE, entry_from_item, entry_to_item, revoked_sk,
};
use gateway_core::auth::revocation::{DenyEntry, DenyKind};

impl DynamoAdmin {
    /// Stores a revocation (replacing one for the same kind, issuer and value).
    pub async fn revoke(&self, entry: &DenyEntry) -> Result<(), AdminError> {
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(entry_to_item(entry)))
            .send()
            .await
            .map_err(|e| self.sdk_error("PutItem", e))?;
        Ok(())
    }

    /// Removes a revocation; `Ok(false)` when there was none.
    pub async fn unrevoke(
        &self,
        kind: DenyKind,
        issuer: Option<&str>,
        value: &str,
    ) -> Result<bool, AdminError> {
        let deleted = self
            .client()
            .delete_item()
            .table_name(self.table())
            .key("pk", AttributeValue::S(REVOKED_PK.into()))
            .key("sk", AttributeValue::S(revoked_sk(kind, issuer, value)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(self.sdk_error("DeleteItem", e)),
        }
    }

    /// Every stored revocation (expired ones DynamoDB has not deleted yet included).
    pub async fn list_revocations(&self) -> Result<Vec<DenyEntry>, AdminError> {
        let mut all = self
            .query(REVOKED_PK)
            .await?
            .into_iter()
            .map(entry_from_item)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.item_error(e))?;
        all.sort_by(|a, b| (a.kind as u8, &a.value).cmp(&(b.kind as u8, &b.value)));
        Ok(all)
    }

    /// Turns on the table's TTL on `ttl`, so expired revocations are deleted. Already on is
    /// fine.
    pub async fn enable_ttl(&self) -> Result<(), AdminError> {
        let described = self
            .client()
            .describe_time_to_live()
            .table_name(self.table())
            .send()
            .await
            .map_err(|e| self.sdk_error("DescribeTimeToLive", e))?;
        let on = described
            .time_to_live_description()
            .and_then(|d| d.attribute_name())
            == Some(TTL_ATTRIBUTE);
        if on {
            return Ok(());
        }
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(TTL_ATTRIBUTE)
            .enabled(true)
            .build()
            .expect("TTL specification is complete");
        self.client()
            .update_time_to_live()
            .table_name(self.table())
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(|e| self.sdk_error("UpdateTimeToLive", e))?;
        Ok(())
    }
}
