//! The HTTP surface: `app(state)` is every route the gateway answers, the same router under
//! Lambda and standalone.

mod audit;
mod auth;
pub mod body;
mod consent_page;
mod cors;
pub mod errors;
mod mcp_route;
pub mod metadata;
mod oauth;
pub mod state;

use std::sync::Arc;

use axum::Router;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use errors::EdgeError;
use state::AppState;

/// Builds the router over state that was built once at start-up.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route(
            "/mcp",
            post(mcp_route::post_mcp)
                .options(cors::mcp_preflight)
                .fallback(mcp_route::other_method),
        )
        .route("/health", get(health))
        .route("/.well-known/jwks.json", get(identity_jwks))
        .route(
            "/.well-known/oauth-protected-resource",
            get(metadata::protected_resource),
        )
        .route(
            "/.well-known/oauth-protected-resource/{*path}",
            get(metadata::protected_resource),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(oauth::metadata).options(cors::public_preflight),
        )
        // OpenID Connect discovery's path appending: how clients find a façade whose
        // issuer has a path (`<issuer>/.well-known/openid-configuration`).
        .route(
            "/.well-known/openid-configuration",
            get(oauth::metadata).options(cors::public_preflight),
        )
        .route(
            "/register",
            post(oauth::register).options(cors::public_preflight),
        )
        .route("/authorize", get(oauth::authorize).post(oauth::consent))
        .route("/oauth/callback", get(oauth::callback))
        .route("/token", post(oauth::token).options(cors::public_preflight))
        .fallback(not_found)
        .with_state(state)
}

async fn health() -> Response {
    errors::json_response(
        axum::http::StatusCode::OK,
        format!(
            r#"{{"status":"ok","version":"{}"}}"#,
            env!("CARGO_PKG_VERSION")
        )
        .into_bytes(),
    )
}

/// The public keys of the gateway's identity statements, for targets to verify them.
async fn identity_jwks(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
) -> Response {
    let mut resp = errors::json_response(
        axum::http::StatusCode::OK,
        state.identity.jwks_json().as_bytes().to_vec(),
    );
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("public, max-age=300"),
    );
    resp
}

async fn not_found() -> Response {
    EdgeError::NotFound.into_response()
}

/// The id that ties a response to its log lines: API Gateway's request id under Lambda,
/// a fresh UUID standalone.
pub(crate) fn request_id(parts: &Parts) -> String {
    use lambda_http::request::RequestContext;
    match parts.extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
    .or_else(|| {
        parts
            .extensions
            .get::<lambda_http::Context>()
            .map(|c| c.request_id.clone())
    })
    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}
