//! DynamoDB items as the gateway reads them back: policies, tools and upstreams (the
//! policy table), deny-list entries and audit records. Anyone who can write to a table can
//! plant any item, so decoding one is a parse of untrusted input: it is refused with an
//! error or decoded into a value that encodes back to an item decoding to the same value.
//!
//! The input is JSON turned into attribute values: strings `S` (or, prefixed `#n:`, `#b:`,
//! a number `N` of any text and binary `B`), numbers `N`, booleans, null, lists `L`, maps
//! `M`; the first byte picks the item type.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use mcp_oauth_gateway::adapters::audit_dynamodb::{record_from_item, record_to_item};
use mcp_oauth_gateway::adapters::dynamodb_config::*;
use mcp_oauth_gateway::adapters::dynamodb_revocation::{entry_from_item, entry_to_item};
use serde_json::Value;

fn attribute(v: &Value) -> AttributeValue {
    match v {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => match (s.strip_prefix("#n:"), s.strip_prefix("#b:")) {
            (Some(n), _) => AttributeValue::N(n.to_owned()),
            (_, Some(b)) => AttributeValue::B(Blob::new(b.as_bytes())),
            _ => AttributeValue::S(s.clone()),
        },
        Value::Array(a) => AttributeValue::L(a.iter().map(attribute).collect()),
        Value::Object(m) => AttributeValue::M(item(m)),
    }
}

fn item(m: &serde_json::Map<String, Value>) -> Item {
    m.iter().map(|(k, v)| (k.clone(), attribute(v))).collect()
}

pub fn run(data: &[u8]) {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let it = item(&m);
    match kind % 5 {
        0 => {
            if let Ok(p) = policy_from_item(it) {
                assert_eq!(policy_from_item(policy_to_item(&p)).ok(), Some(p));
            }
        }
        1 => {
            if let Ok(t) = tool_from_item(it) {
                assert_eq!(tool_from_item(tool_to_item(&t)).ok(), Some(t));
            }
        }
        2 => {
            if let Ok(u) = upstream_from_item(it) {
                assert_eq!(upstream_from_item(upstream_to_item(&u)).ok(), Some(u));
            }
        }
        3 => {
            if let Ok(e) = entry_from_item(it) {
                assert_eq!(entry_from_item(entry_to_item(&e)).ok(), Some(e));
            }
        }
        _ => {
            if let Ok(r) = record_from_item(it) {
                let again = record_to_item(&r, 86_400).expect("a decoded record encodes");
                assert_eq!(record_from_item(again).ok(), Some(r));
            }
        }
    }
}
