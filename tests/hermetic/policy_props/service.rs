//! The system under test, built from public parts: an in-memory `ConfigSource`, a
//! recording `ToolInvoker`, and a `McpService` over a real `SnapshotStore` driven through
//! `McpService::handle` with a caller's groups and scopes.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use mcp_oauth_gateway::adapters::identity_key::LocalKeySigner;
use mcp_oauth_gateway::auth::Principal;
use mcp_oauth_gateway::catalog::{HttpTarget, Target, ToolDefinition};
use mcp_oauth_gateway::mcp::{
    CallContext, Failure, McpService, Outcome, ServerInfo, TransportHeaders,
};
use mcp_oauth_gateway::policy::snapshot::{SnapshotPolicy, SourceError};
use mcp_oauth_gateway::policy::{ConfigDocument, ConfigSource, SnapshotStore};
use mcp_oauth_gateway::targets::{TargetError, ToolCall, ToolInvoker, ToolOutput};

/// The configuration, from memory.
pub struct MemorySource(ConfigDocument);

#[async_trait]
impl ConfigSource for MemorySource {
    fn name(&self) -> String {
        "memory".into()
    }

    fn refreshes(&self) -> bool {
        false
    }

    async fn load(&self) -> Result<ConfigDocument, SourceError> {
        Ok(self.0.clone())
    }
}

/// Records the name of every tool it is asked to run, and answers with it.
#[derive(Default)]
pub struct RecordingInvoker {
    pub calls: Mutex<Vec<String>>,
}

impl RecordingInvoker {
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait]
impl ToolInvoker for RecordingInvoker {
    async fn invoke(&self, call: ToolCall<'_>) -> Result<ToolOutput, TargetError> {
        let name = call.tool.def.name.clone();
        self.calls.lock().unwrap().push(name.clone());
        Ok(ToolOutput::Text(format!("ran {name}")))
    }
}

pub const NO_HEADERS: TransportHeaders<'static> = TransportHeaders {
    protocol_version: None,
    method: None,
    name: None,
};

pub struct Gateway {
    pub service: McpService,
    pub invoker: Arc<RecordingInvoker>,
}

impl Gateway {
    pub async fn new(doc: ConfigDocument) -> Self {
        let store = Arc::new(SnapshotStore::new(
            Arc::new(MemorySource(doc)),
            SnapshotPolicy {
                refresh_every: Duration::from_secs(3600),
                max_staleness: Duration::from_secs(3600),
                refresh_timeout: Duration::from_secs(5),
            },
        ));
        store
            .refresh()
            .await
            .expect("generated configurations are valid");
        let invoker = Arc::new(RecordingInvoker::default());
        let info = ServerInfo {
            name: "props".into(),
            title: "Props".into(),
            version: "0".into(),
            instructions: None,
            tools_ttl_ms: 1000,
        };
        let identity = Arc::new(LocalKeySigner::ephemeral("https://gateway.test/mcp".into()));
        let service = McpService::new(
            store,
            identity,
            Arc::clone(&invoker) as Arc<dyn ToolInvoker>,
            info,
        );
        Self { service, invoker }
    }

    pub async fn handle(&self, body: Value, ctx: &CallContext) -> Result<Value, Failure> {
        let bytes = serde_json::to_vec(&body).unwrap();
        match self.service.handle(&bytes, &NO_HEADERS, ctx).await? {
            Outcome::Reply(reply) => Ok(serde_json::from_slice(&reply).expect("JSON reply")),
            Outcome::Accepted => panic!("a request was answered with 202: {body}"),
        }
    }

    pub async fn list(&self, ctx: &CallContext) -> Vec<String> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        let reply = self
            .handle(body, ctx)
            .await
            .unwrap_or_else(|f| panic!("tools/list failed: {:?}", f.error));
        reply["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("not a list result: {reply}"))
            .iter()
            .map(|t| t["name"].as_str().expect("tool name").to_owned())
            .collect()
    }

    pub async fn call(&self, tool: &str, ctx: &CallContext) -> Result<Value, Failure> {
        let body = json!({
            "jsonrpc": "2.0", "id": "c", "method": "tools/call",
            "params": {"name": tool, "arguments": {"x": 1}}
        });
        self.handle(body, ctx).await
    }
}

pub fn context(groups: &BTreeSet<String>, scopes: &BTreeSet<String>) -> CallContext {
    CallContext {
        deadline: None,
        request_id: "props".into(),
        principal: Arc::new(Principal {
            issuer: "https://issuer.example".into(),
            subject: "sub".into(),
            username: "user".into(),
            email: None,
            groups: groups.iter().cloned().collect(),
            scopes: scopes.iter().cloned().collect(),
            client_id: None,
            expires_at: u64::MAX,
            token_id: None,
        }),
    }
}

pub fn tool(name: &str) -> ToolDefinition {
    ToolDefinition {
        name: name.into(),
        title: None,
        description: Some(format!("the {name} tool")),
        input_schema: json!({"type": "object"}),
        output_schema: None,
        annotations: None,
        target: Target::Http(HttpTarget {
            insecure_http: false,
            url: "http://127.0.0.1:1/unused".into(),
            timeout_ms: None,
            auth: None,
        }),
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}
