//! DynamoDB items as the gateway reads them back: policies, tools and upstreams (the
//! policy table), deny-list entries and audit records. Anyone who can write to a table can
//! plant any item, so decoding one is a parse of untrusted input: it is refused with an
//! error or decoded into a value that encodes back to an item decoding to the same value.
//!
//! The input is JSON turned into attribute values: strings `S` (or, prefixed `#n:`, `#b:`,
//! a number `N` of any text and binary `B`), numbers `N`, booleans, null, lists `L`, maps
//! `M`; the first byte picks the item type.
//!
//! "The same value" compares numbers by value: a float with no fraction (`48E-0`, read as
//! 48.0) is written back as `48`, the same JSON number, read back as an integer. What a
//! decoded value must never do is change its meaning, and one round trip must be the last
//! change (a fixed point).

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use mcp_oauth_gateway::adapters::audit_dynamodb::{record_from_item, record_to_item};
use mcp_oauth_gateway::adapters::dynamodb_config::*;
use mcp_oauth_gateway::adapters::dynamodb_revocation::{entry_from_item, entry_to_item};
use serde_json::Value;

/// Equal as JSON values, numbers compared by value (an integer and a float with no
/// fraction are the same number).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || (x.is_f64() || y.is_f64()) && x.as_f64() == y.as_f64()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Decoding what `value` encodes to gives the same value (numbers by value), and a second
/// round trip changes nothing at all.
fn round_trips<T, E>(value: T, encode: impl Fn(&T) -> Item, decode: impl Fn(Item) -> Result<T, E>)
where
    T: serde::Serialize + PartialEq + std::fmt::Debug,
    E: std::fmt::Debug,
{
    let once = decode(encode(&value)).expect("a decoded value encodes to an item that decodes");
    let as_json = |v: &T| serde_json::to_value(v).expect("decoded values serialize");
    assert!(
        same_json(&as_json(&value), &as_json(&once)),
        "the round trip changed {value:?} into {once:?}"
    );
    let twice = decode(encode(&once)).expect("a round-tripped value decodes again");
    assert_eq!(twice, once);
}

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
                round_trips(p, policy_to_item, policy_from_item);
            }
        }
        1 => {
            if let Ok(t) = tool_from_item(it) {
                round_trips(t, tool_to_item, tool_from_item);
            }
        }
        2 => {
            if let Ok(u) = upstream_from_item(it) {
                round_trips(u, upstream_to_item, upstream_from_item);
            }
        }
        3 => {
            if let Ok(e) = entry_from_item(it) {
                round_trips(e, entry_to_item, entry_from_item);
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
