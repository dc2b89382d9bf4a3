//! Revocation settings: the deny-list's refresh (global: it lives in the policy table) and
//! each issuer's online check (Cognito `GetUser`, RFC 7662 introspection), from plain
//! variables for the one Cognito pool and one OIDC provider, or per issuer in
//! `GATEWAY_ISSUERS`.
//!
//! Defaults are safe and cheap: the deny-list is on whenever a policy table is configured
//! (one query per refresh interval, shared by every request); online checks are off unless
//! configured, because each costs a network call per token and cache window.

use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, bad, number, url_is_safe};
use crate::auth::revocation::{
    OnlineCheckConfig, OnlineCheckKind, OnlineSettings, OpaqueLimits, Secret,
};

/// How the deny-list is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenyListConfig {
    /// `GATEWAY_REVOCATION_REFRESH_MS` (1000; 0 reads on every request).
    pub refresh: Duration,
    /// `GATEWAY_REVOCATION_MAX_STALENESS_SECS` (300): past this age without a successful
    /// read, every token is refused.
    pub max_staleness: Duration,
}

/// `GATEWAY_REVOCATION_DENY_LIST` (`on` by default when a policy table is set; `off`).
pub fn deny_list(
    env: &impl Fn(&str) -> Option<String>,
    policy_table: Option<&str>,
) -> Result<Option<DenyListConfig>, ConfigError> {
    const NAME: &str = "GATEWAY_REVOCATION_DENY_LIST";
    let on = match flag(env, NAME)? {
        Some(true) if policy_table.is_none() => {
            return Err(bad(
                NAME,
                "the deny-list lives in the policy table: set GATEWAY_POLICY_TABLE",
            ));
        }
        Some(on) => on,
        None => policy_table.is_some(),
    };
    if !on {
        return Ok(None);
    }
    let refresh = number(env, "GATEWAY_REVOCATION_REFRESH_MS", 1_000u64, 0..=60_000)?;
    let max_staleness = number(
        env,
        "GATEWAY_REVOCATION_MAX_STALENESS_SECS",
        300u64,
        1..=86_400,
    )?;
    Ok(Some(DenyListConfig {
        refresh: Duration::from_millis(refresh),
        max_staleness: Duration::from_secs(max_staleness),
    }))
}

/// A true/false setting.
pub(crate) fn flag(
    env: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<bool>, ConfigError> {
    match env(name).map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") => Ok(None),
        Some("1" | "true" | "on" | "yes") => Ok(Some(true)),
        Some("0" | "false" | "off" | "no") => Ok(Some(false)),
        Some(v) => Err(bad(name, format!("{v:?} is not true or false"))),
    }
}

/// Online-check tuning in `GATEWAY_ISSUERS`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OnlineSpec {
    #[serde(default)]
    pub cache_secs: Option<u64>,
    #[serde(default)]
    pub fail_open: bool,
}

/// An issuer's introspection endpoint in `GATEWAY_ISSUERS`; the secret is read from the
/// variable `clientSecretEnv` names, never written into the JSON.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntrospectionSpec {
    pub url: String,
    pub client_id: String,
    pub client_secret_env: String,
    #[serde(default)]
    pub cache_secs: Option<u64>,
    #[serde(default)]
    pub fail_open: bool,
    /// Also accept opaque access tokens, identified by introspection alone.
    #[serde(default)]
    pub accept_opaque: bool,
}

const DEFAULT_CACHE_SECS: u64 = 30;

fn settings(
    env: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    cache_secs: Option<u64>,
    fail_open: bool,
) -> Result<OnlineSettings, ConfigError> {
    let cache_secs = cache_secs.unwrap_or(DEFAULT_CACHE_SECS);
    if cache_secs > 3_600 {
        return Err(bad(name, format!("cache {cache_secs} s is over 3600")));
    }
    let timeout = number(
        env,
        "GATEWAY_ONLINE_CHECK_TIMEOUT_MS",
        2_000u64,
        100..=10_000,
    )?;
    let negative = number(
        env,
        "GATEWAY_INTROSPECTION_NEGATIVE_CACHE_SECS",
        60u64,
        1..=3_600,
    )?;
    let rate = number(env, "GATEWAY_INTROSPECTION_RATE", 20u64, 1..=10_000)?;
    let burst = number(env, "GATEWAY_INTROSPECTION_BURST", 40u64, 1..=100_000)?;
    Ok(OnlineSettings {
        cache_for: Duration::from_secs(cache_secs),
        timeout: Duration::from_millis(timeout),
        fail_open,
        opaque: OpaqueLimits {
            negative_ttl: Duration::from_secs(negative),
            rate_per_sec: rate as f64,
            burst: burst as f64,
        },
    })
}

/// The plain variables' Cognito check: `GATEWAY_COGNITO_GET_USER`, with
/// `GATEWAY_COGNITO_GET_USER_CACHE_SECS` and `GATEWAY_COGNITO_GET_USER_FAIL_OPEN`.
pub fn cognito_from_env(
    env: &impl Fn(&str) -> Option<String>,
    region: &str,
) -> Result<Option<OnlineCheckConfig>, ConfigError> {
    if flag(env, "GATEWAY_COGNITO_GET_USER")? != Some(true) {
        return Ok(None);
    }
    let cache = number(
        env,
        "GATEWAY_COGNITO_GET_USER_CACHE_SECS",
        DEFAULT_CACHE_SECS,
        0..=3_600,
    )?;
    let fail_open = flag(env, "GATEWAY_COGNITO_GET_USER_FAIL_OPEN")?.unwrap_or(false);
    cognito(
        env,
        "GATEWAY_COGNITO_GET_USER",
        region,
        &OnlineSpec {
            cache_secs: Some(cache),
            fail_open,
        },
    )
    .map(Some)
}

pub fn cognito(
    env: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    region: &str,
    spec: &OnlineSpec,
) -> Result<OnlineCheckConfig, ConfigError> {
    Ok(OnlineCheckConfig {
        kind: OnlineCheckKind::CognitoGetUser {
            region: region.to_owned(),
        },
        settings: settings(env, name, spec.cache_secs, spec.fail_open)?,
        accept_opaque: false,
    })
}

/// The plain variables' introspection: `GATEWAY_OIDC_INTROSPECTION_URL`,
/// `..._CLIENT_ID`, `..._CLIENT_SECRET`, `..._CACHE_SECS`, `..._FAIL_OPEN`.
pub fn oidc_from_env(
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<OnlineCheckConfig>, ConfigError> {
    const NAME: &str = "GATEWAY_OIDC_INTROSPECTION_URL";
    let Some(url) = env(NAME).filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let client_id = env("GATEWAY_OIDC_INTROSPECTION_CLIENT_ID")
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            bad(
                "GATEWAY_OIDC_INTROSPECTION_CLIENT_ID",
                "required with GATEWAY_OIDC_INTROSPECTION_URL",
            )
        })?;
    let spec = IntrospectionSpec {
        url: url.trim().to_owned(),
        client_id: client_id.trim().to_owned(),
        client_secret_env: "GATEWAY_OIDC_INTROSPECTION_CLIENT_SECRET".into(),
        cache_secs: Some(number(
            env,
            "GATEWAY_OIDC_INTROSPECTION_CACHE_SECS",
            DEFAULT_CACHE_SECS,
            0..=3_600,
        )?),
        fail_open: flag(env, "GATEWAY_OIDC_INTROSPECTION_FAIL_OPEN")?.unwrap_or(false),
        accept_opaque: flag(env, "GATEWAY_OIDC_INTROSPECTION_OPAQUE")?.unwrap_or(false),
    };
    introspection(env, NAME, &spec).map(Some)
}

pub fn introspection(
    env: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    spec: &IntrospectionSpec,
) -> Result<OnlineCheckConfig, ConfigError> {
    if !url_is_safe(&spec.url) {
        return Err(bad(
            name,
            format!(
                "introspection URL {:?} must be https:// (http:// only on loopback)",
                spec.url
            ),
        ));
    }
    let secret = env(&spec.client_secret_env)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            bad(
                name,
                format!(
                    "the introspection client secret variable {} is not set",
                    spec.client_secret_env
                ),
            )
        })?;
    Ok(OnlineCheckConfig {
        kind: OnlineCheckKind::Introspection {
            url: spec.url.clone(),
            client_id: spec.client_id.clone(),
            client_secret: Secret(secret),
        },
        settings: settings(env, name, spec.cache_secs, spec.fail_open)?,
        accept_opaque: spec.accept_opaque,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::config::Config;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, crate::config::ConfigError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    const POOL: [(&str, &str); 2] = [
        ("GATEWAY_COGNITO_USER_POOL_ID", "us-east-1_Pool1"),
        ("GATEWAY_COGNITO_CLIENT_IDS", "c1"),
    ];

    #[test]
    fn the_deny_list_is_on_with_a_policy_table_and_online_checks_are_off_by_default() {
        let c = cfg(&POOL).unwrap();
        assert!(c.deny_list.is_none());
        assert!(c.issuers[0].online_check.is_none());
        let with_table = [POOL[0], POOL[1], ("GATEWAY_POLICY_TABLE", "policies")];
        let c = cfg(&with_table).unwrap();
        let d = c.deny_list.unwrap();
        assert_eq!(d.refresh.as_millis(), 1_000);
        let off = [
            POOL[0],
            POOL[1],
            ("GATEWAY_POLICY_TABLE", "policies"),
            ("GATEWAY_REVOCATION_DENY_LIST", "off"),
        ];
        assert!(cfg(&off).unwrap().deny_list.is_none());
        let no_table = [POOL[0], POOL[1], ("GATEWAY_REVOCATION_DENY_LIST", "on")];
        assert_eq!(
            cfg(&no_table).unwrap_err().name,
            "GATEWAY_REVOCATION_DENY_LIST"
        );
    }

    #[test]
    fn online_checks_per_issuer_from_variables_and_json() {
        let c = cfg(&[
            POOL[0],
            POOL[1],
            ("GATEWAY_COGNITO_GET_USER", "true"),
            ("GATEWAY_COGNITO_GET_USER_CACHE_SECS", "0"),
        ])
        .unwrap();
        let o = c.issuers[0].online_check.as_ref().unwrap();
        assert!(o.settings.cache_for.is_zero() && !o.settings.fail_open);
        assert!(
            matches!(&o.kind, super::OnlineCheckKind::CognitoGetUser { region } if region == "us-east-1")
        );
        let bad = [POOL[0], POOL[1], ("GATEWAY_COGNITO_GET_USER", "maybe")];
        assert_eq!(cfg(&bad).unwrap_err().name, "GATEWAY_COGNITO_GET_USER");
        // Introspection needs its secret, and the secret is never printed.
        let oidc = [
            POOL[0],
            POOL[1],
            ("GATEWAY_OIDC_ISSUER", "https://idp.example.com"),
            ("GATEWAY_OIDC_AUDIENCES", "api"),
            (
                "GATEWAY_OIDC_INTROSPECTION_URL",
                "https://idp.example.com/introspect",
            ),
            ("GATEWAY_OIDC_INTROSPECTION_CLIENT_ID", "gw"),
        ];
        assert_eq!(
            cfg(&oidc).unwrap_err().name,
            "GATEWAY_OIDC_INTROSPECTION_URL"
        );
        let mut with_secret = oidc.to_vec();
        with_secret.push(("GATEWAY_OIDC_INTROSPECTION_CLIENT_SECRET", "s3cr3t"));
        let c = cfg(&with_secret).unwrap();
        assert!(c.issuers[1].online_check.is_some());
        let limits = c.issuers[1].online_check.as_ref().unwrap().settings.opaque;
        assert_eq!(
            limits,
            super::OpaqueLimits::default(),
            "60 s, 20/s, burst 40"
        );
        let mut tuned = with_secret.clone();
        tuned.extend([
            ("GATEWAY_INTROSPECTION_NEGATIVE_CACHE_SECS", "5"),
            ("GATEWAY_INTROSPECTION_RATE", "2"),
            ("GATEWAY_INTROSPECTION_BURST", "3"),
        ]);
        let c = cfg(&tuned).unwrap();
        let limits = c.issuers[1].online_check.as_ref().unwrap().settings.opaque;
        assert_eq!(limits.negative_ttl, std::time::Duration::from_secs(5));
        assert_eq!((limits.rate_per_sec, limits.burst), (2.0, 3.0));
        let mut zero = with_secret.clone();
        zero.push(("GATEWAY_INTROSPECTION_RATE", "0"));
        assert_eq!(cfg(&zero).unwrap_err().name, "GATEWAY_INTROSPECTION_RATE");
        assert!(!format!("{c:?}").contains("s3cr3t"));
        // Two issuers accepting opaque tokens: which one would a token belong to?
        let json = r#"[
          {"kind":"oidc","issuer":"https://a.example.com","audiences":["api"],"introspection":{"url":"https://a.example.com/i","clientId":"gw","clientSecretEnv":"SECRET_A","acceptOpaque":true}},
          {"kind":"oidc","issuer":"https://b.example.com","audiences":["api"],"introspection":{"url":"https://b.example.com/i","clientId":"gw","clientSecretEnv":"SECRET_A","acceptOpaque":true}}
        ]"#;
        let two = [
            POOL[0],
            POOL[1],
            ("GATEWAY_ISSUERS", json),
            ("SECRET_A", "x"),
        ];
        assert_eq!(cfg(&two).unwrap_err().name, "GATEWAY_ISSUERS");
    }
}
