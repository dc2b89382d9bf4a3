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

use revocation::Revoked;

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

impl AuthError {
    /// The stable code of this refusal: an audit record's `reason` and the `AuthFailure`
    /// metric dimension. Stored data that `gatewayctl audit` and dashboards query, so a code
    /// never changes once shipped, whatever the variant is called; a new variant gets a new
    /// code. No detail (issuer, claim name) ever goes in. A revocation names its kind too.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "Missing",
            Self::BadScheme => "BadScheme",
            Self::TooLarge => "TooLarge",
            Self::Malformed(_) => "Malformed",
            Self::Algorithm => "Algorithm",
            Self::ForbiddenHeader(_) => "ForbiddenHeader",
            Self::MissingKid => "MissingKid",
            Self::UnknownKid(_) => "UnknownKid",
            Self::NoKeys(_) => "NoKeys",
            Self::KeyMismatch => "KeyMismatch",
            Self::BadSignature => "BadSignature",
            Self::UnknownIssuer => "UnknownIssuer",
            Self::BadExp => "BadExp",
            Self::Expired => "Expired",
            Self::NotYetValid => "NotYetValid",
            Self::IssuedInFuture => "IssuedInFuture",
            Self::Audience => "Audience",
            Self::Client => "Client",
            Self::TokenUse => "TokenUse",
            Self::TokenType => "TokenType",
            Self::Claim(_) => "Claim",
            Self::Revoked(Revoked::User) => "Revoked.User",
            Self::Revoked(Revoked::Token) => "Revoked.Token",
            Self::Revoked(Revoked::Client) => "Revoked.Client",
            Self::Revoked(Revoked::SignedOut) => "Revoked.SignedOut",
            Self::Revoked(Revoked::Disabled) => "Revoked.Disabled",
            Self::Revoked(Revoked::UserGone) => "Revoked.UserGone",
            Self::Revoked(Revoked::Inactive) => "Revoked.Inactive",
            Self::Revoked(Revoked::DenyListUnavailable) => "Revoked.DenyListUnavailable",
            Self::Revoked(Revoked::CheckUnavailable) => "Revoked.CheckUnavailable",
            Self::Revoked(Revoked::IntrospectionLimited) => "Revoked.IntrospectionLimited",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// These strings are stored data (audit records in DynamoDB, metric dimensions):
    /// never change one. They are what the `Debug` variant names gave before codes were
    /// explicit, so records written then and now read alike.
    #[test]
    fn auth_failure_codes_are_pinned() {
        let codes = [
            (AuthError::Missing, "Missing"),
            (AuthError::BadScheme, "BadScheme"),
            (AuthError::TooLarge, "TooLarge"),
            (AuthError::Malformed("segments"), "Malformed"),
            (AuthError::Algorithm, "Algorithm"),
            (AuthError::ForbiddenHeader("jku"), "ForbiddenHeader"),
            (AuthError::MissingKid, "MissingKid"),
            (AuthError::UnknownKid("https://idp".into()), "UnknownKid"),
            (AuthError::NoKeys("https://idp".into()), "NoKeys"),
            (AuthError::KeyMismatch, "KeyMismatch"),
            (AuthError::BadSignature, "BadSignature"),
            (AuthError::UnknownIssuer, "UnknownIssuer"),
            (AuthError::BadExp, "BadExp"),
            (AuthError::Expired, "Expired"),
            (AuthError::NotYetValid, "NotYetValid"),
            (AuthError::IssuedInFuture, "IssuedInFuture"),
            (AuthError::Audience, "Audience"),
            (AuthError::Client, "Client"),
            (AuthError::TokenUse, "TokenUse"),
            (AuthError::TokenType, "TokenType"),
            (AuthError::Claim("sub"), "Claim"),
            (AuthError::Revoked(Revoked::User), "Revoked.User"),
            (AuthError::Revoked(Revoked::Token), "Revoked.Token"),
            (AuthError::Revoked(Revoked::Client), "Revoked.Client"),
            (AuthError::Revoked(Revoked::SignedOut), "Revoked.SignedOut"),
            (AuthError::Revoked(Revoked::Disabled), "Revoked.Disabled"),
            (AuthError::Revoked(Revoked::UserGone), "Revoked.UserGone"),
            (AuthError::Revoked(Revoked::Inactive), "Revoked.Inactive"),
            (
                AuthError::Revoked(Revoked::DenyListUnavailable),
                "Revoked.DenyListUnavailable",
            ),
            (
                AuthError::Revoked(Revoked::CheckUnavailable),
                "Revoked.CheckUnavailable",
            ),
            (
                AuthError::Revoked(Revoked::IntrospectionLimited),
                "Revoked.IntrospectionLimited",
            ),
        ];
        for (error, code) in codes {
            assert_eq!(error.code(), code, "{error:?}");
        }
    }
}
