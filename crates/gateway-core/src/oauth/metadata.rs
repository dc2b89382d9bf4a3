//! RFC 8414 metadata: the IdP's document as fetched, and the façade's version of it with the
//! endpoints the gateway provides substituted and what it cannot honour removed.

use serde_json::{Map, Value, json};

use super::OAuthError;
use crate::urls::url_is_safe;

/// Largest IdP metadata document accepted.
pub const MAX_METADATA_BYTES: usize = 64 * 1024;

/// The IdP's metadata with the endpoints the relay needs, checked.
#[derive(Debug, Clone)]
pub struct IdpMetadata {
    pub document: Map<String, Value>,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
}

impl IdpMetadata {
    /// Parses the document served for `issuer`; its `issuer` must be that issuer (RFC 8414 §3.3).
    pub fn parse(issuer: &str, bytes: &[u8]) -> Result<Self, OAuthError> {
        let bad = |why: &str| OAuthError::Upstream(format!("IdP metadata: {why}"));
        let document: Map<String, Value> =
            serde_json::from_slice(bytes).map_err(|_| bad("not a JSON object"))?;
        if document.get("issuer").and_then(Value::as_str) != Some(issuer) {
            return Err(bad("issuer differs from the configured issuer"));
        }
        let endpoint = |name: &str| {
            document
                .get(name)
                .and_then(Value::as_str)
                .filter(|u| url_is_safe(u))
                .map(str::to_owned)
                .ok_or_else(|| bad(&format!("{name} missing or not https")))
        };
        Ok(Self {
            authorization_endpoint: endpoint("authorization_endpoint")?,
            token_endpoint: endpoint("token_endpoint")?,
            document,
        })
    }
}

/// Members that name endpoints or features the façade does not relay: a client following
/// them would present the façade's client ids to the IdP directly.
const DROPPED_WHEN_RELAYING: [&str; 12] = [
    "pushed_authorization_request_endpoint",
    "require_pushed_authorization_requests",
    "device_authorization_endpoint",
    "backchannel_authentication_endpoint",
    "mtls_endpoint_aliases",
    "revocation_endpoint",
    "introspection_endpoint",
    "authorization_response_iss_parameter_supported",
    "end_session_endpoint",
    "check_session_iframe",
    "registration_endpoint",
    "request_uri_parameter_supported",
];

/// The façade's metadata: issued by `base`, registration at `base/register`, and with the
/// relay on, authorization and token endpoints at `base/authorize` and `base/token`.
pub fn facade_document(idp: &IdpMetadata, base: &str, relay: bool, cimd: bool) -> Value {
    let mut doc = idp.document.clone();
    doc.insert("issuer".into(), json!(base));
    if relay {
        for k in DROPPED_WHEN_RELAYING {
            doc.remove(k);
        }
        doc.insert(
            "authorization_endpoint".into(),
            json!(format!("{base}/authorize")),
        );
        doc.insert("token_endpoint".into(), json!(format!("{base}/token")));
        doc.insert(
            "token_endpoint_auth_methods_supported".into(),
            json!(["none"]),
        );
        doc.insert("response_types_supported".into(), json!(["code"]));
        doc.insert("response_modes_supported".into(), json!(["query"]));
        doc.insert(
            "grant_types_supported".into(),
            json!(["authorization_code", "refresh_token"]),
        );
    }
    doc.insert(
        "registration_endpoint".into(),
        json!(format!("{base}/register")),
    );
    // Public clients always use PKCE, and only S256 (MCP authorization, OAuth 2.1).
    doc.insert("code_challenge_methods_supported".into(), json!(["S256"]));
    if cimd {
        doc.insert("client_id_metadata_document_supported".into(), json!(true));
    } else {
        doc.remove("client_id_metadata_document_supported");
    }
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idp() -> IdpMetadata {
        IdpMetadata::parse(
            "https://idp.example",
            br#"{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/auth",
                "token_endpoint":"https://idp.example/token","jwks_uri":"https://idp.example/jwks",
                "revocation_endpoint":"https://idp.example/revoke","scopes_supported":["openid"],
                "code_challenge_methods_supported":["plain","S256"]}"#,
        )
        .unwrap()
    }

    #[test]
    fn the_idp_document_must_name_its_issuer_and_safe_endpoints() {
        assert!(
            IdpMetadata::parse(
                "https://other.example",
                br#"{"issuer":"https://idp.example"}"#
            )
            .is_err()
        );
        let plain = br#"{"issuer":"https://idp.example","authorization_endpoint":"http://idp.example/a","token_endpoint":"https://idp.example/t"}"#;
        assert!(IdpMetadata::parse("https://idp.example", plain).is_err());
        assert!(IdpMetadata::parse("https://idp.example", b"[]").is_err());
    }

    #[test]
    fn relaying_facade_substitutes_its_endpoints_and_keeps_the_idp_keys() {
        let d = facade_document(&idp(), "https://gw.example", true, true);
        assert_eq!(d["issuer"], "https://gw.example");
        assert_eq!(d["authorization_endpoint"], "https://gw.example/authorize");
        assert_eq!(d["token_endpoint"], "https://gw.example/token");
        assert_eq!(d["registration_endpoint"], "https://gw.example/register");
        assert_eq!(d["jwks_uri"], "https://idp.example/jwks");
        assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(d["token_endpoint_auth_methods_supported"], json!(["none"]));
        assert_eq!(d["client_id_metadata_document_supported"], true);
        assert!(d.get("revocation_endpoint").is_none());
    }

    #[test]
    fn without_the_relay_clients_go_to_the_idp_endpoints() {
        let d = facade_document(&idp(), "https://gw.example", false, false);
        assert_eq!(d["authorization_endpoint"], "https://idp.example/auth");
        assert_eq!(d["token_endpoint"], "https://idp.example/token");
        assert_eq!(d["registration_endpoint"], "https://gw.example/register");
        assert!(d.get("client_id_metadata_document_supported").is_none());
    }
}
