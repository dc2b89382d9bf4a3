//! The façade's HTTP surface: its metadata (`/.well-known/oauth-authorization-server`, and
//! `/.well-known/openid-configuration` for issuers with a path), `POST /register`, and the
//! relay's `GET /authorize` (to the IdP, or the consent page), `POST /authorize` (the
//! consent answer), `GET /oauth/callback` and `POST /token`. Every route answers 404 when
//! the façade is off; API errors become RFC 6749 / 7591 JSON in `errors.rs`, browser errors
//! a page (`consent_page.rs`), never a redirect.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::body::{self as limited, BodyError, FACADE_MAX_BODY_BYTES};
use super::consent_page;
use super::errors::{
    EdgeError, body_error_parts, json_response, oauth_error_parts, oauth_error_response, oauth_json,
};
use super::state::AppState;
use crate::oauth::consent::{APPROVALS_COOKIE, CSRF_COOKIE};
use crate::oauth::{Authorize, ConsentAnswer, Facade, FlowCookie, OAuthError};

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
    let mut resp = super::cors::public(json_response(status, body));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
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

/// One log line per refusal: an upstream failure's detail as a warning, the rest as info.
fn log_refusal(e: &OAuthError, what: &str) {
    match e {
        OAuthError::Upstream(detail) => tracing::warn!(error = %detail, "façade: upstream failure"),
        other => tracing::info!(error = %other, "façade: {what} refused"),
    }
}

fn refused(e: OAuthError) -> Response {
    log_refusal(&e, "request");
    super::cors::public(oauth_error_response(&e))
}

/// A façade body within its bound, or the JSON refusal an API client reads.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    limited::read(headers, body, FACADE_MAX_BODY_BYTES)
        .await
        .map_err(|e| {
            tracing::info!(error = %e, "façade: request body refused");
            let (status, error, description) = body_error_parts(&e);
            super::cors::public(oauth_json(status, error, &description))
        })
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
pub(super) async fn register(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(f) = state.facade.as_ref() else {
        return not_found();
    };
    let body = match read_body(&headers, body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    match f.register(&body, bearer, now()).await {
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

/// A browser-facing error: a page, never a redirect.
fn page_refused(e: OAuthError) -> Response {
    log_refusal(&e, "sign-in");
    let (status, error, description) = oauth_error_parts(&e);
    consent_page::error(status, error, &description)
}

fn body_page(e: &BodyError) -> Response {
    tracing::info!(error = %e, "façade: consent form refused");
    let (status, error, description) = body_error_parts(e);
    consent_page::error(status, error, &description)
}

/// One cookie's value from the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The façade's path (its cookies' `Path`) and whether it is served over https.
fn cookie_scope(f: &Facade) -> (&str, bool) {
    scope_of(&f.settings.base)
}

fn scope_of(base: &str) -> (&str, bool) {
    let (_, path) = split_base(base);
    (path, base.starts_with("https://"))
}

/// The façade's base URL as its origin and its path (`/` when it has none).
fn split_base(base: &str) -> (&str, &str) {
    let after = base.find("://").map_or(0, |i| i + 3);
    match base[after..].find('/') {
        Some(i) => (&base[..after + i], &base[after + i..]),
        None => (base, "/"),
    }
}

/// A façade cookie's name: with the `__Host-` prefix where the browser allows it (https,
/// `Path=/`), so a sibling domain can never plant one (cookie tossing); a façade under a
/// path (an API Gateway stage) keeps the plain name, scoped to that path.
fn cookie_name(f: &Facade, name: &str) -> String {
    name_for(&f.settings.base, name)
}

fn name_for(base: &str, name: &str) -> String {
    match scope_of(base) {
        ("/", true) => format!("__Host-{name}"),
        _ => name.to_owned(),
    }
}

/// `Set-Cookie` for a façade cookie: HttpOnly, scoped to the façade's path, Secure unless
/// the façade is served over plain loopback HTTP (a local run).
fn set_cookie(f: &Facade, name: &str, value: &str, same_site: &str, max_age: u64) -> HeaderValue {
    let (path, https) = cookie_scope(f);
    let secure = if https { "; Secure" } else { "" };
    let v = format!(
        "{}={value}; Path={path}; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}",
        cookie_name(f, name)
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn new_csrf_value() -> String {
    let mut raw = [0u8; 24];
    aws_lc_rs::rand::fill(&mut raw).expect("system randomness");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// `GET /authorize`: to the IdP when this browser approved the client, else the consent
/// page; any error is a page.
pub(super) async fn authorize(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let Some(f) = state.facade.as_ref() else {
        return not_found();
    };
    let existing = cookie(&headers, &cookie_name(f, CSRF_COOKIE)).map(str::to_owned);
    let csrf = existing.clone().unwrap_or_else(new_csrf_value);
    let approvals = cookie(&headers, &cookie_name(f, APPROVALS_COOKIE));
    match f
        .authorize(uri.query().unwrap_or(""), approvals, &csrf, now())
        .await
    {
        Ok(Authorize::ToIdp { location, flow }) => to_idp(f, &location, &flow),
        Ok(Authorize::AskConsent(prompt)) => {
            let mut resp = consent_page::consent(&f.settings.base, &prompt);
            if existing.is_none() {
                let c = set_cookie(f, CSRF_COOKIE, &csrf, "Strict", f.settings.state_ttl);
                resp.headers_mut().append(header::SET_COOKIE, c);
            }
            resp
        }
        Err(e) => page_refused(e),
    }
}

/// `POST /authorize`: the consent form's answer (form fields `consent_token`, `decision`).
pub(super) async fn consent(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(f) = state.facade.as_ref() else {
        return not_found();
    };
    // The consent form is a browser's: a body that cannot be read is a page, not JSON.
    let body = match limited::read(&headers, body, FACADE_MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(e) => return body_page(&e),
    };
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&body).into_owned().collect();
    let (Some(token), Some(decision)) = (form.get("consent_token"), form.get("decision")) else {
        return page_refused(OAuthError::InvalidRequest(
            "the consent form is incomplete".into(),
        ));
    };
    let approve = match decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => {
            return page_refused(OAuthError::InvalidRequest(
                "the consent form's decision is neither approve nor deny".into(),
            ));
        }
    };
    if !same_origin(f, &headers) {
        return page_refused(OAuthError::CrossSiteForm);
    }
    let csrf = cookie(&headers, &cookie_name(f, CSRF_COOKIE));
    let approvals = cookie(&headers, &cookie_name(f, APPROVALS_COOKIE));
    match f.consent(token, csrf, approve, approvals, now()).await {
        Ok(ConsentAnswer::Approved {
            location,
            approvals,
            flow,
        }) => {
            tracing::info!("façade: the user approved a client");
            let mut resp = to_idp(f, &location, &flow);
            let c = set_cookie(
                f,
                APPROVALS_COOKIE,
                &approvals,
                "Lax",
                f.settings.consent_ttl,
            );
            resp.headers_mut().append(header::SET_COOKIE, c);
            resp
        }
        Ok(ConsentAnswer::Denied { location }) => {
            tracing::info!("façade: the user denied a client");
            match location {
                Some(l) => redirect(&l),
                None => consent_page::denied(),
            }
        }
        Err(e) => page_refused(e),
    }
}

/// `GET /oauth/callback`: from the IdP back to the client (approved before it left), in
/// the browser that left (its flow cookie), which is then cleared.
pub(super) async fn callback(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let Some(f) = state.facade.as_ref() else {
        return not_found();
    };
    let read = |name: &str| cookie(&headers, &cookie_name(f, name)).map(str::to_owned);
    match f.callback(uri.query().unwrap_or(""), read, now()) {
        Ok((location, flow)) => {
            let mut resp = redirect(&location);
            resp.headers_mut()
                .append(header::SET_COOKIE, set_cookie(f, &flow, "", "Lax", 0));
            resp
        }
        Err(e) => page_refused(e),
    }
}

/// The redirect to the IdP, setting the flow's cookie: SameSite=Lax, since the IdP's
/// redirect back is a cross-site navigation.
fn to_idp(f: &Facade, location: &str, flow: &FlowCookie) -> Response {
    let mut resp = redirect(location);
    let c = set_cookie(f, &flow.name, &flow.value, "Lax", f.settings.state_ttl);
    resp.headers_mut().append(header::SET_COOKIE, c);
    resp
}

/// A consent answer from a browser must come from the façade's own page: a browser says
/// where a form was posted from (`Origin`, `Sec-Fetch-Site`); a client that sends neither is
/// no browser and carries no victim's cookies.
fn same_origin(f: &Facade, headers: &HeaderMap) -> bool {
    let (origin, _) = split_base(&f.settings.base);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    header("origin").is_none_or(|o| o.eq_ignore_ascii_case(origin))
        && header("sec-fetch-site").is_none_or(|s| s == "same-origin")
}

/// `POST /token`: relayed to the IdP; its answer comes back as it was.
pub(super) async fn token(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(f) = state.facade.as_ref() else {
        return not_found();
    };
    let body = match read_body(&headers, body).await {
        Ok(b) => b,
        Err(resp) => return resp,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_take_the_host_prefix_where_browsers_allow_it() {
        assert_eq!(scope_of("https://gw.example"), ("/", true));
        assert_eq!(scope_of("https://gw.example/prod"), ("/prod", true));
        assert_eq!(scope_of("http://127.0.0.1:9"), ("/", false));
        assert_eq!(
            split_base("https://gw.example/prod"),
            ("https://gw.example", "/prod")
        );
        assert_eq!(name_for("https://gw.example", "c"), "__Host-c");
        assert_eq!(name_for("https://gw.example/prod", "c"), "c");
        assert_eq!(name_for("http://127.0.0.1:9", "c"), "c");
    }
}
