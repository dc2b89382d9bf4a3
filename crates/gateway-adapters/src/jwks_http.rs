//! Fetches public key documents (JWKS, OpenID discovery) over HTTP for the key stores:
//! bounded in time and size, no redirects to elsewhere, one client built at start-up.

use std::time::Duration;

use async_trait::async_trait;

use gateway_core::auth::jwk::MAX_JWKS_BYTES;
use gateway_core::auth::{FetchError, JwksFetcher};

use crate::http_clients::HttpClients;

pub struct HttpJwksFetcher {
    client: reqwest::Client,
}

impl HttpJwksFetcher {
    pub fn new(http: &HttpClients) -> reqwest::Result<Self> {
        let client = http
            .builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self { client })
    }
}

#[async_trait]
impl JwksFetcher for HttpJwksFetcher {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let mut resp = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| FetchError(format!("{url}: {}", e.without_url())))?;
        if !resp.status().is_success() {
            return Err(FetchError(format!(
                "{url}: HTTP {}",
                resp.status().as_u16()
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| FetchError(format!("{url}: {}", e.without_url())))?
        {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(FetchError(format!(
                    "{url}: larger than {MAX_JWKS_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}
