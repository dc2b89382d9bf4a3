//! Unit tests of configuration parsing: every bad value names its variable.

use super::*;
use std::collections::HashMap;

fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut m: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    m.entry("GATEWAY_COGNITO_USER_POOL_ID".into())
        .or_insert("us-east-1_Pool1".into());
    m.entry("GATEWAY_COGNITO_CLIENT_IDS".into())
        .or_insert("client1".into());
    Config::from_lookup(|k| m.get(k).cloned())
}

#[test]
fn defaults_are_safe() {
    let c = cfg(&[]).unwrap();
    assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
    assert!(c.allowed_origins.is_empty());
    assert_eq!(c.tools_ttl_ms, 30_000);
    assert_eq!(c.target_timeout, Duration::from_secs(10));
}

#[test]
fn parses_and_normalises_origins() {
    let c = cfg(&[(
        "GATEWAY_ALLOWED_ORIGINS",
        " https://A.example.com/ , http://localhost:6274",
    )])
    .unwrap();
    assert_eq!(
        c.allowed_origins,
        ["https://a.example.com", "http://localhost:6274"]
    );
}

#[test]
fn bad_values_name_the_variable() {
    assert_eq!(
        cfg(&[("GATEWAY_BIND", "nowhere")]).unwrap_err().name,
        "GATEWAY_BIND"
    );
    assert_eq!(
        cfg(&[("GATEWAY_ALLOWED_ORIGINS", "example.com")])
            .unwrap_err()
            .name,
        "GATEWAY_ALLOWED_ORIGINS"
    );
    assert_eq!(
        cfg(&[("GATEWAY_TOOLS_TTL_MS", "-1")]).unwrap_err().name,
        "GATEWAY_TOOLS_TTL_MS"
    );
    assert_eq!(
        cfg(&[("GATEWAY_TARGET_TIMEOUT_MS", "0")]).unwrap_err().name,
        "GATEWAY_TARGET_TIMEOUT_MS"
    );
    let e = cfg(&[("GATEWAY_MAX_TARGET_RESPONSE_BYTES", "lots")]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("GATEWAY_MAX_TARGET_RESPONSE_BYTES: ")
    );
}

#[test]
fn issuers_from_plain_variables_and_json() {
    let jwks = "http://127.0.0.1:5000/us-east-1_Pool1/.well-known/jwks.json";
    let c = cfg(&[("GATEWAY_COGNITO_JWKS_URL", jwks)]).unwrap();
    assert_eq!(c.issuers.len(), 1);
    assert_eq!(
        c.issuers[0].issuer,
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool1"
    );
    assert_eq!(c.authorization_servers, [c.issuers[0].issuer.clone()]);
    let json = r#"[{"kind":"oidc","issuer":"https://idp.example.com/","audiences":["api://mcp"],"groupsClaim":"realm_access.roles"}]"#;
    let c = cfg(&[("GATEWAY_ISSUERS", json)]).unwrap();
    assert_eq!(c.issuers.len(), 2);
    assert_eq!(c.issuers[1].groups_claim, ["realm_access", "roles"]);
    // An OIDC issuer's audience defaults to the resource URL.
    let c = cfg(&[
        ("GATEWAY_OIDC_ISSUER", "https://idp.example.com"),
        ("GATEWAY_RESOURCE_URL", "https://mcp.example.com/mcp"),
    ])
    .unwrap();
    assert!(
        matches!(&c.issuers[1].kind, crate::auth::IssuerKind::Oidc { audiences, .. } if audiences == &["https://mcp.example.com/mcp"])
    );
}

#[test]
fn bad_issuers_and_policy_settings_name_their_variable() {
    let name = |pairs: &[(&str, &str)]| cfg(pairs).unwrap_err().name;
    assert_eq!(
        name(&[("GATEWAY_COGNITO_USER_POOL_ID", "nope")]),
        "GATEWAY_COGNITO_USER_POOL_ID"
    );
    assert_eq!(
        name(&[("GATEWAY_COGNITO_CLIENT_IDS", " ")]),
        "GATEWAY_COGNITO_USER_POOL_ID"
    );
    assert_eq!(
        name(&[("GATEWAY_COGNITO_REGION", "eu-west-1")]),
        "GATEWAY_COGNITO_USER_POOL_ID"
    );
    assert_eq!(
        name(&[("GATEWAY_COGNITO_JWKS_URL", "http://example.com/jwks")]),
        "GATEWAY_COGNITO_USER_POOL_ID"
    );
    assert_eq!(
        name(&[("GATEWAY_OIDC_ISSUER", "http://idp.example.com")]),
        "GATEWAY_OIDC_ISSUER"
    );
    assert_eq!(
        name(&[("GATEWAY_OIDC_ISSUER", "https://idp.example.com")]),
        "GATEWAY_OIDC_ISSUER"
    );
    assert_eq!(name(&[("GATEWAY_ISSUERS", "{")]), "GATEWAY_ISSUERS");
    assert_eq!(
        name(&[("GATEWAY_ISSUERS", r#"[{"kind":"saml"}]"#)]),
        "GATEWAY_ISSUERS"
    );
    let twice = r#"[{"kind":"cognito","userPoolId":"us-east-1_Pool1","clientIds":["x"]}]"#;
    assert_eq!(name(&[("GATEWAY_ISSUERS", twice)]), "GATEWAY_ISSUERS");
    assert_eq!(
        Config::from_lookup(|_| None).unwrap_err().name,
        "GATEWAY_ISSUERS"
    );
    assert_eq!(
        name(&[("GATEWAY_RESOURCE_URL", "http://example.com/mcp")]),
        "GATEWAY_RESOURCE_URL"
    );
    assert_eq!(
        name(&[("GATEWAY_AUTHORIZATION_SERVERS", "ftp://x")]),
        "GATEWAY_AUTHORIZATION_SERVERS"
    );
    assert_eq!(
        name(&[("GATEWAY_JWKS_MAX_AGE_SECS", "1")]),
        "GATEWAY_JWKS_MAX_AGE_SECS"
    );
    assert_eq!(
        name(&[("GATEWAY_POLICY_TABLE", "no spaces please")]),
        "GATEWAY_POLICY_TABLE"
    );
    let e = name(&[
        ("GATEWAY_POLICY_REFRESH_SECS", "60"),
        ("GATEWAY_POLICY_MAX_STALENESS_SECS", "30"),
    ]);
    assert_eq!(e, "GATEWAY_POLICY_MAX_STALENESS_SECS");
}

#[test]
fn each_issuer_may_have_its_own_group_namespace() {
    use crate::config::issuers::shared_group_namespaces;
    let json = r#"[{"kind":"oidc","issuer":"https://okta.example.com","audiences":["a"],"groupPrefix":"okta:"}]"#;
    let c = cfg(&[
        ("GATEWAY_ISSUERS", json),
        ("GATEWAY_COGNITO_GROUP_PREFIX", "pool:"),
    ])
    .unwrap();
    assert_eq!(c.issuers[0].group_prefix, "pool:");
    assert_eq!(c.issuers[1].group_prefix, "okta:");
    assert!(shared_group_namespaces(&c.issuers).is_empty());
    // Without prefixes both issuers' `admins` are one group: start-up warns about the pair.
    let json = r#"[{"kind":"oidc","issuer":"https://okta.example.com","audiences":["a"]}]"#;
    let c = cfg(&[("GATEWAY_ISSUERS", json)]).unwrap();
    assert_eq!(
        shared_group_namespaces(&c.issuers),
        [(
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool1",
            "https://okta.example.com"
        )]
    );
    let name = |pairs: &[(&str, &str)]| cfg(pairs).unwrap_err().name;
    assert!(crate::config::issuers::overlapping_group_prefixes(&c.issuers).is_empty());
    for bad in ["a b:", "*", &"x".repeat(65)] {
        assert_eq!(
            name(&[("GATEWAY_COGNITO_GROUP_PREFIX", bad)]),
            "GATEWAY_COGNITO_GROUP_PREFIX"
        );
    }
    let bad = r#"[{"kind":"oidc","issuer":"https://okta.example.com","audiences":["a"],"groupPrefix":"o *"}]"#;
    assert_eq!(name(&[("GATEWAY_ISSUERS", bad)]), "GATEWAY_ISSUERS");
}

/// Finding 10 of issue #14: prefixes were compared for equality only, so `p` and
/// `partner:` passed, and an issuer prefixed `p` minting `artner:admins` became
/// `partner:admins`. Every pair where one prefix begins the other (empty included) is named.
#[test]
fn group_prefixes_where_one_begins_the_other_are_named() {
    use crate::config::issuers::overlapping_group_prefixes;
    let json = r#"[{"kind":"oidc","issuer":"https://partner.example.com","audiences":["a"],"groupPrefix":"partner:"},
                   {"kind":"oidc","issuer":"https://p.example.com","audiences":["a"],"groupPrefix":"p"},
                   {"kind":"oidc","issuer":"https://other.example.com","audiences":["a"],"groupPrefix":"other:"}]"#;
    let c = cfg(&[("GATEWAY_ISSUERS", json)]).unwrap();
    let pairs: Vec<(&str, &str)> = overlapping_group_prefixes(&c.issuers)
        .into_iter()
        .map(|(s, l)| (s.issuer.as_str(), l.issuer.as_str()))
        .collect();
    let pool = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool1";
    // The pool has no prefix: it begins every other prefix.
    assert_eq!(
        pairs,
        [
            (pool, "https://partner.example.com"),
            (pool, "https://p.example.com"),
            (pool, "https://other.example.com"),
            ("https://p.example.com", "https://partner.example.com"),
        ]
    );
    let c = cfg(&[
        ("GATEWAY_ISSUERS", json),
        ("GATEWAY_COGNITO_GROUP_PREFIX", "pool:"),
    ])
    .unwrap();
    let prefixes: Vec<(&str, &str)> = overlapping_group_prefixes(&c.issuers)
        .into_iter()
        .map(|(s, l)| (s.group_prefix.as_str(), l.group_prefix.as_str()))
        .collect();
    assert_eq!(prefixes, [("p", "pool:"), ("p", "partner:")]);
}

#[test]
fn an_oidc_issuer_may_require_at_jwt() {
    let plain = [
        ("GATEWAY_OIDC_ISSUER", "https://idp.example.com"),
        ("GATEWAY_OIDC_AUDIENCES", "api"),
    ];
    let c = cfg(&plain).unwrap();
    assert!(
        c.issuers.iter().all(|i| !i.require_at_jwt),
        "off by default"
    );
    let mut strict = plain.to_vec();
    strict.push(("GATEWAY_OIDC_REQUIRE_AT_JWT", "true"));
    let c = cfg(&strict).unwrap();
    let oidc = c
        .issuers
        .iter()
        .find(|i| i.issuer == "https://idp.example.com");
    assert!(oidc.unwrap().require_at_jwt);
    let json = r#"[{"kind":"oidc","issuer":"https://okta.example.com","audiences":["a"],"requireAtJwt":true}]"#;
    let c = cfg(&[("GATEWAY_ISSUERS", json)]).unwrap();
    assert!(c.issuers.iter().any(|i| i.require_at_jwt));
    let bad = [plain[0], plain[1], ("GATEWAY_OIDC_REQUIRE_AT_JWT", "maybe")];
    assert_eq!(cfg(&bad).unwrap_err().name, "GATEWAY_OIDC_REQUIRE_AT_JWT");
}
