//! Claim rules: time, audience or app client, token use; then the `Principal`.

use serde_json::{Map, Value};

use super::issuer::{IssuerConfig, IssuerKind};
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

fn at_path<'a>(claims: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    rest.iter()
        .try_fold(claims.get(first)?, |v, key| v.get(key.as_str()))
}

/// Checks a signature-verified payload against the issuer's rules at time `now`.
pub fn validate(cfg: &IssuerConfig, payload: &[u8], now: u64) -> Result<Principal, AuthError> {
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
    if time_claim(&claims, "iat")?.is_some_and(|iat| iat > now + LEEWAY_SECS) {
        return Err(AuthError::IssuedInFuture);
    }
    let client_id = str_claim(&claims, "client_id")?
        .or(str_claim(&claims, "azp")?)
        .or(str_claim(&claims, "appid")?)
        .map(str::to_owned);
    match &cfg.kind {
        IssuerKind::Cognito { client_ids } => {
            if str_claim(&claims, "token_use")? != Some("access") {
                return Err(AuthError::TokenUse);
            }
            if !client_id.as_ref().is_some_and(|c| client_ids.contains(c)) {
                return Err(AuthError::Client);
            }
        }
        IssuerKind::Oidc {
            audiences,
            client_ids,
        } => {
            let aud = claims.get("aud").map(strings_exact).unwrap_or_default();
            if !aud.iter().any(|a| audiences.contains(a)) {
                return Err(AuthError::Audience);
            }
            if !client_ids.is_empty() && !client_id.as_ref().is_some_and(|c| client_ids.contains(c))
            {
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
    let groups = at_path(&claims, &cfg.groups_claim)
        .map(strings)
        .unwrap_or_default();
    let mut scopes = claims.get("scope").map(strings).unwrap_or_default();
    if let Some(scp) = claims.get("scp") {
        scopes.extend(strings(scp));
    }
    Ok(Principal {
        issuer: cfg.issuer.clone(),
        subject,
        username,
        email: str_claim(&claims, "email")?.map(str::to_owned),
        groups,
        scopes,
        client_id,
        expires_at: exp,
        token_id: str_claim(&claims, "jti")?.map(str::to_owned),
    })
}

/// `aud` is a string or an array of strings; anything else matches nothing.
fn strings_exact(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}
