//! Claim rules: time, audience or app client, token use; then the `Principal`.

use serde_json::{Map, Value};

use super::issuer::{IssuerConfig, IssuerKind};
use super::revocation::TokenFacts;
use super::{AuthError, Principal};

/// Allowed clock skew, seconds.
pub const LEEWAY_SECS: u64 = 60;

/// The `iss` of an unverified payload: only used to pick which configured issuer's keys
/// to try.
pub fn unverified_issuer(payload: &[u8]) -> Result<String, AuthError> {
    #[derive(serde::Deserialize)]
    struct Iss {
        iss: Option<String>,
    }
    serde_json::from_slice::<Iss>(payload)
        .map_err(|_| AuthError::Malformed("payload is not a JSON object"))?
        .iss
        .ok_or(AuthError::UnknownIssuer)
}

fn str_claim<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, AuthError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(AuthError::Claim(name)),
    }
}

fn time_claim(claims: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, AuthError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| *f >= 0.0 && f.is_finite())
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or(AuthError::Claim(name)),
        Some(_) => Err(AuthError::Claim(name)),
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// An array of names, or one name (never split: "Domain Admins" is one group, and an `aud`
/// string is one audience).
fn names(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Value::String(s) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The claim named `path` joined with dots if there is one (Auth0 namespaces claims as
/// URLs: `https://example.com/groups`), else the nested path.
fn at_path<'a>(claims: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    if path.len() > 1 {
        if let Some(v) = claims.get(&path.join(".")) {
            return Some(v);
        }
    }
    let (first, rest) = path.split_first()?;
    rest.iter()
        .try_fold(claims.get(first)?, |v, key| v.get(key.as_str()))
}

/// The header `typ` rule (RFC 8725 §3.11 explicit typing, RFC 9068 §2.1): `at+jwt` is an
/// access token; absent or plain `JWT` is accepted unless the issuer requires `at+jwt`;
/// any other type (`logout+jwt`, `secevent+jwt`, `dpop+jwt`, an ID token's own type, …)
/// is some other kind of token and refused.
pub fn check_type(cfg: &IssuerConfig, typ: Option<&str>) -> Result<(), AuthError> {
    match typ {
        Some("at+jwt") => Ok(()),
        _ if cfg.require_at_jwt => Err(AuthError::TokenType),
        None | Some("jwt") => Ok(()),
        Some(_) => Err(AuthError::TokenType),
    }
}

/// Payload markers of a token that is not an access token: Keycloak's `typ` claim (`ID`,
/// `Refresh`, `Offline`, `Logout`; its access tokens say `Bearer`), a `token_type` that is
/// not an access token's (an RFC 7662 answer says `Bearer`), a `token_use` other than
/// `access` (Cognito's, and IdPs that copy it).
fn non_access_marker(claims: &Map<String, Value>) -> Option<AuthError> {
    let is = |v: &str, ok: &[&str]| ok.iter().any(|o| v.eq_ignore_ascii_case(o));
    let claim = |name| claims.get(name).map(|v| v.as_str().ok_or(()));
    match claim("typ") {
        Some(Ok(t)) if is(t, &["Bearer", "at+jwt"]) => {}
        None => {}
        Some(_) => return Some(AuthError::TokenType),
    }
    match claim("token_type") {
        Some(Ok(t)) if is(t, &["Bearer", "access_token", "access"]) => {}
        None => {}
        Some(_) => return Some(AuthError::TokenType),
    }
    match claim("token_use") {
        Some(Ok("access")) | None => None,
        Some(_) => Some(AuthError::TokenUse),
    }
}

/// Checks a signature-verified payload against the issuer's rules at time `now`.
pub fn validate(cfg: &IssuerConfig, payload: &[u8], now: u64) -> Result<Principal, AuthError> {
    validate_with_facts(cfg, payload, now).map(|(p, _)| p)
}

/// The claims of an introspection response (RFC 7662) for an opaque token of `cfg`'s
/// issuer, checked by the same rules. The issuer's answer is authoritative for the issuer
/// (`iss` filled in when absent); a client-credentials token without `sub` is its client's
/// (as in RFC 9068 JWT access tokens).
pub fn validate_introspected(
    cfg: &IssuerConfig,
    response: &[u8],
    now: u64,
) -> Result<(Principal, TokenFacts), AuthError> {
    let mut claims: Map<String, Value> = serde_json::from_slice(response)
        .map_err(|_| AuthError::Malformed("introspection response is not a JSON object"))?;
    claims.remove("active");
    claims
        .entry("iss")
        .or_insert_with(|| Value::String(cfg.issuer.clone()));
    if !claims.contains_key("sub") {
        if let Some(c) = claims.get("client_id").cloned() {
            claims.insert("sub".into(), c);
        }
    }
    let bytes = serde_json::to_vec(&claims).map_err(|_| AuthError::Malformed("claims"))?;
    validate_with_facts(cfg, &bytes, now)
}

/// As `validate`, with the claims revocation checks need (`iat`, `origin_jti`), from the
/// same single parse.
pub fn validate_with_facts(
    cfg: &IssuerConfig,
    payload: &[u8],
    now: u64,
) -> Result<(Principal, TokenFacts), AuthError> {
    let claims: Map<String, Value> = serde_json::from_slice(payload)
        .map_err(|_| AuthError::Malformed("payload is not a JSON object"))?;
    if str_claim(&claims, "iss")? != Some(cfg.issuer.as_str()) {
        return Err(AuthError::UnknownIssuer);
    }
    let exp = time_claim(&claims, "exp")
        .map_err(|_| AuthError::BadExp)?
        .ok_or(AuthError::BadExp)?;
    if exp.saturating_add(LEEWAY_SECS) <= now {
        return Err(AuthError::Expired);
    }
    if time_claim(&claims, "nbf")?.is_some_and(|nbf| nbf > now + LEEWAY_SECS) {
        return Err(AuthError::NotYetValid);
    }
    let issued_at = time_claim(&claims, "iat")?;
    if issued_at.is_some_and(|iat| iat > now + LEEWAY_SECS) {
        return Err(AuthError::IssuedInFuture);
    }
    if let Some(refused) = non_access_marker(&claims) {
        return Err(refused);
    }
    let client_id = str_claim(&claims, "client_id")?
        .or(str_claim(&claims, "azp")?)
        .or(str_claim(&claims, "appid")?)
        .or(str_claim(&claims, "cid")?)
        .map(str::to_owned);
    match &cfg.kind {
        IssuerKind::Cognito { .. } => {
            if str_claim(&claims, "token_use")? != Some("access") {
                return Err(AuthError::TokenUse);
            }
            if !cfg.accepts_client(client_id.as_deref()) {
                return Err(AuthError::Client);
            }
        }
        IssuerKind::Oidc { audiences, .. } => {
            // ID tokens are for the client, not for APIs: refused even when an audience
            // setting names the client id (RFC 9068 access tokens carry neither claim).
            let id_token = claims.contains_key("nonce")
                || claims.contains_key("at_hash")
                || str_claim(&claims, "token_use")? == Some("id");
            if id_token {
                return Err(AuthError::TokenUse);
            }
            let aud = claims.get("aud").map(names).unwrap_or_default();
            if !aud.iter().any(|a| audiences.contains(a)) {
                return Err(AuthError::Audience);
            }
            if !cfg.accepts_client(client_id.as_deref()) {
                return Err(AuthError::Client);
            }
        }
    }
    let subject = str_claim(&claims, "sub")?
        .filter(|s| !s.is_empty())
        .ok_or(AuthError::Claim("sub"))?
        .to_owned();
    let username = cfg
        .username_claims
        .iter()
        .find_map(|c| claims.get(c).and_then(Value::as_str))
        .unwrap_or(&subject)
        .to_owned();
    let mut groups = at_path(&claims, &cfg.groups_claim)
        .map(names)
        .unwrap_or_default();
    if !cfg.group_prefix.is_empty() {
        for g in &mut groups {
            g.insert_str(0, &cfg.group_prefix);
        }
    }
    let mut scopes = claims.get("scope").map(strings).unwrap_or_default();
    if let Some(scp) = claims.get("scp") {
        scopes.extend(strings(scp));
    }
    let facts = TokenFacts {
        issued_at,
        origin_token_id: str_claim(&claims, "origin_jti")?.map(str::to_owned),
    };
    let principal = Principal {
        issuer: cfg.issuer.clone(),
        subject,
        username,
        email: str_claim(&claims, "email")?.map(str::to_owned),
        groups,
        scopes,
        client_id,
        expires_at: exp,
        token_id: str_claim(&claims, "jti")?.map(str::to_owned),
    };
    Ok((principal, facts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::IssuerConfig;
    use serde_json::json;

    fn oidc(groups_claim: &str) -> IssuerConfig {
        IssuerConfig::oidc(
            "https://idp".into(),
            vec!["api".into()],
            vec![],
            None,
            groups_claim,
        )
    }

    fn validate_json(cfg: &IssuerConfig, extra: serde_json::Value) -> Result<Principal, AuthError> {
        let mut c = json!({"iss": "https://idp", "sub": "s", "aud": "api", "exp": 2_000});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        validate(cfg, c.to_string().as_bytes(), 1_000)
    }

    #[test]
    fn group_claims_literal_nested_and_unsplit() {
        let auth0 = validate_json(
            &oidc("https://example.com/groups"),
            json!({"https://example.com/groups": ["a"]}),
        );
        assert_eq!(auth0.unwrap().groups, ["a"]);
        let nested = validate_json(
            &oidc("realm_access.roles"),
            json!({"realm_access": {"roles": ["r"]}}),
        );
        assert_eq!(nested.unwrap().groups, ["r"]);
        let one = validate_json(&oidc("groups"), json!({"groups": "Domain Admins"}));
        assert_eq!(one.unwrap().groups, ["Domain Admins"]);
        let scopes = validate_json(&oidc("groups"), json!({"scope": "a b", "scp": "c d"}));
        assert_eq!(scopes.unwrap().scopes, ["a", "b", "c", "d"]);
    }

    #[test]
    fn an_issuers_group_prefix_goes_before_each_of_its_groups() {
        let mut okta = oidc("groups");
        okta.group_prefix = "okta:".into();
        let p = validate_json(
            &okta,
            json!({"groups": ["admins", "eng"], "scope": "admins"}),
        );
        let p = p.unwrap();
        assert_eq!(p.groups, ["okta:admins", "okta:eng"]);
        // Scopes are the issuer's own vocabulary and stay as they are.
        assert_eq!(p.scopes, ["admins"]);
    }

    #[test]
    fn oidc_id_tokens_are_refused_even_for_a_client_id_audience() {
        for marker in [
            json!({"nonce": "n"}),
            json!({"at_hash": "h"}),
            json!({"token_use": "id"}),
        ] {
            assert_eq!(
                validate_json(&oidc("groups"), marker),
                Err(AuthError::TokenUse)
            );
        }
    }

    #[test]
    fn okta_cid_names_the_client() {
        let cfg = IssuerConfig::oidc(
            "https://idp".into(),
            vec!["api".into()],
            vec!["okta-app".into()],
            None,
            "groups",
        );
        assert_eq!(
            validate_json(&cfg, json!({"cid": "okta-app"}))
                .unwrap()
                .client_id
                .as_deref(),
            Some("okta-app")
        );
        assert_eq!(
            validate_json(&cfg, json!({"cid": "other"})),
            Err(AuthError::Client)
        );
    }

    #[test]
    fn an_introspection_response_becomes_a_principal_by_the_same_rules() {
        use crate::auth::IssuerConfig;
        let cfg = IssuerConfig::oidc(
            "https://idp".into(),
            vec!["api".into()],
            vec![],
            None,
            "groups",
        );
        let body =
            br#"{"active":true,"client_id":"c","aud":"api","exp":2000,"iat":900,"groups":["g"]}"#;
        let (p, f) = validate_introspected(&cfg, body, 1_000).unwrap();
        assert_eq!(
            (p.issuer.as_str(), p.subject.as_str()),
            ("https://idp", "c")
        );
        assert_eq!(p.groups, ["g"]);
        assert_eq!(f.issued_at, Some(900));
        let other_aud = br#"{"active":true,"client_id":"c","aud":"x","exp":2000}"#;
        assert!(validate_introspected(&cfg, other_aud, 1_000).is_err());
        let other_iss = br#"{"active":true,"iss":"https://evil","aud":"api","sub":"s","exp":2000}"#;
        assert!(validate_introspected(&cfg, other_iss, 1_000).is_err());
    }
}
