//! The audit trail: one chained record per `/mcp` request (allowed, denied, refused for a
//! bad token, errored), written to every configured sink before the response goes out, and
//! one CloudWatch EMF metrics line beside it. Pure: sinks (stdout, DynamoDB) are adapters
//! behind `AuditSink` and `MetricsSink`.

pub mod chain;
pub mod head;
pub mod metrics;
pub mod record;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

pub use chain::{
    Chain, ChainError, ChainReport, GENESIS, record_digest, sha256_hex, verify, verify_signed,
};
pub use head::{CheckedHead, HeadSignError, HeadSigner, START_KIND, SignedHead, head_message};
pub use metrics::{CacheCounts, MetricsSettings, emf_line};
pub use record::{AuditRecord, Verdict, civil_from_days, now_ms, rfc3339_ms, variant_name};

use crate::auth::Principal;
use crate::mcp::CallFacts;
use crate::policy::{Decision, Rule};

/// Why a sink could not keep a record. The text is for the log.
#[derive(Debug, thiserror::Error)]
#[error("audit sink {sink}: {detail}")]
pub struct AuditError {
    pub sink: &'static str,
    pub detail: String,
}

/// Somewhere records are kept. `write` returns once the record is durable there.
#[async_trait]
pub trait AuditSink: Send + Sync {
    async fn write(&self, record: &AuditRecord) -> Result<(), AuditError>;
    /// Keeps a signed head beside the records. Never overwrites one already kept.
    async fn write_head(&self, head: &SignedHead) -> Result<(), AuditError>;
}

/// Where metrics lines go (stdout, for CloudWatch Logs to extract).
pub trait MetricsSink: Send + Sync {
    fn emit(&self, line: &str);
}

/// The gateway's trail: this instance's chain, its sinks and its metrics output.
pub struct AuditTrail {
    chain: Mutex<Chain>,
    sinks: Vec<Arc<dyn AuditSink>>,
    metrics: Option<(MetricsSettings, Arc<dyn MetricsSink>)>,
    signer: Option<Arc<dyn HeadSigner>>,
    /// Held while a head is signed; holds the next seq not yet covered by a signed head.
    /// Requests waiting here are covered together by one signature (group commit).
    signed: tokio::sync::Mutex<u64>,
    /// Set once the start record is written (by the first record, so that the process's
    /// first stdout line stays its "listening on" line).
    started: tokio::sync::OnceCell<()>,
    /// After a failed signature, heads are not tried again until then: a KMS outage costs
    /// one time-out, not one per request. The next head signed covers the records between.
    sign_paused_until: Mutex<Option<std::time::Instant>>,
}

/// How long signing rests after a failure.
const SIGN_PAUSE: std::time::Duration = std::time::Duration::from_secs(5);

impl AuditTrail {
    pub fn new(
        instance: impl Into<String>,
        sinks: Vec<Arc<dyn AuditSink>>,
        metrics: Option<(MetricsSettings, Arc<dyn MetricsSink>)>,
    ) -> Self {
        Self {
            chain: Mutex::new(Chain::new(instance)),
            sinks,
            metrics,
            signer: None,
            signed: tokio::sync::Mutex::new(0),
            started: tokio::sync::OnceCell::new(),
            sign_paused_until: Mutex::new(None),
        }
    }

    /// Signs chain heads with `signer` (without one, heads are not written and
    /// `audit verify` reports the chains as unsigned).
    pub fn with_signer(mut self, signer: Option<Arc<dyn HeadSigner>>) -> Self {
        self.signer = signer;
        self
    }

    /// Opens the chain with its start record (seq 0, signed like any other) unless it is
    /// open already, so a chain whose beginning is cut off is noticed. Every record waits
    /// for this first; concurrent first requests share one start.
    pub async fn start(&self) {
        self.started
            .get_or_init(|| async {
                let mut record = base_record("start", None, None);
                record.kind = Some(START_KIND.to_owned());
                self.write_linked(record).await;
            })
            .await;
    }

    /// This instance's chain id.
    pub fn instance(&self) -> String {
        self.chain
            .lock()
            .expect("audit chain lock")
            .instance()
            .to_owned()
    }

    /// Links `record` onto the chain and writes it to every sink (all awaited), then emits
    /// its metrics line. A sink failure is logged, never shown to the caller; the other
    /// sinks still get the record.
    pub async fn record(&self, record: AuditRecord) -> AuditRecord {
        self.start().await;
        let record = self.write_linked(record).await;
        if let Some((settings, sink)) = &self.metrics {
            sink.emit(&emf_line(settings, &record, CacheCounts::take()));
        }
        record
    }

    /// Links, then writes the record and signs a head covering it, both before returning.
    async fn write_linked(&self, mut record: AuditRecord) -> AuditRecord {
        self.chain
            .lock()
            .expect("audit chain lock")
            .link(&mut record);
        let writes = futures_util::future::join_all(self.sinks.iter().map(|s| s.write(&record)));
        let (results, ()) = tokio::join!(writes, self.cover(record.seq));
        for result in results {
            if let Err(e) = result {
                tracing::error!(request_id = %record.request_id, seq = record.seq, error = %e, "audit record not written");
            }
        }
        record
    }

    /// Returns once a signed head at or past `seq` was written (or signing failed, which is
    /// logged: the record stays, and `audit verify` reports it as covered by no head).
    async fn cover(&self, seq: u64) {
        let Some(signer) = &self.signer else { return };
        let paused = || {
            let until = *self.sign_paused_until.lock().expect("audit pause lock");
            until.is_some_and(|t| std::time::Instant::now() < t)
        };
        if paused() {
            return;
        }
        let mut next_unsigned = self.signed.lock().await;
        if *next_unsigned > seq || paused() {
            return; // Someone else's head covered this record while we waited (or failed).
        }
        let (head_seq, digest) = {
            let chain = self.chain.lock().expect("audit chain lock");
            let (s, d) = chain.head().expect("a linked record");
            (s, d.to_owned())
        };
        let instance = self.instance();
        let message = head_message(&instance, head_seq, &digest);
        let (key_id, algorithm, mac) = match signer.sign(&message).await {
            Ok(signed) => signed,
            Err(e) => {
                tracing::error!(seq = head_seq, error = %e, "audit head not signed (records stay; the next signed head covers them)");
                *self.sign_paused_until.lock().expect("audit pause lock") =
                    Some(std::time::Instant::now() + SIGN_PAUSE);
                return;
            }
        };
        use base64::Engine;
        let head = SignedHead {
            instance,
            seq: head_seq,
            digest,
            time_ms: now_ms(),
            key_id,
            algorithm,
            mac: base64::engine::general_purpose::STANDARD.encode(mac),
        };
        let writes = self.sinks.iter().map(|s| s.write_head(&head));
        for result in futures_util::future::join_all(writes).await {
            if let Err(e) = result {
                tracing::error!(seq = head_seq, error = %e, "audit head not written");
            }
        }
        *next_unsigned = head_seq + 1;
    }
}

/// A record's request part, before the caller and the dispatcher's facts fill it in.
pub fn base_record(
    request_id: &str,
    api_request_id: Option<String>,
    lambda_request_id: Option<String>,
) -> AuditRecord {
    let time_ms = now_ms();
    AuditRecord {
        time: rfc3339_ms(time_ms),
        time_ms,
        request_id: request_id.to_owned(),
        api_request_id,
        lambda_request_id,
        ..AuditRecord::default()
    }
}

/// Names the verified caller: issuer, subject, username, client id, groups.
pub fn set_principal(record: &mut AuditRecord, p: &Principal) {
    record.issuer = Some(p.issuer.clone());
    record.subject = Some(p.subject.clone());
    record.username = Some(p.username.clone()).filter(|u| !u.is_empty());
    record.client_id = p.client_id.clone();
    record.groups = Some(p.groups.clone());
}

/// The dispatcher's facts: method, tool, the decision and its rule, the target and how it
/// did, the arguments' digest (and values where configured). `failed` says whether the MCP
/// core answered with an error.
pub fn set_facts(record: &mut AuditRecord, facts: CallFacts, failed: Option<String>) {
    record.method = facts.method;
    record.protocol_version = facts.protocol_version.map(str::to_owned);
    record.tool = facts.tool;
    record.arguments_sha256 = facts.arguments_sha256;
    record.arguments = facts.arguments;
    record.target_kind = facts.target_kind;
    record.target = facts.target;
    record.target_us = facts.target_latency.map(|d| d.as_micros() as u64);
    if record.target_us.is_some() {
        record.target_outcome = Some(
            if facts.target_error.is_some() {
                "error"
            } else {
                "ok"
            }
            .into(),
        );
        record.target_error = facts.target_error;
    }
    let rule = match &facts.decision {
        Some(Decision::Allow { rule }) => {
            record.decision = Verdict::Allow;
            Some(rule)
        }
        Some(Decision::Deny { rule }) => {
            record.decision = Verdict::Deny;
            record.reason = Some(
                match rule {
                    Rule::Deny { .. } => "deny_rule",
                    Rule::UnknownTool => "unknown_tool",
                    _ => "default_deny",
                }
                .into(),
            );
            Some(rule)
        }
        Some(Decision::NeedsScopes { rule, .. }) => {
            record.decision = Verdict::Deny;
            record.reason = Some("insufficient_scope".into());
            Some(rule)
        }
        None => {
            record.decision = if failed.is_some() {
                Verdict::Error
            } else {
                Verdict::Allow
            };
            record.reason = failed;
            None
        }
    };
    if let Some(rule) = rule {
        record.rule = Some(rule.to_string());
        if let Rule::Allow { group, version, .. } | Rule::Deny { group, version, .. } = rule {
            record.policy_group = Some(group.clone());
            record.policy_version = *version;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn with(facts: CallFacts, failed: Option<&str>) -> AuditRecord {
        let mut r = AuditRecord::default();
        set_facts(&mut r, facts, failed.map(str::to_owned));
        r
    }

    fn decided(decision: Decision) -> CallFacts {
        CallFacts {
            method: Some("tools/call".into()),
            tool: Some("echo".into()),
            decision: Some(decision),
            ..CallFacts::default()
        }
    }

    #[test]
    fn an_allowed_call_names_its_rule_policy_version_and_target() {
        let rule = Rule::Allow {
            group: "engineering".into(),
            pattern: "ec*".into(),
            version: Some(4),
        };
        let mut facts = decided(Decision::Allow { rule });
        facts.target_kind = Some("http".into());
        facts.target_latency = Some(Duration::from_micros(1500));
        let r = with(facts.clone(), None);
        assert_eq!(r.decision, Verdict::Allow);
        assert_eq!(r.reason, None);
        assert_eq!(r.policy_group.as_deref(), Some("engineering"));
        assert_eq!(r.policy_version, Some(4));
        assert!(r.rule.unwrap().contains("\"ec*\""));
        assert_eq!(r.target_us, Some(1500));
        assert_eq!(r.target_outcome.as_deref(), Some("ok"));
        facts.target_error = Some("Timeout".into());
        let r = with(facts, None);
        assert_eq!(r.decision, Verdict::Allow);
        assert_eq!(r.target_outcome.as_deref(), Some("error"));
        assert_eq!(r.target_error.as_deref(), Some("Timeout"));
    }

    #[test]
    fn denials_say_why() {
        let deny = |rule| with(decided(Decision::Deny { rule }), Some("UnknownTool"));
        let r = deny(Rule::Deny {
            group: "finance".into(),
            pattern: "*".into(),
            version: Some(2),
        });
        assert_eq!(
            (r.decision, r.reason.as_deref()),
            (Verdict::Deny, Some("deny_rule"))
        );
        assert_eq!(r.policy_version, Some(2));
        let r = deny(Rule::DefaultDeny);
        assert_eq!(r.reason.as_deref(), Some("default_deny"));
        assert_eq!(r.policy_group, None);
        assert_eq!(
            deny(Rule::UnknownTool).reason.as_deref(),
            Some("unknown_tool")
        );
        let r = with(
            decided(Decision::NeedsScopes {
                required: vec!["tools:write".into()],
                rule: Rule::DefaultDeny,
            }),
            Some("InsufficientScope"),
        );
        assert_eq!(
            (r.decision, r.reason.as_deref()),
            (Verdict::Deny, Some("insufficient_scope"))
        );
    }

    #[test]
    fn without_a_decision_an_error_is_an_error_and_the_rest_allowed() {
        let r = with(CallFacts::default(), Some("Parse"));
        assert_eq!(
            (r.decision, r.reason.as_deref()),
            (Verdict::Error, Some("Parse"))
        );
        let listed = CallFacts {
            method: Some("tools/list".into()),
            ..CallFacts::default()
        };
        let r = with(listed, None);
        assert_eq!(r.decision, Verdict::Allow);
        assert_eq!(r.method.as_deref(), Some("tools/list"));
        assert_eq!(r.target_outcome, None);
    }
}
