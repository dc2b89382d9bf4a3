//! The façade's registrations record: one item per created app client in the policy table,
//! under its own partition (`pk` = `OAUTH_CLIENT`, `sk` = `CLIENT#<client id>`), so
//! `gatewayctl clients list|remove` can find and remove them. The gateway's snapshot reads
//! never touch this partition. The registration cap is a counter in a partition of its own
//! (`pk` = `OAUTH_CLIENT_SLOTS`), taken with a conditional update before each app client is
//! created, so concurrent registrations can never pass it.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::dynamodb_config::{DynamoConfig, Item, brief};
use gateway_core::auth::RegisteredClientSource;
use gateway_core::oauth::{OAuthError, Registration, RegistrationLog};
use gateway_core::source::SourceError;

pub const CLIENT_PK: &str = "OAUTH_CLIENT";
const SLOTS_PK: &str = "OAUTH_CLIENT_SLOTS";
const SLOTS_SK: &str = "SLOTS";

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
            .map_err(|e| OAuthError::Upstream(e.to_string()))?;
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
            .map_err(|e| failed("DeleteItem", &e))?;
        Ok(out.attributes().is_some_and(|a| !a.is_empty()))
    }
}

fn failed<E, R>(op: &str, e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> OAuthError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    OAuthError::Upstream(format!("{op}: {}", brief(e)))
}

fn conditional_failed<E, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

impl Registrations {
    /// One conditional UpdateItem (numbers as values); `Ok(false)` when the condition did
    /// not hold.
    async fn update_if(
        &self,
        (pk, sk): (&str, String),
        update: &str,
        condition: &str,
        numbers: &[(&str, u64)],
    ) -> Result<bool, OAuthError> {
        let mut req = self
            .table
            .client()
            .update_item()
            .table_name(self.table.table())
            .key("pk", AttributeValue::S(pk.into()))
            .key("sk", AttributeValue::S(sk))
            .update_expression(update)
            .condition_expression(condition);
        for (name, n) in numbers {
            req = req.expression_attribute_values(*name, AttributeValue::N(n.to_string()));
        }
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if conditional_failed(&e) => Ok(false),
            Err(e) => Err(failed("UpdateItem", &e)),
        }
    }

    /// How many registrations are recorded (the counter's first value).
    async fn count(&self) -> Result<u64, OAuthError> {
        let mut total = 0u64;
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
            let page = page.map_err(|e| failed("Query", &e))?;
            total += u64::try_from(page.count()).unwrap_or(0);
        }
        Ok(total)
    }

    /// `n = n + 1` when `n < max`; `Ok(None)` when the counter does not exist yet.
    async fn increment(&self, max: u64) -> Result<Option<bool>, OAuthError> {
        let taken = self
            .update_if(
                (SLOTS_PK, SLOTS_SK.into()),
                "SET n = n + :one",
                "attribute_exists(n) AND n < :max",
                &[(":one", 1), (":max", max)],
            )
            .await?;
        if taken {
            return Ok(Some(true));
        }
        // Full, or no counter yet: which one decides what the caller does next.
        let got = self
            .table
            .client()
            .get_item()
            .table_name(self.table.table())
            .key("pk", AttributeValue::S(SLOTS_PK.into()))
            .key("sk", AttributeValue::S(SLOTS_SK.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed("GetItem", &e))?;
        Ok(got.item().is_some().then_some(false))
    }

    /// Creates the counter from the records already there (a table from before the
    /// counter), taking one slot; `Ok(false)` when another instance created it first.
    async fn create_counter(&self, max: u64) -> Result<Option<bool>, OAuthError> {
        let existing = self.count().await?;
        if existing >= max {
            return Ok(Some(false));
        }
        let out = self
            .table
            .client()
            .put_item()
            .table_name(self.table.table())
            .item("pk", AttributeValue::S(SLOTS_PK.into()))
            .item("sk", AttributeValue::S(SLOTS_SK.into()))
            .item("n", AttributeValue::N((existing + 1).to_string()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match out {
            Ok(_) => Ok(Some(true)),
            Err(e) if conditional_failed(&e) => Ok(None),
            Err(e) => Err(failed("PutItem", &e)),
        }
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
            .map_err(|e| failed("PutItem", &e))?;
        Ok(())
    }

    async fn reserve(&self, max: usize) -> Result<bool, OAuthError> {
        let max = max as u64;
        // Two rounds at most: the counter may be created by another instance in between.
        for _ in 0..2 {
            if let Some(taken) = self.increment(max).await? {
                return Ok(taken);
            }
            if let Some(taken) = self.create_counter(max).await? {
                return Ok(taken);
            }
        }
        Err(OAuthError::Upstream(
            "the registration counter could not be taken".into(),
        ))
    }

    async fn release(&self) -> Result<(), OAuthError> {
        // Never below zero: a slot released twice stays released once.
        self.update_if(
            (SLOTS_PK, SLOTS_SK.into()),
            "SET n = n - :one",
            "n > :zero",
            &[(":one", 1), (":zero", 0)],
        )
        .await
        .map(drop)
    }

    async fn mark_used(&self, client_id: &str, now: u64) -> Result<(), OAuthError> {
        // A false condition: not a registration (a pre-registered client), or marked already.
        self.update_if(
            (CLIENT_PK, sk(client_id)),
            "SET usedAt = :now",
            "attribute_exists(sk) AND attribute_not_exists(usedAt)",
            &[(":now", now)],
        )
        .await
        .map(drop)
    }

    async fn unused_before(&self, issuer: &str, before: u64) -> Result<Vec<String>, OAuthError> {
        Ok(self
            .list()
            .await?
            .into_iter()
            .filter(|r| r.issuer == issuer && r.used_at.is_none() && r.created_at < before)
            .map(|r| r.client_id)
            .collect())
    }

    async fn remove(&self, client_id: &str) -> Result<bool, OAuthError> {
        Registrations::remove(self, client_id).await
    }
}

/// The verifier's list of registered app clients (`auth::RegisteredClients`) is read here.
#[async_trait]
impl RegisteredClientSource for Registrations {
    fn name(&self) -> String {
        format!("dynamodb:{}", self.table.table())
    }

    async fn load(&self, issuer: &str) -> Result<Vec<String>, SourceError> {
        let items = self.table.query_all(CLIENT_PK).await?;
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
