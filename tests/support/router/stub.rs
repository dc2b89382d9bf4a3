//! The stub tool target every protocol test calls (echo, slow, a leaky 500), on 127.0.0.1,
//! and a port where nothing listens.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing;
use serde_json::{Value, json};

use super::*;

/// A tiny HTTP tool target on 127.0.0.1: `POST /echo` answers `{"text": <text>}` and
/// records the raw body it received; `POST /slow` answers `{"text": "late"}` after 3 s;
/// `POST /status500` answers HTTP 500 with a body full of internal detail that must never
/// reach a client.
pub struct Stub {
    /// `http://127.0.0.1:<port>`, what `DEMO_TOOLS_URL` is set to; also the test issuer.
    pub base_url: String,
    /// The JWKS served at `/jwks.json` (tests may change it).
    pub jwks: Arc<Mutex<Value>>,
    /// Requests to `/jwks.json` so far.
    pub jwks_hits: Arc<AtomicUsize>,
    /// Raw bodies received by `/echo`, in arrival order.
    pub echo_bodies: Arc<Mutex<Vec<Bytes>>>,
    /// The headers of those requests.
    pub echo_headers: Arc<Mutex<Vec<HeaderMap>>>,
}

/// What the 500 target answers with; none of it may appear in a tool result.
pub const STUB_500_BODY: &str =
    "Traceback: db at http://10.1.2.3:5432 arn:aws:lambda:eu-west-1:123456789012:function:x";

pub async fn start_stub() -> Stub {
    let echo_bodies: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let echo_headers: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let recorded = Arc::clone(&echo_bodies);
    let recorded_headers = Arc::clone(&echo_headers);
    let jwks = Arc::new(Mutex::new(tokens::initial_jwks()));
    let jwks_hits = Arc::new(AtomicUsize::new(0));
    let (served, hits) = (Arc::clone(&jwks), Arc::clone(&jwks_hits));
    let router = Router::new()
        .route(
            "/jwks.json",
            routing::get(move || async move {
                hits.fetch_add(1, Ordering::SeqCst);
                axum::Json(served.lock().unwrap().clone())
            }),
        )
        .route(
            "/echo",
            routing::post(move |headers: HeaderMap, body: Bytes| async move {
                recorded_headers.lock().unwrap().push(headers);
                recorded.lock().unwrap().push(body.clone());
                let text = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v.get("text").cloned())
                    .unwrap_or(Value::Null);
                axum::Json(json!({ "text": text }))
            }),
        )
        .route(
            "/slow",
            routing::post(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                axum::Json(json!({ "text": "late" }))
            }),
        )
        .route(
            "/status500",
            routing::post(|| async {
                (StatusCode::INTERNAL_SERVER_ERROR, STUB_500_BODY).into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the stub target");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("stub target");
    });
    Stub {
        base_url: format!("http://{addr}"),
        jwks,
        jwks_hits,
        echo_bodies,
        echo_headers,
    }
}

/// A port on 127.0.0.1 that nothing listens on (`support::free_port`).
pub fn closed_port() -> u16 {
    crate::support::free_port()
}
