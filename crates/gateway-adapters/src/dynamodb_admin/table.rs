//! Creating the configuration table: one table, `pk` (partition) and `sk` (sort) strings,
//! on-demand capacity; an existing table is accepted when its keys are those.

use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
};

use super::{AdminError, DynamoAdmin};

/// What `create_table` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableState {
    Created,
    AlreadyExisted,
}

impl DynamoAdmin {
    /// Creates the table (pk S HASH, sk S RANGE, on-demand) and waits until it is active.
    /// An existing table with that key schema is fine.
    pub async fn create_table(&self) -> Result<TableState, AdminError> {
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .expect("key schema elements are complete")
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute definitions are complete")
        };
        let created = self
            .client()
            .create_table()
            .table_name(self.table())
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .attribute_definitions(attr("pk"))
            .attribute_definitions(attr("sk"))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        let state = match created {
            Ok(_) => TableState::Created,
            Err(SdkError::ServiceError(c)) if c.err().code() == Some("ResourceInUseException") => {
                TableState::AlreadyExisted
            }
            Err(e) => return Err(self.sdk_error("CreateTable", e)),
        };
        const WAIT_SECS: u64 = 120;
        for _ in 0..WAIT_SECS {
            let described = self
                .client()
                .describe_table()
                .table_name(self.table())
                .send()
                .await
                .map_err(|e| self.sdk_error("DescribeTable", e))?;
            let Some(t) = described.table() else {
                return Err(AdminError::NoTable(self.table().to_owned()));
            };
            let keys: Vec<(&str, &KeyType)> = t
                .key_schema()
                .iter()
                .map(|k| (k.attribute_name(), k.key_type()))
                .collect();
            let string_keys = t.attribute_definitions().iter().all(|a| {
                !matches!(a.attribute_name(), "pk" | "sk")
                    || a.attribute_type() == &ScalarAttributeType::S
            });
            if keys != [("pk", &KeyType::Hash), ("sk", &KeyType::Range)] || !string_keys {
                return Err(AdminError::WrongSchema(self.table().to_owned()));
            }
            if t.table_status() == Some(&TableStatus::Active) {
                // Revocations expire through the table's TTL.
                self.enable_ttl().await?;
                return Ok(state);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Err(AdminError::NotActive {
            table: self.table().to_owned(),
            secs: WAIT_SECS,
        })
    }
}
