//! The authorization-server façade's pure core: metadata substitution, registration and
//! redirect URI rules, the loopback relay's signed state, PKCE pass-through and Client ID
//! Metadata Documents. I/O (the IdP, Cognito, the registrations record, CIMD fetches)
//! sits behind the traits here, implemented in `crate::adapters`.

pub mod metadata;
pub mod redirect;
pub mod registration;
pub mod relay;
#[cfg(test)]
mod relay_tests;
pub mod seal;

use async_trait::async_trait;

pub use metadata::IdpMetadata;
pub use registration::{ClientRequest, Registration};
pub use relay::{Facade, FacadeSettings, RegistrationMode};

/// Why a façade request is refused; the edge turns each into an RFC 6749 / 7591 answer.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid redirect URI: {0}")]
    InvalidRedirectUri(String),
    #[error("invalid client metadata: {0}")]
    InvalidClientMetadata(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("unknown client")]
    UnknownClient,
    #[error("unsupported grant type")]
    UnsupportedGrantType,
    #[error("not a value this gateway signed")]
    BadSeal,
    #[error("expired")]
    Expired,
    #[error("not offered by this gateway")]
    NotOffered,
    /// `POST /register` is open to anyone: created app clients are capped.
    #[error("the registration limit is reached")]
    RegistrationLimit,
    /// The IdP, Cognito, the registrations table or a metadata document host failed; the
    /// detail is logged, never answered.
    #[error("upstream failure: {0}")]
    Upstream(String),
}

/// The IdP over HTTP: its metadata document and its token endpoint.
#[async_trait]
pub trait IdpGateway: Send + Sync {
    async fn metadata(&self) -> Result<std::sync::Arc<IdpMetadata>, OAuthError>;
    /// POSTs a form to the IdP's token endpoint; returns its status and JSON body unchanged.
    async fn token(
        &self,
        endpoint: &str,
        form: &[(String, String)],
    ) -> Result<(u16, Vec<u8>), OAuthError>;
}

/// Creates an app client at the IdP for one registration (Cognito `CreateUserPoolClient`).
#[async_trait]
pub trait ClientFactory: Send + Sync {
    /// Returns the new client's id.
    async fn create(
        &self,
        name: &str,
        callback_urls: &[String],
        scopes: &[String],
    ) -> Result<String, OAuthError>;
}

/// Where registrations are recorded so an operator can list and remove them.
#[async_trait]
pub trait RegistrationLog: Send + Sync {
    async fn record(&self, registration: &Registration) -> Result<(), OAuthError>;
    /// How many registrations are recorded.
    async fn count(&self) -> Result<usize, OAuthError>;
}

/// Fetches a Client ID Metadata Document (bounded in size and time).
#[async_trait]
pub trait CimdFetcher: Send + Sync {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, OAuthError>;
}
