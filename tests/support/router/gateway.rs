//! The gateway under test: its app built over the stub with a catalog, configuration
//! and a default token, and the temporary directories it needs.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, header};

use mcp_oauth_gateway::config::Config;

use super::*;

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
    // output capture; tests/services/audit/ checks them on a spawned gateway.
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
    let state = mcp_oauth_gateway::wiring::start(&config, &lookup)
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
