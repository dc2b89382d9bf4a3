//! The authorization-server façade's pure core: metadata substitution, registration and
//! redirect URI rules, the gateway's own consent, the loopback relay's signed state and
//! flow-bound codes, PKCE pass-through and Client ID Metadata Documents (fetched only from
//! public addresses, cached). I/O (the IdP, Cognito, the registrations record, CIMD
//! fetches) sits behind the traits here, implemented in `crate::adapters`.

pub mod cimd;
pub mod consent;
#[cfg(test)]
mod consent_tests;
mod flow;
pub mod metadata;
pub mod redirect;
pub mod registration;
pub mod relay;
#[cfg(test)]
mod relay_tests;
pub mod seal;
pub mod ssrf;
mod token;

use async_trait::async_trait;

pub use consent::ConsentPrompt;
pub use flow::{Authorize, ConsentAnswer, FlowCookie, flow_cookie_name};
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
    /// `/token`: a code that is not ours, expired, or came back for another client,
    /// redirect URI or PKCE challenge (RFC 6749 §4.1.3).
    #[error("invalid grant: {0}")]
    InvalidGrant(String),
    /// `POST /register` without the initial access token the operator requires.
    #[error("an initial access token is required to register")]
    InvalidToken,
    /// A consent form posted without the CSRF cookie of the browser it was shown to, or
    /// from another origin.
    #[error("the consent form was not posted by the browser it was shown to")]
    CrossSiteForm,
    /// A callback in a browser without the flow's cookie: the sign-in was started elsewhere.
    #[error("this sign-in was started in another browser")]
    ForeignFlow,
    #[error("unsupported grant type")]
    UnsupportedGrantType,
    #[error("not a value this gateway signed")]
    BadSeal,
    #[error("expired")]
    Expired,
    #[error("not offered by this gateway")]
    NotOffered,
    /// Created app clients are capped (an atomic slot reservation before each one).
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

/// Creates (and deletes) app clients at the IdP for registrations (Cognito
/// `CreateUserPoolClient` / `DeleteUserPoolClient`).
#[async_trait]
pub trait ClientFactory: Send + Sync {
    /// Returns the new client's id.
    async fn create(
        &self,
        name: &str,
        callback_urls: &[String],
        scopes: &[String],
    ) -> Result<String, OAuthError>;
    /// `Ok(false)` when it did not exist.
    async fn delete(&self, client_id: &str) -> Result<bool, OAuthError>;
}

/// Where registrations are recorded so an operator can list and remove them, with the
/// counter that caps them.
#[async_trait]
pub trait RegistrationLog: Send + Sync {
    async fn record(&self, registration: &Registration) -> Result<(), OAuthError>;
    /// Takes one of `max` registration slots atomically (a conditional counter), before the
    /// app client is created; `Ok(false)` when every slot is taken.
    async fn reserve(&self, max: usize) -> Result<bool, OAuthError>;
    /// Gives a slot back (a creation that failed, a registration removed).
    async fn release(&self) -> Result<(), OAuthError>;
    /// Notes that a registration's client redeemed a code (it is then never expired).
    async fn mark_used(&self, client_id: &str, now: u64) -> Result<(), OAuthError>;
    /// Client ids of this issuer's registrations created before `before` and never used.
    async fn unused_before(&self, issuer: &str, before: u64) -> Result<Vec<String>, OAuthError>;
    /// Removes a record; `Ok(false)` when there was none.
    async fn remove(&self, client_id: &str) -> Result<bool, OAuthError>;
}

/// Fetches a Client ID Metadata Document (bounded in size and time).
#[async_trait]
pub trait CimdFetcher: Send + Sync {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, OAuthError>;
}
