//! Spawned processes, killed (and reaped) when dropped: the standalone gateway binary and
//! private `oidc-provider` instances, both on 127.0.0.1, each waited for until it announces
//! its URL.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::*;

/// How long a spawned process gets to print its listening line (a guard against a hang,
/// not a timing assumption: both print it well under a second).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// A spawned child process, killed (and reaped) when dropped.
pub struct Process {
    child: Child,
    /// What the process announced, e.g. `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `cmd` with stdout piped and waits for its first stdout line, which must start
/// with `announce` followed by its `http://127.0.0.1:PORT` URL. The rest of stdout is
/// drained on a thread so the child never blocks on (or dies of) a closed pipe.
fn spawn_announcing(mut cmd: Command, what: &str, announce: &str) -> Process {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(first)) = lines.next() {
            let _ = tx.send(first);
        }
        for _ in lines {}
    });
    // Build the guard first, so a panic below still kills the child.
    let mut process = Process {
        child,
        base: String::new(),
    };
    let line = match rx.recv_timeout(START_TIMEOUT) {
        Ok(line) => line,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what} printed nothing within {START_TIMEOUT:?}")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let status = process.child.wait().ok();
            panic!(
                "{what} exited before announcing its address (status {status:?}); see its stderr above"
            )
        }
    };
    process.base = line
        .trim()
        .strip_prefix(announce)
        .map(str::trim)
        .filter(|u| u.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| {
            panic!("{what} printed {line:?}, not `{announce} http://127.0.0.1:PORT`")
        })
        .to_owned();
    process
}

/// The standalone gateway binary with `envs` (after `GATEWAY_BIND=127.0.0.1:0`,
/// `DEMO_TOOLS_URL=http://127.0.0.1:1` and `RUST_LOG=warn`, which `envs` may override).
/// `GATEWAY_*` variables of the test's own environment are not inherited.
pub fn spawn_gateway(envs: &[(&str, &str)]) -> Process {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-oauth-gateway"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GATEWAY_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("GATEWAY_BIND", "127.0.0.1:0")
        .env("DEMO_TOOLS_URL", "http://127.0.0.1:1")
        .env("RUST_LOG", "warn")
        .envs(envs.iter().copied())
        .stderr(Stdio::inherit());
    spawn_announcing(cmd, "the gateway", "mcp-oauth-gateway listening on")
}

/// A private `oidc-provider` (tests/idp/oidc_provider.mjs) on a port of its own choosing,
/// for tests that rotate its key or take its JWKS down; killed when dropped.
pub struct OidcProvider {
    _process: Process,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub issuer: String,
}

impl OidcProvider {
    /// Starts one that issues tokens for `resources`.
    pub fn spawn(resources: &[&str]) -> Self {
        Self::spawn_with(resources, &[])
    }

    /// Starts one that issues JWTs for `resources` and opaque tokens for `opaque`.
    pub fn spawn_with(resources: &[&str], opaque: &[&str]) -> Self {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut cmd = Command::new(required_env("MCP_E2E_NODE"));
        cmd.arg(format!("{root}/tests/idp/oidc_provider.mjs"))
            // Port 0: the provider binds a free port itself and announces its issuer.
            .args(["--port", "0"])
            .current_dir(root)
            // Its request log is noise here; a failure to start shows as a missing line.
            .stderr(Stdio::null());
        for r in resources {
            cmd.args(["--resource", r]);
        }
        for r in opaque {
            cmd.args(["--opaque-resource", r]);
        }
        let process = spawn_announcing(cmd, "the OIDC provider", "oidc-provider listening on");
        Self {
            issuer: process.base.clone(),
            _process: process,
        }
    }
}
