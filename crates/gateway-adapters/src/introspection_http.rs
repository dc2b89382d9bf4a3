//! RFC 7662 token introspection over HTTP: `POST` the token to the issuer's introspection
//! endpoint, authenticated with the gateway's own client credentials (HTTP Basic, RFC 7662
//! §2.1 / RFC 6749 §2.3.1); `"active": false` is a revocation. One client, built at
//! start-up, no redirects, a size cap on the answer.

use crate::http_clients::HttpClients;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use gateway_core::auth::revocation::{Revoked, Secret, TokenStatus, TokenStatusSource};
use gateway_core::source::SourceError;

/// Larger answers are not introspection responses.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

pub struct Introspection {
    client: reqwest::Client,
    url: String,
    /// `Basic base64(urlencode(id):urlencode(secret))`.
    authorization: String,
}

fn form_encode(s: &str) -> String {
    // RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding.
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Introspection {
    pub fn new(
        http: &HttpClients,
        url: String,
        client_id: &str,
        secret: &Secret,
    ) -> reqwest::Result<Self> {
        let client = http
            .builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .build()?;
        let pair = format!("{}:{}", form_encode(client_id), form_encode(&secret.0));
        Ok(Self {
            client,
            url,
            authorization: format!("Basic {}", STANDARD.encode(pair)),
        })
    }
}

#[async_trait]
impl TokenStatusSource for Introspection {
    fn name(&self) -> &'static str {
        "introspection"
    }

    async fn status(&self, token: &str) -> Result<TokenStatus, SourceError> {
        Ok(match self.introspect(token).await? {
            Some(_) => TokenStatus::Active,
            None => TokenStatus::Refused(Revoked::Inactive),
        })
    }

    async fn introspect(&self, token: &str) -> Result<Option<Vec<u8>>, SourceError> {
        let mut resp = self
            .client
            .post(&self.url)
            .header(reqwest::header::AUTHORIZATION, &self.authorization)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await
            // Without the URL's query or the body: the token is in the body.
            .map_err(|e| SourceError::Unavailable(format!("{}: {}", self.url, e.without_url())))?;
        let status = resp.status();
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| SourceError::Unavailable(e.without_url().to_string()))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(SourceError::Malformed(format!(
                    "{}: answer over {MAX_RESPONSE_BYTES} bytes",
                    self.url
                )));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(SourceError::Unavailable(format!(
                "{}: HTTP {}",
                self.url,
                status.as_u16()
            )));
        }
        let answer: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&body)
            .map_err(|_| {
                SourceError::Malformed(format!("{}: not an introspection response", self.url))
            })?;
        // RFC 7662 §2.2: anything but `"active": true` is inactive.
        Ok((answer.get("active") == Some(&serde_json::Value::Bool(true))).then_some(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_form_encoded_before_basic() {
        assert_eq!(form_encode("gw client:1"), "gw%20client%3A1");
        let i = Introspection::new(
            &crate::http_clients::HttpClients::new().unwrap(),
            "http://127.0.0.1:1/i".into(),
            "a",
            &Secret("b".into()),
        )
        .unwrap();
        assert_eq!(i.authorization, format!("Basic {}", STANDARD.encode("a:b")));
    }
}
