//! Unit tests of the façade settings: what starts, what is refused and why.

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

#[test]
fn cognito_registration_without_the_relay_needs_an_initial_access_token() {
    let pool = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc";
    let base = [
        ("GATEWAY_COGNITO_USER_POOL_ID", "eu-west-1_Abc"),
        ("GATEWAY_COGNITO_CLIENT_IDS", "c1"),
        ("GATEWAY_FACADE_ISSUER", pool),
        ("GATEWAY_FACADE_REGISTRATION", "cognito"),
        ("GATEWAY_POLICY_TABLE", "mcp-gateway"),
        ("GATEWAY_FACADE_RELAY", "false"),
    ];
    assert_eq!(refused(&base), "GATEWAY_FACADE_RELAY");
    let mut with_token = base.to_vec();
    with_token.push(("GATEWAY_FACADE_REGISTRATION_TOKEN_SECRET", "iat"));
    assert!(cfg(&with_token).is_ok());
}

#[test]
fn pre_approved_patterns_and_consent_lifetimes_are_checked_at_start_up() {
    let on = [
        ("GATEWAY_FACADE_ISSUER", OIDC),
        ("GATEWAY_FACADE_CLIENT_ID", "public"),
    ];
    let with = |extra: (&'static str, &'static str)| {
        let mut v = on.to_vec();
        v.push(extra);
        cfg(&v)
    };
    let f = with((
        "GATEWAY_FACADE_PREAPPROVED_REDIRECTS",
        "https://claude.ai/api/mcp/auth_callback, https://app.example/oauth/*",
    ))
    .unwrap()
    .facade
    .unwrap();
    assert_eq!(f.preapproved_redirects.len(), 2);
    assert_eq!(f.consent_ttl_secs, 30 * 86_400);
    for bad in [
        (
            "GATEWAY_FACADE_PREAPPROVED_REDIRECTS",
            "https://*.claude.ai/cb",
        ),
        ("GATEWAY_FACADE_CONSENT_TTL_SECS", "99999999"),
        ("GATEWAY_FACADE_CIMD_TEST_ALLOW", "no-port"),
        ("GATEWAY_FACADE_STATE_KEY", "c2hvcnQ="),
    ] {
        assert_eq!(with(bad).unwrap_err().name, bad.0);
    }
    let both = [
        ("GATEWAY_FACADE_ISSUER", OIDC),
        ("GATEWAY_FACADE_CLIENT_ID", "public"),
        ("GATEWAY_FACADE_STATE_SECRET_ARN", "arn:x"),
        (
            "GATEWAY_FACADE_STATE_KEY",
            "c3RhdGUta2V5LWZvci10aGUtZmFjYWRlLWluLXNlY3JldHMtbWFuYWdlcg==",
        ),
    ];
    assert_eq!(refused(&both), "GATEWAY_FACADE_STATE_SECRET_ARN");
}
