//! The fronted IdP over HTTP for the façade: its metadata document (fetched on first use,
//! kept for an hour, the last good copy kept when a refresh fails) and its token endpoint,
//! to which the relay POSTs forms. Bounded in time and size, no redirects followed.

use crate::http_clients::HttpClients;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::Mutex;

use gateway_core::oauth::metadata::MAX_METADATA_BYTES;
use gateway_core::oauth::{IdpGateway, IdpMetadata, OAuthError};

const KEEP: Duration = Duration::from_secs(3600);
const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

pub struct IdpHttp {
    client: reqwest::Client,
    issuer: String,
    metadata_url: String,
    cached: Mutex<Option<(Instant, Arc<IdpMetadata>)>>,
}

/// Reads a body up to `max` bytes.
pub(crate) async fn bounded_body(
    mut resp: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, OAuthError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| OAuthError::Upstream(e.without_url().to_string()))?
    {
        if body.len() + chunk.len() > max {
            return Err(OAuthError::Upstream(format!(
                "answer larger than {max} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl IdpHttp {
    pub fn new(http: &HttpClients, issuer: String, metadata_url: String) -> reqwest::Result<Self> {
        let client = http
            .builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(8))
            .build()?;
        Ok(Self {
            client,
            issuer,
            metadata_url,
            cached: Mutex::new(None),
        })
    }

    async fn fetch(&self) -> Result<IdpMetadata, OAuthError> {
        let up = |e: reqwest::Error| {
            OAuthError::Upstream(format!("{}: {}", self.metadata_url, e.without_url()))
        };
        let resp = self
            .client
            .get(&self.metadata_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(up)?;
        if !resp.status().is_success() {
            return Err(OAuthError::Upstream(format!(
                "{}: HTTP {}",
                self.metadata_url,
                resp.status().as_u16()
            )));
        }
        let body = bounded_body(resp, MAX_METADATA_BYTES).await?;
        IdpMetadata::parse(&self.issuer, &body)
    }
}

#[async_trait]
impl IdpGateway for IdpHttp {
    async fn metadata(&self) -> Result<Arc<IdpMetadata>, OAuthError> {
        // One fetch at a time; callers during a fetch wait for its result.
        let mut cached = self.cached.lock().await;
        if let Some((at, m)) = cached.as_ref() {
            if at.elapsed() < KEEP {
                return Ok(Arc::clone(m));
            }
        }
        match self.fetch().await {
            Ok(m) => {
                let m = Arc::new(m);
                *cached = Some((Instant::now(), Arc::clone(&m)));
                Ok(m)
            }
            Err(e) => match cached.as_ref() {
                Some((_, m)) => {
                    tracing::warn!(error = %e, "IdP metadata refresh failed; the last good copy is used");
                    Ok(Arc::clone(m))
                }
                None => Err(e),
            },
        }
    }

    async fn token(
        &self,
        endpoint: &str,
        form: &[(String, String)],
    ) -> Result<(u16, Vec<u8>), OAuthError> {
        let resp = self
            .client
            .post(endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .map_err(|e| OAuthError::Upstream(format!("token endpoint: {}", e.without_url())))?;
        let status = resp.status().as_u16();
        let body = bounded_body(resp, MAX_TOKEN_RESPONSE_BYTES).await?;
        // Only the IdP's JSON answers are relayed; anything else is its failure, not the client's.
        if serde_json::from_slice::<serde_json::Value>(&body).map_or(true, |v| !v.is_object()) {
            return Err(OAuthError::Upstream(format!(
                "token endpoint: HTTP {status}, not JSON"
            )));
        }
        Ok((status, body))
    }
}
