//! The DynamoDB audit sink and the queries `gatewayctl audit` runs on it.
//!
//! Table layout (on demand; `gatewayctl audit table create` makes it):
//! - `pk` (S, partition) = `CHAIN#<instance>`, `sk` (S, sort) = the chain `seq`, 20 digits
//!   zero-padded: one gateway instance's chain is one item collection, read in order by a
//!   single Query (what `audit verify` checks);
//! - GSI `byUser`: `username` (S) + `time` (S) — a user's records in a time range;
//! - GSI `byTool`: `tool` (S) + `time` (S) — a tool's records in a time range;
//! - GSI `byDay`: `day` (S, `YYYY-MM-DD`) + `time` (S) — every record in a time range, one
//!   Query per day (and the instances whose chains to verify);
//! - TTL attribute `expiresAt` (N, epoch seconds).
//!
//! Every other attribute is the record's own field (camelCase), so an item read back is the
//! record whose digest the chain holds. Records without a user or a tool (401s, malformed
//! requests) are simply absent from that index. All three indexes project everything.
//!
//! Writes are group-committed: concurrent requests' records go out together in
//! BatchWriteItem calls of up to 25, unprocessed items retried with backoff, and each
//! request's `write` returns once its own record is stored.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use tokio::sync::oneshot;

use crate::audit::{AuditError, AuditRecord, AuditSink};

mod table;

type Item = HashMap<String, AttributeValue>;

pub const BY_USER: &str = "byUser";
pub const BY_TOOL: &str = "byTool";
pub const BY_DAY: &str = "byDay";
pub const TTL_ATTRIBUTE: &str = "expiresAt";
const BATCH: usize = 25;
const ATTEMPTS: u32 = 6;

/// Why the audit table could not be read, written or created. Never carries credentials.
#[derive(Debug, thiserror::Error)]
pub enum AuditStoreError {
    #[error("DynamoDB {op} on audit table {table:?} failed: {detail}")]
    Dynamo {
        op: &'static str,
        table: String,
        detail: String,
    },
    #[error("audit table {table:?} holds an unreadable item: {detail}")]
    Item { table: String, detail: String },
    #[error("audit table {0:?} did not become active")]
    NotActive(String),
}

pub fn chain_pk(instance: &str) -> String {
    format!("CHAIN#{instance}")
}

fn seq_sk(seq: u64) -> String {
    format!("{seq:020}")
}

/// The item for a record: its fields plus keys, day and expiry.
pub fn record_to_item(record: &AuditRecord, ttl_secs: u64) -> Result<Item, String> {
    let mut item: Item = serde_dynamo::to_item(record).map_err(|e| e.to_string())?;
    item.insert("pk".into(), AttributeValue::S(chain_pk(&record.instance)));
    item.insert("sk".into(), AttributeValue::S(seq_sk(record.seq)));
    item.insert(
        "day".into(),
        AttributeValue::S(record.time.chars().take(10).collect()),
    );
    let expires = record.time_ms / 1000 + ttl_secs;
    item.insert(TTL_ATTRIBUTE.into(), AttributeValue::N(expires.to_string()));
    Ok(item)
}

pub fn record_from_item(item: Item) -> Result<AuditRecord, String> {
    serde_dynamo::from_item(item).map_err(|e| e.to_string())
}

pub(super) fn detail<E: ProvideErrorMetadata + std::error::Error, R>(e: &SdkError<E, R>) -> String {
    match e {
        SdkError::ServiceError(c) => {
            let code = c.err().code().unwrap_or("error");
            c.err()
                .message()
                .map_or(code.to_owned(), |m| format!("{code}: {m}"))
        }
        other => other.to_string(),
    }
}

fn key_of(item: &Item) -> Option<(String, String)> {
    let s = |k: &str| item.get(k)?.as_s().ok().cloned();
    Some((s("pk")?, s("sk")?))
}

struct Pending {
    item: Item,
    done: oneshot::Sender<Result<(), String>>,
}

/// The audit table, as the gateway's sink and as `gatewayctl` reads it.
pub struct DynamoAuditStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    ttl_secs: u64,
    queue: Mutex<Vec<Pending>>,
    flush: tokio::sync::Mutex<()>,
}

impl DynamoAuditStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String, ttl_days: u64) -> Self {
        Self {
            client,
            table,
            ttl_secs: ttl_days * 86_400,
            queue: Mutex::new(Vec::new()),
            flush: tokio::sync::Mutex::new(()),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub(super) fn error(&self, op: &'static str, detail: String) -> AuditStoreError {
        AuditStoreError::Dynamo {
            op,
            table: self.table.clone(),
            detail,
        }
    }

    /// Writes up to 25 items, retrying unprocessed ones; returns the keys never written.
    async fn batch_write(&self, items: Vec<Item>) -> Result<HashSet<(String, String)>, String> {
        let mut requests: Vec<WriteRequest> = items
            .into_iter()
            .map(|item| {
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| e.to_string())?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<_, String>>()?;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
            }
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests.clone())
                .send()
                .await
                .map_err(|e| detail(&e))?;
            requests = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&self.table))
                .unwrap_or_default();
            if requests.is_empty() {
                return Ok(HashSet::new());
            }
        }
        Ok(requests
            .iter()
            .filter_map(|r| key_of(r.put_request()?.item()))
            .collect())
    }

    /// Writes everything queued, in batches, telling each waiter how its record fared.
    async fn drain(&self) {
        loop {
            let batch: Vec<Pending> = {
                let mut q = self.queue.lock().expect("audit queue lock");
                let n = q.len().min(BATCH);
                q.drain(..n).collect()
            };
            if batch.is_empty() {
                return;
            }
            let items = batch.iter().map(|p| p.item.clone()).collect();
            let result = self.batch_write(items).await;
            tracing::debug!(
                records = batch.len(),
                ok = result.is_ok(),
                "audit batch written"
            );
            for p in batch {
                let outcome = match &result {
                    Err(e) => Err(e.clone()),
                    Ok(failed) if key_of(&p.item).is_some_and(|k| failed.contains(&k)) => {
                        Err("still unprocessed after retries".into())
                    }
                    Ok(_) => Ok(()),
                };
                let _ = p.done.send(outcome);
            }
        }
    }

    async fn query_all(
        &self,
        index: Option<&str>,
        condition: &str,
        key_attr: &str,
        values: &[(&str, String)],
    ) -> Result<Vec<AuditRecord>, AuditStoreError> {
        let mut records = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .key_condition_expression(condition)
                .set_exclusive_start_key(start.take());
            for (name, value) in values {
                q = q.expression_attribute_values(*name, AttributeValue::S(value.clone()));
            }
            // `time` and `day` are reserved words.
            for (name, attr) in [("#t", "time"), ("#d", "day"), ("#k", key_attr)] {
                if condition.contains(name) {
                    q = q.expression_attribute_names(name, attr);
                }
            }
            let out = q
                .send()
                .await
                .map_err(|e| self.error("Query", detail(&e)))?;
            for item in out.items.unwrap_or_default() {
                records.push(
                    record_from_item(item).map_err(|detail| AuditStoreError::Item {
                        table: self.table.clone(),
                        detail,
                    })?,
                );
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(records),
            }
        }
    }

    /// One instance's whole chain, in order.
    pub async fn chain(&self, instance: &str) -> Result<Vec<AuditRecord>, AuditStoreError> {
        self.query_all(None, "pk = :pk", "pk", &[(":pk", chain_pk(instance))])
            .await
    }

    /// A user's (or a tool's, with `by_tool`) records between two RFC 3339 times.
    pub async fn by_key(
        &self,
        by_tool: bool,
        value: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<AuditRecord>, AuditStoreError> {
        let (index, attr) = if by_tool {
            (BY_TOOL, "tool")
        } else {
            (BY_USER, "username")
        };
        let cond = "#k = :v AND #t BETWEEN :from AND :to";
        let values = [
            (":v", value.to_owned()),
            (":from", from.to_owned()),
            (":to", to.to_owned()),
        ];
        self.query_all(Some(index), cond, attr, &values).await
    }

    /// Every record between two RFC 3339 times: one Query per UTC day.
    pub async fn by_time(
        &self,
        days: &[String],
        from: &str,
        to: &str,
    ) -> Result<Vec<AuditRecord>, AuditStoreError> {
        let mut all = Vec::new();
        for day in days {
            let values = [
                (":d", day.clone()),
                (":from", from.to_owned()),
                (":to", to.to_owned()),
            ];
            all.extend(
                self.query_all(
                    Some(BY_DAY),
                    "#d = :d AND #t BETWEEN :from AND :to",
                    "day",
                    &values,
                )
                .await?,
            );
        }
        Ok(all)
    }
}

#[async_trait]
impl AuditSink for DynamoAuditStore {
    async fn write(&self, record: &AuditRecord) -> Result<(), AuditError> {
        let fail = |detail: String| AuditError {
            sink: "dynamodb",
            detail,
        };
        let item = record_to_item(record, self.ttl_secs).map_err(fail)?;
        let (done, mut rx) = oneshot::channel();
        self.queue
            .lock()
            .expect("audit queue lock")
            .push(Pending { item, done });
        // Whoever holds the gate writes everything queued so far; records queued while it
        // writes go out together in the next round.
        let _gate = self.flush.lock().await;
        if let Ok(result) = rx.try_recv() {
            return result.map_err(fail);
        }
        self.drain().await;
        rx.try_recv()
            .unwrap_or_else(|_| Err("not written".into()))
            .map_err(fail)
    }
}
