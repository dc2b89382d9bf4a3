//! The edge's part of the audit trail: every `/mcp` request starts its facts (time, request
//! ids), the route notes who called, how the request ended and lends the facts to the MCP
//! core, and `finish` has `audit::assemble` make the record (with status and latency) and
//! writes it — awaited before the response leaves, so a Lambda frozen right after
//! answering has lost nothing. A request dropped before it finished (the client went away:
//! standalone mode cancels the work) is still recorded with what was known by then, ending
//! `ClientClosed` (reason `client_closed`, status 499).

use std::sync::Arc;
use std::time::Instant;

use axum::http::request::Parts;
use axum::response::Response;

use super::state::AppState;
use crate::audit::{self, AuditRecord, AuditTrail, CallFacts, Ending, RequestFacts};
use crate::auth::{AuthError, Principal};
use crate::edge::errors::EdgeError;

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

/// One request's facts in the making (`None` once recorded).
pub(crate) struct Pending {
    request: Option<RequestFacts>,
    /// How it ended, once it did (unset: the MCP core answered).
    ending: Option<Ending>,
    started: Instant,
    trail: Arc<AuditTrail>,
}

/// The status a request without a response is recorded with (nginx's "client closed").
const CLIENT_CLOSED: u16 = 499;

impl Pending {
    pub fn start(state: &AppState, parts: &Parts, request_id: &str) -> Self {
        let (api, lambda) = aws_request_ids(parts);
        Self {
            request: Some(RequestFacts::arrived(request_id, api, lambda)),
            ending: None,
            started: Instant::now(),
            trail: Arc::clone(&state.audit),
        }
    }

    fn request(&mut self) -> &mut RequestFacts {
        self.request
            .as_mut()
            .expect("an audit record is written only once")
    }

    /// The verified caller.
    pub fn caller(&mut self, principal: &Arc<Principal>) {
        self.request().caller = Some(Arc::clone(principal));
    }

    /// The caller was let through without the issuer's online revocation check.
    pub fn revocation_unchecked(&mut self) {
        self.request().revocation_unchecked = true;
    }

    /// What the MCP core notes as it goes.
    pub fn call(&mut self) -> &mut CallFacts {
        &mut self.request().call
    }

    /// A 401 (or 503): which check failed.
    pub fn unauthorized(&mut self, reason: &AuthError) {
        self.ending = Some(Ending::Unauthorized(reason.code()));
    }

    /// Refused at the HTTP level (media type, size, method) before the MCP core.
    pub fn refused(&mut self, why: &EdgeError) {
        self.ending = Some(Ending::Refused(why.code()));
    }

    fn assemble(&mut self, ending: Ending, status: u16) -> Option<AuditRecord> {
        let request = self.request.take()?;
        let elapsed = self.started.elapsed();
        Some(audit::assemble(request, ending, status, elapsed))
    }

    /// Has the record made, writes it everywhere, then gives the response back. The write
    /// runs as its own task, so a client that goes away mid-write does not cut it short.
    pub async fn finish(mut self, resp: Response) -> Response {
        let ending = self.ending.take().unwrap_or(Ending::Answered);
        if let Some(record) = self.assemble(ending, resp.status().as_u16()) {
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
        let Some(record) = self.assemble(Ending::ClientClosed, CLIENT_CLOSED) else {
            return;
        };
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
