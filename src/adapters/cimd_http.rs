//! Fetches Client ID Metadata Documents for the façade: https only, no redirects, at most
//! 5 KiB, 5 s in all. The URL comes from an unauthenticated request, so nothing about the
//! failure goes back to the caller beyond "invalid client".

use std::time::Duration;

use async_trait::async_trait;

use super::oauth_idp::bounded_body;
use crate::oauth::registration::{MAX_DOCUMENT_BYTES, is_client_id_url};
use crate::oauth::{CimdFetcher, OAuthError};

pub struct CimdHttp {
    client: reqwest::Client,
}

impl CimdHttp {
    /// `extra_root_pem`: one more trusted root (a local test CA).
    pub fn new(extra_root_pem: Option<&[u8]>) -> reqwest::Result<Self> {
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .https_only(true)
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5))
            .user_agent(concat!("mcp-oauth-gateway/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = extra_root_pem {
            b = b.tls_certs_merge([reqwest::Certificate::from_pem(pem)?]);
        }
        Ok(Self { client: b.build()? })
    }
}

#[async_trait]
impl CimdFetcher for CimdHttp {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, OAuthError> {
        if !is_client_id_url(url) {
            return Err(OAuthError::UnknownClient);
        }
        let resp = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| {
                OAuthError::Upstream(format!("client metadata document: {}", e.without_url()))
            })?;
        if !resp.status().is_success() {
            return Err(OAuthError::Upstream(format!(
                "client metadata document: HTTP {}",
                resp.status().as_u16()
            )));
        }
        bounded_body(resp, MAX_DOCUMENT_BYTES).await
    }
}
