//! Upstream MCP servers over Streamable HTTP: lists their tools for federation
//! (`gateway_core::federation`) and forwards `tools/call` to them. One session per upstream URL
//! (and credential), shared by every caller and opened without anyone's identity with
//! `initialize` on first use, and opened again once when the upstream forgets it; answers are read as JSON or as an SSE stream, whichever the upstream
//! chooses, bounded in size and time. The gateway's own credentials and the signed
//! statement of who called go along; the caller's token never does. A call the gateway
//! stops waiting for (time-out, or the client went away) is cancelled at the upstream with
//! `notifications/cancelled`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::outbound_auth::OutboundAuthenticator;
use gateway_core::catalog::McpTarget;
use gateway_core::federation::{Upstream, UpstreamLister};
use gateway_core::outbound::OutboundAuth;
use gateway_core::targets::{TargetError, TargetInvoker, ToolCall, ToolOutput};

mod wire;
use wire::{Cancel, Credential, Session, bad, post, read_answer};

/// The revision the gateway asks for; the upstream answers with the one it speaks. The
/// newest revision the gateway's calls need: 2025-11-25 adds SSE resumption (a stored
/// priming event per request, in servers with an event store) that a gateway which never
/// resumes a stream does not use, and that cost server-everything 1.2 ms per call
/// (BENCHMARKS.md). An upstream that only speaks a newer revision answers with it.
const PROTOCOL_VERSION: &str = "2025-06-18";
/// Revisions whose Streamable HTTP session handshake the gateway speaks as a client.
const KNOWN_VERSIONS: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
/// A listing longer than this is refused rather than grown without bound.
const MAX_PAGES: usize = 50;
const MAX_TOOLS: usize = 5_000;

/// The client of every upstream MCP server; one per gateway.
pub struct McpUpstream {
    http: reqwest::Client,
    auth: Arc<OutboundAuthenticator>,
    default_timeout: Duration,
    max_response_bytes: usize,
    sessions: Mutex<HashMap<String, Session>>,
    ids: AtomicU64,
}

/// Where one exchange goes and what travels with it.
struct Exchange<'a> {
    url: &'a str,
    auth: Option<&'a OutboundAuth>,
    identity: Option<&'a str>,
    correlation_id: &'a str,
}

impl Exchange<'_> {
    fn session_key(&self) -> String {
        let auth = self
            .auth
            .map(|a| serde_json::to_string(a).unwrap_or_default());
        format!("{} {}", self.url, auth.unwrap_or_default())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitializeResult {
    protocol_version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolsPage {
    tools: Vec<Value>,
    #[serde(default)]
    next_cursor: Option<String>,
}

impl McpUpstream {
    /// `http` is the gateway's target client (no redirects); `auth` resolves credentials.
    pub fn new(
        http: reqwest::Client,
        auth: Arc<OutboundAuthenticator>,
        default_timeout: Duration,
        max_response_bytes: usize,
    ) -> Self {
        Self {
            http,
            auth,
            default_timeout,
            max_response_bytes,
            sessions: Mutex::default(),
            ids: AtomicU64::new(1),
        }
    }

    fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::Relaxed)
    }

    async fn credential(&self, auth: Option<&OutboundAuth>) -> Result<Credential, TargetError> {
        match auth {
            Some(auth) => Ok(Some(self.auth.header(auth).await?)),
            None => Ok(None),
        }
    }

    /// POSTs one message and returns the upstream's HTTP response.
    async fn post(
        &self,
        x: &Exchange<'_>,
        session: Option<&Session>,
        credential: &Credential,
        body: String,
    ) -> Result<reqwest::Response, TargetError> {
        post(
            &self.http,
            x.url,
            session,
            credential,
            x.identity,
            x.correlation_id,
            body,
        )
        .await
    }

    /// Reads the response to request `id` from a JSON body or an SSE stream.
    async fn response(
        &self,
        resp: reqwest::Response,
        id: u64,
    ) -> Result<Box<RawValue>, TargetError> {
        read_answer(resp, id, self.max_response_bytes).await
    }

    /// The session for this exchange's upstream, opened (initialize, then initialized)
    /// when there is none. A session is shared by every caller of the upstream, so opening
    /// it carries no caller's identity statement and none of their request ids: the
    /// statement travels on each `tools/call` only (finding 6 of issue #14).
    async fn session(
        &self,
        call: &Exchange<'_>,
        cred: &Credential,
    ) -> Result<Session, TargetError> {
        let key = call.session_key();
        if let Some(s) = self.sessions.lock().expect("session lock").get(&key) {
            return Ok(s.clone());
        }
        let opening_id = format!("session-{}", uuid::Uuid::new_v4());
        let x = &Exchange {
            url: call.url,
            auth: call.auth,
            identity: None,
            correlation_id: &opening_id,
        };
        let id = self.next_id();
        let init = serde_json::json!({
            "jsonrpc": "2.0", "id": id, "method": "initialize",
            "params": {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "mcp-oauth-gateway", "version": env!("CARGO_PKG_VERSION")},
            },
        });
        let resp = self.post(x, None, cred, init.to_string()).await?;
        if !resp.status().is_success() {
            return Err(TargetError::Status(resp.status().as_u16()));
        }
        let session_id = match resp.headers().get("mcp-session-id") {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .ok()
                    .filter(|s| !s.is_empty() && s.len() <= 256)
                    .ok_or_else(|| bad("unusable session id"))?
                    .to_owned(),
            ),
        };
        let result: InitializeResult =
            serde_json::from_str(self.response(resp, id).await?.get())
                .map_err(|_| bad("initialize result without protocolVersion"))?;
        if !KNOWN_VERSIONS.contains(&result.protocol_version.as_str()) {
            return Err(bad(format!(
                "upstream speaks protocol {:?}",
                result.protocol_version.chars().take(32).collect::<String>()
            )));
        }
        let session = Session {
            id: session_id,
            version: result.protocol_version,
        };
        let done = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        let resp = self.post(x, Some(&session), cred, done.into()).await?;
        if !resp.status().is_success() {
            return Err(TargetError::Status(resp.status().as_u16()));
        }
        self.sessions
            .lock()
            .expect("session lock")
            .insert(key, session.clone());
        Ok(session)
    }

    fn forget(&self, x: &Exchange<'_>) {
        self.sessions
            .lock()
            .expect("session lock")
            .remove(&x.session_key());
    }

    /// One request and its result. An upstream that no longer knows the session (404, or
    /// the 400 some servers send) gets one new session and the request again.
    async fn rpc(
        &self,
        x: &Exchange<'_>,
        method: &str,
        params: &str,
        mut in_flight: Option<&mut Cancel>,
    ) -> Result<Box<RawValue>, TargetError> {
        let cred = self.credential(x.auth).await?;
        for attempt in 0..2 {
            let session = self.session(x, &cred).await?;
            let id = self.next_id();
            let body = format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":{},"params":{params}}}"#,
                serde_json::to_string(method).expect("strings serialize")
            );
            if let Some(c) = in_flight.as_deref_mut() {
                c.arm(&self.http, x.url, &session, &cred, id);
            }
            let resp = self.post(x, Some(&session), &cred, body).await?;
            let status = resp.status().as_u16();
            if matches!(status, 400 | 404) && session.id.is_some() && attempt == 0 {
                self.forget(x);
                continue;
            }
            if !resp.status().is_success() {
                return Err(TargetError::Status(status));
            }
            return self.response(resp, id).await;
        }
        Err(bad("the upstream refused a new session"))
    }
}

#[async_trait]
impl TargetInvoker<McpTarget> for McpUpstream {
    async fn invoke(
        &self,
        target: &McpTarget,
        call: ToolCall<'_>,
    ) -> Result<ToolOutput, TargetError> {
        let McpTarget {
            url,
            tool,
            timeout_ms,
            auth,
            ..
        } = target;
        let timeout = timeout_ms.map_or(self.default_timeout, Duration::from_millis);
        let x = Exchange {
            url,
            auth: auth.as_ref(),
            identity: Some(call.identity),
            correlation_id: call.correlation_id,
        };
        let params = format!(
            r#"{{"name":{},"arguments":{}}}"#,
            serde_json::to_string(tool).expect("strings serialize"),
            call.arguments.get()
        );
        let mut cancel = Cancel::default();
        let result = tokio::time::timeout(
            timeout,
            self.rpc(&x, "tools/call", &params, Some(&mut cancel)),
        )
        .await;
        // Answered (even with an error): nothing to cancel. Timed out: `cancel` drops armed.
        if let Ok(answer) = result {
            cancel.disarm();
            return answer.map(ToolOutput::Mcp);
        }
        Err(TargetError::Timeout)
    }
}

#[async_trait]
impl UpstreamLister for McpUpstream {
    async fn list_tools(&self, upstream: &Upstream) -> Result<Vec<Value>, TargetError> {
        let correlation_id = format!("list-{}", uuid::Uuid::new_v4());
        let x = Exchange {
            url: &upstream.url,
            auth: upstream.auth.as_ref(),
            identity: None,
            correlation_id: &correlation_id,
        };
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = match &cursor {
                Some(c) => serde_json::json!({ "cursor": c }).to_string(),
                None => "{}".to_owned(),
            };
            let result = self.rpc(&x, "tools/list", &params, None).await?;
            let page: ToolsPage =
                serde_json::from_str(result.get()).map_err(|_| bad("tools/list result"))?;
            tools.extend(page.tools);
            if tools.len() > MAX_TOOLS {
                return Err(bad(format!("more than {MAX_TOOLS} tools")));
            }
            match page.next_cursor {
                Some(c) if !c.is_empty() => cursor = Some(c),
                _ => return Ok(tools),
            }
        }
        Err(bad(format!("more than {MAX_PAGES} pages of tools")))
    }
}
