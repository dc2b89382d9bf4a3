//! Token verification core: JWS and JWK handling, per-issuer claim rules, key stores and the
//! multi-issuer verifier with its cache of verified tokens. Imports no AWS SDK and no HTTP
//! client; key documents arrive through the `JwksFetcher` trait.

pub mod cache;
pub mod claims;
pub mod digest;
pub mod issuer;
pub mod jwk;
pub mod jws;
pub mod keystore;
pub mod registered;
pub mod revocation;
pub mod verifier;

pub use issuer::{IssuerConfig, IssuerKind};
pub use keystore::{FetchError, JwksFetcher};
pub use registered::{RegisteredClientSource, RegisteredClients};
pub use verifier::Verifier;

/// Who called: what a verified token says, for policy and audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub issuer: String,
    pub subject: String,
    pub username: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub scopes: Vec<String>,
    pub client_id: Option<String>,
    /// `exp`, seconds since the epoch.
    pub expires_at: u64,
    /// `jti`, when the token has one.
    pub token_id: Option<String>,
}

/// Why a token was refused. The client only ever learns "invalid token"; this detail is
/// for the log, and never contains the token.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("Authorization header is not a single Bearer token")]
    BadScheme,
    #[error("token larger than the size cap")]
    TooLarge,
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    #[error("algorithm not accepted")]
    Algorithm,
    #[error("header parameter {0} not accepted")]
    ForbiddenHeader(&'static str),
    #[error("token has no kid")]
    MissingKid,
    #[error("kid unknown to issuer {0}")]
    UnknownKid(String),
    #[error("no keys were ever loaded for issuer {0}")]
    NoKeys(String),
    #[error("header alg differs from the key's algorithm")]
    KeyMismatch,
    #[error("signature does not verify")]
    BadSignature,
    #[error("issuer not trusted")]
    UnknownIssuer,
    #[error("exp missing or not a number")]
    BadExp,
    #[error("token expired")]
    Expired,
    #[error("token not valid yet (nbf)")]
    NotYetValid,
    #[error("token issued in the future (iat)")]
    IssuedInFuture,
    #[error("audience not accepted")]
    Audience,
    #[error("client_id not allowed")]
    Client,
    #[error("token_use is not access")]
    TokenUse,
    /// An ID, refresh or other non-access token by its header `typ` or a payload marker, or
    /// not `typ: at+jwt` where the issuer requires RFC 9068 typing.
    #[error("not an access token (typ / token_type)")]
    TokenType,
    #[error("claim {0} missing or malformed")]
    Claim(&'static str),
    /// Verified, but revoked since (or its revocation status cannot be known).
    #[error("token refused: {0}")]
    Revoked(revocation::Revoked),
}
