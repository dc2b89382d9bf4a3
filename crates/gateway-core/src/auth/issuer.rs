//! Trusted issuers: what each accepts and where its keys are. Built from configuration
//! (`config::issuers`) and validated there; the verifier only reads them.

use std::sync::Arc;

use super::registered::RegisteredClients;
use super::revocation::OnlineCheckConfig;

/// How an issuer's access tokens are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerKind {
    /// Amazon Cognito user pool: access tokens carry no `aud`; `token_use` must be
    /// `access` and `client_id` one of the allowed app clients.
    Cognito { client_ids: Vec<String> },
    /// Any OIDC provider: `aud` must hold one of `audiences`; `client_ids`, when set,
    /// restricts the client (`client_id`, `azp` or `appid`).
    Oidc {
        audiences: Vec<String>,
        client_ids: Vec<String>,
    },
}

/// Where the keys come from. Never from the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A JWKS URL given by configuration (or derived for Cognito).
    Jwks(String),
    /// OpenID discovery document URL; its `jwks_uri` is used.
    Discovery(String),
}

/// One trusted issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerConfig {
    /// Compared byte for byte with `iss` (no normalisation: a trailing slash matters).
    pub issuer: String,
    pub kind: IssuerKind,
    pub keys: KeySource,
    /// Path of the groups claim, split at dots (`realm_access.roles`).
    pub groups_claim: Vec<String>,
    /// Put before every group of this issuer's tokens (`okta:` makes `admins` `okta:admins`),
    /// so that issuers do not share one group namespace; empty by default.
    pub group_prefix: String,
    /// Claims tried in order for the user name; `sub` when none is present.
    pub username_claims: Vec<String>,
    /// Asking the issuer whether a verified token still stands (off by default: it costs
    /// a network call per token and cache window).
    pub online_check: Option<OnlineCheckConfig>,
    /// Cognito: the app clients the gateway registered itself (façade registration mode),
    /// accepted beside the configured ones.
    pub registered_clients: Option<Arc<RegisteredClients>>,
    /// Accept only JWTs whose header says `typ: at+jwt` (RFC 9068), for issuers that type
    /// their access tokens: an ID token (plain `JWT`) is then refused by its header alone.
    pub require_at_jwt: bool,
}

impl IssuerConfig {
    /// Whether a token of this issuer may come from `client_id`: a Cognito token only from a
    /// configured or registered app client; an OIDC token from any client unless client
    /// ids are configured.
    pub fn accepts_client(&self, client_id: Option<&str>) -> bool {
        match &self.kind {
            IssuerKind::Cognito { client_ids } => client_id.is_some_and(|c| {
                client_ids.iter().any(|k| k == c)
                    || self
                        .registered_clients
                        .as_ref()
                        .is_some_and(|r| r.contains(c))
            }),
            IssuerKind::Oidc { client_ids, .. } => {
                client_ids.is_empty()
                    || client_id.is_some_and(|c| client_ids.iter().any(|k| k == c))
            }
        }
    }

    /// A Cognito user pool.
    pub fn cognito(
        region: &str,
        pool_id: &str,
        client_ids: Vec<String>,
        jwks_url: Option<String>,
    ) -> Self {
        let issuer = format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}");
        let jwks = jwks_url.unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json"));
        Self {
            issuer,
            kind: IssuerKind::Cognito { client_ids },
            keys: KeySource::Jwks(jwks),
            groups_claim: vec!["cognito:groups".into()],
            group_prefix: String::new(),
            username_claims: vec!["username".into()],
            online_check: None,
            registered_clients: None,
            require_at_jwt: false,
        }
    }

    /// An OIDC provider.
    pub fn oidc(
        issuer: String,
        audiences: Vec<String>,
        client_ids: Vec<String>,
        jwks_url: Option<String>,
        groups_claim: &str,
    ) -> Self {
        let keys = match jwks_url {
            Some(u) => KeySource::Jwks(u),
            None => KeySource::Discovery(format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            )),
        };
        Self {
            issuer,
            kind: IssuerKind::Oidc {
                audiences,
                client_ids,
            },
            keys,
            groups_claim: groups_claim.split('.').map(str::to_owned).collect(),
            group_prefix: String::new(),
            username_claims: vec![
                "preferred_username".into(),
                "username".into(),
                "upn".into(),
                "email".into(),
            ],
            online_check: None,
            registered_clients: None,
            require_at_jwt: false,
        }
    }
}
