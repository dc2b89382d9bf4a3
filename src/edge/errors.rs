//! The one place where errors become HTTP responses: each `McpError` and `EdgeError` gets
//! its status code and JSON-RPC error here, and nowhere else.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::mcp::jsonrpc::{self, ErrorObject, Id, code};
use crate::mcp::version::SUPPORTED_VERSIONS;
use crate::mcp::{Era, Failure, McpError};

/// HTTP-level refusals that happen before a message reaches the MCP core.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EdgeError {
    /// No valid bearer token. Which check failed is logged, never answered.
    #[error("Unauthorized: a valid bearer token is required")]
    Unauthorized {
        resource_metadata: String,
        token_sent: bool,
    },
    /// Whether the token was revoked cannot be known right now (deny-list unreadable past its
    /// staleness, or the issuer's online check unanswered): refused, but as an outage, so a
    /// client retries instead of throwing a good token away.
    #[error("Service unavailable: token status cannot be checked right now; retry later")]
    AuthUnavailable,
    #[error("Forbidden: origin not allowed")]
    OriginNotAllowed,
    #[error("Method not allowed: use POST")]
    MethodNotAllowed,
    #[error("Request body exceeds 1 MiB")]
    PayloadTooLarge,
    #[error("Bad request: the body could not be read")]
    BodyUnreadable,
    #[error("Unsupported media type: Content-Type must be application/json")]
    UnsupportedMediaType,
    #[error("Not acceptable: Accept must allow application/json")]
    NotAcceptable,
    #[error("Not found")]
    NotFound,
}

impl EdgeError {
    /// The stable code of an HTTP-level refusal: an audit record's `reason`. Stored data
    /// that `gatewayctl audit` queries, so a code never changes once shipped, whatever the
    /// variant is called.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized { .. } => "Unauthorized",
            Self::AuthUnavailable => "AuthUnavailable",
            Self::OriginNotAllowed => "OriginNotAllowed",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::PayloadTooLarge => "PayloadTooLarge",
            Self::BodyUnreadable => "BodyUnreadable",
            Self::UnsupportedMediaType => "UnsupportedMediaType",
            Self::NotAcceptable => "NotAcceptable",
            Self::NotFound => "NotFound",
        }
    }
}

/// A JSON response with the given status and body bytes.
pub fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn rpc_error(status: StatusCode, id: Option<&Id>, error: ErrorObject) -> Response {
    json_response(status, jsonrpc::error_body(id, &error))
}

impl IntoResponse for EdgeError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::AuthUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::OriginNotAllowed => StatusCode::FORBIDDEN,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyUnreadable => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Self::NotFound => StatusCode::NOT_FOUND,
        };
        let error = ErrorObject {
            code: match self {
                Self::Unauthorized { .. } => code::UNAUTHORIZED,
                Self::AuthUnavailable => code::INTERNAL_ERROR,
                _ => code::INVALID_REQUEST,
            },
            message: self.to_string(),
            data: None,
        };
        let mut resp = rpc_error(status, None, error);
        match self {
            Self::MethodNotAllowed => {
                resp.headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
            }
            Self::Unauthorized {
                resource_metadata,
                token_sent,
            } => {
                // RFC 6750 §3: no error code when no token was sent.
                let mut challenge = format!("Bearer resource_metadata=\"{resource_metadata}\"");
                if token_sent {
                    challenge.push_str(", error=\"invalid_token\"");
                }
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
            }
            _ => {}
        }
        resp
    }
}

/// Maps a failed MCP message to its HTTP status and JSON-RPC error.
///
/// Handshake-era clients read 404 as "session expired" and would re-initialize forever, so
/// an unknown method is 404 only in the per-request era; elsewhere JSON-RPC errors about
/// a well-formed request travel with 200, as the SDKs expect.
///
/// `resource_metadata` gives the metadata URL a 403 step-up challenge names.
pub fn failure_response(failure: Failure, resource_metadata: impl FnOnce() -> String) -> Response {
    let Failure { id, error } = failure;
    let message = error.to_string();
    let mut challenge = None;
    let (status, code, data) = match &error {
        McpError::Parse => (StatusCode::BAD_REQUEST, code::PARSE_ERROR, None),
        McpError::InvalidRequest(_) | McpError::BatchUnsupported => {
            (StatusCode::BAD_REQUEST, code::INVALID_REQUEST, None)
        }
        McpError::MethodNotFound { era, .. } => {
            let status = match era {
                Era::Modern => StatusCode::NOT_FOUND,
                Era::Legacy => StatusCode::OK,
            };
            (status, code::METHOD_NOT_FOUND, None)
        }
        McpError::InvalidParams(_) | McpError::UnknownTool(_) => {
            (StatusCode::OK, code::INVALID_PARAMS, None)
        }
        McpError::HeaderMismatch(_) => (StatusCode::BAD_REQUEST, code::HEADER_MISMATCH, None),
        McpError::UnsupportedProtocolVersion { requested } => (
            StatusCode::BAD_REQUEST,
            code::UNSUPPORTED_PROTOCOL_VERSION,
            Some(serde_json::json!({ "requested": requested, "supported": SUPPORTED_VERSIONS })),
        ),
        McpError::InsufficientScope { scopes } => {
            // MCP authorization step-up: the challenge names every scope the call needs.
            challenge = Some(format!(
                "Bearer error=\"insufficient_scope\", scope=\"{}\", resource_metadata=\"{}\"",
                scopes.join(" "),
                resource_metadata()
            ));
            (StatusCode::FORBIDDEN, code::FORBIDDEN, None)
        }
        McpError::PolicyUnavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, code::INTERNAL_ERROR, None)
        }
    };
    let mut resp = rpc_error(
        status,
        id.as_ref(),
        ErrorObject {
            code,
            message,
            data,
        },
    );
    if let Some(v) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// An OAuth refusal as RFC 6749 §5.2 / RFC 7591 §3.2.2 JSON. Upstream failures say only
/// that the IdP is unavailable; their detail is logged by the caller.
/// The status, RFC 6749 / 7591 error code and description of a façade refusal: answered as
/// JSON to API calls and as a page to browsers.
pub fn oauth_error_parts(e: &crate::oauth::OAuthError) -> (StatusCode, &'static str, String) {
    use crate::oauth::OAuthError as E;
    match e {
        E::InvalidRedirectUri(_) => (
            StatusCode::BAD_REQUEST,
            "invalid_redirect_uri",
            e.to_string(),
        ),
        E::InvalidClientMetadata(_) => (
            StatusCode::BAD_REQUEST,
            "invalid_client_metadata",
            e.to_string(),
        ),
        E::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request", e.to_string()),
        E::UnknownClient => (StatusCode::UNAUTHORIZED, "invalid_client", e.to_string()),
        E::InvalidGrant(_) => (StatusCode::BAD_REQUEST, "invalid_grant", e.to_string()),
        E::InvalidToken => (StatusCode::UNAUTHORIZED, "invalid_token", e.to_string()),
        E::CrossSiteForm | E::ForeignFlow => {
            (StatusCode::FORBIDDEN, "access_denied", e.to_string())
        }
        E::UnsupportedGrantType => (
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            e.to_string(),
        ),
        E::BadSeal | E::Expired => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the sign-in could not be completed (expired or altered); start again".into(),
        ),
        E::NotOffered => (StatusCode::NOT_FOUND, "invalid_request", e.to_string()),
        E::RegistrationLimit => (StatusCode::FORBIDDEN, "access_denied", e.to_string()),
        E::Upstream(_) => (
            StatusCode::BAD_GATEWAY,
            "temporarily_unavailable",
            "the identity provider is unavailable".into(),
        ),
    }
}

/// A façade body that could not be read, as an OAuth error: 413 past the bound (RFC 9110
/// §15.5.14), 400 for one cut short, both `invalid_request`.
pub fn body_error_parts(e: &super::body::BodyError) -> (StatusCode, &'static str, String) {
    use super::body::BodyError as B;
    let status = match e {
        B::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        B::TimedOut | B::Unreadable => StatusCode::BAD_REQUEST,
    };
    (status, "invalid_request", e.to_string())
}

/// An RFC 6749 §5.2 error document, never cached.
pub fn oauth_json(status: StatusCode, error: &str, description: &str) -> Response {
    let body = serde_json::json!({ "error": error, "error_description": description });
    let mut resp = json_response(status, serde_json::to_vec(&body).unwrap_or_default());
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub fn oauth_error_response(e: &crate::oauth::OAuthError) -> Response {
    let (status, error, description) = oauth_error_parts(e);
    let mut resp = oauth_json(status, error, &description);
    if matches!(e, crate::oauth::OAuthError::InvalidToken) {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    /// These strings are stored data (audit records in DynamoDB): never change one. They
    /// are what the `Debug` variant names gave before codes were explicit.
    #[test]
    fn edge_error_codes_are_pinned() {
        let codes = [
            (
                EdgeError::Unauthorized {
                    resource_metadata: "https://gw/.well-known".into(),
                    token_sent: true,
                },
                "Unauthorized",
            ),
            (EdgeError::AuthUnavailable, "AuthUnavailable"),
            (EdgeError::OriginNotAllowed, "OriginNotAllowed"),
            (EdgeError::MethodNotAllowed, "MethodNotAllowed"),
            (EdgeError::PayloadTooLarge, "PayloadTooLarge"),
            (EdgeError::BodyUnreadable, "BodyUnreadable"),
            (EdgeError::UnsupportedMediaType, "UnsupportedMediaType"),
            (EdgeError::NotAcceptable, "NotAcceptable"),
            (EdgeError::NotFound, "NotFound"),
        ];
        for (error, code) in codes {
            assert_eq!(error.code(), code, "{error:?}");
        }
    }
}
