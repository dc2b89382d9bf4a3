//! One TLS configuration for every outbound HTTP client (targets, JWKS, introspection, the
//! façade's IdP, CIMD): built once at start-up, so the platform's trust roots are loaded
//! once per process rather than once per client (each load costs milliseconds of cold start).

use std::sync::Arc;

/// Makes the gateway's reqwest clients, each with its own redirect, time-out and resolver
/// settings but the one shared TLS configuration.
#[derive(Clone)]
pub struct HttpClients {
    tls: rustls::ClientConfig,
}

/// The TLS configuration could not be built (no usable crypto provider or trust store).
#[derive(Debug, thiserror::Error)]
#[error("TLS configuration: {0}")]
pub struct TlsSetupError(String);

impl HttpClients {
    /// The configuration reqwest would build by itself (every TLS version rustls supports,
    /// the platform verifier, HTTP/1.1 by ALPN: these clients speak HTTP/1.1 only), built
    /// once. The verifier loads the roots on first use and keeps them: every client made
    /// here shares that one verifier.
    pub fn new() -> Result<Self, TlsSetupError> {
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
        let verifier = rustls_platform_verifier::Verifier::new(Arc::clone(&provider))
            .map_err(|e| TlsSetupError(e.to_string()))?;
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(rustls::ALL_VERSIONS)
            .map_err(|e| TlsSetupError(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self { tls })
    }

    /// A client builder with the shared TLS configuration, no redirects followed (no
    /// outbound call may be bounced to another address) and the gateway's user agent.
    pub fn builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .tls_backend_preconfigured(self.tls.clone())
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mcp-oauth-gateway/", env!("CARGO_PKG_VERSION")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// reqwest refuses to build a client on a preconfigured backend it does not recognise
    /// (a rustls of another version): building one proves the types match.
    #[test]
    fn clients_build_on_the_shared_configuration() {
        let clients = HttpClients::new().unwrap();
        for _ in 0..2 {
            clients.builder().build().unwrap();
        }
    }
}
