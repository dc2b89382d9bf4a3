//! Resolves an HTTP target's outbound credentials (`gateway_core::outbound`) into the one header
//! the gateway sends: values from the environment (read at call time) or AWS Secrets
//! Manager (cached for a few minutes), and OAuth 2.0 client-credentials tokens cached per
//! (tokenUrl, clientId, scope, audience, resource) until shortly before they expire, with
//! one fetch in flight per key. No secret or token ever appears in an error or a log line.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;

use gateway_core::outbound::{OutboundAuth, SecretRef, SecretSources};
use gateway_core::targets::TargetError;

/// How long a Secrets Manager value is reused.
pub const SECRET_TTL: Duration = Duration::from_secs(300);
/// Largest accepted token-endpoint answer.
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;
/// How long a token is kept when the endpoint gives no `expires_in`.
const DEFAULT_TOKEN_LIFETIME: u64 = 300;
/// Longest a token is kept, whatever the endpoint says (seconds).
const MAX_TOKEN_LIFETIME: u64 = 24 * 3600;

type TokenKey = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);
type TokenSlot = Arc<tokio::sync::Mutex<Option<(String, Instant)>>>;

/// Builds outbound credential headers; one per gateway, shared by every call.
pub struct OutboundAuthenticator {
    http: reqwest::Client,
    secrets: aws_sdk_secretsmanager::Client,
    secret_ttl: Duration,
    token_timeout: Duration,
    secret_cache: Mutex<HashMap<String, (String, Instant)>>,
    tokens: Mutex<HashMap<TokenKey, TokenSlot>>,
    /// Checked again before every read, whatever path the reference came by.
    sources: SecretSources,
}

fn failed(what: impl std::fmt::Display) -> TargetError {
    TargetError::NotInvoked(format!("outbound credentials: {what}"))
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl OutboundAuthenticator {
    /// `http` calls token endpoints (no redirects); `secrets` reads Secrets Manager; only
    /// sources `sources` allows are ever read.
    pub fn new(
        http: reqwest::Client,
        secrets: aws_sdk_secretsmanager::Client,
        sources: SecretSources,
    ) -> Self {
        Self {
            sources,
            http,
            secrets,
            secret_ttl: SECRET_TTL,
            token_timeout: Duration::from_secs(10),
            secret_cache: Mutex::default(),
            tokens: Mutex::default(),
        }
    }

    /// The header `auth` asks for, with its value resolved now.
    pub async fn header(
        &self,
        auth: &OutboundAuth,
    ) -> Result<(HeaderName, HeaderValue), TargetError> {
        let (name, value) = match auth {
            OutboundAuth::Header { name, value } => {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| failed("invalid header name"))?;
                (name, self.resolve(value).await?)
            }
            OutboundAuth::Oauth2ClientCredentials { .. } => (
                reqwest::header::AUTHORIZATION,
                format!("Bearer {}", self.token(auth).await?),
            ),
        };
        let mut value = HeaderValue::from_str(&value)
            .map_err(|_| failed("value is not a valid header value"))?;
        value.set_sensitive(true);
        Ok((name, value))
    }

    /// A secret's value, from the environment or Secrets Manager.
    async fn resolve(&self, r: &SecretRef) -> Result<String, TargetError> {
        // Validation and the snapshot load refuse these first; this is the last line, so a
        // reference that slipped past them is still never read (finding 4 of issue #14).
        self.sources
            .check(r)
            .map_err(|e| failed(format!("source not allowed: {e}")))?;
        if let Some(var) = &r.env {
            return std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| failed(format!("environment variable {var} is unset")));
        }
        let id = r.secret.as_deref().ok_or_else(|| failed("no source"))?;
        let raw = self.secret_string(id).await?;
        let Some(field) = &r.field else {
            return Ok(raw);
        };
        let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&raw)
            .map_err(|_| failed(format!("secret {id} is not a JSON object")))?;
        match obj.get(field) {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            _ => Err(failed(format!("secret {id} has no string field {field}"))),
        }
    }

    async fn secret_string(&self, id: &str) -> Result<String, TargetError> {
        if let Some((v, at)) = self.secret_cache.lock().unwrap().get(id) {
            if at.elapsed() < self.secret_ttl {
                return Ok(v.clone());
            }
        }
        let out = self
            .secrets
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| {
                let code = aws_sdk_secretsmanager::error::ProvideErrorMetadata::code(&e)
                    .unwrap_or("no code")
                    .to_owned();
                failed(format!("secret {id} could not be read ({code})"))
            })?;
        let value = out
            .secret_string()
            .ok_or_else(|| failed(format!("secret {id} has no string value")))?
            .to_owned();
        self.secret_cache
            .lock()
            .unwrap()
            .insert(id.to_owned(), (value.clone(), Instant::now()));
        Ok(value)
    }

    /// A cached or freshly fetched access token; one fetch per key at a time.
    async fn token(&self, auth: &OutboundAuth) -> Result<String, TargetError> {
        let OutboundAuth::Oauth2ClientCredentials {
            token_url,
            client_id,
            client_secret,
            scope,
            audience,
            resource,
        } = auth
        else {
            return Err(failed("not a client-credentials configuration"));
        };
        let key = (
            token_url.clone(),
            client_id.clone(),
            scope.clone(),
            audience.clone(),
            resource.clone(),
        );
        let slot = Arc::clone(self.tokens.lock().unwrap().entry(key).or_default());
        let mut slot = slot.lock().await;
        if let Some((token, until)) = slot.as_ref() {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let secret = self.resolve(client_secret).await?;
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", &secret),
        ];
        for (k, v) in [
            ("scope", scope),
            ("audience", audience),
            ("resource", resource),
        ] {
            if let Some(v) = v {
                form.push((k, v));
            }
        }
        let fetch = async {
            let mut resp = self
                .http
                .post(token_url)
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&form)
                .send()
                .await
                .map_err(|e| failed(format!("token endpoint unreachable: {}", e.without_url())))?;
            let status = resp.status();
            if !status.is_success() {
                return Err(failed(format!("token endpoint answered HTTP {status}")));
            }
            let mut body = Vec::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|_| failed("token read failed"))?
            {
                if body.len() + chunk.len() > MAX_TOKEN_RESPONSE {
                    return Err(failed("token response too large"));
                }
                body.extend_from_slice(&chunk);
            }
            serde_json::from_slice::<TokenResponse>(&body)
                .map_err(|_| failed("token response is not a token"))
        };
        let answer = tokio::time::timeout(self.token_timeout, fetch)
            .await
            .map_err(|_| failed("token endpoint timed out"))??;
        if answer
            .token_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
            || answer.access_token.is_empty()
        {
            return Err(failed("token endpoint issued no bearer token"));
        }
        let lifetime = answer
            .expires_in
            .unwrap_or(DEFAULT_TOKEN_LIFETIME)
            .min(MAX_TOKEN_LIFETIME);
        // Renew before expiry: 30 s early, or half-way through for short-lived tokens.
        let keep = Duration::from_millis(lifetime * 1000 - (lifetime * 500).min(30_000));
        *slot = Some((answer.access_token.clone(), Instant::now() + keep));
        Ok(answer.access_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The last line of finding 4 (issue #14): a reference that reached the authenticator
    /// without passing validation (however it got there) is still never read: no variable
    /// looked up, no Secrets Manager call made.
    #[tokio::test]
    async fn forbidden_sources_are_refused_before_anything_is_read() {
        let conf = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:1")
            .build();
        let own = [("GATEWAY_IDENTITY_KEY_SECRET", "gw/identity".to_owned())];
        let sources = SecretSources::new("TOOL_SECRET_", "mcp-gateway/tools/", &own).unwrap();
        let auth = OutboundAuthenticator::new(
            reqwest::Client::new(),
            aws_sdk_secretsmanager::Client::from_conf(conf),
            sources,
        );
        let header = |env: Option<&str>, secret: Option<&str>| OutboundAuth::Header {
            name: "x-k".into(),
            value: SecretRef {
                env: env.map(str::to_owned),
                secret: secret.map(str::to_owned),
                field: None,
            },
        };
        for a in [
            header(Some("AWS_SECRET_ACCESS_KEY"), None),
            header(Some("PATH"), None),
            header(None, Some("gw/identity")),
            header(None, Some("other/secret")),
        ] {
            let e = auth.header(&a).await.unwrap_err();
            assert!(
                matches!(&e, TargetError::NotInvoked(m) if m.contains("source not allowed")),
                "{e}"
            );
        }
    }
}
