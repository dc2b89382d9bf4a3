//! JSON-RPC 2.0 framing: parsing one incoming message without rebuilding its params, and
//! writing results and errors back.
//!
//! Params stay borrowed `RawValue`s: a `tools/call` body is scanned once here and once by the
//! method's typed params, and tool arguments are never turned into a `serde_json::Value`.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use super::error::McpError;

/// JSON-RPC error codes the gateway emits (JSON-RPC 2.0 and MCP).
pub mod code {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL_ERROR: i64 = -32603;
    /// Not JSON-RPC's, but what MCP SDKs use for an unauthenticated request.
    pub const UNAUTHORIZED: i64 = -32001;
    /// A valid token that lacks a scope the call needs (with HTTP 403).
    pub const FORBIDDEN: i64 = -32003;
    /// MCP 2026-07-28: HTTP headers disagree with the body, or a required one is missing.
    pub const HEADER_MISMATCH: i64 = -32020;
    /// MCP 2026-07-28: the requested protocol version is not supported.
    pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
}

/// A request id: MCP allows strings and integers only (never null, never fractional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Id {
    Num(i64),
    Str(String),
}

impl Id {
    fn from_raw(raw: &RawValue) -> Result<Self, McpError> {
        match serde_json::from_str::<IdRepr>(raw.get()) {
            Ok(IdRepr::Num(n)) => Ok(Id::Num(n)),
            Ok(IdRepr::Str(s)) => Ok(Id::Str(s)),
            Err(_) => Err(McpError::InvalidRequest(
                "id must be a string or an integer",
            )),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum IdRepr {
    Num(i64),
    Str(String),
}

/// The envelope as it arrives; every field optional so that a wrong shape becomes -32600,
/// not a parse error.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default, borrow)]
    jsonrpc: Option<Cow<'a, str>>,
    // `deserialize_present` keeps an explicit `"id": null` apart from a missing id.
    #[serde(default, borrow, deserialize_with = "deserialize_present")]
    id: Option<&'a RawValue>,
    #[serde(default, borrow)]
    method: Option<&'a RawValue>,
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "deserialize_present")]
    result: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "deserialize_present")]
    error: Option<&'a RawValue>,
}

fn deserialize_present<'de, D>(d: D) -> Result<Option<&'de RawValue>, D::Error>
where
    D: Deserializer<'de>,
{
    <&RawValue>::deserialize(d).map(Some)
}

/// One parsed incoming message.
#[derive(Debug)]
pub enum Incoming<'a> {
    Request {
        id: Id,
        method: Cow<'a, str>,
        params: Option<&'a RawValue>,
    },
    Notification {
        method: Cow<'a, str>,
    },
    /// A response to a server-initiated request; a stateless gateway sends none, so it is
    /// acknowledged and dropped.
    Response,
}

/// Parses a whole HTTP body as one JSON-RPC message.
pub fn parse(body: &[u8]) -> Result<Incoming<'_>, McpError> {
    let text = std::str::from_utf8(body).map_err(|_| McpError::Parse)?;
    let first = text.trim_start().as_bytes().first().copied();
    match first {
        Some(b'[') => {
            // Still has to be JSON to earn -32600 rather than -32700.
            serde_json::from_str::<&RawValue>(text).map_err(|_| McpError::Parse)?;
            return Err(McpError::BatchUnsupported);
        }
        Some(b'{') => {}
        _ => {
            serde_json::from_str::<&RawValue>(text).map_err(|_| McpError::Parse)?;
            return Err(McpError::InvalidRequest("a request must be a JSON object"));
        }
    }
    let env: Envelope<'_> = serde_json::from_str(text).map_err(|e| {
        if e.is_data() {
            McpError::InvalidRequest("malformed JSON-RPC envelope")
        } else {
            McpError::Parse
        }
    })?;
    if env.jsonrpc.as_deref() != Some("2.0") {
        return Err(McpError::InvalidRequest("jsonrpc must be \"2.0\""));
    }
    let id = env.id.map(Id::from_raw).transpose()?;
    let Some(method_raw) = env.method else {
        if env.result.is_some() || env.error.is_some() {
            return Ok(Incoming::Response);
        }
        return Err(McpError::InvalidRequest("method is missing"));
    };
    let method: Cow<'_, str> = serde_json::from_str(method_raw.get())
        .map_err(|_| McpError::InvalidRequest("method must be a string"))?;
    if let Some(p) = env.params {
        if !p.get().starts_with('{') {
            return Err(McpError::InvalidParams("params must be an object".into()));
        }
    }
    Ok(match id {
        Some(id) => Incoming::Request {
            id,
            method,
            params: env.params,
        },
        None => Incoming::Notification { method },
    })
}

/// Best effort at the id of a body that failed later checks, so an error can still name it.
pub fn peek_id(body: &[u8]) -> Option<Id> {
    let env: Envelope<'_> = serde_json::from_slice(body).ok()?;
    env.id.and_then(|raw| Id::from_raw(raw).ok())
}

#[derive(Serialize)]
struct ResultResponse<'a, T: Serialize> {
    jsonrpc: &'static str,
    id: &'a Id,
    result: &'a T,
}

/// Serializes a success response.
pub fn result_body<T: Serialize>(id: &Id, result: &T) -> Vec<u8> {
    serde_json::to_vec(&ResultResponse {
        jsonrpc: "2.0",
        id,
        result,
    })
    .expect("result types serialize infallibly")
}

/// The `error` member of an error response.
#[derive(Debug, Serialize)]
pub struct ErrorObject {
    pub code: i64,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct ErrorResponse<'a> {
    jsonrpc: &'static str,
    // Omitted, never null, when the id is unknown (MCP 2025-11-25 and later allow that).
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Id>,
    error: &'a ErrorObject,
}

/// Serializes an error response.
pub fn error_body(id: Option<&Id>, error: &ErrorObject) -> Vec<u8> {
    serde_json::to_vec(&ErrorResponse {
        jsonrpc: "2.0",
        id,
        error,
    })
    .expect("error objects serialize infallibly")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> McpError {
        parse(body.as_bytes()).expect_err("should be refused")
    }

    #[test]
    fn parses_request_notification_and_response() {
        let m = parse(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#).unwrap();
        assert!(
            matches!(m, Incoming::Request { id: Id::Num(7), ref method, params: None } if method == "ping")
        );
        let m = parse(br#"{"jsonrpc":"2.0","id":"a","method":"x","params":{"k":1}}"#).unwrap();
        assert!(
            matches!(m, Incoming::Request { id: Id::Str(ref s), params: Some(p), .. } if s == "a" && p.get() == r#"{"k":1}"#)
        );
        let m = parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert!(matches!(m, Incoming::Notification { .. }));
        let m = parse(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#).unwrap();
        assert!(matches!(m, Incoming::Response));
    }

    #[test]
    fn refuses_what_is_not_one_request() {
        assert!(matches!(err("{"), McpError::Parse));
        assert!(matches!(err("not json"), McpError::Parse));
        assert!(matches!(
            err("[{\"jsonrpc\":\"2.0\"}]"),
            McpError::BatchUnsupported
        ));
        assert!(matches!(err("[1,"), McpError::Parse));
        assert!(matches!(err("42"), McpError::InvalidRequest(_)));
        assert!(matches!(
            err(r#"{"id":1,"method":"ping"}"#),
            McpError::InvalidRequest(_)
        ));
        assert!(matches!(
            err(r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#),
            McpError::InvalidRequest(_)
        ));
        assert!(matches!(
            err(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#),
            McpError::InvalidRequest(_)
        ));
        assert!(matches!(
            err(r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#),
            McpError::InvalidRequest(_)
        ));
        assert!(matches!(
            err(r#"{"jsonrpc":"2.0","id":1,"method":3}"#),
            McpError::InvalidRequest(_)
        ));
        assert!(matches!(
            err(r#"{"jsonrpc":"2.0","id":1}"#),
            McpError::InvalidRequest(_)
        ));
        assert!(matches!(
            err(r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}"#),
            McpError::InvalidParams(_)
        ));
        assert!(matches!(err("\u{0}\u{1}"), McpError::Parse));
    }

    #[test]
    fn error_without_id_omits_it() {
        let e = ErrorObject {
            code: code::PARSE_ERROR,
            message: "Parse error".into(),
            data: None,
        };
        let v: serde_json::Value = serde_json::from_slice(&error_body(None, &e)).unwrap();
        assert!(v.get("id").is_none());
        assert_eq!(v["error"]["code"], -32700);
    }

    #[test]
    fn peek_id_recovers_ids() {
        assert_eq!(
            peek_id(br#"{"id":"x","method":1}"#),
            Some(Id::Str("x".into()))
        );
        assert_eq!(peek_id(b"{"), None);
    }
}
