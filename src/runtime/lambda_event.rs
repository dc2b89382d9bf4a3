//! The check of a Lambda HTTP event before `lambda_http` turns it into a request. Its
//! conversion (1.3) unwraps: a `Host` header or `domainName` that is not a host (a label
//! over 63 bytes, a space), a path that makes the URL's authority invalid (`:99999`), a raw
//! query the `http` crate refuses, or a body marked base64 that is not — each panics, and
//! under `panic = "abort"` ends the instance with its work. API Gateway does not send such
//! events, but the gateway does not rely on its front door: an event that would panic is
//! answered 400 here and never converted. `tests/hermetic/event_props.rs` holds this check
//! and the conversion together: what passes here converts without a panic.

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use lambda_http::request::LambdaRequest;
use lambda_http::{LambdaEvent, Service};
use tower::ServiceExt;

/// Why an event cannot become a request.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error("the event's host and path do not form a URL")]
    BadUrl,
    #[error("the event's query string is not valid in a URI")]
    BadQuery,
    #[error("the event's body is marked base64 but is not")]
    BadBody,
}

impl EventError {
    /// The stable code, for the log line.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUrl => "event_bad_url",
            Self::BadQuery => "event_bad_query",
            Self::BadBody => "event_bad_body",
        }
    }
}

/// Whether `lambda_http` can convert the event without panicking.
pub fn check(event: &LambdaRequest) -> Result<(), EventError> {
    match event {
        LambdaRequest::ApiGatewayV2(ag) => {
            let host = host_of(&ag.headers, ag.request_context.domain_name.as_deref());
            let path = with_stage(
                &ag.request_context.stage,
                ag.raw_path.as_deref().unwrap_or(""),
            );
            let mut uri = uri_for(&path, &ag.headers, host)?;
            if let Some(q) = ag.raw_query_string.as_deref().filter(|q| !q.is_empty()) {
                uri.push('?');
                uri.push_str(q);
                axum::http::Uri::try_from(uri.as_str()).map_err(|_| EventError::BadQuery)?;
            }
            body_ok(ag.is_base64_encoded, ag.body.as_deref())
        }
        LambdaRequest::ApiGatewayV1(ag) => {
            let host = host_of(&ag.headers, ag.request_context.domain_name.as_deref());
            let path = with_stage(&ag.request_context.stage, ag.path.as_deref().unwrap_or(""));
            // Its query is rebuilt from the parsed parameters, encoded: always valid.
            uri_for(&path, &ag.headers, host)?;
            body_ok(ag.is_base64_encoded, ag.body.as_deref())
        }
        // The kinds this build does not turn on are not delivered as HTTP events.
        _ => Ok(()),
    }
}

tokio::task_local! {
    /// Set while a refused event's stand-in goes through the adapter: the inner service
    /// answers with the refusal instead of calling the router.
    static REFUSED: EventError;
}

/// `lambda_http::run(router)` with the check in front: an event that passes is served as
/// `lambda_http` serves it; one that fails is answered 400 through the same response
/// conversion (a stand-in event that converts safely carries it), never converted itself.
pub async fn run(router: Router) -> Result<(), lambda_http::Error> {
    let inner = tower::service_fn(move |req: lambda_http::Request| {
        let router = router.clone();
        async move {
            match REFUSED.try_with(refusal) {
                Ok(resp) => Ok(resp),
                Err(_) => router.oneshot(req).await,
            }
        }
    });
    let adapter = lambda_http::Adapter::from(inner);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |mut event: LambdaEvent<LambdaRequest>| {
            let mut adapter = adapter.clone();
            async move {
                match check(&event.payload) {
                    Ok(()) => adapter.call(event).await,
                    Err(e) => {
                        tracing::warn!(code = e.code(), request_id = %event.context.request_id,
                            "refusing a Lambda event that cannot become a request");
                        stand_in(&mut event.payload);
                        REFUSED.scope(e, adapter.call(event)).await
                    }
                }
            }
        },
    ))
    .await
}

/// The 400 a refused event gets: JSON, never cached.
pub fn refusal(e: &EventError) -> Response {
    let body = serde_json::json!({ "error": "bad_request", "error_description": e.to_string() });
    let mut resp = (StatusCode::BAD_REQUEST, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Empties what the check found wrong: the event then converts whatever else it holds.
pub fn stand_in(event: &mut LambdaRequest) {
    match event {
        LambdaRequest::ApiGatewayV2(ag) => {
            ag.headers.remove(header::HOST);
            ag.request_context.domain_name = None;
            ag.request_context.stage = None;
            ag.raw_path = Some("/".into());
            ag.raw_query_string = None;
            (ag.body, ag.is_base64_encoded) = (None, false);
        }
        LambdaRequest::ApiGatewayV1(ag) => {
            ag.headers.remove(header::HOST);
            ag.request_context.domain_name = None;
            ag.request_context.stage = None;
            ag.path = Some("/".into());
            (ag.body, ag.is_base64_encoded) = (None, false);
        }
        _ => {}
    }
}

fn host_of<'a>(headers: &'a HeaderMap, domain: Option<&'a str>) -> Option<&'a str> {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(domain)
}

/// The path with the stage in front, as the conversion builds it.
fn with_stage(stage: &Option<String>, path: &str) -> String {
    // Read once: the environment is the function's configuration, fixed for its life.
    static IGNORE_STAGE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *IGNORE_STAGE
        .get_or_init(|| std::env::var_os("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH").is_some())
    {
        return path.into();
    }
    match stage.as_deref() {
        None | Some("$default") => path.into(),
        Some(stage) if path.starts_with(&format!("/{stage}/")) => path.into(),
        Some(stage) => format!("/{stage}{path}"),
    }
}

/// The URI the conversion builds before the query: parsed as a URL, then as an `http` URI.
fn uri_for(path: &str, headers: &HeaderMap, host: Option<&str>) -> Result<String, EventError> {
    let uri = match host {
        None => url::Url::parse(&format!("http://localhost{path}"))
            .map_err(|_| EventError::BadUrl)?
            .path()
            .to_owned(),
        Some(host) => {
            let scheme = headers
                .get("x-forwarded-proto")
                .and_then(|s| s.to_str().ok())
                .unwrap_or("https");
            url::Url::parse(&format!("{scheme}://{host}{path}"))
                .map_err(|_| EventError::BadUrl)?
                .to_string()
        }
    };
    axum::http::Uri::try_from(uri.as_str()).map_err(|_| EventError::BadUrl)?;
    Ok(uri)
}

fn body_ok(base64: bool, body: Option<&str>) -> Result<(), EventError> {
    match body {
        Some(b) if base64 => base64::engine::general_purpose::STANDARD
            .decode(b)
            .map(drop)
            .map_err(|_| EventError::BadBody),
        _ => Ok(()),
    }
}
