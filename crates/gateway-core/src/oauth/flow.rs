//! The relay's authorization code flow: `/authorize` (checked in full, then the gateway's
//! consent unless this browser approved the client or the operator pre-approved its
//! redirect URI), the consent answer, `/oauth/callback` (the IdP's code sealed to the flow
//! that asked for it) and `/token` (a code redeemed only by that flow's client, redirect URI
//! and PKCE verifier, `token.rs`). Every error before consent is a gateway page, never a redirect. The
//! browser that leaves for the IdP carries a flow cookie the callback requires, so an IdP
//! link made in one browser (an attacker's, approved there) never completes in another.

use std::collections::HashMap;

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use url::Url;

use super::OAuthError;
use super::consent::{self, Approvals, ConsentPrompt};
use super::redirect::{self, Destination};
use super::relay::{Facade, RelayClient, params};

/// The cookie that binds one flow to the browser it started in (set as the browser leaves
/// for the IdP, required at the callback). The edge adds its attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowCookie {
    pub name: String,
    pub value: String,
}

/// What `GET /authorize` leads to.
#[derive(Debug)]
pub enum Authorize {
    /// Off to the IdP, with the flow's cookie.
    ToIdp { location: String, flow: FlowCookie },
    /// This browser has not approved the client for this redirect URI: ask.
    AskConsent(ConsentPrompt),
}

/// What the consent form's answer leads to.
#[derive(Debug)]
pub enum ConsentAnswer {
    /// Off to the IdP; `approvals` is the browser's new approvals cookie.
    Approved {
        location: String,
        approvals: String,
        flow: FlowCookie,
    },
    /// Refused. A client on this machine hears `access_denied` at its redirect URI; any
    /// other gets nothing (the user sees a page).
    Denied { location: Option<String> },
}

/// What travels through the IdP in `state`.
#[derive(Serialize, Deserialize)]
struct RelayState {
    /// The client's redirect URI as it sent it.
    r: String,
    /// The client's own state, returned unchanged.
    s: Option<String>,
    /// Digest of the client id.
    k: String,
    /// The client's PKCE challenge.
    x: String,
    /// The flow cookie's id (its name) and the digest of its value.
    f: String,
    b: String,
}

/// The code the client receives: the IdP's, sealed to the flow that asked for it.
#[derive(Serialize, Deserialize)]
pub(super) struct RelayCode {
    pub(super) c: String,
    pub(super) k: String,
    pub(super) r: String,
    pub(super) x: String,
}

const STATE: &str = "state";
pub(super) const CODE: &str = "code";
/// Longest client `state` relayed.
const MAX_STATE: usize = 1024;

pub(super) fn client_key(client_id: &str) -> String {
    let d = digest::digest(&digest::SHA256, client_id.as_bytes());
    B64.encode(&d.as_ref()[..16])
}

pub(super) fn s256(verifier: &str) -> String {
    B64.encode(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref())
}

/// `base` with `pairs` added to its query. A URI that does not parse (validation makes sure
/// registered ones do) is an error, never a panic: a panic aborts the process.
fn append(base: &str, pairs: &[(&str, &str)]) -> Result<String, OAuthError> {
    let mut url = Url::parse(base)
        .map_err(|_| OAuthError::InvalidRedirectUri("the redirect URI does not parse".into()))?;
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    Ok(url.into())
}

fn random(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut raw).expect("system randomness");
    B64.encode(raw)
}

/// The name of a flow's cookie (before the edge's `__Host-` prefix).
pub fn flow_cookie_name(id: &str) -> String {
    format!("mcp_gw_flow_{id}")
}

/// A fully checked `/authorize` request.
struct Checked {
    p: HashMap<String, String>,
    client_id: String,
    client: RelayClient,
    /// The registered redirect URI the given one matched (approvals are kept per it).
    registered: String,
    redirect_uri: String,
    challenge: String,
}

impl Facade {
    /// Checks everything about an `/authorize` request; any error is shown, never redirected.
    async fn check(&self, query: &str, now: u64) -> Result<Checked, OAuthError> {
        if !self.settings.relay {
            return Err(OAuthError::NotOffered);
        }
        let p = params(query);
        if p.keys().any(|k| k.ends_with("#dup")) {
            return Err(OAuthError::InvalidRequest("a parameter is repeated".into()));
        }
        let client_id = p.get("client_id").ok_or(OAuthError::UnknownClient)?.clone();
        let client = self.client(&client_id, now).await?;
        let (registered, redirect_uri) = match p.get("redirect_uri") {
            Some(given) => match redirect::find(&client.r, given) {
                Some(r) => (r.to_owned(), given.clone()),
                None => {
                    return Err(OAuthError::InvalidRedirectUri(
                        "not registered for this client".into(),
                    ));
                }
            },
            None if client.r.len() == 1 => (client.r[0].clone(), client.r[0].clone()),
            None => {
                return Err(OAuthError::InvalidRequest(
                    "redirect_uri is required".into(),
                ));
            }
        };
        if p.get("response_type").map(String::as_str) != Some("code") {
            return Err(OAuthError::InvalidRequest(
                "only response_type=code is offered".into(),
            ));
        }
        let challenge = p.get("code_challenge").cloned().unwrap_or_default();
        if p.get("code_challenge_method").map(String::as_str) != Some("S256")
            || !(43..=128).contains(&challenge.len())
            || !challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        {
            return Err(OAuthError::InvalidRequest(
                "PKCE with S256 is required".into(),
            ));
        }
        if p.get("state").is_some_and(|s| s.len() > MAX_STATE) {
            return Err(OAuthError::InvalidRequest("state is too long".into()));
        }
        Ok(Checked {
            p,
            client_id,
            client,
            registered,
            redirect_uri,
            challenge,
        })
    }

    fn preapproved(&self, registered: &str) -> bool {
        self.settings
            .preapproved_redirects
            .iter()
            .any(|pat| redirect::pattern_matches(pat, registered))
    }

    /// The IdP's authorization URL for a checked (and approved) request, and the cookie that
    /// ties the flow to this browser.
    async fn to_idp(&self, c: &Checked, now: u64) -> Result<(String, FlowCookie), OAuthError> {
        let idp = self.idp.metadata().await?;
        let id = random(9);
        let value = random(24);
        let relay_state = self.sealer.seal(
            STATE,
            &RelayState {
                r: c.redirect_uri.clone(),
                s: c.p.get("state").cloned(),
                k: client_key(&c.client_id),
                x: c.challenge.clone(),
                f: id.clone(),
                b: s256(&value),
            },
            now + self.settings.state_ttl,
        );
        let callback = self.callback_url();
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", c.client.i.as_str()),
            ("redirect_uri", callback.as_str()),
            ("code_challenge", c.challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("state", relay_state.as_str()),
        ];
        for pass in ["scope", "resource", "prompt", "login_hint", "nonce"] {
            if pass == "resource" && !self.settings.forward_resource {
                continue;
            }
            if let Some(v) = c.p.get(pass) {
                pairs.push((pass, v));
            }
        }
        let location = append(&idp.authorization_endpoint, &pairs)?;
        Ok((
            location,
            FlowCookie {
                name: flow_cookie_name(&id),
                value,
            },
        ))
    }

    /// `GET /authorize`: to the IdP when this browser approved the client (its approvals
    /// cookie) or its redirect URI is pre-approved, else the consent page, whose form is
    /// bound to `csrf_cookie`.
    pub async fn authorize(
        &self,
        query: &str,
        approvals_cookie: Option<&str>,
        csrf_cookie: &str,
        now: u64,
    ) -> Result<Authorize, OAuthError> {
        let c = self.check(query, now).await?;
        let key = consent::approval_key(&c.client_id, &c.registered);
        if self.preapproved(&c.registered)
            || Approvals::open(&self.sealer, approvals_cookie, now).approves(&key, now)
        {
            let (location, flow) = self.to_idp(&c, now).await?;
            return Ok(Authorize::ToIdp { location, flow });
        }
        let scopes =
            c.p.get("scope")
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default();
        Ok(Authorize::AskConsent(ConsentPrompt {
            client_name: c.client.n.clone(),
            client_url: c.client.url.clone(),
            destination: redirect::destination(&c.redirect_uri),
            redirect_uri: c.redirect_uri.clone(),
            scopes,
            form_token: consent::form_token(
                &self.sealer,
                query,
                csrf_cookie,
                now + self.settings.state_ttl,
            ),
        }))
    }

    /// The consent form's answer (`POST /authorize`): checked against the browser's CSRF
    /// cookie, then the original request is checked again in full.
    pub async fn consent(
        &self,
        form_token: &str,
        csrf_cookie: Option<&str>,
        approve: bool,
        approvals_cookie: Option<&str>,
        now: u64,
    ) -> Result<ConsentAnswer, OAuthError> {
        let query = consent::open_form(&self.sealer, form_token, csrf_cookie, now)?;
        let c = self.check(&query, now).await?;
        if !approve {
            let location = matches!(
                redirect::destination(&c.redirect_uri),
                Destination::ThisMachine(_)
            )
            .then(|| {
                let mut pairs = vec![("error", "access_denied")];
                if let Some(s) = c.p.get("state") {
                    pairs.push(("state", s));
                }
                append(&c.redirect_uri, &pairs)
            })
            .transpose()?;
            return Ok(ConsentAnswer::Denied { location });
        }
        let mut approvals = Approvals::open(&self.sealer, approvals_cookie, now);
        approvals.add(
            consent::approval_key(&c.client_id, &c.registered),
            now + self.settings.consent_ttl,
            now,
        );
        let (location, flow) = self.to_idp(&c, now).await?;
        Ok(ConsentAnswer::Approved {
            location,
            approvals: approvals.seal(&self.sealer),
            flow,
        })
    }

    /// `GET /oauth/callback`: where the IdP sends the browser; returns the client's
    /// (approved) redirect URI with the code sealed to this flow, or the IdP's error, and
    /// the client's state unchanged, and the name of the flow cookie to clear. `cookie`
    /// reads one of the browser's cookies by name: the flow's must be there and match.
    pub fn callback(
        &self,
        query: &str,
        cookie: impl Fn(&str) -> Option<String>,
        now: u64,
    ) -> Result<(String, String), OAuthError> {
        let p = params(query);
        let sealed = p.get("state").ok_or(OAuthError::BadSeal)?;
        let st: RelayState = self.sealer.open(STATE, sealed, now)?;
        let name = flow_cookie_name(&st.f);
        let value = cookie(&name).ok_or(OAuthError::ForeignFlow)?;
        aws_lc_rs::constant_time::verify_slices_are_equal(s256(&value).as_bytes(), st.b.as_bytes())
            .map_err(|_| OAuthError::ForeignFlow)?;
        let code;
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        match (p.get("code"), p.get("error")) {
            (Some(idp_code), None) => {
                code = self.sealer.seal(
                    CODE,
                    &RelayCode {
                        c: idp_code.clone(),
                        k: st.k.clone(),
                        r: st.r.clone(),
                        x: st.x.clone(),
                    },
                    now + self.settings.state_ttl,
                );
                pairs.push(("code", &code));
            }
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
        Ok((append(&st.r, &pairs)?, name))
    }
}
