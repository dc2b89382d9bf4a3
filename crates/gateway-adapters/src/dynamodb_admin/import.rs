//! Import and export of the whole configuration document: an import is planned against the
//! table's current content (compared without versions and times), then only the
//! differences are written, each conditionally, a few at a time.

use futures_util::StreamExt;
use serde::Serialize;

use super::{AdminError, DynamoAdmin, content};
use crate::dynamodb_config::{POLICY_PK, TOOL_PK, policy_sk, tool_sk};
use gateway_core::catalog::ToolDefinition;
use gateway_core::federation::Upstream;
use gateway_core::policy::{ConfigDocument, GroupPolicy};

/// What an import changed (or, for a dry run, would change): `policy GROUP`, `tool NAME`
/// and `upstream NAME` entries, each list sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub unchanged: Vec<String>,
    pub removed: Vec<String>,
}

/// One write of an import.
enum Op {
    PutPolicy(GroupPolicy, Option<GroupPolicy>),
    PutTool(ToolDefinition, bool),
    DeletePolicy(GroupPolicy),
    DeleteTool(String),
    PutUpstream(Upstream, bool),
    DeleteUpstream(String),
}

/// An import worked out against the table's current content.
struct Plan {
    report: ImportReport,
    ops: Vec<Op>,
}

/// Writes in flight at once during an import.
const IMPORT_CONCURRENCY: usize = 16;

impl DynamoAdmin {
    /// The whole stored configuration (three paginated queries, in parallel).
    pub async fn export(&self) -> Result<ConfigDocument, AdminError> {
        let (policies, tools, upstreams) = futures_util::future::try_join3(
            self.list_policies(),
            self.list_tools(),
            self.list_upstreams(),
        )
        .await?;
        Ok(ConfigDocument {
            policies,
            tools,
            upstreams,
        })
    }

    /// What `import` would do, without writing.
    pub async fn plan_import(
        &self,
        doc: &ConfigDocument,
        prune: bool,
    ) -> Result<ImportReport, AdminError> {
        Ok(self.plan(doc, prune).await?.report)
    }

    /// Validates the whole document, then writes only what differs from the table (ignoring
    /// versions and times); with `prune`, deletes what the document does not name.
    pub async fn import(
        &self,
        doc: &ConfigDocument,
        prune: bool,
    ) -> Result<ImportReport, AdminError> {
        let plan = self.plan(doc, prune).await?;
        let results: Vec<Result<(), AdminError>> = futures_util::stream::iter(plan.ops)
            .map(|op| self.apply(op))
            .buffer_unordered(IMPORT_CONCURRENCY)
            .collect()
            .await;
        results.into_iter().collect::<Result<(), _>>()?;
        Ok(plan.report)
    }

    async fn plan(&self, doc: &ConfigDocument, prune: bool) -> Result<Plan, AdminError> {
        doc.clone().compile()?;
        let stored = self.export().await?;
        let mut report = ImportReport::default();
        let mut ops = Vec::new();
        for p in &doc.policies {
            let name = format!("policy {}", p.group);
            match stored.policies.iter().find(|s| s.group == p.group) {
                None => {
                    report.added.push(name);
                    ops.push(Op::PutPolicy(content(p), None));
                }
                Some(s) if content(s) == content(p) => report.unchanged.push(name),
                Some(s) => {
                    report.changed.push(name);
                    ops.push(Op::PutPolicy(content(p), Some(s.clone())));
                }
            }
        }
        for t in &doc.tools {
            let name = format!("tool {}", t.name);
            match stored.tools.iter().find(|s| s.name == t.name) {
                None => {
                    report.added.push(name);
                    ops.push(Op::PutTool(t.clone(), false));
                }
                Some(s) if s == t => report.unchanged.push(name),
                Some(_) => {
                    report.changed.push(name);
                    ops.push(Op::PutTool(t.clone(), true));
                }
            }
        }
        for u in &doc.upstreams {
            let name = format!("upstream {}", u.name);
            match stored.upstreams.iter().find(|s| s.name == u.name) {
                None => {
                    report.added.push(name);
                    ops.push(Op::PutUpstream(u.clone(), false));
                }
                Some(s) if s == u => report.unchanged.push(name),
                Some(_) => {
                    report.changed.push(name);
                    ops.push(Op::PutUpstream(u.clone(), true));
                }
            }
        }
        if prune {
            for s in &stored.upstreams {
                if !doc.upstreams.iter().any(|u| u.name == s.name) {
                    report.removed.push(format!("upstream {}", s.name));
                    ops.push(Op::DeleteUpstream(s.name.clone()));
                }
            }
            for s in &stored.policies {
                if !doc.policies.iter().any(|p| p.group == s.group) {
                    report.removed.push(format!("policy {}", s.group));
                    ops.push(Op::DeletePolicy(s.clone()));
                }
            }
            for s in &stored.tools {
                if !doc.tools.iter().any(|t| t.name == s.name) {
                    report.removed.push(format!("tool {}", s.name));
                    ops.push(Op::DeleteTool(s.name.clone()));
                }
            }
        }
        for list in [
            &mut report.added,
            &mut report.changed,
            &mut report.unchanged,
            &mut report.removed,
        ] {
            list.sort();
        }
        Ok(Plan { report, ops })
    }

    async fn apply(&self, op: Op) -> Result<(), AdminError> {
        match op {
            Op::PutPolicy(p, prev) => self.write_policy(&p, prev.as_ref()).await.map(drop),
            Op::PutTool(t, exists) => self.write_tool(&t, exists).await,
            Op::DeletePolicy(s) => self
                .delete(POLICY_PK, policy_sk(&s.group), s.version)
                .await
                .map_err(|e| {
                    e.unwrap_or_else(|| {
                        AdminError::Conflict(format!(
                            "policy for group {:?} was changed by another writer",
                            s.group
                        ))
                    })
                }),
            // Already deleted by someone else: the outcome the import wanted.
            Op::DeleteTool(name) => match self.delete(TOOL_PK, tool_sk(&name), None).await {
                Ok(()) | Err(None) => Ok(()),
                Err(Some(e)) => Err(e),
            },
            Op::PutUpstream(u, exists) => self.write_upstream(&u, exists).await,
            Op::DeleteUpstream(name) => match self.delete_upstream(&name).await {
                Ok(()) | Err(AdminError::NoUpstream(_)) => Ok(()),
                Err(e) => Err(e),
            },
        }
    }
}
