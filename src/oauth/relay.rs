//! The façade as a service: metadata, registration and the loopback relay. The relay
//! registers one callback with the IdP and sends the user back to the client's own redirect
//! URI. PKCE stays end to end: the client's `code_challenge` goes to the IdP unchanged and
//! the code is redeemed with the client's `code_verifier`, which the gateway never holds.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

use super::metadata::facade_document;
use super::registration::{self, Registration};
use super::seal::Sealer;
use super::{CimdFetcher, ClientFactory, IdpGateway, OAuthError, RegistrationLog, redirect};

/// How `POST /register` obtains an app client at the IdP.
#[derive(Debug, Clone, PartialEq)]
pub enum RegistrationMode {
    /// Every registration gets this pre-registered public client.
    Static { client_id: String },
    /// A Cognito app client is created per registration.
    Cognito,
}

/// The façade's settings for the one issuer it fronts.
#[derive(Debug, Clone)]
pub struct FacadeSettings {
    /// The façade's issuer URL: the gateway's origin.
    pub base: String,
    /// The IdP's issuer.
    pub idp_issuer: String,
    pub relay: bool,
    pub registration: RegistrationMode,
    /// The public client CIMD clients use at the IdP; CIMD is off without one.
    pub cimd_client_id: Option<String>,
    /// Scopes given to created app clients.
    pub scopes: Vec<String>,
    /// Lifetime of the relay state, seconds.
    pub state_ttl: u64,
    /// Whether the RFC 8707 `resource` parameter reaches the IdP (Entra ID v2 refuses it).
    pub forward_resource: bool,
    /// Most app clients created per registration (Cognito mode).
    pub max_registrations: usize,
}

/// A registered client as the relay knows it, sealed into the client id it hands out.
#[derive(Debug, Serialize, Deserialize)]
struct RelayClient {
    /// The app client at the IdP.
    i: String,
    /// The client's redirect URIs.
    r: Vec<String>,
}

/// What travels through the IdP in `state`.
#[derive(Debug, Serialize, Deserialize)]
struct RelayState {
    /// The client's redirect URI as it sent it.
    r: String,
    /// The client's own state, returned unchanged.
    s: Option<String>,
}

const CLIENT: &str = "client";
const STATE: &str = "state";
/// Client ids handed out by the relay do not expire; removing the app client revokes them.
const FOREVER: u64 = u64::MAX;

pub struct Facade {
    pub settings: FacadeSettings,
    sealer: Sealer,
    idp: Arc<dyn IdpGateway>,
    factory: Option<Arc<dyn ClientFactory>>,
    log: Option<Arc<dyn RegistrationLog>>,
    cimd: Option<Arc<dyn CimdFetcher>>,
}

fn params(raw: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        // A repeated parameter is an error (RFC 6749 §3.1); keep a marker the checks refuse.
        if out.insert(k.to_string(), v.to_string()).is_some() {
            out.insert(format!("{k}#dup"), String::new());
        }
    }
    out
}

fn append(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = Url::parse(base).expect("validated redirect URIs parse");
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    url.into()
}

impl Facade {
    pub fn new(
        settings: FacadeSettings,
        sealer: Sealer,
        idp: Arc<dyn IdpGateway>,
        factory: Option<Arc<dyn ClientFactory>>,
        log: Option<Arc<dyn RegistrationLog>>,
        cimd: Option<Arc<dyn CimdFetcher>>,
    ) -> Self {
        Self {
            settings,
            sealer,
            idp,
            factory,
            log,
            cimd,
        }
    }

    fn callback_url(&self) -> String {
        format!("{}/oauth/callback", self.settings.base)
    }

    fn cimd_on(&self) -> bool {
        self.settings.relay && self.cimd.is_some() && self.settings.cimd_client_id.is_some()
    }

    /// The RFC 8414 document served at `/.well-known/oauth-authorization-server`.
    pub async fn metadata(&self) -> Result<Value, OAuthError> {
        let idp = self.idp.metadata().await?;
        Ok(facade_document(
            &idp,
            &self.settings.base,
            self.settings.relay,
            self.cimd_on(),
        ))
    }

    /// `POST /register`: the RFC 7591 answer for a valid request.
    pub async fn register(&self, body: &[u8], now: u64) -> Result<Value, OAuthError> {
        let req = registration::parse_request(body)?;
        let idp_client = match &self.settings.registration {
            RegistrationMode::Static { client_id } => client_id.clone(),
            RegistrationMode::Cognito => {
                let factory = self.factory.as_ref().ok_or(OAuthError::NotOffered)?;
                let log = self.log.as_ref().ok_or(OAuthError::NotOffered)?;
                // Anyone may register, and each registration is an app client at the IdP.
                if log.count().await? >= self.settings.max_registrations {
                    return Err(OAuthError::RegistrationLimit);
                }
                // With the relay the IdP only ever sees the gateway's callback.
                let callbacks = if self.settings.relay {
                    vec![self.callback_url()]
                } else {
                    req.redirect_uris.clone()
                };
                let name = format!("mcp-{}", req.client_name.as_deref().unwrap_or("client"));
                let name: String = name
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || " +=,.@-_".contains(*c))
                    .take(128)
                    .collect();
                let id = factory
                    .create(&name, &callbacks, &self.settings.scopes)
                    .await?;
                log.record(&Registration {
                    client_id: id.clone(),
                    client_name: req.client_name.clone(),
                    redirect_uris: req.redirect_uris.clone(),
                    issuer: self.settings.idp_issuer.clone(),
                    created_at: now,
                })
                .await?;
                id
            }
        };
        let client_id = if self.settings.relay {
            let client = RelayClient {
                i: idp_client,
                r: req.redirect_uris.clone(),
            };
            self.sealer.seal(CLIENT, &client, FOREVER)
        } else {
            idp_client
        };
        let mut answer = json!({
            "client_id": client_id,
            "client_id_issued_at": now,
            "redirect_uris": req.redirect_uris,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        });
        if let Some(n) = req.client_name {
            answer["client_name"] = json!(n);
        }
        Ok(answer)
    }

    /// The client behind a client id: one the relay sealed, or a metadata document URL.
    async fn client(&self, client_id: &str, now: u64) -> Result<RelayClient, OAuthError> {
        if registration::is_client_id_url(client_id) && self.cimd_on() {
            let fetcher = self.cimd.as_ref().ok_or(OAuthError::UnknownClient)?;
            // The URL came from an unauthenticated request: whatever went wrong, the answer
            // is "unknown client"; the reason is logged.
            let req = match fetcher.fetch(client_id).await {
                Ok(doc) => registration::parse_document(client_id, &doc),
                Err(e) => Err(e),
            }
            .map_err(|e| {
                tracing::info!(error = %e, "client metadata document refused");
                OAuthError::UnknownClient
            })?;
            return Ok(RelayClient {
                i: self.settings.cimd_client_id.clone().unwrap_or_default(),
                r: req.redirect_uris,
            });
        }
        self.sealer
            .open(CLIENT, client_id, now)
            .map_err(|_| OAuthError::UnknownClient)
    }

    /// `GET /authorize`: the IdP URL to send the browser to, or, once client and redirect
    /// URI are known good, the client's redirect URI carrying the error. An `Err` is shown
    /// to the user and never redirected (RFC 6749 §4.1.2.1).
    pub async fn authorize(&self, query: &str, now: u64) -> Result<String, OAuthError> {
        if !self.settings.relay {
            return Err(OAuthError::NotOffered);
        }
        let p = params(query);
        if p.keys().any(|k| k.ends_with("#dup")) {
            return Err(OAuthError::InvalidRequest("a parameter is repeated".into()));
        }
        let client_id = p.get("client_id").ok_or(OAuthError::UnknownClient)?;
        let client = self.client(client_id, now).await?;
        let redirect_uri = match p.get("redirect_uri") {
            Some(given) => redirect::find(&client.r, given)
                .map(|_| given.clone())
                .ok_or_else(|| {
                    OAuthError::InvalidRedirectUri("not registered for this client".into())
                })?,
            None if client.r.len() == 1 => client.r[0].clone(),
            None => {
                return Err(OAuthError::InvalidRequest(
                    "redirect_uri is required".into(),
                ));
            }
        };
        let state = p.get("state").cloned();
        let refuse = |error: &str, why: &str| {
            let mut pairs = vec![("error", error), ("error_description", why)];
            if let Some(s) = &state {
                pairs.push(("state", s));
            }
            Ok(append(&redirect_uri, &pairs))
        };
        if p.get("response_type").map(String::as_str) != Some("code") {
            return refuse("unsupported_response_type", "only response_type=code");
        }
        let challenge = p.get("code_challenge").map(String::as_str).unwrap_or("");
        if p.get("code_challenge_method").map(String::as_str) != Some("S256")
            || !(43..=128).contains(&challenge.len())
        {
            return refuse("invalid_request", "PKCE with S256 is required");
        }
        let idp = match self.idp.metadata().await {
            Ok(m) => m,
            Err(_) => {
                return refuse(
                    "temporarily_unavailable",
                    "the identity provider is unreachable",
                );
            }
        };
        let relay_state = self.sealer.seal(
            STATE,
            &RelayState {
                r: redirect_uri.clone(),
                s: state.clone(),
            },
            now + self.settings.state_ttl,
        );
        let callback = self.callback_url();
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", client.i.as_str()),
            ("redirect_uri", callback.as_str()),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("state", relay_state.as_str()),
        ];
        for pass in ["scope", "resource", "prompt", "login_hint", "nonce"] {
            if pass == "resource" && !self.settings.forward_resource {
                continue;
            }
            if let Some(v) = p.get(pass) {
                pairs.push((pass, v));
            }
        }
        Ok(append(&idp.authorization_endpoint, &pairs))
    }

    /// `GET /oauth/callback`: where the IdP sends the browser; returns the client's redirect
    /// URI with the code (or the IdP's error) and the client's state unchanged.
    pub fn callback(&self, query: &str, now: u64) -> Result<String, OAuthError> {
        let p = params(query);
        let sealed = p.get("state").ok_or(OAuthError::BadSeal)?;
        let st: RelayState = self.sealer.open(STATE, sealed, now)?;
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        match (p.get("code"), p.get("error")) {
            (Some(code), None) => pairs.push(("code", code)),
            (_, Some(error)) => {
                let error = if error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                    error.as_str()
                } else {
                    "server_error"
                };
                pairs.push(("error", error));
                if let Some(d) = p.get("error_description").filter(|d| d.len() <= 300) {
                    pairs.push(("error_description", d));
                }
            }
            (None, None) => pairs.push(("error", "server_error")),
        }
        if let Some(s) = &st.s {
            pairs.push(("state", s));
        }
        Ok(append(&st.r, &pairs))
    }

    /// `POST /token`: the form relayed to the IdP's token endpoint with the IdP's client id
    /// and the relay's callback; the IdP's answer comes back unchanged.
    pub async fn token(&self, body: &str, now: u64) -> Result<(u16, Vec<u8>), OAuthError> {
        if !self.settings.relay {
            return Err(OAuthError::NotOffered);
        }
        let p = params(body);
        if p.keys().any(|k| k.ends_with("#dup")) {
            return Err(OAuthError::InvalidRequest("a parameter is repeated".into()));
        }
        let need = |k: &str| {
            p.get(k)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| OAuthError::InvalidRequest(format!("{k} is required")))
        };
        let client = self.client(need("client_id")?, now).await?;
        let callback = self.callback_url();
        let mut form: Vec<(String, String)> = vec![("client_id".into(), client.i.clone())];
        match p.get("grant_type").map(String::as_str) {
            Some("authorization_code") => {
                let given = need("redirect_uri")?;
                if redirect::find(&client.r, given).is_none() {
                    return Err(OAuthError::InvalidRequest(
                        "redirect_uri is not registered".into(),
                    ));
                }
                form.push(("grant_type".into(), "authorization_code".into()));
                form.push(("code".into(), need("code")?.clone()));
                form.push(("code_verifier".into(), need("code_verifier")?.clone()));
                form.push(("redirect_uri".into(), callback));
            }
            Some("refresh_token") => {
                form.push(("grant_type".into(), "refresh_token".into()));
                form.push(("refresh_token".into(), need("refresh_token")?.clone()));
                if let Some(s) = p.get("scope") {
                    form.push(("scope".into(), s.clone()));
                }
            }
            _ => return Err(OAuthError::UnsupportedGrantType),
        }
        if let Some(r) = p.get("resource").filter(|_| self.settings.forward_resource) {
            form.push(("resource".into(), r.clone()));
        }
        let idp = self.idp.metadata().await?;
        self.idp.token(&idp.token_endpoint, &form).await
    }
}
