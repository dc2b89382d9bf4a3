//! Bearer authentication at the edge: the token comes from the `Authorization` header only
//! (never the query string), the verifier decides, and a refusal says nothing about which
//! check failed — the log does, without the token.

use axum::http::{HeaderMap, header};

use super::errors::EdgeError;
use super::metadata;
use super::state::AppState;
use crate::auth::AuthError;
use crate::auth::verifier::Verified;

/// The token of a single `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(AuthError::Missing);
    };
    if values.next().is_some() {
        return Err(AuthError::BadScheme);
    }
    let value = value.to_str().map_err(|_| AuthError::BadScheme)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::BadScheme)?;
    let token = token.trim();
    let token68 = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || !token.chars().all(token68) {
        return Err(AuthError::BadScheme);
    }
    Ok(token)
}

/// Authenticates a request or gives the refusal to answer it with (401; 503 when a
/// revocation status cannot be learnt), and why (for the audit
/// record; never the token).
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    request_id: &str,
) -> Result<Verified, (EdgeError, AuthError)> {
    let result = match bearer(headers) {
        Ok(token) => state.auth.verifier.verify(token).await,
        Err(e) => Err(e),
    };
    result.map_err(|reason| {
        if matches!(&reason, AuthError::Revoked(r) if r.is_outage()) {
            tracing::warn!(%request_id, %reason, "request refused: token revocation status unknown");
            return (EdgeError::AuthUnavailable, reason);
        }
        tracing::info!(%request_id, %reason, "request refused: invalid or missing token");
        let refusal = EdgeError::Unauthorized {
            resource_metadata: metadata::metadata_url(state, headers),
            token_sent: reason != AuthError::Missing,
        };
        (refusal, reason)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn only_one_well_formed_bearer_header() {
        assert_eq!(bearer(&headers(&["Bearer abc.def.ghi"])), Ok("abc.def.ghi"));
        assert_eq!(bearer(&headers(&["bearer abc"])), Ok("abc"));
        assert_eq!(bearer(&headers(&[])), Err(AuthError::Missing));
        assert_eq!(
            bearer(&headers(&["Basic dXNlcjpwYXNz"])),
            Err(AuthError::BadScheme)
        );
        assert_eq!(bearer(&headers(&["Bearer"])), Err(AuthError::BadScheme));
        assert_eq!(bearer(&headers(&["Bearer a b"])), Err(AuthError::BadScheme));
        assert_eq!(
            bearer(&headers(&["Bearer a", "Bearer b"])),
            Err(AuthError::BadScheme)
        );
    }
}
