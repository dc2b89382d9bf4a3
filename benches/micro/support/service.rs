//! What the in-process benches share: an `McpService` over a
//! fixed configuration document with its snapshot loaded, a given target, and a caller.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use mcp_oauth_gateway::adapters::identity_key::LocalKeySigner;
use mcp_oauth_gateway::auth::Principal;
use mcp_oauth_gateway::mcp::{McpService, ServerInfo};
use mcp_oauth_gateway::policy::snapshot::{SnapshotPolicy, SourceError};
use mcp_oauth_gateway::policy::{ConfigDocument, ConfigSource, SnapshotStore};
use mcp_oauth_gateway::targets::ToolInvoker;

/// A configuration source that always answers with the same document.
struct Fixed(ConfigDocument);

#[async_trait]
impl ConfigSource for Fixed {
    fn name(&self) -> String {
        "bench".into()
    }
    fn refreshes(&self) -> bool {
        false
    }
    async fn load(&self) -> Result<ConfigDocument, SourceError> {
        Ok(self.0.clone())
    }
}

/// The identity statements' signer of the bench gateway.
pub fn signer() -> Arc<LocalKeySigner> {
    Arc::new(LocalKeySigner::ephemeral(
        "https://gateway.bench.example".into(),
    ))
}

/// An `McpService` over `doc` (snapshot loaded), signing with `signer`, invoking `targets`.
pub fn service(
    rt: &tokio::runtime::Runtime,
    doc: ConfigDocument,
    signer: Arc<LocalKeySigner>,
    targets: Arc<dyn ToolInvoker>,
) -> McpService {
    let policy = SnapshotPolicy {
        refresh_every: Duration::from_secs(3600),
        max_staleness: Duration::from_secs(3600),
        refresh_timeout: Duration::from_secs(3),
    };
    let store = Arc::new(SnapshotStore::new(Arc::new(Fixed(doc)), policy));
    rt.block_on(store.refresh()).expect("loads");
    McpService::new(
        store,
        signer,
        targets,
        ServerInfo {
            name: "bench".into(),
            title: "bench".into(),
            version: "0".into(),
            instructions: None,
            tools_ttl_ms: 60_000,
        },
    )
}

/// A verified caller in `groups`.
pub fn principal(groups: &[&str]) -> Arc<Principal> {
    Arc::new(Principal {
        issuer: "https://idp.bench.example".into(),
        subject: "user-1".into(),
        username: "alice".into(),
        email: Some("alice@example.com".into()),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        scopes: vec!["mcp:tools".into()],
        client_id: Some("bench-client".into()),
        expires_at: u64::MAX,
        token_id: None,
    })
}
