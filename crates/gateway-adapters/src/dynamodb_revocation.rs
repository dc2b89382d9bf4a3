//! The deny-list in DynamoDB: the configuration table holds it too, one more item
//! collection under its own partition key, read whole by one paginated query:
//!
//! | pk        | sk                         | attributes                                       |
//! |-----------|----------------------------|--------------------------------------------------|
//! | `REVOKED` | `<KIND>#<issuer or *>#<value>` | kind, value, issuer, notBefore, expiresAt, ttl, revokedAt, note |
//!
//! Why the policy table and not a table of its own: the gateway is already configured with
//! it (`GATEWAY_POLICY_TABLE`) and may read it (its IAM role's read-only policy covers every
//! item), `gatewayctl` already connects to it, and a refresh costs one more query on the same
//! table. Revocations are written by people with `gatewayctl`, never by the gateway, so the
//! gateway's role stays read-only. `ttl` (a number, seconds since the epoch) is the table's
//! TTL attribute: DynamoDB deletes entries some time after they expire, and the gateway
//! ignores them from `expiresAt` on anyway.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::dynamodb_config::{DynamoConfig, Item, ItemError};
use gateway_core::auth::revocation::{DenyEntry, DenyKind, DenyListSource};
use gateway_core::source::SourceError;

pub const REVOKED_PK: &str = "REVOKED";
/// The table's TTL attribute.
pub const TTL_ATTRIBUTE: &str = "ttl";

/// The sort key of an entry.
pub fn revoked_sk(kind: DenyKind, issuer: Option<&str>, value: &str) -> String {
    let kind = match kind {
        DenyKind::User => "USER",
        DenyKind::Token => "TOKEN",
        DenyKind::Client => "CLIENT",
    };
    format!("{kind}#{}#{value}", issuer.unwrap_or("*"))
}

pub fn entry_to_item(e: &DenyEntry) -> Item {
    let mut item: Item = serde_dynamo::to_item(e).expect("deny entries serialize");
    item.insert("pk".into(), AttributeValue::S(REVOKED_PK.into()));
    item.insert(
        "sk".into(),
        AttributeValue::S(revoked_sk(e.kind, e.issuer.as_deref(), &e.value)),
    );
    item.insert(
        TTL_ATTRIBUTE.into(),
        AttributeValue::N(e.expires_at.to_string()),
    );
    item
}

pub fn entry_from_item(mut item: Item) -> Result<DenyEntry, ItemError> {
    item.remove("pk");
    item.remove(TTL_ATTRIBUTE);
    let sk = match item.remove("sk") {
        Some(AttributeValue::S(s)) => s,
        _ => String::new(),
    };
    serde_dynamo::from_item(item).map_err(|error| ItemError::Format { sk, error })
}

/// The gateway's read side.
pub struct DynamoDenyList {
    config: DynamoConfig,
}

impl DynamoDenyList {
    pub fn new(config: DynamoConfig) -> Self {
        Self { config }
    }
}

#[async_trait]
impl DenyListSource for DynamoDenyList {
    fn name(&self) -> String {
        format!("dynamodb:{}/{REVOKED_PK}", self.config.table())
    }

    async fn load(&self) -> Result<Vec<DenyEntry>, SourceError> {
        let items = self.config.query_all(REVOKED_PK).await?;
        // One unreadable entry fails the read (the last good list stays): skipping it could
        // silently un-revoke someone.
        items
            .into_iter()
            .map(entry_from_item)
            .collect::<Result<_, _>>()
            .map_err(|e| SourceError::Malformed(format!("table {}: {e}", self.config.table())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_with_a_ttl_number() {
        let e = DenyEntry {
            kind: DenyKind::User,
            value: "alice".into(),
            issuer: Some("https://idp".into()),
            not_before: Some(1_700_000_000),
            expires_at: 1_700_086_400,
            revoked_at: Some("2026-11-27T00:00:00Z".into()),
            note: Some("left the company".into()),
        };
        let item = entry_to_item(&e);
        assert_eq!(item["pk"], AttributeValue::S("REVOKED".into()));
        assert_eq!(
            item["sk"],
            AttributeValue::S("USER#https://idp#alice".into())
        );
        assert_eq!(item["ttl"], AttributeValue::N("1700086400".into()));
        assert_eq!(item["kind"], AttributeValue::S("user".into()));
        assert_eq!(entry_from_item(item).unwrap(), e);
        assert_eq!(revoked_sk(DenyKind::Client, None, "c"), "CLIENT#*#c");
    }
}
