//! Reading a request body within a bound: `/mcp`'s JSON-RPC body and the façade's forms and
//! registration documents. What the handler leaves unread is the server's to drain
//! (`server/drain.rs`), so the refusal still reaches a client that is still sending.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};

/// The bound of a façade body (`/register`, `/token`, the consent form). These endpoints
/// answer anyone, so they hold far less than `/mcp`'s 1 MiB: a registration document is a
/// few hundred bytes, a token form less.
pub const FACADE_MAX_BODY_BYTES: usize = 64 * 1024;

/// The standalone server's deadline for a whole body passed (`server/mod.rs` puts it in
/// the body's error chain).
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimedOut;

/// Why a body was not read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BodyError {
    /// Declared or found longer than the bound: answered 413.
    #[error("the request body exceeds {limit} bytes")]
    TooLarge { limit: usize },
    /// The client did not send it all within the server's body deadline: answered 400.
    #[error("the request body did not arrive in time")]
    TimedOut,
    /// The connection failed or the client stopped before the end: answered 400.
    #[error("the request body could not be read")]
    Unreadable,
}

/// The whole body, or why not. A `Content-Length` over the bound is refused before a byte
/// is read.
pub async fn read(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    match axum::body::to_bytes(body, limit).await {
        Ok(b) => Ok(b),
        Err(e) if in_chain::<http_body_util::LengthLimitError>(&e) => {
            Err(BodyError::TooLarge { limit })
        }
        Err(e) if in_chain::<BodyTimedOut>(&e) => Err(BodyError::TimedOut),
        Err(_) => Err(BodyError::Unreadable),
    }
}

/// axum wraps a body's error; what it was is only found down the chain.
fn in_chain<E: std::error::Error + 'static>(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<E>() {
            return true;
        }
        source = s.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(len: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(l) = len {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from_str(l).unwrap());
        }
        h
    }

    #[tokio::test]
    async fn a_body_within_the_bound_is_read_whole() {
        let got = read(&headers(Some("5")), Body::from("hello"), 5).await;
        assert_eq!(got.unwrap(), Bytes::from_static(b"hello"));
    }

    #[tokio::test]
    async fn a_declared_length_over_the_bound_is_refused_unread() {
        // The body itself is short: only the declaration counts here.
        let got = read(&headers(Some("6")), Body::from("x"), 5).await;
        assert_eq!(got, Err(BodyError::TooLarge { limit: 5 }));
    }

    #[tokio::test]
    async fn an_undeclared_body_is_cut_at_the_bound() {
        let got = read(&headers(None), Body::from(vec![b'a'; 6]), 5).await;
        assert_eq!(got, Err(BodyError::TooLarge { limit: 5 }));
    }

    #[tokio::test]
    async fn a_body_past_the_server_deadline_is_timed_out() {
        let stream = futures_util::stream::iter(vec![
            Ok::<_, axum::BoxError>(Bytes::from_static(b"ab")),
            Err(BodyTimedOut.into()),
        ]);
        let got = read(&headers(None), Body::from_stream(stream), 5).await;
        assert_eq!(got, Err(BodyError::TimedOut));
    }

    #[tokio::test]
    async fn a_failing_stream_is_unreadable_not_too_large() {
        let stream = futures_util::stream::iter(vec![
            Ok::<_, std::io::Error>(Bytes::from_static(b"ab")),
            Err(std::io::Error::other("reset")),
        ]);
        let got = read(&headers(None), Body::from_stream(stream), 5).await;
        assert_eq!(got, Err(BodyError::Unreadable));
    }
}
