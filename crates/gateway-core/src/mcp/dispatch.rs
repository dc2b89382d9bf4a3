//! MCP method dispatch for a stateless server: one JSON-RPC message in, one answer out,
//! in whichever protocol era the request speaks.

use std::sync::Arc;

use serde_json::value::RawValue;

use super::error::McpError;
use super::jsonrpc::{self, Id, Incoming};
use super::messages::{CallParams, InitializeParams, ListParams, MetaParams, RequestMeta, typed};
use super::messages::{
    DiscoverResult, EmptyResult, Implementation, InitializeResult, ListToolsResult, ResultMeta,
    capabilities,
};
use super::protocol::{self, TransportHeaders};
use super::version::{Era, SUPPORTED_VERSIONS, Version};
use crate::audit::{Arguments, CallFacts, TargetAnswer, TargetCall};
use crate::auth::Principal;
use crate::identity::{IdentityClaims, IdentitySigner};
use crate::policy::{Caller, Decision, SnapshotStore};
use crate::targets::{CallToolResult, TargetError, ToolCall, ToolInvoker};

/// How the server presents itself.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub name: String,
    pub title: String,
    pub version: String,
    pub instructions: Option<String>,
    /// `ttlMs` on per-request-era list results.
    pub tools_ttl_ms: u64,
}

/// Per-request facts from the edge.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// Ties a client-visible error to the log line that explains it.
    pub request_id: String,
    /// The verified caller.
    pub principal: Arc<Principal>,
    /// When the answer must be on its way (under Lambda: the invocation's deadline less a
    /// margin); a target still working then is abandoned as timed out, whatever its own
    /// time-out says.
    pub deadline: Option<std::time::Instant>,
}

/// A handled message.
#[derive(Debug)]
pub enum Outcome {
    /// A notification or a client response: 202 with no body.
    Accepted,
    /// A JSON-RPC success response body.
    Reply(Vec<u8>),
}

/// A message that earned a JSON-RPC error, with the id to answer it under (if known).
#[derive(Debug)]
pub struct Failure {
    pub id: Option<Id>,
    pub error: McpError,
}

/// The MCP server core, built once at start-up.
pub struct McpService {
    snapshots: Arc<SnapshotStore>,
    identity: Arc<dyn IdentitySigner>,
    invoker: Arc<dyn ToolInvoker>,
    info: ServerInfo,
    /// Tools whose argument values go into audit records (others: a digest only).
    recorded_arguments: std::collections::BTreeSet<String>,
}

impl McpService {
    pub fn new(
        snapshots: Arc<SnapshotStore>,
        identity: Arc<dyn IdentitySigner>,
        invoker: Arc<dyn ToolInvoker>,
        info: ServerInfo,
    ) -> Self {
        Self {
            snapshots,
            identity,
            invoker,
            info,
            recorded_arguments: Default::default(),
        }
    }

    /// Records the argument values of these tools in the audit trail.
    pub fn with_recorded_arguments(mut self, tools: impl IntoIterator<Item = String>) -> Self {
        self.recorded_arguments = tools.into_iter().collect();
        self
    }

    fn implementation(&self) -> Implementation<'_> {
        Implementation {
            name: &self.info.name,
            title: &self.info.title,
            version: &self.info.version,
        }
    }

    /// Handles one HTTP body.
    pub async fn handle(
        &self,
        body: &[u8],
        headers: &TransportHeaders<'_>,
        ctx: &CallContext,
    ) -> Result<Outcome, Failure> {
        self.handle_with_facts(body, headers, ctx, &mut CallFacts::default())
            .await
    }

    /// Handles one HTTP body and notes what happened in `facts`, for the audit trail. The
    /// caller owns them, so even a request dropped half-way keeps what was decided.
    pub async fn handle_with_facts(
        &self,
        body: &[u8],
        headers: &TransportHeaders<'_>,
        ctx: &CallContext,
        facts: &mut CallFacts,
    ) -> Result<Outcome, Failure> {
        let result = self.message(body, headers, ctx, facts).await;
        facts.error = result.as_ref().err().map(|f| f.error.code());
        result
    }

    async fn message(
        &self,
        body: &[u8],
        headers: &TransportHeaders<'_>,
        ctx: &CallContext,
        facts: &mut CallFacts,
    ) -> Result<Outcome, Failure> {
        let message = jsonrpc::parse(body).map_err(|error| Failure {
            id: jsonrpc::peek_id(body),
            error,
        })?;
        match message {
            Incoming::Response => protocol::check_version_header(headers)
                .map(|()| Outcome::Accepted)
                .map_err(|error| Failure { id: None, error }),
            Incoming::Notification { method } => {
                facts.method = Some(method.chars().take(128).collect());
                protocol::check_notification(headers, &method)
                    .map(|()| Outcome::Accepted)
                    .map_err(|error| Failure { id: None, error })
            }
            Incoming::Request { id, method, params } => {
                facts.method = Some(method.chars().take(128).collect());
                match self
                    .request(&id, &method, params, headers, ctx, facts)
                    .await
                {
                    Ok(body) => Ok(Outcome::Reply(body)),
                    Err(error) => Err(Failure {
                        id: Some(id),
                        error,
                    }),
                }
            }
        }
    }

    async fn request(
        &self,
        id: &Id,
        method: &str,
        params: Option<&RawValue>,
        headers: &TransportHeaders<'_>,
        ctx: &CallContext,
        facts: &mut CallFacts,
    ) -> Result<Vec<u8>, McpError> {
        if method == "tools/call" {
            // Parsed once, `_meta` included, so large arguments are scanned only once.
            let mut p: CallParams<'_> = typed(params)?;
            facts.tool = Some(p.name.chars().take(128).collect());
            let era = Self::era(headers, p.meta.take(), method, facts)?;
            return self.call_tool(id, p, era, headers, ctx, facts).await;
        }
        let p: MetaParams<'_> = typed(params)?;
        let era = Self::era(headers, p.meta, method, facts)?;
        let modern = era == Era::Modern;
        match method {
            "initialize" if !modern => {
                let p: InitializeParams<'_> = typed(params)?;
                let negotiated = Version::negotiate(&p.protocol_version).as_str();
                facts.protocol_version = Some(negotiated);
                let result = InitializeResult {
                    protocol_version: negotiated,
                    capabilities: capabilities(),
                    server_info: self.implementation(),
                    instructions: self.info.instructions.as_deref(),
                };
                Ok(jsonrpc::result_body(id, &result))
            }
            "ping" if !modern => Ok(jsonrpc::result_body(id, &EmptyResult {})),
            "server/discover" => {
                let result = DiscoverResult {
                    supported_versions: &SUPPORTED_VERSIONS,
                    capabilities: capabilities(),
                    instructions: self.info.instructions.as_deref(),
                    result_type: "complete",
                    ttl_ms: self.info.tools_ttl_ms,
                    // Nothing in it depends on who asks.
                    cache_scope: "public",
                    meta: ResultMeta {
                        server_info: self.implementation(),
                    },
                };
                Ok(jsonrpc::result_body(id, &result))
            }
            "tools/list" => {
                let p: ListParams<'_> = typed(params)?;
                if p.cursor.is_some() {
                    // Every list is complete, so no cursor was ever issued.
                    return Err(McpError::InvalidParams("unknown cursor".into()));
                }
                let snapshot = self.snapshot(ctx).await?;
                let p = &ctx.principal;
                let caller = Caller::new(&snapshot.policies, &p.groups, &p.scopes);
                // The very decision that gates tools/call, in catalog (name) order.
                let result = ListToolsResult {
                    tools: snapshot
                        .catalog
                        .iter()
                        .filter(|t| caller.visible(&t.def.name))
                        .map(|t| &*t.listing)
                        .collect(),
                    result_type: modern.then_some("complete"),
                    ttl_ms: modern.then_some(self.info.tools_ttl_ms),
                    // The list depends on the caller: no shared caches.
                    cache_scope: modern.then_some("private"),
                };
                Ok(jsonrpc::result_body(id, &result))
            }
            _ => Err(McpError::MethodNotFound {
                method: method.chars().take(128).collect(),
                era,
            }),
        }
    }

    async fn snapshot(&self, ctx: &CallContext) -> Result<Arc<crate::policy::Snapshot>, McpError> {
        self.snapshots.current().await.map_err(|e| {
            tracing::error!(request_id = %ctx.request_id, error = %e, "refusing: no usable tool policies");
            McpError::PolicyUnavailable
        })
    }

    /// The era a request speaks, once its version and method headers check out; the
    /// revision goes to the audit record.
    fn era(
        headers: &TransportHeaders<'_>,
        meta: Option<RequestMeta<'_>>,
        method: &str,
        facts: &mut CallFacts,
    ) -> Result<Era, McpError> {
        let meta_version = meta.and_then(|m| m.protocol_version);
        let version = protocol::resolve_version(headers, meta_version.as_deref(), method)?;
        facts.protocol_version = Some(version.as_str());
        let era = version.era();
        protocol::check_method_header(headers, method, era)?;
        Ok(era)
    }

    async fn call_tool(
        &self,
        id: &Id,
        p: CallParams<'_>,
        era: Era,
        headers: &TransportHeaders<'_>,
        ctx: &CallContext,
        facts: &mut CallFacts,
    ) -> Result<Vec<u8>, McpError> {
        protocol::check_name_header(headers, &p.name, era)?;
        let arguments = match p.arguments {
            Some(a) if a.get().starts_with('{') => a,
            Some(_) => {
                return Err(McpError::InvalidParams(
                    "arguments must be an object".into(),
                ));
            }
            None => empty_object(),
        };
        facts.arguments = Some(Arguments {
            sha256: crate::audit::sha256_hex(arguments.get().as_bytes()),
            recorded: self
                .recorded_arguments
                .contains(p.name.as_ref())
                .then(|| arguments.get().to_owned()),
        });
        let snapshot = self.snapshot(ctx).await?;
        let unknown = || McpError::UnknownTool(p.name.chars().take(128).collect());
        // A denied tool and a missing one get the same answer: existence is not revealed.
        let Some(tool) = snapshot.catalog.get(&p.name) else {
            facts.decision = Some(Decision::Deny {
                rule: crate::policy::Rule::UnknownTool,
            });
            return Err(unknown());
        };
        let principal = &ctx.principal;
        let caller = Caller::new(&snapshot.policies, &principal.groups, &principal.scopes);
        let decision = caller.decide(&p.name);
        facts.decision = Some(decision.clone());
        match decision {
            Decision::Allow { rule } => {
                tracing::debug!(request_id = %ctx.request_id, tool = %p.name, %rule, "allowed");
            }
            Decision::NeedsScopes { required, rule } => {
                tracing::info!(request_id = %ctx.request_id, tool = %p.name, %rule, ?required, "scope step-up required");
                return Err(McpError::InsufficientScope { scopes: required });
            }
            Decision::Deny { rule } => {
                tracing::info!(request_id = %ctx.request_id, tool = %p.name, user = %principal.username, %rule, "denied");
                return Err(unknown());
            }
        }
        let claims = IdentityClaims::new(
            self.identity.issuer(),
            tool.def.target.audience(&p.name),
            principal,
            &p.name,
            &ctx.request_id,
            crate::auth::verifier::now_secs(),
        );
        // Audit records and logs name the target without its query: an API that takes its
        // key as a query parameter would otherwise put it in the trail.
        let logged_target = claims.aud.split('?').next().unwrap_or_default().to_owned();
        let target = facts.target.insert(TargetCall {
            kind: tool.def.target.kind(),
            name: logged_target.clone(),
            answer: None,
        });
        let started = std::time::Instant::now();
        let outcome = match self.identity.sign(&claims).await {
            Ok(identity) => {
                let call = ToolCall {
                    tool,
                    arguments,
                    correlation_id: &ctx.request_id,
                    caller: principal,
                    identity: &identity,
                };
                let invoke = self.invoker.invoke(call);
                match ctx.deadline {
                    Some(at) => tokio::time::timeout_at(at.into(), invoke)
                        .await
                        .unwrap_or(Err(TargetError::Timeout)),
                    None => invoke.await,
                }
            }
            Err(e) => Err(TargetError::NotInvoked(e.to_string())),
        };
        let latency = started.elapsed();
        let result = outcome.and_then(|output| CallToolResult::success(tool, output));
        target.answer = Some(TargetAnswer {
            latency,
            error: result.as_ref().err().map(TargetError::code),
        });
        let result = match result {
            Ok(result) => result,
            Err(e) => {
                // The one log line of a failed call: the target's name and the detail stay
                // here; the client sees a generic message and the request id.
                tracing::warn!(tool = %p.name, request_id = %ctx.request_id, target_kind = tool.def.target.kind(), target = %logged_target, error = %e, "tool target failed");
                CallToolResult::failure(&ctx.request_id)
            }
        };
        let modern = era == Era::Modern;
        Ok(jsonrpc::result_body(
            id,
            &result.with_result_type(modern.then_some("complete")),
        ))
    }
}

fn empty_object() -> &'static RawValue {
    static EMPTY: std::sync::OnceLock<Box<RawValue>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| RawValue::from_string("{}".into()).expect("valid JSON"))
}
