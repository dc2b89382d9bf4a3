//! The edge's part of the audit trail: every `/mcp` request starts a record (time, request
//! ids), the route fills in who called and what the MCP core did, and `finish` stamps the
//! status and latency and writes it — awaited before the response leaves, so a Lambda
//! frozen right after answering has lost nothing.

use std::sync::Arc;
use std::time::Instant;

use axum::http::request::Parts;
use axum::response::Response;

use crate::audit::{self, AuditRecord, Verdict, variant_name};
use crate::auth::AuthError;
use crate::state::AppState;

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

/// One request's record in the making.
pub(crate) struct Pending {
    pub record: AuditRecord,
    started: Instant,
}

impl Pending {
    pub fn start(parts: &Parts, request_id: &str) -> Self {
        let (api, lambda) = aws_request_ids(parts);
        Self {
            record: audit::base_record(request_id, api, lambda),
            started: Instant::now(),
        }
    }

    /// A 401: which check failed.
    pub fn unauthorized(&mut self, reason: &AuthError) {
        self.record.decision = Verdict::Unauthorized;
        self.record.reason = Some(variant_name(reason));
    }

    /// Refused at the HTTP level (media type, size, method) before the MCP core.
    pub fn refused(&mut self, why: &impl std::fmt::Debug) {
        self.record.decision = Verdict::Error;
        self.record.reason = Some(variant_name(why));
    }

    /// Stamps status and latency, writes the record everywhere, then gives the response
    /// back. The write runs as its own task, so a client that goes away mid-write does not
    /// cut it short.
    pub async fn finish(mut self, state: &Arc<AppState>, resp: Response) -> Response {
        self.record.status = resp.status().as_u16();
        self.record.gateway_us = self.started.elapsed().as_micros() as u64;
        let trail = Arc::clone(&state.audit);
        let record = self.record;
        if let Err(e) = tokio::spawn(async move { trail.record(record).await }).await {
            tracing::error!(error = %e, "audit write task failed");
        }
        resp
    }
}
