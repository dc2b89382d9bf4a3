//! The façade's HTTP surface: its metadata (`/.well-known/oauth-authorization-server`, and
//! `/.well-known/openid-configuration` for issuers with a path), `POST /register`,
//! and the relay's `GET /authorize`, `GET /oauth/callback` and `POST /token`. Every route
//! answers 404 when the façade is off; errors become RFC 6749 / 7591 JSON in `errors.rs`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::errors::{EdgeError, json_response, oauth_error_response};
use crate::oauth::OAuthError;
use crate::state::AppState;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn not_found() -> Response {
    EdgeError::NotFound.into_response()
}

/// Public JSON answers browser-based clients read cross-origin; never cached.
fn public_json(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = json_response(status, body);
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => {
            let mut resp = StatusCode::FOUND.into_response();
            resp.headers_mut().insert(header::LOCATION, v);
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(_) => oauth_error_response(&OAuthError::InvalidRequest("bad redirect".into())),
    }
}

fn refused(e: OAuthError) -> Response {
    match &e {
        OAuthError::Upstream(detail) => tracing::warn!(error = %detail, "façade: upstream failure"),
        other => tracing::info!(error = %other, "façade: request refused"),
    }
    let mut resp = oauth_error_response(&e);
    resp.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414), also served as
/// `/.well-known/openid-configuration`: the same document, the IdP's OpenID members kept.
pub(super) async fn metadata(State(state): State<Arc<AppState>>) -> Response {
    let Some(f) = state.facade.as_ref() else {
        return not_found();
    };
    match f.metadata().await {
        Ok(doc) => {
            let mut resp =
                public_json(StatusCode::OK, serde_json::to_vec(&doc).unwrap_or_default());
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
            resp
        }
        Err(e) => refused(e),
    }
}

/// `POST /register` (RFC 7591).
pub(super) async fn register(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let Some(f) = state.facade.as_ref() else {
        return not_found();
    };
    match f.register(&body, now()).await {
        Ok(answer) => {
            tracing::info!(
                client_name = answer["client_name"].as_str().unwrap_or(""),
                "façade: client registered"
            );
            public_json(
                StatusCode::CREATED,
                serde_json::to_vec(&answer).unwrap_or_default(),
            )
        }
        Err(e) => refused(e),
    }
}

/// `GET /authorize`: to the IdP, or back to the client with an error.
pub(super) async fn authorize(State(state): State<Arc<AppState>>, uri: Uri) -> Response {
    let Some(f) = state.facade.as_ref() else {
        return not_found();
    };
    match f.authorize(uri.query().unwrap_or(""), now()).await {
        Ok(location) => redirect(&location),
        Err(e) => refused(e),
    }
}

/// `GET /oauth/callback`: from the IdP back to the client.
pub(super) async fn callback(State(state): State<Arc<AppState>>, uri: Uri) -> Response {
    let Some(f) = state.facade.as_ref() else {
        return not_found();
    };
    match f.callback(uri.query().unwrap_or(""), now()) {
        Ok(location) => redirect(&location),
        Err(e) => refused(e),
    }
}

/// `POST /token`: relayed to the IdP; its answer comes back as it was.
pub(super) async fn token(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let Some(f) = state.facade.as_ref() else {
        return not_found();
    };
    let Ok(form) = std::str::from_utf8(&body) else {
        return refused(OAuthError::InvalidRequest("the body is not a form".into()));
    };
    match f.token(form, now()).await {
        Ok((status, body)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut resp = public_json(status, body);
            resp.headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            resp
        }
        Err(e) => refused(e),
    }
}

/// CORS preflight for the routes browser-based clients call.
pub(super) async fn preflight() -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
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
