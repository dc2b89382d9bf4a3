//! The processes a test runs beside the gateway: the echo target that tools point at
//! (records every call) and a private `moto_server` that a test may kill mid-run.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use serde_json::{Value, json};

use super::POLL_EVERY;
use crate::support::idp::{free_port, http, required_env};

/// `POST /{tool}` answers `{"tool": …, "arguments": …}` and records the call; on 127.0.0.1,
/// stopped when dropped.
pub struct EchoTarget {
    pub base: String,
    pub calls: Arc<Mutex<Vec<String>>>,
    pub task: tokio::task::JoinHandle<()>,
}

impl EchoTarget {
    pub async fn start() -> Self {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route(
                "/{tool}",
                post(
                    |State(calls): State<Arc<Mutex<Vec<String>>>>,
                     Path(tool): Path<String>,
                     body: axum::body::Bytes| async move {
                        calls.lock().unwrap().push(tool.clone());
                        let arguments: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        axum::Json(json!({"tool": tool, "arguments": arguments}))
                    },
                ),
            )
            .with_state(Arc::clone(&calls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the echo target");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("echo target");
        });
        Self { base, calls, task }
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl Drop for EchoTarget {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A `moto_server` of this test's own on 127.0.0.1, killed when dropped (or on `kill`).
pub struct PrivateMoto {
    pub child: Option<Child>,
    pub port: u16,
    pub url: String,
}

impl PrivateMoto {
    pub async fn start() -> Self {
        Self::start_on(free_port()).await
    }

    pub async fn start_on(port: u16) -> Self {
        let bin = required_env("MCP_E2E_MOTO_SERVER");
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let mut moto = Self {
            child: Some(child),
            port,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let up = http()
                .get(format!("{}/moto-api/", moto.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if up {
                return moto;
            }
            if let Some(status) = moto
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("{bin} on port {port} exited ({status}) before answering");
            }
            assert!(
                Instant::now() < deadline,
                "{bin} did not answer on port {port} within 60 s"
            );
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Kills it and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateMoto {
    fn drop(&mut self) {
        self.kill();
    }
}
