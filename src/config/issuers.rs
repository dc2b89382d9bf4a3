//! Trusted issuers and the resource-server settings, from the environment: one Cognito pool
//! and one OIDC provider by plain variables (what SAM parameters map onto), any number by
//! `GATEWAY_ISSUERS` (a JSON array). Every mistake names its variable.

use serde::Deserialize;

use super::revocation::{self, IntrospectionSpec, OnlineSpec};
use super::{ConfigError, bad, list, url_is_safe};
use crate::auth::IssuerConfig;

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
enum IssuerSpec {
    #[serde(rename_all = "camelCase")]
    Cognito {
        #[serde(default)]
        region: Option<String>,
        user_pool_id: String,
        client_ids: Vec<String>,
        #[serde(default)]
        jwks_url: Option<String>,
        /// Cognito `GetUser` on every token (cached): `{"cacheSecs": 30, "failOpen": false}`.
        #[serde(default)]
        get_user: Option<OnlineSpec>,
        #[serde(default)]
        group_prefix: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    Oidc {
        issuer: String,
        #[serde(default)]
        audiences: Vec<String>,
        #[serde(default)]
        client_ids: Vec<String>,
        #[serde(default)]
        jwks_url: Option<String>,
        #[serde(default)]
        groups_claim: Option<String>,
        /// RFC 7662 introspection of every token (cached).
        #[serde(default)]
        introspection: Option<IntrospectionSpec>,
        #[serde(default)]
        group_prefix: Option<String>,
        /// Only `typ: at+jwt` JWTs (RFC 9068): ID tokens are refused by their header.
        #[serde(default)]
        require_at_jwt: bool,
    },
}

/// A group prefix: up to 64 printable characters, no space and no `*` (the every-user group).
fn group_prefix(name: &'static str, prefix: Option<String>) -> Result<String, ConfigError> {
    let prefix = prefix.unwrap_or_default();
    if prefix.len() > 64 || prefix.chars().any(|c| !c.is_ascii_graphic() || c == '*') {
        return Err(bad(
            name,
            format!("group prefix {prefix:?} must be up to 64 printable characters, no space or *"),
        ));
    }
    Ok(prefix)
}

/// Pairs of issuers whose groups share one namespace (the same prefix, usually none): a
/// policy for `admins` then matches an `admins` group minted by either.
pub fn shared_group_namespaces(issuers: &[IssuerConfig]) -> Vec<(&str, &str)> {
    let mut shared = Vec::new();
    for (i, a) in issuers.iter().enumerate() {
        for b in &issuers[i + 1..] {
            if a.group_prefix == b.group_prefix {
                shared.push((a.issuer.as_str(), b.issuer.as_str()));
            }
        }
    }
    shared
}

/// Pairs of issuers where one's group prefix is a proper prefix of the other's (the empty
/// prefix included): the shorter-prefixed issuer can mint a group that reads as the other's
/// (`p` + `artner:admins` = `partner:admins`). Each pair is (shorter, longer) issuer.
pub fn overlapping_group_prefixes(issuers: &[IssuerConfig]) -> Vec<(&IssuerConfig, &IssuerConfig)> {
    let mut overlapping = Vec::new();
    for (i, a) in issuers.iter().enumerate() {
        for b in &issuers[i + 1..] {
            let (short, long) = if a.group_prefix.len() <= b.group_prefix.len() {
                (a, b)
            } else {
                (b, a)
            };
            if short.group_prefix != long.group_prefix
                && long.group_prefix.starts_with(&short.group_prefix)
            {
                overlapping.push((short, long));
            }
        }
    }
    overlapping
}

fn check_url(name: &'static str, what: &str, url: &str) -> Result<(), ConfigError> {
    if url_is_safe(url) {
        Ok(())
    } else {
        Err(bad(
            name,
            format!(
                "{what} {url:?} must be https:// (http:// only on 127.0.0.1, localhost or [::1])"
            ),
        ))
    }
}

fn cognito(
    name: &'static str,
    region: Option<String>,
    pool: &str,
    client_ids: Vec<String>,
    jwks_url: Option<String>,
) -> Result<IssuerConfig, ConfigError> {
    let (prefix, id) = pool.split_once('_').unwrap_or(("", ""));
    let region_ok = prefix.split('-').count() >= 3
        && prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !region_ok || id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad(
            name,
            format!("{pool:?} is not a user pool id like us-east-1_AbC123"),
        ));
    }
    if let Some(r) = region.as_deref().filter(|r| *r != prefix) {
        return Err(bad(
            name,
            format!("region {r:?} differs from the pool's region {prefix:?}"),
        ));
    }
    if client_ids.is_empty() || client_ids.iter().any(|c| c.trim().is_empty()) {
        return Err(bad(
            name,
            "at least one app client id is required for a Cognito pool",
        ));
    }
    if let Some(u) = &jwks_url {
        check_url(name, "JWKS URL", u)?;
    }
    Ok(IssuerConfig::cognito(prefix, pool, client_ids, jwks_url))
}

/// The region of a (validated) user pool id.
fn pool_region(pool: &str) -> &str {
    pool.trim().split_once('_').map_or("", |(r, _)| r)
}

fn oidc(
    name: &'static str,
    issuer: String,
    audiences: Vec<String>,
    client_ids: Vec<String>,
    jwks_url: Option<String>,
    groups_claim: Option<String>,
    resource_url: Option<&str>,
) -> Result<IssuerConfig, ConfigError> {
    check_url(name, "issuer", &issuer)?;
    if let Some(u) = &jwks_url {
        check_url(name, "JWKS URL", u)?;
    }
    // RFC 8707: by default only tokens issued for this gateway's resource are accepted.
    let audiences = if audiences.is_empty() {
        resource_url.map(|r| vec![r.to_owned()]).ok_or_else(|| {
            bad(
                name,
                format!("issuer {issuer:?} needs audiences (or set GATEWAY_RESOURCE_URL)"),
            )
        })?
    } else {
        audiences
    };
    let groups_claim = groups_claim.unwrap_or_else(|| "groups".into());
    if groups_claim.split('.').any(str::is_empty) {
        return Err(bad(
            name,
            format!("groups claim {groups_claim:?} is not a dotted path"),
        ));
    }
    Ok(IssuerConfig::oidc(
        issuer,
        audiences,
        client_ids,
        jwks_url,
        &groups_claim,
    ))
}

/// Every trusted issuer the environment names. At least one is required.
pub fn from_env(
    env: &impl Fn(&str) -> Option<String>,
    resource_url: Option<&str>,
) -> Result<Vec<IssuerConfig>, ConfigError> {
    let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let mut out = Vec::new();
    if let Some(pool) = get("GATEWAY_COGNITO_USER_POOL_ID") {
        let mut issuer = cognito(
            "GATEWAY_COGNITO_USER_POOL_ID",
            get("GATEWAY_COGNITO_REGION"),
            pool.trim(),
            list(&get("GATEWAY_COGNITO_CLIENT_IDS").unwrap_or_default()),
            get("GATEWAY_COGNITO_JWKS_URL"),
        )?;
        issuer.online_check = revocation::cognito_from_env(env, pool_region(&pool))?;
        issuer.group_prefix = group_prefix(
            "GATEWAY_COGNITO_GROUP_PREFIX",
            get("GATEWAY_COGNITO_GROUP_PREFIX"),
        )?;
        out.push(issuer);
    }
    if let Some(issuer) = get("GATEWAY_OIDC_ISSUER") {
        let mut issuer = oidc(
            "GATEWAY_OIDC_ISSUER",
            issuer.trim().to_owned(),
            list(&get("GATEWAY_OIDC_AUDIENCES").unwrap_or_default()),
            list(&get("GATEWAY_OIDC_CLIENT_IDS").unwrap_or_default()),
            get("GATEWAY_OIDC_JWKS_URL"),
            get("GATEWAY_OIDC_GROUPS_CLAIM"),
            resource_url,
        )?;
        issuer.online_check = revocation::oidc_from_env(env)?;
        issuer.group_prefix = group_prefix(
            "GATEWAY_OIDC_GROUP_PREFIX",
            get("GATEWAY_OIDC_GROUP_PREFIX"),
        )?;
        issuer.require_at_jwt =
            revocation::flag(env, "GATEWAY_OIDC_REQUIRE_AT_JWT")?.unwrap_or(false);
        out.push(issuer);
    }
    if let Some(json) = get("GATEWAY_ISSUERS") {
        let specs: Vec<IssuerSpec> = serde_json::from_str(&json).map_err(|e| {
            bad(
                "GATEWAY_ISSUERS",
                format!("not a JSON array of issuers: {e}"),
            )
        })?;
        for spec in specs {
            out.push(match spec {
                IssuerSpec::Cognito {
                    region,
                    user_pool_id,
                    client_ids,
                    jwks_url,
                    get_user,
                    group_prefix: prefix,
                } => {
                    let mut i = cognito(
                        "GATEWAY_ISSUERS",
                        region,
                        &user_pool_id,
                        client_ids,
                        jwks_url,
                    )?;
                    i.online_check = get_user
                        .map(|spec| {
                            let region = pool_region(&user_pool_id);
                            revocation::cognito(env, "GATEWAY_ISSUERS", region, &spec)
                        })
                        .transpose()?;
                    i.group_prefix = group_prefix("GATEWAY_ISSUERS", prefix)?;
                    i
                }
                IssuerSpec::Oidc {
                    issuer,
                    audiences,
                    client_ids,
                    jwks_url,
                    groups_claim,
                    introspection,
                    group_prefix: prefix,
                    require_at_jwt,
                } => {
                    let mut i = oidc(
                        "GATEWAY_ISSUERS",
                        issuer,
                        audiences,
                        client_ids,
                        jwks_url,
                        groups_claim,
                        resource_url,
                    )?;
                    i.online_check = introspection
                        .map(|spec| revocation::introspection(env, "GATEWAY_ISSUERS", &spec))
                        .transpose()?;
                    i.group_prefix = group_prefix("GATEWAY_ISSUERS", prefix)?;
                    i.require_at_jwt = require_at_jwt;
                    i
                }
            });
        }
    }
    if out.is_empty() {
        return Err(bad(
            "GATEWAY_ISSUERS",
            "no trusted issuer: set GATEWAY_COGNITO_USER_POOL_ID, GATEWAY_OIDC_ISSUER or GATEWAY_ISSUERS",
        ));
    }
    let opaque = out
        .iter()
        .filter(|i| i.online_check.as_ref().is_some_and(|o| o.accept_opaque))
        .count();
    if opaque > 1 {
        return Err(bad(
            "GATEWAY_ISSUERS",
            "opaque tokens name no issuer: at most one issuer may accept them",
        ));
    }
    for (i, a) in out.iter().enumerate() {
        if out[..i].iter().any(|b| b.issuer == a.issuer) {
            return Err(bad(
                "GATEWAY_ISSUERS",
                format!("issuer {:?} is configured twice", a.issuer),
            ));
        }
    }
    Ok(out)
}
