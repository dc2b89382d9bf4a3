//! Fetches Client ID Metadata Documents for the façade: https on port 443 only, every address
//! of the host public (`oauth::ssrf`: checked on the addresses the connection then uses, so a
//! name cannot rebind between check and connect), no redirects, at most 5 KiB, 5 s in all.
//! The URL comes from an unauthenticated request, so nothing about the failure goes back to
//! the caller beyond "invalid client". `GATEWAY_FACADE_CIMD_TEST_ALLOW` (tests only, off by
//! default) names exact `host:port` pairs let through anyway, for a local document host.

use crate::http_clients::HttpClients;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::oauth_idp::bounded_body;
use gateway_core::oauth::registration::{MAX_DOCUMENT_BYTES, is_client_id_url};
#[cfg(test)]
use gateway_core::oauth::ssrf::parse_allow_list;
use gateway_core::oauth::ssrf::{SsrfError, check_addresses};
use gateway_core::oauth::{CimdFetcher, OAuthError};

/// Resolves a document host and refuses it unless every address is public.
struct PublicOnly {
    /// Host names of the test-only allow-list (their ports are checked in `fetch`).
    allowed_hosts: Arc<Vec<String>>,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allowed = self.allowed_hosts.contains(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 443))
                .await?
                .collect();
            if !allowed {
                let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
                check_addresses(&ips)?;
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Most document fetches in flight at once: each costs a connection of up to 5 s, started by
/// an unauthenticated request.
const MAX_IN_FLIGHT: usize = 8;

pub struct CimdHttp {
    client: reqwest::Client,
    in_flight: Arc<tokio::sync::Semaphore>,
    /// Exact `host:port` pairs of the test-only allow-list.
    allowed: Vec<(String, u16)>,
}

impl CimdHttp {
    /// `extra_root_pem`: one more trusted root (a local test CA); `allowed`: the test-only
    /// allow-list.
    pub fn new(
        http: &HttpClients,
        extra_root_pem: Option<&[u8]>,
        allowed: Vec<(String, u16)>,
    ) -> reqwest::Result<Self> {
        let resolver = PublicOnly {
            allowed_hosts: Arc::new(allowed.iter().map(|(h, _)| h.clone()).collect()),
        };
        // The shared TLS configuration, unless a test CA joins the roots: reqwest merges
        // extra roots only into a configuration it builds itself.
        let b = match extra_root_pem {
            None => http.builder(),
            Some(pem) => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("mcp-oauth-gateway/", env!("CARGO_PKG_VERSION")))
                .tls_certs_merge([reqwest::Certificate::from_pem(pem)?]),
        };
        let b = b
            .https_only(true)
            .no_proxy()
            .dns_resolver(Arc::new(resolver))
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5));
        if !allowed.is_empty() {
            tracing::warn!(
                allowed = ?allowed,
                "GATEWAY_FACADE_CIMD_TEST_ALLOW is set: metadata documents are fetched from these non-public hosts (tests only)"
            );
        }
        Ok(Self {
            client: b.build()?,
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
            allowed,
        })
    }

    /// The address and port rules, for what the resolver does not see: IP literals (never
    /// resolved) and the port.
    fn check_url(&self, url: &reqwest::Url) -> Result<(), SsrfError> {
        let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
        let port = url.port_or_known_default().unwrap_or(0);
        if self.allowed.iter().any(|(h, p)| h == host && *p == port) {
            return Ok(());
        }
        if port != 443 {
            return Err(SsrfError::Port(port));
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            check_addresses(&[ip])?;
        } else if self.allowed.iter().any(|(h, _)| h == host) {
            // An allowed test host on another port: the resolver would let it through.
            return Err(SsrfError::Port(port));
        }
        Ok(())
    }
}

#[async_trait]
impl CimdFetcher for CimdHttp {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, OAuthError> {
        if !is_client_id_url(url) {
            return Err(OAuthError::UnknownClient);
        }
        let parsed = reqwest::Url::parse(url).map_err(|_| OAuthError::UnknownClient)?;
        self.check_url(&parsed).map_err(|e| {
            OAuthError::Upstream(format!("client metadata document not fetched: {e}"))
        })?;
        let _slot = self.in_flight.clone().try_acquire_owned().map_err(|_| {
            OAuthError::Upstream("client metadata document not fetched: too many in flight".into())
        })?;
        let resp = self
            .client
            .get(parsed)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| {
                // The whole chain: the address refusal sits a few causes down.
                let mut why = String::new();
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    why.push_str(&format!(": {c}"));
                    cause = c.source();
                }
                OAuthError::Upstream(format!(
                    "client metadata document: {}{why}",
                    e.without_url()
                ))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fetcher(allowed: &str) -> CimdHttp {
        CimdHttp::new(
            &crate::http_clients::HttpClients::new().unwrap(),
            None,
            parse_allow_list(allowed).unwrap(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn non_public_hosts_and_other_ports_are_never_fetched() {
        let f = fetcher("");
        for url in [
            "https://127.0.0.1/client.json",
            "https://[::1]/client.json",
            "https://10.0.0.1/client.json",
            "https://169.254.169.254/latest/meta-data/x",
            "https://[::ffff:127.0.0.1]/client.json",
            "https://localhost/client.json",
            "https://app.example:8443/client.json",
        ] {
            let e = f.fetch(url).await.unwrap_err();
            assert!(
                matches!(&e, OAuthError::Upstream(m) if m.contains("not a public address") || m.contains("not 443")),
                "{url}: {e}"
            );
        }
    }

    #[test]
    fn the_test_allow_list_is_exact_host_and_port() {
        let f = fetcher("127.0.0.1:8443, localhost:9000");
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        assert!(f.check_url(&url("https://127.0.0.1:8443/c.json")).is_ok());
        assert!(f.check_url(&url("https://127.0.0.1:8444/c.json")).is_err());
        assert!(f.check_url(&url("https://127.0.0.1/c.json")).is_err());
        assert!(f.check_url(&url("https://localhost:9000/c.json")).is_ok());
        assert!(f.check_url(&url("https://localhost/c.json")).is_err());
        assert!(parse_allow_list("nope").is_err());
    }
}
