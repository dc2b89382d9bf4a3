//! HTTP tool targets: POST the arguments as JSON to the catalog's URL, read a bounded
//! answer. One `reqwest::Client` (connection pool, TLS config) is built at start-up. A
//! target with `auth` also gets the gateway's own credential header
//! (`adapters::outbound_auth`); the caller's token is never sent.

use crate::http_clients::HttpClients;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::value::RawValue;

use crate::outbound_auth::OutboundAuthenticator;
use gateway_core::catalog::HttpTarget;
use gateway_core::targets::{TargetError, TargetInvoker, ToolCall, ToolOutput};

/// Invokes `http` targets.
pub struct HttpInvoker {
    client: reqwest::Client,
    default_timeout: Duration,
    max_response_bytes: usize,
    auth: Arc<OutboundAuthenticator>,
}

impl HttpInvoker {
    /// `client` is `target_client()`'s; `auth` resolves outbound credentials.
    pub fn new(
        client: reqwest::Client,
        auth: Arc<OutboundAuthenticator>,
        default_timeout: Duration,
        max_response_bytes: usize,
    ) -> Self {
        Self {
            client,
            default_timeout,
            max_response_bytes,
            auth,
        }
    }
}

/// The HTTP client every target (HTTP, upstream MCP, token endpoint) is called with.
pub fn target_client(http: &HttpClients) -> reqwest::Result<reqwest::Client> {
    // No redirects (`HttpClients::builder`): a target may not bounce the gateway to another
    // address.
    http.builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
}

fn classify(e: reqwest::Error) -> TargetError {
    if e.is_timeout() {
        TargetError::Timeout
    } else {
        // Without the URL: it is internal, and this text reaches the log only.
        TargetError::Unreachable(e.without_url().to_string())
    }
}

#[async_trait]
impl TargetInvoker<HttpTarget> for HttpInvoker {
    async fn invoke(
        &self,
        target: &HttpTarget,
        call: ToolCall<'_>,
    ) -> Result<ToolOutput, TargetError> {
        let HttpTarget {
            url,
            timeout_ms,
            auth,
            ..
        } = target;
        let timeout = timeout_ms.map_or(self.default_timeout, Duration::from_millis);
        let credential = match auth {
            Some(auth) => Some(self.auth.header(auth).await?),
            None => None,
        };
        let mut request = self.client.post(url);
        if let Some((name, value)) = credential {
            request = request.header(name, value);
        }
        let send = request
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json, text/plain")
            .header("x-request-id", call.correlation_id)
            .header(gateway_core::identity::HEADER, call.identity)
            .body(call.arguments.get().to_owned())
            .send();
        // One deadline for the whole exchange, headers and body alike.
        tokio::time::timeout(timeout, async {
            let mut resp = send.await.map_err(classify)?;
            let status = resp.status();
            if !status.is_success() {
                return Err(TargetError::Status(status.as_u16()));
            }
            if resp
                .content_length()
                .is_some_and(|n| n > self.max_response_bytes as u64)
            {
                return Err(TargetError::TooLarge(self.max_response_bytes));
            }
            let is_json = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| {
                    let ct = ct.split(';').next().unwrap_or("").trim();
                    ct.eq_ignore_ascii_case("application/json") || ct.ends_with("+json")
                });
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(classify)? {
                if body.len() + chunk.len() > self.max_response_bytes {
                    return Err(TargetError::TooLarge(self.max_response_bytes));
                }
                body.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(body)
                .map_err(|_| TargetError::BadResponse("body is not UTF-8".into()))?;
            if is_json {
                RawValue::from_string(text)
                    .map(ToolOutput::Json)
                    .map_err(|_| TargetError::BadResponse("body is not valid JSON".into()))
            } else {
                Ok(ToolOutput::Text(text))
            }
        })
        .await
        .map_err(|_| TargetError::Timeout)?
    }
}
