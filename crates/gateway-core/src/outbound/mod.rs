//! Outbound credentials of an HTTP target: what the gateway itself presents to the target
//! (a static header, or an OAuth 2.0 client-credentials token), never the caller's token.
//!
//! Pure: the catalog model and its validation. Secret values never appear in the catalog —
//! only where to read them (an environment variable or an AWS Secrets Manager secret), and
//! only from the sources `sources` allows; `adapters::outbound_auth` resolves them at call
//! time.

use serde::{Deserialize, Serialize};

pub mod sources;
pub use sources::SecretSources;

use crate::urls::url_is_safe;

/// How an HTTP target is authenticated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum OutboundAuth {
    /// One header with a secret value, e.g. `x-api-key` or `Authorization: Bearer <key>`.
    #[serde(rename_all = "camelCase")]
    Header { name: String, value: SecretRef },
    /// A token from `tokenUrl` (client-credentials grant, `client_secret_post`), sent as
    /// `Authorization: Bearer <token>` and cached until shortly before it expires.
    #[serde(rename_all = "camelCase")]
    Oauth2ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret: SecretRef,
        /// Space-separated scopes to request.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audience: Option<String>,
        /// RFC 8707 resource indicator.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource: Option<String>,
    },
}

/// Where a secret value is read: exactly one of `env` or `secret` (a Secrets Manager id
/// or ARN, optionally with `field`, a key of the secret's JSON object). A plain string is
/// refused by deserialization: the catalog never holds a secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl OutboundAuth {
    /// The token endpoint, for `${VAR}` expansion by configuration sources.
    pub fn token_url_mut(&mut self) -> Option<&mut String> {
        match self {
            OutboundAuth::Oauth2ClientCredentials { token_url, .. } => Some(token_url),
            OutboundAuth::Header { .. } => None,
        }
    }
}

impl SecretRef {
    /// Where the value comes from, for display (never the value).
    pub fn describe(&self) -> String {
        match (&self.env, &self.secret, &self.field) {
            (Some(var), _, _) => format!("env {var}"),
            (None, Some(id), Some(field)) => format!("secret {id}#{field}"),
            (None, Some(id), None) => format!("secret {id}"),
            (None, None, _) => "nothing".into(),
        }
    }
}

impl OutboundAuth {
    /// A one-line summary for listings (never a secret value).
    pub fn describe(&self) -> String {
        match self {
            OutboundAuth::Header { name, value } => {
                format!("header {name} from {}", value.describe())
            }
            OutboundAuth::Oauth2ClientCredentials {
                token_url,
                client_id,
                ..
            } => format!("oauth2 client {client_id} at {token_url}"),
        }
    }
}

/// Headers a credential may not set: framing, routing, and the gateway's own.
const RESERVED: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "proxy-authorization",
    "proxy-connection",
    "x-request-id",
    crate::identity::HEADER,
];

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn check_secret(what: &str, r: &SecretRef) -> Result<(), String> {
    let nonempty = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    match (&r.env, &r.secret) {
        (Some(_), None) if r.field.is_some() => {
            Err(format!("{what}: field applies to secret only"))
        }
        (Some(_), None) if nonempty(&r.env) => Ok(()),
        (None, Some(_)) if nonempty(&r.secret) => match &r.field {
            Some(f) if f.is_empty() => Err(format!("{what}: field must not be empty")),
            _ => Ok(()),
        },
        _ => Err(format!(
            "{what} must be {{env: VAR}} or {{secret: ID, field?: KEY}}"
        )),
    }
}

/// Why `auth` names a secret source `sources` refuses, if it does; the error starts with
/// the field's path within `auth` (`value.env`, `clientSecret.secret`).
pub fn check_sources(auth: &OutboundAuth, sources: &SecretSources) -> Result<(), String> {
    let (field, r) = match auth {
        OutboundAuth::Header { value, .. } => ("value", value),
        OutboundAuth::Oauth2ClientCredentials { client_secret, .. } => {
            ("clientSecret", client_secret)
        }
    };
    sources.check(r).map_err(|e| format!("{field}.{e}"))
}

/// Why `auth` is unusable, if it is.
pub fn validate(auth: &OutboundAuth) -> Result<(), String> {
    match auth {
        OutboundAuth::Header { name, value } => {
            if !is_token(name) {
                return Err(format!("header name {name:?} is not a valid header name"));
            }
            let lower = name.to_ascii_lowercase();
            if RESERVED.contains(&lower.as_str()) {
                return Err(format!("header {name:?} cannot carry a credential"));
            }
            check_secret("header value", value)
        }
        OutboundAuth::Oauth2ClientCredentials {
            token_url,
            client_id,
            client_secret,
            scope,
            audience,
            resource,
        } => {
            if !url_is_safe(token_url) {
                return Err(format!(
                    "tokenUrl {token_url:?} must be https:// (or http:// on loopback)"
                ));
            }
            if client_id.trim().is_empty() {
                return Err("clientId must not be empty".into());
            }
            let blank = |v: &Option<String>| v.as_deref().is_some_and(|s| s.trim().is_empty());
            if blank(scope) || blank(audience) || blank(resource) {
                return Err("scope, audience and resource must not be empty when set".into());
            }
            check_secret("clientSecret", client_secret)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<OutboundAuth, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn parses_both_kinds_and_round_trips() {
        let h =
            parse(json!({"kind": "header", "name": "x-api-key", "value": {"env": "K"}})).unwrap();
        assert!(validate(&h).is_ok());
        assert_eq!(h.describe(), "header x-api-key from env K");
        let o = parse(json!({
            "kind": "oauth2ClientCredentials", "tokenUrl": "https://idp.example/token",
            "clientId": "c", "clientSecret": {"secret": "arn:x", "field": "s"}, "scope": "a b"
        }))
        .unwrap();
        assert!(validate(&o).is_ok());
        let back: OutboundAuth = serde_json::from_value(serde_json::to_value(&o).unwrap()).unwrap();
        assert_eq!(back, o);
    }

    #[test]
    fn refuses_literal_secrets_and_unknown_fields() {
        assert!(parse(json!({"kind": "header", "name": "x-api-key", "value": "s3cr3t"})).is_err());
        assert!(
            parse(json!({"kind": "header", "name": "a", "value": {"env": "K"}, "x": 1})).is_err()
        );
        assert!(
            parse(
                json!({"kind": "oauth2ClientCredentials", "tokenUrl": "https://i/t",
                "clientId": "c", "clientSecret": "s"})
            )
            .is_err()
        );
    }

    #[test]
    fn validates_names_urls_and_sources() {
        let header = |name: &str, value: serde_json::Value| {
            validate(&parse(json!({"kind": "header", "name": name, "value": value})).unwrap())
        };
        assert!(header("Authorization", json!({"env": "K"})).is_ok());
        assert!(header("x-api-key", json!({"secret": "id", "field": "k"})).is_ok());
        for bad in [
            "host",
            "Content-Length",
            "x-gateway-identity",
            "bad name",
            "",
        ] {
            assert!(header(bad, json!({"env": "K"})).is_err(), "{bad}");
        }
        assert!(header("a", json!({})).is_err());
        assert!(header("a", json!({"env": "K", "secret": "s"})).is_err());
        assert!(header("a", json!({"env": ""})).is_err());
        assert!(header("a", json!({"env": "K", "field": "f"})).is_err());
        let oauth = |url: &str, id: &str| {
            validate(
                &parse(json!({"kind": "oauth2ClientCredentials", "tokenUrl": url,
                    "clientId": id, "clientSecret": {"env": "S"}}))
                .unwrap(),
            )
        };
        assert!(oauth("http://127.0.0.1:9/token", "c").is_ok());
        assert!(oauth("http://idp.example/token", "c").is_err());
        assert!(oauth("https://idp.example/token", " ").is_err());
    }
}
