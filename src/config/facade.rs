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
    /// ids, shared by every instance; a per-process random key when unset.
    pub state_key: Option<Vec<u8>>,
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
        Some(k) => {
            let e = base64::engine::general_purpose::STANDARD;
            let u = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let key = e
                .decode(&k)
                .or_else(|_| u.decode(&k))
                .map_err(|_| bad("GATEWAY_FACADE_STATE_KEY", "not base64"))?;
            if key.len() < 32 {
                return Err(bad("GATEWAY_FACADE_STATE_KEY", "shorter than 32 bytes"));
            }
            Some(key)
        }
    };
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
        state_ttl_secs,
        forward_resource,
        max_registrations,
    }))
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError};
    use std::collections::HashMap;

    const OIDC: &str = "https://idp.example";

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        m.entry("GATEWAY_OIDC_ISSUER".into()).or_insert(OIDC.into());
        m.entry("GATEWAY_RESOURCE_URL".into())
            .or_insert("https://gw.example/mcp".into());
        Config::from_lookup(|k| m.get(k).cloned())
    }

    fn refused(pairs: &[(&str, &str)]) -> &'static str {
        cfg(pairs).expect_err("refused").name
    }

    #[test]
    fn the_facade_is_off_unless_an_issuer_is_named() {
        let c = cfg(&[]).unwrap();
        assert!(c.facade.is_none());
        assert_eq!(c.authorization_servers, [OIDC]);
    }

    #[test]
    fn with_the_facade_on_the_metadata_names_the_gateway() {
        let c = cfg(&[
            ("GATEWAY_FACADE_ISSUER", OIDC),
            ("GATEWAY_FACADE_CLIENT_ID", "public"),
        ])
        .unwrap();
        let f = c.facade.unwrap();
        assert_eq!(f.base, "https://gw.example");
        assert_eq!(c.authorization_servers, ["https://gw.example"]);
        assert!(f.relay && !f.cimd && f.forward_resource);
        assert_eq!(
            f.metadata_url,
            format!("{OIDC}/.well-known/openid-configuration")
        );
        assert_eq!(f.state_ttl_secs, 600);
    }

    #[test]
    fn the_facade_may_live_under_a_path_prefix() {
        let c = cfg(&[
            ("GATEWAY_FACADE_ISSUER", OIDC),
            ("GATEWAY_FACADE_CLIENT_ID", "public"),
            ("GATEWAY_FACADE_URL", "https://gw.example/prod/"),
        ])
        .unwrap();
        assert_eq!(c.facade.unwrap().base, "https://gw.example/prod");
        assert_eq!(c.authorization_servers, ["https://gw.example/prod"]);
    }

    #[test]
    fn bad_facade_settings_stop_start_up_naming_the_variable() {
        let on = [
            ("GATEWAY_FACADE_ISSUER", OIDC),
            ("GATEWAY_FACADE_CLIENT_ID", "public"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut v = on.to_vec();
            v.extend_from_slice(extra);
            refused(&v)
        };
        assert_eq!(
            refused(&[("GATEWAY_FACADE_ISSUER", "https://other.example")]),
            "GATEWAY_FACADE_ISSUER"
        );
        assert_eq!(
            refused(&[("GATEWAY_FACADE_ISSUER", OIDC)]),
            "GATEWAY_FACADE_CLIENT_ID"
        );
        assert_eq!(
            with(&[("GATEWAY_FACADE_REGISTRATION", "cognito")]),
            "GATEWAY_FACADE_REGISTRATION"
        );
        assert_eq!(
            with(&[("GATEWAY_FACADE_STATE_KEY", "c2hvcnQ=")]),
            "GATEWAY_FACADE_STATE_KEY"
        );
        assert_eq!(
            with(&[("GATEWAY_FACADE_URL", "http://gw.example")]),
            "GATEWAY_FACADE_URL"
        );
        assert_eq!(
            with(&[("GATEWAY_FACADE_URL", "https://gw.example/prod?x=1")]),
            "GATEWAY_FACADE_URL"
        );
        assert_eq!(
            with(&[("GATEWAY_FACADE_URL", "https://gw.example/prod#top")]),
            "GATEWAY_FACADE_URL"
        );
        assert_eq!(
            with(&[("GATEWAY_FACADE_RELAY", "maybe")]),
            "GATEWAY_FACADE_RELAY"
        );
        assert_eq!(
            with(&[
                ("GATEWAY_FACADE_CIMD", "true"),
                ("GATEWAY_FACADE_RELAY", "false")
            ]),
            "GATEWAY_FACADE_CIMD"
        );
        assert_eq!(
            with(&[("GATEWAY_FACADE_STATE_TTL_SECS", "5")]),
            "GATEWAY_FACADE_STATE_TTL_SECS"
        );
    }

    #[test]
    fn cognito_registration_needs_a_cognito_issuer_and_finds_its_pool() {
        let pool = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc";
        let c = cfg(&[
            ("GATEWAY_COGNITO_USER_POOL_ID", "eu-west-1_Abc"),
            ("GATEWAY_COGNITO_CLIENT_IDS", "c1"),
            ("GATEWAY_FACADE_ISSUER", pool),
            ("GATEWAY_FACADE_REGISTRATION", "cognito"),
            ("GATEWAY_POLICY_TABLE", "mcp-gateway"),
        ])
        .unwrap();
        // Without a table to record them in, Cognito registrations are refused at start-up.
        let no_table = cfg(&[
            ("GATEWAY_COGNITO_USER_POOL_ID", "eu-west-1_Abc"),
            ("GATEWAY_COGNITO_CLIENT_IDS", "c1"),
            ("GATEWAY_FACADE_ISSUER", pool),
            ("GATEWAY_FACADE_REGISTRATION", "cognito"),
        ]);
        assert_eq!(no_table.unwrap_err().name, "GATEWAY_FACADE_REGISTRATION");
        assert_eq!(
            c.facade.unwrap().registration,
            super::FacadeRegistration::Cognito {
                user_pool_id: "eu-west-1_Abc".into()
            }
        );
    }
}
