//! The demo tools function: small HTTP tools (`echo`, `calculate`, `current_time`) that the
//! embedded catalog points at, so a newcomer can call a real tool through the gateway, and
//! `sleep`, which shows time-outs and cancellation (`GET /stats` counts sleeps finished and
//! abandoned by a caller that went away). Runs under Lambda or standalone (`DEMO_TOOLS_BIND`, default 127.0.0.1:8081).
//!
//! With `DEMO_GATEWAY_ISSUER`, `DEMO_GATEWAY_JWKS_URL` and `DEMO_TOOLS_AUDIENCE` set, every
//! call must carry the gateway's signed statement of who called (`x-gateway-identity`),
//! verified with the gateway's published keys, for exactly the tool called: its `aud` must be
//! `DEMO_TOOLS_AUDIENCE` (the base URL the catalog's `DEMO_TOOLS_URL` is) followed by
//! `/<tool>`, and it is refused from its `exp` on, no leeway (`identity::verify`); `echo`
//! then says who called.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use axum::Extension;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::adapters::http_clients::HttpClients;
use crate::adapters::jwks_http::HttpJwksFetcher;
use crate::auth::issuer::KeySource;
use crate::auth::keystore::{KeyStore, RefreshPolicy};
use crate::identity::verify::{Statement, StatementVerifier};
use crate::{identity, runtime};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EchoArgs {
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalcArgs {
    a: f64,
    b: f64,
    op: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SleepArgs {
    seconds: f64,
}

/// Sleeps begun, finished, and abandoned (the caller went away and the request was dropped).
static SLEEPS: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

/// Counts a sleep as abandoned unless it finished.
struct SleepGuard(bool);

impl Drop for SleepGuard {
    fn drop(&mut self) {
        SLEEPS[if self.0 { 1 } else { 2 }].fetch_add(1, Ordering::SeqCst);
    }
}

async fn sleep(args: Result<Json<SleepArgs>, JsonRejection>) -> Response {
    let seconds = match args {
        Ok(Json(a)) if (0.0..=20.0).contains(&a.seconds) => a.seconds,
        Ok(_) => return bad("seconds must be between 0 and 20"),
        Err(e) => return bad(e.body_text()),
    };
    SLEEPS[0].fetch_add(1, Ordering::SeqCst);
    let mut guard = SleepGuard(false);
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    guard.0 = true;
    Json(json!({ "slept": seconds })).into_response()
}

async fn stats() -> Json<serde_json::Value> {
    let n = |i: usize| SLEEPS[i].load(Ordering::SeqCst);
    Json(json!({ "sleeps": { "started": n(0), "finished": n(1), "abandoned": n(2) } }))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TimeArgs {
    #[serde(default)]
    offset_minutes: i64,
}

fn bad(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

async fn echo(
    caller: Option<Extension<Arc<Statement>>>,
    args: Result<Json<EchoArgs>, JsonRejection>,
) -> Response {
    match args {
        Ok(Json(a)) => match caller {
            Some(Extension(c)) => Json(json!({ "text": a.text, "caller": c.username })),
            None => Json(json!({ "text": a.text })),
        }
        .into_response(),
        Err(e) => bad(e.body_text()),
    }
}

/// The statement verifier and the audience base, when the caller check is configured.
struct Callers {
    verifier: StatementVerifier,
    audience: String,
}

/// Verifies the gateway's statement of who called (an ES256 JWT whose keys the gateway
/// publishes), with the library's statement rules.
fn caller_check() -> Result<Option<Arc<Callers>>, String> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let (issuer, jwks, audience) = match (
        var("DEMO_GATEWAY_ISSUER"),
        var("DEMO_GATEWAY_JWKS_URL"),
        var("DEMO_TOOLS_AUDIENCE"),
    ) {
        (None, None, None) => return Ok(None),
        (Some(i), Some(j), Some(a)) => (i, j, a),
        _ => {
            return Err(
                "set all of DEMO_GATEWAY_ISSUER, DEMO_GATEWAY_JWKS_URL, DEMO_TOOLS_AUDIENCE, or none"
                    .into(),
            );
        }
    };
    let http = HttpClients::new().map_err(|e| e.to_string())?;
    let fetcher = HttpJwksFetcher::new(&http).map_err(|e| e.to_string())?;
    // Keys are fetched on the first call (the gateway may not be up before this starts).
    let keys = KeyStore::new(
        issuer.clone(),
        KeySource::Jwks(jwks),
        Arc::new(fetcher),
        RefreshPolicy::default(),
    );
    Ok(Some(Arc::new(Callers {
        verifier: StatementVerifier::new(issuer, Arc::new(keys)),
        audience: audience.trim_end_matches('/').to_owned(),
    })))
}

async fn require_caller(
    State(callers): State<Arc<Callers>>,
    mut req: Request,
    next: Next,
) -> Response {
    let refused =
        |why: &str| (StatusCode::UNAUTHORIZED, Json(json!({"error": why}))).into_response();
    let statement = req
        .headers()
        .get(identity::HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(statement) = statement else {
        return refused("no caller statement");
    };
    // The tool is the route's last segment (`/echo`, or `/demo-tools/echo` behind the API).
    let tool = req.uri().path().rsplit('/').next().unwrap_or_default();
    let audience = format!("{}/{tool}", callers.audience);
    let now = crate::auth::verifier::now_secs();
    match callers.verifier.verify(&statement, &audience, now).await {
        Ok(s) => {
            req.extensions_mut().insert(Arc::new(s));
            next.run(req).await
        }
        Err(e) => {
            tracing::warn!(reason = %e, "caller statement refused");
            refused("caller statement refused")
        }
    }
}

async fn calculate(args: Result<Json<CalcArgs>, JsonRejection>) -> Response {
    let Json(a) = match args {
        Ok(a) => a,
        Err(e) => return bad(e.body_text()),
    };
    let result = match a.op.as_str() {
        "add" => a.a + a.b,
        "subtract" => a.a - a.b,
        "multiply" => a.a * a.b,
        "divide" if a.b == 0.0 => return bad("division by zero"),
        "divide" => a.a / a.b,
        other => return bad(format!("unknown op {other:?}")),
    };
    Json(json!({ "result": result })).into_response()
}

async fn current_time(args: Result<Json<TimeArgs>, JsonRejection>) -> Response {
    let Json(a) = match args {
        Ok(a) => a,
        Err(e) => return bad(e.body_text()),
    };
    if !(-1440..=1440).contains(&a.offset_minutes) {
        return bad("offset_minutes must be between -1440 and 1440");
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let text = rfc3339(now + a.offset_minutes * 60, a.offset_minutes);
    Json(json!(text)).into_response()
}

/// Formats seconds since the epoch, already shifted by `offset_minutes`, as RFC 3339.
fn rfc3339(secs: i64, offset_minutes: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = crate::audit::civil_from_days(days);
    let zone = if offset_minutes == 0 {
        "Z".to_owned()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let m = offset_minutes.abs();
        format!("{sign}{:02}:{:02}", m / 60, m % 60)
    };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{zone}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn tools() -> Router {
    Router::new()
        .route("/echo", post(echo))
        .route("/calculate", post(calculate))
        .route("/current_time", post(current_time))
        .route("/sleep", post(sleep))
}

/// The routes, also under `/demo-tools` (the HTTP API route prefix in template.yaml).
fn app(callers: Option<Arc<Callers>>) -> Router {
    let router = tools().nest("/demo-tools", tools());
    let router = match callers {
        Some(v) => router.layer(middleware::from_fn_with_state(v, require_caller)),
        None => router,
    };
    // Counters only, no caller needed (added after the layer, so outside it).
    router
        .route("/stats", get(stats))
        .route("/demo-tools/stats", get(stats))
}

/// The process: its address from `DEMO_TOOLS_BIND`, the caller check, the server.
pub async fn main() -> ExitCode {
    runtime::init_tracing();
    let bind: SocketAddr = match std::env::var("DEMO_TOOLS_BIND") {
        Err(_) => SocketAddr::from(([127, 0, 0, 1], 8081)),
        Ok(v) => match v.parse() {
            Ok(a) => a,
            Err(_) => {
                eprintln!("demo-tools: DEMO_TOOLS_BIND: {v:?} is not an address");
                return ExitCode::FAILURE;
            }
        },
    };
    let callers = match caller_check() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("demo-tools: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime::serve(app(callers), bind, "demo-tools").await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo-tools: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00Z");
        assert_eq!(
            rfc3339(1_798_761_599 + 3600, 60),
            "2027-01-01T00:59:59+01:00"
        );
        assert_eq!(rfc3339(-1, -90), "1969-12-31T23:59:59-01:30");
    }
}
