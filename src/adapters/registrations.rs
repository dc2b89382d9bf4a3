//! The façade's registrations record: one item per created app client in the policy table,
//! under its own partition (`pk` = `OAUTH_CLIENT`, `sk` = `CLIENT#<client id>`), so
//! `gatewayctl clients list|remove` can find and remove them. The gateway's snapshot reads
//! never touch this partition.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::dynamodb_config::{DynamoConfig, Item, brief};
use crate::auth::RegisteredClientSource;
use crate::oauth::{OAuthError, Registration, RegistrationLog};

pub const CLIENT_PK: &str = "OAUTH_CLIENT";

fn sk(client_id: &str) -> String {
    format!("CLIENT#{client_id}")
}

pub struct Registrations {
    table: DynamoConfig,
}

impl Registrations {
    pub fn new(table: DynamoConfig) -> Self {
        Self { table }
    }

    /// Every recorded registration, oldest first.
    pub async fn list(&self) -> Result<Vec<Registration>, OAuthError> {
        let items = self
            .table
            .query_all(CLIENT_PK)
            .await
            .map_err(|e| OAuthError::Upstream(e.0))?;
        let mut out = items
            .into_iter()
            .map(|mut item: Item| {
                item.remove("pk");
                item.remove("sk");
                serde_dynamo::from_item(item)
                    .map_err(|e| OAuthError::Upstream(format!("a registration item: {e}")))
            })
            .collect::<Result<Vec<Registration>, _>>()?;
        out.sort_by(|a, b| (a.created_at, &a.client_id).cmp(&(b.created_at, &b.client_id)));
        Ok(out)
    }

    /// Removes the record; `Ok(false)` when there was none.
    pub async fn remove(&self, client_id: &str) -> Result<bool, OAuthError> {
        let out = self
            .table
            .client()
            .delete_item()
            .table_name(self.table.table())
            .key("pk", AttributeValue::S(CLIENT_PK.into()))
            .key("sk", AttributeValue::S(sk(client_id)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| OAuthError::Upstream(format!("DeleteItem: {}", brief(&e))))?;
        Ok(out.attributes().is_some_and(|a| !a.is_empty()))
    }
}

#[async_trait]
impl RegistrationLog for Registrations {
    async fn record(&self, registration: &Registration) -> Result<(), OAuthError> {
        let mut item: Item = serde_dynamo::to_item(registration)
            .map_err(|e| OAuthError::Upstream(format!("a registration item: {e}")))?;
        item.insert("pk".into(), AttributeValue::S(CLIENT_PK.into()));
        item.insert("sk".into(), AttributeValue::S(sk(&registration.client_id)));
        self.table
            .client()
            .put_item()
            .table_name(self.table.table())
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| OAuthError::Upstream(format!("PutItem: {}", brief(&e))))?;
        Ok(())
    }

    async fn count(&self) -> Result<usize, OAuthError> {
        let mut total = 0usize;
        let mut pages = self
            .table
            .client()
            .query()
            .table_name(self.table.table())
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(CLIENT_PK.into()))
            .select(aws_sdk_dynamodb::types::Select::Count)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| OAuthError::Upstream(format!("Query: {}", brief(&e))))?;
            total += usize::try_from(page.count()).unwrap_or(0);
        }
        Ok(total)
    }
}

/// The verifier's list of registered app clients (`auth::RegisteredClients`) is read here.
#[async_trait]
impl RegisteredClientSource for Registrations {
    fn name(&self) -> String {
        format!("dynamodb:{}", self.table.table())
    }

    async fn load(&self, issuer: &str) -> Result<Vec<String>, String> {
        let items = self.table.query_all(CLIENT_PK).await.map_err(|e| e.0)?;
        let text = |item: &Item, name: &str| match item.get(name) {
            Some(AttributeValue::S(v)) => Some(v.clone()),
            _ => None,
        };
        Ok(items
            .iter()
            .filter(|item| text(item, "issuer").as_deref() == Some(issuer))
            .filter_map(|item| text(item, "clientId"))
            .collect())
    }
}
