//! The authorization-server façade's settings (`GATEWAY_FACADE_*`): off unless
//! `GATEWAY_FACADE_ISSUER` names one of the trusted issuers, which it then fronts.

use base64::Engine;

use super::{ConfigError, bad, list, url_is_safe};
use crate::auth::IssuerConfig;
use crate::auth::issuer::IssuerKind;

/// How registrations get an app client at the IdP.
#[derive(Debug, Clone, PartialEq)]
pub enum FacadeRegistration {
    /// `GATEWAY_FACADE_CLIENT_ID`: one pre-registered public client for everyone.
    Static(String),
    /// `GATEWAY_FACADE_REGISTRATION=cognito`: `CreateUserPoolClient` per registration.
    Cognito { user_pool_id: String },
}

#[derive(Clone)]
pub struct FacadeConfig {
    /// `GATEWAY_FACADE_ISSUER`: the trusted issuer the façade fronts.
    pub idp_issuer: String,
    /// `GATEWAY_FACADE_METADATA_URL`: the IdP's metadata document; by default
    /// `<issuer>/.well-known/openid-configuration`.
    pub metadata_url: String,
    /// `GATEWAY_FACADE_URL`: the façade's issuer, the gateway's origin or a path under it
    /// (an API Gateway stage); by default the origin of `GATEWAY_RESOURCE_URL`.
    pub base: String,
    /// `GATEWAY_FACADE_RELAY` (default on): the loopback relay's `/authorize` and `/token`.
    pub relay: bool,
    pub registration: FacadeRegistration,
    /// `GATEWAY_FACADE_CIMD` (default off): accept Client ID Metadata Documents; their
    /// clients use `GATEWAY_FACADE_CLIENT_ID` at the IdP.
    pub cimd: bool,
    /// `GATEWAY_FACADE_CIMD_CA_FILE`: an extra PEM root for metadata document hosts (tests).
    pub cimd_ca_file: Option<String>,
    /// `GATEWAY_FACADE_CLIENT_ID`, also used by CIMD clients.
    pub client_id: Option<String>,
    /// `GATEWAY_FACADE_SCOPES`: scopes of created app clients (default: the advertised scopes).
    pub scopes: Vec<String>,
    /// `GATEWAY_FACADE_STATE_KEY`: base64 HMAC key (>= 32 bytes) for relay state and client
    /// ids, shared by every instance, for local runs; a per-process random key when neither
    /// it nor `state_secret` is set.
    pub state_key: Option<Vec<u8>>,
    /// `GATEWAY_FACADE_STATE_SECRET_ARN`: the same key read from AWS Secrets Manager at
    /// start-up (a deployment never has it in its environment).
    pub state_secret: Option<String>,
    /// `GATEWAY_FACADE_CONSENT_TTL_SECS` (default 30 days, at most 90): how long a browser's
    /// approval of a client lasts.
    pub consent_ttl_secs: u64,
    /// `GATEWAY_FACADE_PREAPPROVED_REDIRECTS`: redirect URI patterns that skip the consent
    /// page (exact URIs, or ending in `*` after the host's `/`).
    pub preapproved_redirects: Vec<String>,
    /// `GATEWAY_FACADE_REGISTRATION_TOKEN_SECRET`: a Secrets Manager secret holding the
    /// initial access token `POST /register` then requires (RFC 7591 §3).
    pub registration_token_secret: Option<String>,
    /// `GATEWAY_FACADE_UNUSED_REGISTRATION_TTL_SECS` (default 3600): Cognito registrations
    /// whose client never redeemed a code within this are deleted.
    pub unused_registration_ttl_secs: u64,
    /// `GATEWAY_FACADE_CIMD_TEST_ALLOW`: `host:port` pairs whose metadata documents are
    /// fetched although not public on 443. Tests only; unset in every deployment.
    pub cimd_test_allow: Vec<(String, u16)>,
    /// `GATEWAY_FACADE_STATE_TTL_SECS` (default 600): how long a login may take.
    pub state_ttl_secs: u64,
    /// `GATEWAY_FACADE_MAX_REGISTRATIONS` (default 500): most app clients created by
    /// registrations (Cognito mode; Cognito allows 1,000 per pool).
    pub max_registrations: usize,
    /// `GATEWAY_FACADE_RESOURCE_PARAM` (default on): relay RFC 8707 `resource` to the IdP;
    /// off for IdPs that refuse it (Entra ID v2).
    pub forward_resource: bool,
}

impl std::fmt::Debug for FacadeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacadeConfig")
            .field("idp_issuer", &self.idp_issuer)
            .field("base", &self.base)
            .field("relay", &self.relay)
            .field("registration", &self.registration)
            .field("cimd", &self.cimd)
            .field("state_key", &self.state_key.as_ref().map(|_| "<set>"))
            .field("state_secret", &self.state_secret)
            .field("preapproved_redirects", &self.preapproved_redirects)
            .finish_non_exhaustive()
    }
}

fn flag(name: &'static str, v: Option<String>, default: bool) -> Result<bool, ConfigError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some("1" | "true" | "on" | "yes") => Ok(true),
        Some("0" | "false" | "off" | "no") => Ok(false),
        Some(o) => Err(bad(name, format!("{o:?} is not true or false"))),
    }
}

/// A sealing key: base64 (standard or URL-safe), at least 32 bytes.
pub fn decode_key(k: &str) -> Result<Vec<u8>, String> {
    let e = base64::engine::general_purpose::STANDARD;
    let u = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let key = e
        .decode(k.trim())
        .or_else(|_| u.decode(k.trim()))
        .map_err(|_| "not base64".to_owned())?;
    if key.len() < 32 {
        return Err("shorter than 32 bytes".into());
    }
    Ok(key)
}

/// Reads the façade settings; `None` when `GATEWAY_FACADE_ISSUER` is unset.
pub fn from_env(
    env: &impl Fn(&str) -> Option<String>,
    issuers: &[IssuerConfig],
    resource_url: Option<&str>,
    scopes_supported: &[String],
) -> Result<Option<FacadeConfig>, ConfigError> {
    let get = |k: &str| {
        env(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let Some(idp_issuer) = get("GATEWAY_FACADE_ISSUER") else {
        return Ok(None);
    };
    let issuer = issuers
        .iter()
        .find(|i| i.issuer == idp_issuer)
        .ok_or_else(|| {
            bad(
                "GATEWAY_FACADE_ISSUER",
                format!("{idp_issuer:?} is not a trusted issuer"),
            )
        })?;
    let metadata_url = get("GATEWAY_FACADE_METADATA_URL").unwrap_or_else(|| {
        format!(
            "{}/.well-known/openid-configuration",
            idp_issuer.trim_end_matches('/')
        )
    });
    if !url_is_safe(&metadata_url) {
        return Err(bad(
            "GATEWAY_FACADE_METADATA_URL",
            format!("{metadata_url:?} is not https"),
        ));
    }
    let base = match get("GATEWAY_FACADE_URL") {
        Some(u) => u,
        None => {
            let r = resource_url.ok_or_else(|| {
                bad(
                    "GATEWAY_FACADE_URL",
                    "required when GATEWAY_RESOURCE_URL is unset",
                )
            })?;
            let after = r.find("://").map_or(0, |i| i + 3);
            r[..r[after..].find('/').map_or(r.len(), |i| after + i)].to_owned()
        }
    };
    let base = base.trim_end_matches('/').to_owned();
    // A path is allowed (an API Gateway stage, `cargo lambda watch`'s `/lambda-url/<fn>`):
    // clients then find the metadata by OpenID Connect discovery's path appending.
    if !url_is_safe(&base) || base.contains(['?', '#']) || base.contains("/.well-known/") {
        return Err(bad(
            "GATEWAY_FACADE_URL",
            format!("{base:?} is not an https URL without query or fragment"),
        ));
    }
    let client_id = get("GATEWAY_FACADE_CLIENT_ID");
    let registration = match get("GATEWAY_FACADE_REGISTRATION").as_deref() {
        Some("cognito") => match &issuer.kind {
            IssuerKind::Cognito { .. } => FacadeRegistration::Cognito {
                user_pool_id: idp_issuer.rsplit('/').next().unwrap_or_default().to_owned(),
            },
            _ => {
                return Err(bad(
                    "GATEWAY_FACADE_REGISTRATION",
                    "cognito needs a Cognito issuer",
                ));
            }
        },
        None | Some("static") => {
            FacadeRegistration::Static(client_id.clone().ok_or_else(|| {
                bad(
                    "GATEWAY_FACADE_CLIENT_ID",
                    "the pre-registered public client is required",
                )
            })?)
        }
        Some(o) => {
            return Err(bad(
                "GATEWAY_FACADE_REGISTRATION",
                format!("{o:?} is not static or cognito"),
            ));
        }
    };
    let cimd = flag("GATEWAY_FACADE_CIMD", get("GATEWAY_FACADE_CIMD"), false)?;
    let relay = flag("GATEWAY_FACADE_RELAY", get("GATEWAY_FACADE_RELAY"), true)?;
    if cimd && (client_id.is_none() || !relay) {
        return Err(bad(
            "GATEWAY_FACADE_CIMD",
            "needs GATEWAY_FACADE_CLIENT_ID and the relay",
        ));
    }
    let state_key = match get("GATEWAY_FACADE_STATE_KEY") {
        None => None,
        Some(k) => Some(decode_key(&k).map_err(|r| bad("GATEWAY_FACADE_STATE_KEY", r))?),
    };
    // Without the relay a client registers its own redirect URIs as the Cognito app
    // client's callbacks and signs users in at Cognito directly: no consent page can stand
    // between, so only holders of the initial access token may register.
    if !relay
        && matches!(registration, FacadeRegistration::Cognito { .. })
        && get("GATEWAY_FACADE_REGISTRATION_TOKEN_SECRET").is_none()
    {
        return Err(bad(
            "GATEWAY_FACADE_RELAY",
            "off with cognito registration needs GATEWAY_FACADE_REGISTRATION_TOKEN_SECRET",
        ));
    }
    let state_secret = get("GATEWAY_FACADE_STATE_SECRET_ARN");
    if state_secret.is_some() && state_key.is_some() {
        return Err(bad(
            "GATEWAY_FACADE_STATE_SECRET_ARN",
            "set it or GATEWAY_FACADE_STATE_KEY, not both",
        ));
    }
    let preapproved_redirects = get("GATEWAY_FACADE_PREAPPROVED_REDIRECTS")
        .map(|v| list(&v))
        .unwrap_or_default();
    for p in &preapproved_redirects {
        crate::oauth::redirect::validate_pattern(p)
            .map_err(|e| bad("GATEWAY_FACADE_PREAPPROVED_REDIRECTS", e.to_string()))?;
    }
    let consent_ttl_secs = super::number(
        env,
        "GATEWAY_FACADE_CONSENT_TTL_SECS",
        30 * 86_400u64,
        60..=90 * 86_400,
    )?;
    let unused_registration_ttl_secs = super::number(
        env,
        "GATEWAY_FACADE_UNUSED_REGISTRATION_TTL_SECS",
        3_600u64,
        300..=30 * 86_400,
    )?;
    let cimd_test_allow = crate::oauth::ssrf::parse_allow_list(
        &get("GATEWAY_FACADE_CIMD_TEST_ALLOW").unwrap_or_default(),
    )
    .map_err(|e| bad("GATEWAY_FACADE_CIMD_TEST_ALLOW", e))?;
    let forward_resource = flag(
        "GATEWAY_FACADE_RESOURCE_PARAM",
        get("GATEWAY_FACADE_RESOURCE_PARAM"),
        true,
    )?;
    let max_registrations = super::number(
        env,
        "GATEWAY_FACADE_MAX_REGISTRATIONS",
        500usize,
        1..=10_000,
    )?;
    let state_ttl_secs = super::number(env, "GATEWAY_FACADE_STATE_TTL_SECS", 600u64, 30..=3600)?;
    let scopes = match get("GATEWAY_FACADE_SCOPES") {
        Some(s) => list(&s),
        None => scopes_supported.to_vec(),
    };
    Ok(Some(FacadeConfig {
        idp_issuer,
        metadata_url,
        base,
        relay,
        registration,
        cimd,
        cimd_ca_file: get("GATEWAY_FACADE_CIMD_CA_FILE"),
        client_id,
        scopes,
        state_key,
        state_secret,
        consent_ttl_secs,
        preapproved_redirects,
        registration_token_secret: get("GATEWAY_FACADE_REGISTRATION_TOKEN_SECRET"),
        unused_registration_ttl_secs,
        cimd_test_allow,
        state_ttl_secs,
        forward_resource,
        max_registrations,
    }))
}

#[cfg(test)]
#[path = "facade_tests.rs"]
mod tests;
