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
//! Signed chain heads (`audit::head`) sit in their chain's item collection under
//! `sk` = `HEAD#<seq, 20 digits>`.
//!
//! Append-only: every write is a PutItem conditioned on `attribute_not_exists(pk)`, so no
//! record or head is ever overwritten; the gateway's role has no BatchWriteItem (which can
//! delete), UpdateItem or DeleteItem. Concurrent requests put concurrently, each `write`
//! returning once its own record is stored.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

use gateway_core::audit::{AuditError, AuditRecord, AuditSink, SignedHead};

mod table;

type Item = HashMap<String, AttributeValue>;

pub const BY_USER: &str = "byUser";
pub const BY_TOOL: &str = "byTool";
pub const BY_DAY: &str = "byDay";
pub const TTL_ATTRIBUTE: &str = "expiresAt";
/// Sort-key prefix of signed heads (records' sort keys are all digits).
pub const HEAD_PREFIX: &str = "HEAD#";

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

/// The item for a signed head: beside its chain's records (sort key `HEAD#<seq>`), in none
/// of the indexes (no `username`, `tool` or `day`).
pub fn head_to_item(head: &SignedHead, ttl_secs: u64) -> Result<Item, String> {
    let mut item: Item = serde_dynamo::to_item(head).map_err(|e| e.to_string())?;
    item.insert("pk".into(), AttributeValue::S(chain_pk(&head.instance)));
    item.insert(
        "sk".into(),
        AttributeValue::S(format!("{HEAD_PREFIX}{}", seq_sk(head.seq))),
    );
    let expires = head.time_ms / 1000 + ttl_secs;
    item.insert(TTL_ATTRIBUTE.into(), AttributeValue::N(expires.to_string()));
    Ok(item)
}

/// The audit table, as the gateway's sink and as `gatewayctl` reads it.
pub struct DynamoAuditStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    ttl_secs: u64,
}

impl DynamoAuditStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String, ttl_days: u64) -> Self {
        Self {
            client,
            table,
            ttl_secs: ttl_days * 86_400,
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

    /// Puts an item only where none is: the condition is what makes the table append-only
    /// (the gateway's role has PutItem and nothing that updates or deletes). Throttling is
    /// retried by the SDK's standard retry; a refused condition is never retried.
    pub async fn put_new(&self, item: Item) -> Result<(), String> {
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(c)) if c.err().is_conditional_check_failed_exception() => {
                Err("an item with this key exists already (refused to overwrite it)".into())
            }
            Err(e) => Err(detail(&e)),
        }
    }

    async fn query_items(
        &self,
        index: Option<&str>,
        condition: &str,
        key_attr: &str,
        values: &[(&str, String)],
    ) -> Result<Vec<Item>, AuditStoreError> {
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
            records.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(records),
            }
        }
    }

    /// One instance's whole chain, in order, and its signed heads.
    pub async fn chain(
        &self,
        instance: &str,
    ) -> Result<(Vec<AuditRecord>, Vec<SignedHead>), AuditStoreError> {
        let items = self
            .query_items(None, "pk = :pk", "pk", &[(":pk", chain_pk(instance))])
            .await?;
        let (mut records, mut heads) = (Vec::new(), Vec::new());
        for item in items {
            let text = |name: &str| {
                item.get(name)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            let (sk, day) = (text("sk"), text("day"));
            // An item's key and index attributes are outside its digest: one whose key does
            // not say what its body says (a decoy copy at another sort key) or whose day was
            // dropped (so the byDay index never finds it) is tampering, and refused as such.
            if sk.starts_with(HEAD_PREFIX) {
                let head: SignedHead =
                    serde_dynamo::from_item(item).map_err(|e| self.unreadable(e))?;
                if head.instance != instance || sk != format!("{HEAD_PREFIX}{}", seq_sk(head.seq)) {
                    return Err(self.tampered(instance, &sk));
                }
                heads.push(head);
            } else {
                let record = record_from_item(item).map_err(|e| self.unreadable(e))?;
                let want_day: String = record.time.chars().take(10).collect();
                if record.instance != instance || sk != seq_sk(record.seq) || day != want_day {
                    return Err(self.tampered(instance, &sk));
                }
                records.push(record);
            }
        }
        Ok((records, heads))
    }

    fn tampered(&self, instance: &str, sk: &str) -> AuditStoreError {
        AuditStoreError::Item {
            table: self.table.clone(),
            detail: format!(
                "TAMPERED: item {sk:?} of chain {instance} does not match its own content (key, instance or day)"
            ),
        }
    }

    /// Every chain in the table, from a keys-only scan: chains are never found through an
    /// index alone, whose attributes a writer could leave out.
    pub async fn instances(&self) -> Result<Vec<String>, AuditStoreError> {
        let mut out = std::collections::BTreeSet::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .projection_expression("pk")
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.error("Scan", detail(&e)))?;
            for item in page.items.unwrap_or_default() {
                if let Some(i) = item
                    .get("pk")
                    .and_then(|v| v.as_s().ok())
                    .and_then(|pk| pk.strip_prefix("CHAIN#"))
                {
                    out.insert(i.to_owned());
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out.into_iter().collect()),
            }
        }
    }

    fn unreadable(&self, detail: impl ToString) -> AuditStoreError {
        AuditStoreError::Item {
            table: self.table.clone(),
            detail: detail.to_string(),
        }
    }

    async fn query_all(
        &self,
        index: Option<&str>,
        condition: &str,
        key_attr: &str,
        values: &[(&str, String)],
    ) -> Result<Vec<AuditRecord>, AuditStoreError> {
        let items = self.query_items(index, condition, key_attr, values).await?;
        items
            .into_iter()
            .map(|item| record_from_item(item).map_err(|e| self.unreadable(e)))
            .collect()
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
    /// One conditional PutItem per record, concurrent across requests (each request waits
    /// for its own), so a record is stored before its answer goes out.
    async fn write(&self, record: &AuditRecord) -> Result<(), AuditError> {
        let fail = |detail: String| AuditError {
            sink: "dynamodb",
            detail,
        };
        let item = record_to_item(record, self.ttl_secs).map_err(fail)?;
        let result = self.put_new(item).await;
        tracing::debug!(
            seq = record.seq,
            ok = result.is_ok(),
            "audit record written"
        );
        result.map_err(fail)
    }

    async fn write_head(&self, head: &SignedHead) -> Result<(), AuditError> {
        let fail = |detail: String| AuditError {
            sink: "dynamodb",
            detail,
        };
        let item = head_to_item(head, self.ttl_secs).map_err(fail)?;
        self.put_new(item).await.map_err(fail)
    }
}
