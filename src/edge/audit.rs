//! The edge's part of the audit trail: every `/mcp` request starts a record (time, request
//! ids), the route fills in who called and what the MCP core did, and `finish` stamps the
//! status and latency and writes it — awaited before the response leaves, so a Lambda
//! frozen right after answering has lost nothing. A request dropped before it finished
//! (the client went away: standalone mode cancels the work) is still recorded with what
//! was known by then, reason `client_closed` and status 499.

use std::sync::Arc;
use std::time::Instant;

use axum::http::request::Parts;
use axum::response::Response;

use super::state::AppState;
use crate::audit::{self, AuditRecord, AuditTrail, Verdict, variant_name};
use crate::auth::AuthError;
use crate::mcp::CallFacts;

/// API Gateway's and Lambda's request ids, when the request came through them.
pub(crate) fn aws_request_ids(parts: &Parts) -> (Option<String>, Option<String>) {
    use lambda_http::request::RequestContext;
    let api = match parts.extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.request_id.clone(),
        _ => None,
    };
    let lambda = parts
        .extensions
        .get::<lambda_http::Context>()
        .map(|c| c.request_id.clone());
    (api, lambda)
}

/// One request's record in the making (`None` once written).
pub(crate) struct Pending {
    record: Option<AuditRecord>,
    /// Filled in by the MCP core as it goes.
    pub facts: CallFacts,
    /// The MCP core's error, if it answered with one.
    pub failed: Option<String>,
    started: Instant,
    trail: Arc<AuditTrail>,
}

/// The status a request without a response is recorded with (nginx's "client closed").
const CLIENT_CLOSED: u16 = 499;

impl Pending {
    pub fn start(state: &AppState, parts: &Parts, request_id: &str) -> Self {
        let (api, lambda) = aws_request_ids(parts);
        Self {
            record: Some(audit::base_record(request_id, api, lambda)),
            facts: CallFacts::default(),
            failed: None,
            started: Instant::now(),
            trail: Arc::clone(&state.audit),
        }
    }

    pub fn record(&mut self) -> &mut AuditRecord {
        self.record
            .as_mut()
            .expect("an audit record is written only once")
    }

    /// A 401: which check failed.
    pub fn unauthorized(&mut self, reason: &AuthError) {
        let r = self.record();
        r.decision = Verdict::Unauthorized;
        r.reason = Some(variant_name(reason));
    }

    /// Refused at the HTTP level (media type, size, method) before the MCP core.
    pub fn refused(&mut self, why: &impl std::fmt::Debug) {
        let r = self.record();
        r.decision = Verdict::Error;
        r.reason = Some(variant_name(why));
    }

    fn stamp(&mut self, status: u16) -> Option<AuditRecord> {
        let mut record = self.record.take()?;
        // Only requests that reached the MCP core have facts (else: a 401 or a refusal).
        if record.decision != Verdict::Unauthorized && record.reason.is_none() {
            audit::set_facts(
                &mut record,
                std::mem::take(&mut self.facts),
                self.failed.take(),
            );
        }
        record.status = status;
        record.gateway_us = self.started.elapsed().as_micros() as u64;
        Some(record)
    }

    /// Stamps status and latency, writes the record everywhere, then gives the response
    /// back. The write runs as its own task, so a client that goes away mid-write does not
    /// cut it short.
    pub async fn finish(mut self, resp: Response) -> Response {
        if let Some(record) = self.stamp(resp.status().as_u16()) {
            let trail = Arc::clone(&self.trail);
            if let Err(e) = tokio::spawn(async move { trail.record(record).await }).await {
                tracing::error!(error = %e, "audit write task failed");
            }
        }
        resp
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let Some(mut record) = self.stamp(CLIENT_CLOSED) else {
            return;
        };
        // No answer went out, whatever was decided; before any decision it is an error.
        if record.rule.is_none() {
            record.decision = Verdict::Error;
        }
        record.reason = Some("client_closed".into());
        let trail = Arc::clone(&self.trail);
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move { trail.record(record).await });
            }
            Err(_) => {
                tracing::error!(request_id = %record.request_id, "audit record of an abandoned request lost: no runtime");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
    use lambda_http::request::RequestContext;

    #[test]
    fn api_gateway_and_lambda_request_ids_are_both_kept() {
        let mut api = ApiGatewayV2httpRequestContext::default();
        api.request_id = Some("api-1".into());
        let mut lambda = lambda_http::Context::default();
        lambda.request_id = "lambda-1".into();
        let mut req = axum::http::Request::new(());
        req.extensions_mut()
            .insert(RequestContext::ApiGatewayV2(api));
        req.extensions_mut().insert(lambda);
        let (parts, ()) = req.into_parts();
        assert_eq!(
            aws_request_ids(&parts),
            (Some("api-1".into()), Some("lambda-1".into()))
        );
        let (parts, ()) = axum::http::Request::new(()).into_parts();
        assert_eq!(aws_request_ids(&parts), (None, None), "standalone");
    }
}
