//! Every CORS answer of the edge, in one place. Two policies: `/mcp` answers only the
//! configured browser origins (`GATEWAY_ALLOWED_ORIGINS`), reflected one at a time; the
//! public documents and the façade's registration and token endpoints, which hold nothing
//! a page could abuse, answer any origin (`*`) without credentials.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::errors::EdgeError;
use super::state::{AppState, EdgeSettings};

const ALLOW_HEADERS: &str = "authorization, content-type, accept, mcp-protocol-version, mcp-method, mcp-name, mcp-session-id, last-event-id";
const EXPOSE_HEADERS: &str = "www-authenticate, mcp-session-id";

/// `Ok(Some(origin))` for an allowed browser origin, `Ok(None)` when no `Origin` was sent.
pub(super) fn check_origin<'h>(
    headers: &'h HeaderMap,
    edge: &EdgeSettings,
) -> Result<Option<&'h HeaderValue>, EdgeError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(None);
    };
    let allowed = origin.to_str().is_ok_and(|o| {
        let o = o.trim_end_matches('/');
        edge.allowed_origins
            .iter()
            .any(|a| a.eq_ignore_ascii_case(o))
    });
    if allowed {
        Ok(Some(origin))
    } else {
        Err(EdgeError::OriginNotAllowed)
    }
}

pub(super) fn for_origin(mut resp: Response, origin: Option<&HeaderValue>) -> Response {
    if let Some(origin) = origin {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    resp
}

/// The preflight of `/mcp`: the allowed origin reflected, or the origin refused.
pub(super) async fn mcp_preflight(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Response {
    match check_origin(&headers, &state.edge) {
        Ok(Some(origin)) => {
            let mut resp = for_origin(StatusCode::NO_CONTENT.into_response(), Some(origin));
            let h = resp.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("POST, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
            resp
        }
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

/// Marks a public answer readable from any origin.
pub(super) fn public(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

/// The preflight of the public routes browser-based clients call.
pub(super) async fn public_preflight() -> Response {
    let mut resp = public(StatusCode::NO_CONTENT.into_response());
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, mcp-protocol-version"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    resp
}
