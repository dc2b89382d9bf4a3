//! `POST /mcp` and the other methods on it: HTTP checks — origin, media types, body size —
//! then the body goes to the MCP core and its outcome becomes a response.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use tracing::Instrument;

use super::audit::Pending;
use super::auth::authenticate;
use super::body::BodyError;
use super::cors;
use super::errors::{EdgeError, failure_response, json_response};
use super::state::AppState;
use crate::mcp::{CallContext, Outcome, TransportHeaders};

fn media_type(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    Some(s.split(';').next()?.trim().to_ascii_lowercase())
}

fn check_media(headers: &HeaderMap) -> Result<(), EdgeError> {
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(media_type)
        .is_some_and(|m| m == "application/json");
    if !json_body {
        return Err(EdgeError::UnsupportedMediaType);
    }
    if let Some(accept) = headers.get(header::ACCEPT) {
        let ok = accept.to_str().is_ok_and(|a| {
            a.split(',').any(|part| {
                let m = part.split(';').next().unwrap_or("").trim();
                m.eq_ignore_ascii_case("application/json")
                    || m == "*/*"
                    || m.eq_ignore_ascii_case("application/*")
            })
        });
        if !ok {
            return Err(EdgeError::NotAcceptable);
        }
    }
    Ok(())
}

/// GET, DELETE and the rest: this stateless server offers no SSE stream and no session to
/// delete, but still says so only to an authenticated caller.
pub(super) async fn other_method(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let origin = match cors::check_origin(&parts.headers, &state.edge) {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let request_id = super::request_id(&parts);
    let mut audit = Pending::start(&state, &parts, &request_id);
    let resp = match authenticate(&state, &parts.headers, &request_id).await {
        Ok(v) => {
            audit.caller(&v.principal);
            // As on POST: a token let through without its revocation check says so.
            if v.revocation_unchecked {
                audit.revocation_unchecked();
            }
            audit.refused(&EdgeError::MethodNotAllowed);
            EdgeError::MethodNotAllowed.into_response()
        }
        Err((e, reason)) => {
            audit.unauthorized(&reason);
            e.into_response()
        }
    };
    cors::for_origin(audit.finish(resp).await, origin)
}

pub(super) async fn post_mcp(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let origin = match cors::check_origin(&parts.headers, &state.edge) {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let request_id = super::request_id(&parts);
    let span = tracing::info_span!("request", %request_id);
    let mut audit = Pending::start(&state, &parts, &request_id);
    let resp = handle(&state, &parts, body, request_id, &mut audit)
        .instrument(span.clone())
        .await;
    let resp = audit.finish(resp).instrument(span).await;
    cors::for_origin(resp, origin)
}

/// What is left of the function's time-out when the target must give up: the answer and its
/// audit record still need time to be written before Lambda stops the invocation.
const DEADLINE_MARGIN: std::time::Duration = std::time::Duration::from_millis(1_500);

/// Lambda's longest function time-out: a deadline further away is not one Lambda set.
const LAMBDA_MAX_TIMEOUT_MS: u64 = 900_000;

/// Under Lambda, the instant the target must have answered by (the invocation's deadline,
/// in epoch milliseconds, less the margin). `None` elsewhere: the target's time-out rules.
fn lambda_deadline(parts: &axum::http::request::Parts) -> Option<std::time::Instant> {
    let deadline_ms = parts.extensions.get::<lambda_http::Context>()?.deadline;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_millis() as u64;
    Some(std::time::Instant::now() + time_left(deadline_ms, now_ms)?)
}

/// What the target may use of the time to `deadline_ms`. `None` for a value no Lambda
/// invocation carries, past or further than the longest time-out: `cargo lambda watch`
/// sends the function's time-out itself (`Lambda-Runtime-Deadline-Ms: 600000`), not an
/// instant, and reading that as one would leave no time at all.
fn time_left(deadline_ms: u64, now_ms: u64) -> Option<std::time::Duration> {
    let left = deadline_ms
        .checked_sub(now_ms)
        .filter(|ms| *ms <= LAMBDA_MAX_TIMEOUT_MS)?;
    Some(std::time::Duration::from_millis(left).saturating_sub(DEADLINE_MARGIN))
}

fn refuse(audit: &mut Pending, e: EdgeError) -> Response {
    audit.refused(&e);
    e.into_response()
}

async fn handle(
    state: &AppState,
    parts: &axum::http::request::Parts,
    body: Body,
    request_id: String,
    audit: &mut Pending,
) -> Response {
    // Before the body is even read: unauthenticated callers get nothing parsed.
    let verified = match authenticate(state, &parts.headers, &request_id).await {
        Ok(v) => v,
        Err((e, reason)) => {
            audit.unauthorized(&reason);
            return e.into_response();
        }
    };
    audit.caller(&verified.principal);
    if verified.revocation_unchecked {
        audit.revocation_unchecked();
    }
    if let Err(e) = check_media(&parts.headers) {
        return refuse(audit, e);
    }
    let bytes = match super::body::read(&parts.headers, body, state.edge.max_body_bytes).await {
        Ok(b) => b,
        Err(BodyError::TooLarge { .. }) => return refuse(audit, EdgeError::PayloadTooLarge),
        Err(BodyError::TimedOut | BodyError::Unreadable) => {
            return refuse(audit, EdgeError::BodyUnreadable);
        }
    };
    let h = &parts.headers;
    let transport = TransportHeaders {
        protocol_version: h.get("mcp-protocol-version").map(HeaderValue::as_bytes),
        method: h.get("mcp-method").map(HeaderValue::as_bytes),
        name: h.get("mcp-name").map(HeaderValue::as_bytes),
    };
    let ctx = CallContext {
        request_id,
        principal: verified.principal,
        deadline: lambda_deadline(parts),
    };
    let result = state
        .mcp
        .handle_with_facts(&bytes, &transport, &ctx, audit.call())
        .await;
    match result {
        Ok(Outcome::Accepted) => StatusCode::ACCEPTED.into_response(),
        Ok(Outcome::Reply(body)) => json_response(StatusCode::OK, body),
        Err(failure) => failure_response(failure, || {
            super::metadata::metadata_url(state, &parts.headers)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn only_a_deadline_lambda_could_set_limits_the_target() {
        let now = 1_795_000_000_000;
        assert_eq!(
            time_left(now + 29_000, now),
            Some(Duration::from_millis(27_500))
        );
        assert_eq!(time_left(now + 1_000, now), Some(Duration::ZERO));
        // cargo lambda watch's time-out in place of a deadline, a past one, a far one.
        assert_eq!(time_left(600_000, now), None);
        assert_eq!(time_left(now - 1, now), None);
        assert_eq!(time_left(now + 900_001, now), None);
    }
}
