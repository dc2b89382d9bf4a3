//! Upstream MCP servers spawned for the federation tests (`tests/e2e/federation.rs`) on
//! 127.0.0.1: `@modelcontextprotocol/server-everything` in streamableHttp mode and the Python
//! SDK's server (tests/upstream/py_upstream.py, which records what reached it). Needs
//! MCP_E2E_NODE and MCP_E2E_PYTHON (`make test` sets them); without them a test fails.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The API key the Python upstream wants in `x-api-key`.
pub const PY_KEY: &str = "fed-test-key-41b7";

// The whole tree's helpers (support/mod.rs), under this module's name too; a binary
// that takes neither from here is no mistake.
#[allow(unused_imports)]
pub use super::{free_port, required_env};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A spawned upstream, killed when dropped.
pub struct Upstream {
    child: Child,
    pub port: u16,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Upstream {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    /// server-everything, bound to 127.0.0.1 by the loopback preload.
    pub fn everything(port: u16) -> Self {
        let preload = root().join("tests/clients/loopback_only.mjs");
        let main =
            root().join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
        let child = Command::new(required_env("MCP_E2E_NODE"))
            .arg("--import")
            .arg(format!("file://{}", preload.display()))
            .arg(&main)
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start server-everything (npm ci installs it)");
        Self::listening(child, port, "server-everything")
    }

    pub fn python(port: u16) -> Self {
        let child = Command::new(required_env("MCP_E2E_PYTHON"))
            .arg(root().join("tests/upstream/py_upstream.py"))
            .args(["--port", &port.to_string()])
            .env("PY_UPSTREAM_API_KEY", PY_KEY)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the Python upstream");
        Self::listening(child, port, "the Python upstream")
    }

    /// Waits (bounded: a guard against a hang, not a timing assumption) for the port.
    fn listening(mut child: Child, port: u16, what: &str) -> Self {
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{what} exited: {status}");
            }
            assert!(Instant::now() < deadline, "{what} did not listen on {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, port }
    }

    /// What the Python upstream recorded.
    pub async fn received(&self) -> Vec<Value> {
        let url = format!("http://127.0.0.1:{}/__received", self.port);
        reqwest::get(url).await.unwrap().json().await.unwrap()
    }
}
