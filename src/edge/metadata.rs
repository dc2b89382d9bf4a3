//! OAuth 2.0 Protected Resource Metadata (RFC 9728) and the URLs the 401 challenge names:
//! the canonical MCP URL comes from configuration, or from the request's host and scheme
//! as API Gateway forwards them.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;

use super::errors::json_response;
use super::state::AppState;

const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

fn forwarded_origin(headers: &HeaderMap) -> String {
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    // A Host that is not a plain host[:port] is not echoed into a document clients trust.
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("{proto}://{host}")
}

/// The canonical URL of the MCP endpoint.
pub fn resource_url(state: &AppState, headers: &HeaderMap) -> String {
    state
        .auth
        .resource_url
        .clone()
        .unwrap_or_else(|| format!("{}/mcp", forwarded_origin(headers)))
}

/// Where the metadata for the resource is served: RFC 9728 §3.1 inserts the well-known
/// path between the resource's host and its path.
pub fn metadata_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.auth.resource_metadata_url {
        return u.clone();
    }
    let resource = resource_url(state, headers);
    let after_scheme = resource.find("://").map_or(0, |i| i + 3);
    let path_at = resource[after_scheme..]
        .find('/')
        .map_or(resource.len(), |i| after_scheme + i);
    let (origin, path) = resource.split_at(path_at);
    format!("{origin}{WELL_KNOWN}{}", path.trim_end_matches('/'))
}

#[derive(Serialize)]
struct ProtectedResourceMetadata<'a> {
    resource: String,
    authorization_servers: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    scopes_supported: &'a [String],
    bearer_methods_supported: [&'static str; 1],
    resource_name: &'static str,
}

/// `GET /.well-known/oauth-protected-resource[/...]`: public, cacheable, no auth.
pub(super) async fn protected_resource(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Response {
    let doc = ProtectedResourceMetadata {
        resource: resource_url(&state, &headers),
        authorization_servers: &state.auth.authorization_servers,
        scopes_supported: &state.auth.scopes_supported,
        bearer_methods_supported: ["header"],
        resource_name: "MCP OAuth Gateway",
    };
    let body = serde_json::to_vec(&doc).expect("metadata serializes");
    // Browser-based MCP clients read it cross-origin; it holds nothing private.
    let mut resp = super::cors::public(json_response(StatusCode::OK, body));
    let h = resp.headers_mut();
    // Derived from the request's Host, it must not be cached for anyone else.
    let cache = if state.auth.resource_url.is_some() {
        "public, max-age=3600"
    } else {
        "no-store"
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}
