//! Shared helpers for the HTTP-level protocol tests: a stub tool target, the gateway app
//! built over it, one-shot requests, and validation against the official MCP JSON Schemas.
//!
//! Each integration test crate uses a different subset of these helpers.
#![allow(dead_code)]

pub mod tokens;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing;
use jsonschema::ValidatorMap;
use serde_json::{Value, json};
use tower::ServiceExt;

use mcp_oauth_gateway::AppState;
use mcp_oauth_gateway::config::Config;

/// Every protocol version the gateway speaks, newest first.
pub const ALL_VERSIONS: [&str; 4] = ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"];
/// The per-request-era version.
pub const MODERN: &str = "2026-07-28";

// ---------------------------------------------------------------------------------------
// The stub tool target
// ---------------------------------------------------------------------------------------

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

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a throwaway port");
    l.local_addr().unwrap().port()
}

// ---------------------------------------------------------------------------------------
// The gateway under test
// ---------------------------------------------------------------------------------------

/// A temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!(
            "mcp-oauth-gateway-test-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The app plus what it depends on (kept alive for the test's duration).
pub struct Gateway {
    /// The router behind a layer that adds a good bearer token when a request has none.
    pub app: Router,
    /// The router itself: requests reach it exactly as built.
    pub raw: Router,
    pub stub: Stub,
    _dir: Option<TempDir>,
}

/// The gateway over the embedded catalog, `DEMO_TOOLS_URL` pointing at a fresh stub.
pub async fn gateway() -> Gateway {
    gateway_with(&[]).await
}

/// As [`gateway`], with extra environment settings (`GATEWAY_*`).
pub async fn gateway_with(extra: &[(&str, &str)]) -> Gateway {
    gateway_on(start_stub().await, extra).await
}

/// As [`gateway_with`], over a stub already started (settings may name its URL).
pub async fn gateway_on(stub: Stub, extra: &[(&str, &str)]) -> Gateway {
    let (app, raw) = build_app(&stub, extra).await;
    Gateway {
        app,
        raw,
        stub,
        _dir: None,
    }
}

/// The gateway over a catalog file (`GATEWAY_CATALOG_FILE`) with `yaml` as its text;
/// `${DEMO_TOOLS_URL}` in it points at a fresh stub.
pub async fn gateway_with_catalog(yaml: &str) -> Gateway {
    gateway_with_catalog_and(yaml, &[]).await
}

/// As [`gateway_with_catalog`], with extra environment settings (`GATEWAY_*`).
pub async fn gateway_with_catalog_and(yaml: &str, extra: &[(&str, &str)]) -> Gateway {
    let stub = start_stub().await;
    let dir = TempDir::new();
    let path = dir.0.join("catalog.yaml");
    std::fs::write(&path, yaml).expect("write the catalog file");
    let mut env = vec![("GATEWAY_CATALOG_FILE", path.to_str().unwrap())];
    env.extend_from_slice(extra);
    let (app, raw) = build_app(&stub, &env).await;
    Gateway {
        app,
        raw,
        stub,
        _dir: Some(dir),
    }
}

/// The environment of the test gateway: the stub is both the tool target and the one
/// trusted OIDC issuer (its JWKS at `/jwks.json`).
pub fn base_env(stub: &Stub) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert("DEMO_TOOLS_URL".into(), stub.base_url.clone());
    env.insert("GATEWAY_OIDC_ISSUER".into(), stub.base_url.clone());
    env.insert(
        "GATEWAY_OIDC_JWKS_URL".into(),
        format!("{}/jwks.json", stub.base_url),
    );
    env.insert("GATEWAY_RESOURCE_URL".into(), tokens::AUDIENCE.into());
    // In-process gateways would write audit and metrics lines past the test harness's
    // output capture; tests/audit/ checks them on a spawned gateway.
    env.insert("GATEWAY_AUDIT_STDOUT".into(), "off".into());
    env.insert("GATEWAY_METRICS".into(), "off".into());
    env
}

/// A good token from the stub issuer.
pub fn token(stub: &Stub) -> String {
    tokens::sign("rsa-1", &tokens::claims(&stub.base_url))
}

async fn build_app(stub: &Stub, extra: &[(&str, &str)]) -> (Router, Router) {
    let mut env = base_env(stub);
    for (k, v) in extra {
        env.insert((*k).into(), (*v).into());
    }
    let lookup = |k: &str| env.get(k).cloned();
    let config = Config::from_lookup(lookup).expect("valid test configuration");
    let state = AppState::build(&config, &lookup)
        .await
        .expect("gateway state");
    with_default_token(mcp_oauth_gateway::app(state), token(stub))
}

/// Adds `Authorization: Bearer <token>` to requests that carry none, so protocol tests need
/// not repeat it. Authentication tests use [`Gateway::raw`] instead.
fn with_default_token(raw: Router, token: String) -> (Router, Router) {
    let bearer = HeaderValue::from_str(&format!("Bearer {token}")).expect("token is ASCII");
    let authed = raw.clone().layer(tower::util::MapRequestLayer::new(
        move |mut req: Request<Body>| {
            if !req.headers().contains_key(header::AUTHORIZATION) {
                req.headers_mut()
                    .insert(header::AUTHORIZATION, bearer.clone());
            }
            req
        },
    ));
    (authed, raw)
}

// ---------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------

/// Status, headers and the body parsed as JSON (`None` when the body is empty).
pub type Reply = (StatusCode, HeaderMap, Option<Value>);

/// Sends one request through the router (no network) and parses its JSON body.
pub async fn send(app: &Router, req: Request<Body>) -> Reply {
    let resp = app
        .clone()
        .oneshot(req)
        .await
        .expect("the router is infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("read the response body");
    if bytes.is_empty() {
        return (status, headers, None);
    }
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{status}: the body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, headers, Some(value))
}

/// A request to `uri` with `headers` (no defaults added).
pub fn request(
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(body.into()).expect("a valid request")
}

/// `POST /mcp` with `headers`; `Content-Type: application/json` and
/// `Accept: application/json, text/event-stream` are added unless `headers` set them.
pub async fn post(app: &Router, headers: &[(&str, &str)], body: impl Into<Body>) -> Reply {
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    let has = |name: &str| headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    if !has("content-type") {
        all.push(("content-type", "application/json"));
    }
    if !has("accept") {
        all.push(("accept", "application/json, text/event-stream"));
    }
    send(app, request(Method::POST, "/mcp", &all, body)).await
}

/// `POST /mcp` of a JSON message.
pub async fn post_json(app: &Router, headers: &[(&str, &str)], message: &Value) -> Reply {
    post(app, headers, message.to_string()).await
}

/// A JSON-RPC request.
pub fn rpc(id: i64, method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

/// `params` plus the per-request-era `_meta` (2026-07-28, empty client capabilities).
pub fn with_meta(mut params: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    params
}

/// A per-request-era request: `_meta` in params.
pub fn modern_rpc(id: i64, method: &str, params: Value) -> Value {
    rpc(id, method, with_meta(params))
}

/// The transport headers of a per-request-era request.
pub fn modern_headers<'a>(method: &'a str, name: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut h = vec![("mcp-protocol-version", MODERN), ("mcp-method", method)];
    if let Some(name) = name {
        h.push(("mcp-name", name));
    }
    h
}

pub fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

/// Asserts a JSON response (status and `Content-Type`) and returns its body.
#[track_caller]
pub fn expect_json(reply: Reply, status: StatusCode) -> (HeaderMap, Value) {
    let (got, headers, body) = reply;
    assert_eq!(got, status, "unexpected status; body: {body:?}");
    assert_eq!(content_type(&headers), "application/json");
    (headers, body.expect("a JSON body"))
}

/// Asserts a 202 with no body.
#[track_caller]
pub fn expect_accepted(reply: Reply) {
    let (status, _, body) = reply;
    assert_eq!(status, StatusCode::ACCEPTED, "body: {body:?}");
    assert_eq!(body, None, "202 carries no body");
}

// ---------------------------------------------------------------------------------------
// Schema validation
// ---------------------------------------------------------------------------------------

/// Where the official MCP schemas are: `shared/` sits beside the repository (in CI too).
/// A missing schema fails the test loudly; it is never skipped.
pub const SCHEMA_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/reference/mcp-schema"
);

/// The schema file that governs a protocol version (2025-03-26 has no file of its own; its
/// messages are a subset of 2025-06-18's).
pub fn schema_file(version: &str) -> &'static str {
    match version {
        "2025-03-26" | "2025-06-18" => "2025-06-18",
        "2025-11-25" => "2025-11-25",
        "2026-07-28" => "2026-07-28",
        other => panic!("no schema for protocol version {other}"),
    }
}

/// Every subschema of one schema file, compiled once per test process.
fn validators(file: &str) -> &'static ValidatorMap {
    static MAPS: [OnceLock<ValidatorMap>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match file {
        "2025-06-18" => &MAPS[0],
        "2025-11-25" => &MAPS[1],
        "2026-07-28" => &MAPS[2],
        other => panic!("no schema file {other}"),
    };
    slot.get_or_init(|| {
        let path = format!("{SCHEMA_DIR}/{file}.schema.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("MCP schema {path} is required (shared/ must sit beside the repo): {e}")
        });
        let schema: Value = serde_json::from_str(&text).expect("schema file is JSON");
        jsonschema::validator_map_for(&schema)
            .unwrap_or_else(|e| panic!("MCP schema {path} does not compile: {e}"))
    })
}

/// Whether the schema of `version` defines `name`.
pub fn has_def(version: &str, name: &str) -> bool {
    let file = schema_file(version);
    validators(file).contains_key(&pointer(file, name))
}

fn pointer(file: &str, name: &str) -> String {
    // 2025-06-18 is draft-07 (`definitions`); later files are draft 2020-12 (`$defs`).
    let defs = if file == "2025-06-18" {
        "definitions"
    } else {
        "$defs"
    };
    format!("#/{defs}/{name}")
}

fn validator(version: &str, name: &str) -> &'static jsonschema::Validator {
    let file = schema_file(version);
    validators(file)
        .get(&pointer(file, name))
        .unwrap_or_else(|| panic!("schema {file} has no definition {name}"))
}

/// Whether `value` is valid against definition `name` of `version`'s schema.
pub fn is_valid(version: &str, name: &str, value: &Value) -> bool {
    validator(version, name).is_valid(value)
}

/// Asserts that `value` is valid against definition `name` of `version`'s schema.
#[track_caller]
pub fn assert_valid(version: &str, name: &str, value: &Value) {
    let file = schema_file(version);
    let errors: Vec<String> = validator(version, name)
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not a valid {file} {name}:\n  {}\nvalue: {value:#}",
        errors.join("\n  ")
    );
}

/// Asserts a success response of `version` whose `result` is a `result_def`; returns the
/// result. In 2026-07-28 the method-specific `<Def>Response` is checked too where defined.
#[track_caller]
pub fn assert_result<'v>(version: &str, message: &'v Value, result_def: &str) -> &'v Value {
    let envelope = if schema_file(version) == "2025-06-18" {
        "JSONRPCResponse"
    } else {
        "JSONRPCResultResponse"
    };
    assert_valid(version, envelope, message);
    assert!(
        message.get("error").is_none(),
        "unexpected error: {message}"
    );
    let result = &message["result"];
    assert_valid(version, result_def, result);
    let whole = format!("{result_def}Response");
    if has_def(version, &whole) {
        assert_valid(version, &whole, message);
    }
    result
}

/// The 2026-07-28 definition for an error `code`, and whether it describes the whole
/// message (`true`) or only its `error` member (`false`).
fn error_def(code: i64) -> Option<(&'static str, bool)> {
    Some(match code {
        -32020 => ("HeaderMismatchError", true),
        -32022 => ("UnsupportedProtocolVersionError", true),
        -32700 => ("ParseError", false),
        -32600 => ("InvalidRequestError", false),
        -32601 => ("MethodNotFoundError", false),
        -32602 => ("InvalidParamsError", false),
        -32603 => ("InternalError", false),
        _ => return None,
    })
}

#[track_caller]
fn assert_error_in(version: &str, message: &Value, code: i64) {
    let envelope = if schema_file(version) == "2025-06-18" {
        "JSONRPCError"
    } else {
        "JSONRPCErrorResponse"
    };
    assert_valid(version, envelope, message);
    assert_eq!(
        message["error"]["code"], code,
        "wrong error code: {message}"
    );
    assert!(message.get("result").is_none());
}

/// Asserts a JSON-RPC error response with `code`, answering request `id`, valid against
/// `version`'s schema. The code-specific definitions exist only in 2026-07-28; they are
/// applied in every era since the gateway uses the same codes and shapes everywhere.
#[track_caller]
pub fn assert_error(version: &str, message: &Value, id: i64, code: i64) {
    assert_eq!(
        message["id"], id,
        "the error must answer the request: {message}"
    );
    assert_error_in(version, message, code);
    assert_code_specific(message, code);
}

/// Asserts a JSON-RPC error response with `code` for a message whose id is unknown. The
/// `id` member must be absent (never null). 2025-06-18's `JSONRPCError` requires an id, so
/// such errors are validated against 2025-11-25 and 2026-07-28 only, which allow it to be
/// omitted.
#[track_caller]
pub fn assert_error_without_id(message: &Value, code: i64) {
    assert!(message.get("id").is_none(), "id must be omitted: {message}");
    assert_error_in("2025-11-25", message, code);
    assert_error_in(MODERN, message, code);
    assert_code_specific(message, code);
}

#[track_caller]
fn assert_code_specific(message: &Value, code: i64) {
    match error_def(code) {
        Some((def, true)) => assert_valid(MODERN, def, message),
        Some((def, false)) => assert_valid(MODERN, def, &message["error"]),
        None => {}
    }
}
