//! The wire side of talking to an upstream MCP server: one POST with the headers every
//! message carries, the answer to a request read from a JSON body or an SSE stream (bounded),
//! JSON-RPC errors as `TargetError::Refused`, and the guard that cancels a request the gateway
//! stopped waiting for.

use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use gateway_core::mcp::sse::SseDecoder;
use gateway_core::targets::TargetError;

/// The gateway's own credential header for an upstream, if it has one.
pub(super) type Credential = Option<(HeaderName, HeaderValue)>;

/// An open session: its id (stateless servers give none) and negotiated revision.
#[derive(Debug, Clone)]
pub(super) struct Session {
    pub(super) id: Option<String>,
    pub(super) version: String,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(default)]
    id: Option<Value>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<RpcError>,
}

#[derive(Deserialize)]
struct RpcError {
    code: i64,
    #[serde(default)]
    message: String,
}

pub(super) fn classify(e: reqwest::Error) -> TargetError {
    if e.is_timeout() {
        TargetError::Timeout
    } else {
        TargetError::Unreachable(e.without_url().to_string())
    }
}

pub(super) fn bad(why: impl Into<String>) -> TargetError {
    TargetError::BadResponse(why.into())
}

/// The answer to request `id` in one JSON-RPC message, or `None` when the message is
/// something else (a notification, a request of the server's, another id).
pub(super) fn answer_in(text: &str, id: u64) -> Result<Option<Box<RawValue>>, TargetError> {
    // Servers that support resumption open a stream with an event of empty data.
    if text.trim().is_empty() {
        return Ok(None);
    }
    // Serde would take an array for a struct: batches are not a thing upstreams may send.
    let m: Message<'_> = serde_json::from_str(text)
        .ok()
        .filter(|_| text.trim_start().starts_with('{'))
        .ok_or_else(|| bad("a message is not a JSON-RPC object"))?;
    if m.id != Some(Value::from(id)) {
        return Ok(None);
    }
    match (m.result, m.error) {
        (Some(result), None) => Ok(Some(result.to_owned())),
        (None, Some(e)) => Err(TargetError::Refused(format!(
            "{}: {}",
            e.code,
            e.message.chars().take(200).collect::<String>()
        ))),
        _ => Err(bad("a response has neither result nor error")),
    }
}

/// Reads the response to request `id` from a JSON body or an SSE stream.
pub(super) async fn read_answer(
    mut resp: reqwest::Response,
    id: u64,
    limit: usize,
) -> Result<Box<RawValue>, TargetError> {
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let mut total = 0usize;
    if content_type == "text/event-stream" {
        let mut events = SseDecoder::new();
        while let Some(chunk) = resp.chunk().await.map_err(classify)? {
            total += chunk.len();
            if total > limit {
                return Err(TargetError::TooLarge(limit));
            }
            for data in events.feed(&chunk).map_err(|e| bad(e.to_string()))? {
                if let Some(answer) = answer_in(&data, id)? {
                    return Ok(answer);
                }
            }
        }
        if let Some(data) = events.finish().map_err(|e| bad(e.to_string()))? {
            if let Some(answer) = answer_in(&data, id)? {
                return Ok(answer);
            }
        }
        return Err(bad("the event stream ended without the response"));
    }
    if content_type != "application/json" {
        return Err(bad(format!("unexpected content type {content_type:?}")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > limit {
            return Err(TargetError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(body).map_err(|_| bad("body is not UTF-8"))?;
    answer_in(&text, id)?.ok_or_else(|| bad("no response with the request's id"))
}

pub(super) async fn post(
    http: &reqwest::Client,
    url: &str,
    session: Option<&Session>,
    credential: &Credential,
    identity: Option<&str>,
    correlation_id: &str,
    body: String,
) -> Result<reqwest::Response, TargetError> {
    let mut req = http
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json, text/event-stream")
        .header("x-request-id", correlation_id);
    if let Some((name, value)) = credential {
        req = req.header(name.clone(), value.clone());
    }
    if let Some(identity) = identity {
        req = req.header(gateway_core::identity::HEADER, identity);
    }
    if let Some(s) = session {
        req = req.header("mcp-protocol-version", &s.version);
        if let Some(id) = &s.id {
            req = req.header("mcp-session-id", id);
        }
    }
    req.body(body).send().await.map_err(classify)
}

/// Sends `notifications/cancelled` for the request in flight unless disarmed: dropped
/// with the call's future, it tells the upstream to stop work nobody will read.
#[derive(Default)]
pub(super) struct Cancel {
    armed: Option<(reqwest::Client, String, Session, Credential, u64)>,
}

impl Cancel {
    pub(super) fn arm(
        &mut self,
        http: &reqwest::Client,
        url: &str,
        s: &Session,
        c: &Credential,
        id: u64,
    ) {
        self.armed = Some((http.clone(), url.to_owned(), s.clone(), c.clone(), id));
    }

    pub(super) fn disarm(&mut self) {
        self.armed = None;
    }
}

impl Drop for Cancel {
    fn drop(&mut self) {
        let Some((http, url, session, cred, id)) = self.armed.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let body = format!(
            r#"{{"jsonrpc":"2.0","method":"notifications/cancelled","params":{{"requestId":{id},"reason":"the gateway stopped waiting"}}}}"#
        );
        runtime.spawn(async move {
            let send = post(&http, &url, Some(&session), &cred, None, "cancel", body);
            match tokio::time::timeout(Duration::from_secs(2), send).await {
                Ok(Ok(_)) => tracing::debug!(request = id, "upstream request cancelled"),
                _ => tracing::debug!(request = id, "upstream cancellation not delivered"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_answer_to_our_request_counts() {
        assert!(
            answer_in(r#"{"jsonrpc":"2.0","method":"notifications/progress"}"#, 7)
                .unwrap()
                .is_none()
        );
        assert!(
            answer_in(r#"{"jsonrpc":"2.0","id":8,"result":{}}"#, 7)
                .unwrap()
                .is_none()
        );
        let r = answer_in(r#"{"jsonrpc":"2.0","id":7,"result":{"content":[]}}"#, 7).unwrap();
        assert_eq!(r.unwrap().get(), r#"{"content":[]}"#);
        let e = answer_in(
            r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"Unknown tool"}}"#,
            7,
        )
        .unwrap_err();
        assert!(matches!(e, TargetError::Refused(ref m) if m == "-32602: Unknown tool"));
        assert!(answer_in("[1]", 7).is_err());
        assert!(answer_in("", 7).unwrap().is_none(), "a priming event");
        assert!(answer_in(r#"{"jsonrpc":"2.0","id":7}"#, 7).is_err());
    }
}
