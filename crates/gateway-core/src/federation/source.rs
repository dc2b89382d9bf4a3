//! The configuration source whose documents gain their upstreams' tools: each upstream
//! listed (bounded in time) with every load, its last good listing kept when it fails.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::{LIST_TIMEOUT, Upstream, UpstreamLister, federate, validate};
use crate::catalog::ToolDefinition;
use crate::outbound::SecretSources;
use crate::policy::ConfigDocument;
use crate::policy::snapshot::{ConfigSource, SourceError};
use crate::targets::TargetError;

/// A configuration source whose documents gain their upstreams' tools.
pub struct FederatedSource {
    inner: Arc<dyn ConfigSource>,
    lister: Arc<dyn UpstreamLister>,
    /// Each upstream's last good tools, by its whole definition (a changed URL or prefix
    /// never reuses the old listing).
    last_good: Mutex<HashMap<String, Vec<ToolDefinition>>>,
    has_upstreams: AtomicBool,
    /// Items naming a secret source outside these are left out before anything is used.
    sources: SecretSources,
}

impl FederatedSource {
    pub fn new(
        inner: Arc<dyn ConfigSource>,
        lister: Arc<dyn UpstreamLister>,
        sources: SecretSources,
    ) -> Self {
        Self {
            inner,
            lister,
            sources,
            last_good: Mutex::default(),
            has_upstreams: AtomicBool::new(false),
        }
    }

    async fn tools_of(&self, upstream: &Upstream) -> Vec<ToolDefinition> {
        let key = serde_json::to_string(upstream).expect("upstreams serialize");
        let limit = upstream
            .timeout_ms
            .map_or(LIST_TIMEOUT, |t| LIST_TIMEOUT.min(Duration::from_millis(t)));
        let listed = tokio::time::timeout(limit, self.lister.list_tools(upstream))
            .await
            .unwrap_or(Err(TargetError::Timeout));
        let mut last_good = self.last_good.lock().expect("federation lock");
        match listed {
            Ok(listed) => {
                let (tools, skipped) = federate(upstream, &listed);
                for why in skipped {
                    tracing::warn!(upstream = %upstream.name, reason = %why, "upstream tool left out");
                }
                last_good.insert(key, tools.clone());
                tools
            }
            Err(e) => {
                let kept = last_good.get(&key).cloned().unwrap_or_default();
                tracing::error!(upstream = %upstream.name, error = %e, kept = kept.len(), "upstream tools not listed; keeping its last good listing");
                kept
            }
        }
    }
}

#[async_trait]
impl ConfigSource for FederatedSource {
    fn name(&self) -> String {
        self.inner.name()
    }

    /// A fixed file with upstreams still changes: their listings do.
    fn refreshes(&self) -> bool {
        self.inner.refreshes() || self.has_upstreams.load(Ordering::Relaxed)
    }

    async fn load(&self) -> Result<ConfigDocument, SourceError> {
        let mut doc = self.inner.load().await?;
        // Fail closed on a stored item that names a forbidden secret source (written by an
        // older version, or straight into the table): it is left out, never listed or
        // called, and each is logged with its name and field; the other tools stay.
        for why in doc.screen(&self.sources) {
            tracing::error!(source = %self.inner.name(), reason = %why, "left out of the catalog: it names a secret source the gateway may not read");
        }
        validate(&doc.upstreams).map_err(|e| SourceError::Invalid(e.to_string()))?;
        self.has_upstreams
            .store(!doc.upstreams.is_empty(), Ordering::Relaxed);
        let listings =
            futures_util::future::join_all(doc.upstreams.iter().map(|u| self.tools_of(u))).await;
        let mut names: HashSet<String> = doc.tools.iter().map(|t| t.name.clone()).collect();
        for tool in listings.into_iter().flatten() {
            // A configured tool keeps its name; the upstream's namesake is left out.
            if names.insert(tool.name.clone()) {
                doc.tools.push(tool);
            } else {
                tracing::warn!(tool = %tool.name, "upstream tool left out: a configured tool has its name");
            }
        }
        Ok(doc)
    }
}
