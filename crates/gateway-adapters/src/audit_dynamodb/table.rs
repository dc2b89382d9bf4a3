//! Creating the audit table: keys, the three query indexes and TTL, as laid out in the
//! parent module's header; an existing table is left as it is.

use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};

use super::{AuditStoreError, BY_DAY, BY_TOOL, BY_USER, DynamoAuditStore, TTL_ATTRIBUTE, detail};

impl DynamoAuditStore {
    /// Creates the table with its indexes and TTL, and waits until it is active. An
    /// existing table is left as it is.
    pub async fn create_table(&self) -> Result<bool, AuditStoreError> {
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .expect("complete key schema element")
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("complete attribute definition")
        };
        let gsi = |name: &str, hash: &str| {
            GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(hash, KeyType::Hash))
                .key_schema(key("time", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("complete index")
        };
        let mut create = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .global_secondary_indexes(gsi(BY_USER, "username"))
            .global_secondary_indexes(gsi(BY_TOOL, "tool"))
            .global_secondary_indexes(gsi(BY_DAY, "day"));
        for a in ["pk", "sk", "username", "tool", "day", "time"] {
            create = create.attribute_definitions(attr(a));
        }
        let created = match create.send().await {
            Ok(_) => true,
            Err(SdkError::ServiceError(c)) if c.err().code() == Some("ResourceInUseException") => {
                false
            }
            Err(e) => return Err(self.error("CreateTable", detail(&e))),
        };
        for _ in 0..120 {
            let t = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| self.error("DescribeTable", detail(&e)))?;
            let active = t.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active);
            if active {
                let ttl = TimeToLiveSpecification::builder()
                    .attribute_name(TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()
                    .expect("complete TTL specification");
                let set = self
                    .client
                    .update_time_to_live()
                    .table_name(&self.table)
                    .time_to_live_specification(ttl)
                    .send()
                    .await;
                // Already enabled is fine (an existing table).
                if let Err(e) = set {
                    let d = detail(&e);
                    if !d.contains("already enabled") {
                        return Err(self.error("UpdateTimeToLive", d));
                    }
                }
                return Ok(created);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Err(AuditStoreError::NotActive(self.table.clone()))
    }
}
