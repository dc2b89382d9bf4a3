//! The façade as a service: its settings, the clients it knows (sealed client ids, Client ID
//! Metadata Documents) and registration. The relay registers one callback with the IdP and
//! sends the user back to the client's own redirect URI (`flow.rs`). PKCE stays end to end:
//! the client's `code_challenge` goes to the IdP unchanged and the code is redeemed with the
//! client's `code_verifier`, which the gateway never holds.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::{constant_time, digest};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::cimd::CimdCache;
use super::metadata::facade_document;
use super::registration::{self, Registration};
use super::seal::Sealer;
use super::{CimdFetcher, ClientFactory, IdpGateway, OAuthError, RegistrationLog};

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
    /// The façade's issuer URL: the gateway's origin (or a path under it).
    pub base: String,
    /// The IdP's issuer.
    pub idp_issuer: String,
    pub relay: bool,
    pub registration: RegistrationMode,
    /// The public client CIMD clients use at the IdP; CIMD is off without one.
    pub cimd_client_id: Option<String>,
    /// Scopes given to created app clients.
    pub scopes: Vec<String>,
    /// Lifetime of the relay state, the consent form and a relayed code, seconds.
    pub state_ttl: u64,
    /// Whether the RFC 8707 `resource` parameter reaches the IdP (Entra ID v2 refuses it).
    pub forward_resource: bool,
    /// Most app clients created by registrations (Cognito mode).
    pub max_registrations: usize,
    /// How long a browser's approval of a client lasts, seconds.
    pub consent_ttl: u64,
    /// Redirect URI patterns the operator approved for everyone (`redirect::validate_pattern`).
    pub preapproved_redirects: Vec<String>,
    /// SHA-256 of the initial access token `POST /register` requires (RFC 7591 §3), if any.
    pub registration_token_sha256: Option<Vec<u8>>,
    /// Cognito registrations never used within this many seconds are deleted.
    pub unused_registration_ttl: u64,
}

/// A registered client as the relay knows it, sealed into the client id it hands out.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct RelayClient {
    /// The app client at the IdP.
    pub(super) i: String,
    /// The client's redirect URIs.
    pub(super) r: Vec<String>,
    /// The name it registered with (shown on the consent page, marked unverified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) n: Option<String>,
    /// A random id making each registration's client id its own, so an approval given to
    /// one registration never covers another with the same metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) u: Option<String>,
    /// Set for a metadata document client: its URL (not sealed: read from the document).
    #[serde(skip)]
    pub(super) url: Option<String>,
}

const CLIENT: &str = "client";
/// Client ids handed out by the relay do not expire; removing the app client revokes them.
const FOREVER: u64 = u64::MAX;
/// Unused Cognito registrations are swept at most this often (seconds), on `/register`...
const SWEEP_EVERY: u64 = 60;
/// ... and, when every slot is taken, at most this often.
const SWEEP_WHEN_FULL: u64 = 1;
/// How long fetched metadata documents and failed fetches are remembered (seconds).
const CIMD_OK_TTL: u64 = 300;
const CIMD_FAIL_TTL: u64 = 60;

pub struct Facade {
    pub settings: FacadeSettings,
    pub(super) sealer: Sealer,
    pub(super) idp: Arc<dyn IdpGateway>,
    factory: Option<Arc<dyn ClientFactory>>,
    pub(super) log: Option<Arc<dyn RegistrationLog>>,
    cimd: Option<CimdCache>,
    last_sweep: AtomicU64,
}

pub(super) fn params(raw: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        // A repeated parameter is an error (RFC 6749 §3.1); keep a marker the checks refuse.
        if out.insert(k.to_string(), v.to_string()).is_some() {
            out.insert(format!("{k}#dup"), String::new());
        }
    }
    out
}

fn random_id() -> String {
    use base64::Engine;
    let mut raw = [0u8; 12];
    aws_lc_rs::rand::fill(&mut raw).expect("system randomness");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
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
            cimd: cimd.map(|f| CimdCache::new(f, CIMD_OK_TTL, CIMD_FAIL_TTL)),
            last_sweep: AtomicU64::new(0),
        }
    }

    pub(super) fn callback_url(&self) -> String {
        format!("{}/oauth/callback", self.settings.base)
    }

    fn cimd_on(&self) -> bool {
        self.settings.relay && self.cimd.is_some() && self.settings.cimd_client_id.is_some()
    }

    /// The sealer behind client ids, relay state, consent and codes (the edge seals the
    /// approvals cookie with it too).
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
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

    /// RFC 7591 §3: the initial access token, when the operator requires one.
    fn check_registration_token(&self, bearer: Option<&str>) -> Result<(), OAuthError> {
        let Some(want) = &self.settings.registration_token_sha256 else {
            return Ok(());
        };
        let given = bearer.ok_or(OAuthError::InvalidToken)?;
        let got = digest::digest(&digest::SHA256, given.as_bytes());
        constant_time::verify_slices_are_equal(got.as_ref(), want)
            .map_err(|_| OAuthError::InvalidToken)
    }

    /// Deletes Cognito registrations nobody ever used (at most once a minute): anyone may
    /// register, and every registration holds a slot and an app client at the IdP.
    async fn sweep_unused(&self, now: u64, every: u64) {
        let (Some(factory), Some(log)) = (&self.factory, &self.log) else {
            return;
        };
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now < last.saturating_add(every)
            || self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let before = now.saturating_sub(self.settings.unused_registration_ttl);
        let unused = match log.unused_before(&self.settings.idp_issuer, before).await {
            Ok(u) => u,
            Err(e) => {
                tracing::warn!(error = %e, "façade: unused registrations not swept");
                return;
            }
        };
        for id in unused {
            let swept = async {
                factory.delete(&id).await?;
                if log.remove(&id).await? {
                    log.release().await?;
                }
                Ok::<_, OAuthError>(())
            };
            match swept.await {
                Ok(()) => tracing::info!(client_id = %id, "façade: unused registration removed"),
                Err(e) => tracing::warn!(client_id = %id, error = %e, "façade: sweep failed"),
            }
        }
    }

    /// A Cognito app client for one registration, inside a reserved slot.
    async fn create_cognito_client(
        &self,
        req: &registration::ClientRequest,
        now: u64,
    ) -> Result<String, OAuthError> {
        let factory = self.factory.as_ref().ok_or(OAuthError::NotOffered)?;
        let log = self.log.as_ref().ok_or(OAuthError::NotOffered)?;
        // Use is seen at the relay's /token only: without the relay nothing is swept.
        let sweeps = self.settings.relay;
        if sweeps {
            self.sweep_unused(now, SWEEP_EVERY).await;
        }
        if !log.reserve(self.settings.max_registrations).await? {
            // Full: what expired may free a slot.
            if sweeps {
                self.sweep_unused(now, SWEEP_WHEN_FULL).await;
            }
            if !log.reserve(self.settings.max_registrations).await? {
                return Err(OAuthError::RegistrationLimit);
            }
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
        let id = match factory
            .create(&name, &callbacks, &self.settings.scopes)
            .await
        {
            Ok(id) => id,
            Err(e) => {
                if let Err(r) = log.release().await {
                    tracing::warn!(error = %r, "façade: a registration slot was not released");
                }
                return Err(e);
            }
        };
        let recorded = log
            .record(&Registration {
                client_id: id.clone(),
                client_name: req.client_name.clone(),
                redirect_uris: req.redirect_uris.clone(),
                issuer: self.settings.idp_issuer.clone(),
                created_at: now,
                used_at: None,
            })
            .await;
        if let Err(e) = recorded {
            // An app client nobody can list or sweep would hold its slot for ever: undo both.
            let undone = async {
                factory.delete(&id).await?;
                log.release().await
            };
            if let Err(u) = undone.await {
                tracing::warn!(client_id = %id, error = %u, "façade: an unrecorded app client was not undone");
            }
            return Err(e);
        }
        Ok(id)
    }

    /// `POST /register`: the RFC 7591 answer for a valid request. `bearer` is the request's
    /// `Authorization: Bearer` value, if any.
    pub async fn register(
        &self,
        body: &[u8],
        bearer: Option<&str>,
        now: u64,
    ) -> Result<Value, OAuthError> {
        self.check_registration_token(bearer)?;
        let req = registration::parse_request(body)?;
        let idp_client = match &self.settings.registration {
            RegistrationMode::Static { client_id } => client_id.clone(),
            RegistrationMode::Cognito => self.create_cognito_client(&req, now).await?,
        };
        let client_id = if self.settings.relay {
            let client = RelayClient {
                i: idp_client,
                r: req.redirect_uris.clone(),
                n: req.client_name.clone(),
                u: Some(random_id()),
                url: None,
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
    pub(super) async fn client(
        &self,
        client_id: &str,
        now: u64,
    ) -> Result<RelayClient, OAuthError> {
        if registration::is_client_id_url(client_id) && self.cimd_on() {
            let cache = self.cimd.as_ref().ok_or(OAuthError::UnknownClient)?;
            let req = cache.client(client_id, now).await?;
            return Ok(RelayClient {
                i: self.settings.cimd_client_id.clone().unwrap_or_default(),
                r: req.redirect_uris,
                n: req.client_name,
                u: None,
                url: Some(client_id.to_owned()),
            });
        }
        self.sealer
            .open(CLIENT, client_id, now)
            .map_err(|_| OAuthError::UnknownClient)
    }
}
