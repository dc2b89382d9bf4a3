//! What a client may register (RFC 7591) or declare in a Client ID Metadata Document:
//! public clients with the authorization code grant, redirect URIs that pass
//! `redirect::validate`. Anything else is refused with the RFC 7591 error it deserves.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{OAuthError, redirect};

/// At most this many redirect URIs per client.
pub const MAX_REDIRECT_URIS: usize = 10;
/// Largest accepted registration request or metadata document.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;

/// The part of a client's metadata the façade acts on.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientRequest {
    pub redirect_uris: Vec<String>,
    pub client_name: Option<String>,
}

/// One registration as recorded for `gatewayctl clients`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    /// The app client id at the IdP.
    pub client_id: String,
    pub client_name: Option<String>,
    pub redirect_uris: Vec<String>,
    /// The issuer whose IdP holds the app client.
    pub issuer: String,
    /// Seconds since the epoch.
    pub created_at: u64,
    /// When its client first redeemed a code; registrations never used are swept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_at: Option<u64>,
}

fn meta(why: impl Into<String>) -> OAuthError {
    OAuthError::InvalidClientMetadata(why.into())
}

fn strings(doc: &Value, name: &str) -> Result<Option<Vec<String>>, OAuthError> {
    match doc.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| meta(format!("{name} must be an array of strings"))),
        Some(_) => Err(meta(format!("{name} must be an array of strings"))),
    }
}

/// Reads client metadata: a registration request body, or a fetched metadata document.
fn read(doc: &Value) -> Result<ClientRequest, OAuthError> {
    if !doc.is_object() {
        return Err(meta("the metadata must be a JSON object"));
    }
    let redirect_uris = strings(doc, "redirect_uris")?.unwrap_or_default();
    if redirect_uris.is_empty() || redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(OAuthError::InvalidRedirectUri(format!(
            "between 1 and {MAX_REDIRECT_URIS} redirect_uris are required"
        )));
    }
    for uri in &redirect_uris {
        redirect::validate(uri)?;
    }
    if let Some(grants) = strings(doc, "grant_types")? {
        if grants
            .iter()
            .any(|g| g != "authorization_code" && g != "refresh_token")
        {
            return Err(meta(
                "only the authorization_code and refresh_token grants are offered",
            ));
        }
    }
    if let Some(types) = strings(doc, "response_types")? {
        if types.iter().any(|t| t != "code") {
            return Err(meta("only the code response type is offered"));
        }
    }
    let client_name = match doc.get("client_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) if n.chars().count() <= 200 && !n.chars().any(char::is_control) => {
            Some(n.clone())
        }
        Some(_) => return Err(meta("client_name must be a short string")),
    };
    Ok(ClientRequest {
        redirect_uris,
        client_name,
    })
}

/// An RFC 7591 registration request. The façade registers public clients only, so a
/// requested `token_endpoint_auth_method` is replaced by `none` in the answer (§3.2.1).
pub fn parse_request(body: &[u8]) -> Result<ClientRequest, OAuthError> {
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(meta("the registration request is too large"));
    }
    let doc: Value = serde_json::from_slice(body).map_err(|_| meta("the body is not JSON"))?;
    read(&doc)
}

/// Whether `url` can be a client id URL: https, a path, no fragment, no userinfo, no dot
/// segments (MCP 2025-11-25 client ID metadata documents), and a host a URL parser reads
/// (else the relay would take it for a document URL that no fetch can ever use).
pub fn is_client_id_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let Some(slash) = rest.find('/') else {
        return false;
    };
    let (authority, path) = rest.split_at(slash);
    url.len() <= 2000
        && !authority.is_empty()
        && !authority.contains(['@', '\\'])
        && path.len() > 1
        && !url.contains(['#', ' '])
        && !url.chars().any(char::is_control)
        && !path.split(['/', '?']).any(|s| s == "." || s == "..")
        && url::Url::parse(url).is_ok_and(|u| u.host_str().is_some_and(|h| !h.is_empty()))
}

/// A fetched Client ID Metadata Document for `url`: its `client_id` must be `url` exactly,
/// and it may not ask for client authentication the façade does not offer.
pub fn parse_document(url: &str, body: &[u8]) -> Result<ClientRequest, OAuthError> {
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(meta("the client metadata document is too large"));
    }
    let doc: Value = serde_json::from_slice(body)
        .map_err(|_| meta("the client metadata document is not JSON"))?;
    if doc.get("client_id").and_then(Value::as_str) != Some(url) {
        return Err(meta("the document's client_id is not its URL"));
    }
    match doc
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
    {
        None | Some("none") => {}
        Some(_) => {
            return Err(meta(
                "only public clients (token_endpoint_auth_method none)",
            ));
        }
    }
    if doc.get("client_secret").is_some() {
        return Err(meta("a metadata document never carries a secret"));
    }
    read(&doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_requests_need_valid_redirect_uris_and_code_grants() {
        let ok = parse_request(
            br#"{"redirect_uris":["http://127.0.0.1:5555/cb"],"client_name":"Claude",
                 "grant_types":["authorization_code","refresh_token"],"response_types":["code"],
                 "token_endpoint_auth_method":"client_secret_post"}"#,
        )
        .unwrap();
        assert_eq!(ok.redirect_uris, ["http://127.0.0.1:5555/cb"]);
        assert_eq!(ok.client_name.as_deref(), Some("Claude"));
        for (body, redirect_error) in [
            (&br#"{"redirect_uris":[]}"#[..], true),
            (br#"{"client_name":"x"}"#, true),
            (br#"{"redirect_uris":["http://evil.example/cb"]}"#, true),
            (br#"{"redirect_uris":["https://a.example/cb"],"grant_types":["implicit"]}"#, false),
            (br#"{"redirect_uris":["https://a.example/cb"],"grant_types":["client_credentials"]}"#, false),
            (br#"{"redirect_uris":["https://a.example/cb"],"response_types":["token"]}"#, false),
            (br#"{"redirect_uris":"https://a.example/cb"}"#, false),
            (br#"not json"#, false),
        ] {
            let e = parse_request(body).unwrap_err();
            assert_eq!(
                matches!(e, OAuthError::InvalidRedirectUri(_)),
                redirect_error,
                "{}: {e:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn metadata_documents_must_name_themselves_and_be_public() {
        let url = "https://app.example/client.json";
        let doc = format!(
            r#"{{"client_id":"{url}","redirect_uris":["http://127.0.0.1/cb"],"client_name":"App"}}"#
        );
        assert_eq!(
            parse_document(url, doc.as_bytes()).unwrap().redirect_uris,
            ["http://127.0.0.1/cb"]
        );
        assert!(parse_document("https://other.example/client.json", doc.as_bytes()).is_err());
        let secret = format!(
            r#"{{"client_id":"{url}","redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"client_secret_basic"}}"#
        );
        assert!(parse_document(url, secret.as_bytes()).is_err());
        let big = format!(
            r#"{{"client_id":"{url}","redirect_uris":["http://127.0.0.1/cb"],"x":"{}"}}"#,
            "a".repeat(6000)
        );
        assert!(parse_document(url, big.as_bytes()).is_err());
    }

    #[test]
    fn client_id_urls_are_https_with_a_path() {
        assert!(is_client_id_url("https://app.example/oauth/client.json"));
        assert!(!is_client_id_url("https://app.example/"));
        assert!(!is_client_id_url("https://app.example"));
        assert!(!is_client_id_url("http://app.example/client.json"));
        assert!(!is_client_id_url("https://u@app.example/client.json"));
        assert!(!is_client_id_url("https://app.example/a/../client.json"));
        assert!(!is_client_id_url("https://app.example/client.json#x"));
    }

    /// Found by the `register` fuzz target: an authority no URL parser reads (idna refuses
    /// it) passed as a client id URL, so the relay took it for a metadata document to fetch.
    #[test]
    fn a_client_id_url_has_a_host_a_parser_reads() {
        assert!(!is_client_id_url("https://&grant_typesoau|h/client.json"));
        assert!(!is_client_id_url("https://exa mple.com/client.json"));
        assert!(!is_client_id_url("https://:443/client.json"));
        assert!(is_client_id_url("https://app.example:8443/client.json"));
    }
}
