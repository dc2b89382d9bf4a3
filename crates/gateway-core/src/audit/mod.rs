//! The audit trail: one chained record per `/mcp` request (allowed, denied, refused for a
//! bad token, errored), written to every configured sink before the response goes out, and
//! one CloudWatch EMF metrics line beside it. Pure: sinks (stdout, DynamoDB) are adapters
//! behind `AuditSink` and `MetricsSink`.
//!
//! Records are made in one place, `assemble`, from the facts the edge and the MCP core note
//! (`facts`). The MCP core depends on this module for those facts; nothing here depends on
//! the MCP core. Within it, files depend one way: all on `record`, `head` on `chain`,
//! `assemble` on `facts`, and this file (the trail) on them all.

pub mod assemble;
pub mod chain;
pub mod facts;
pub mod head;
pub mod metrics;
pub mod record;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

pub use assemble::{assemble, base_record};
pub use chain::{Chain, ChainError, ChainReport, GENESIS, record_digest, sha256_hex, verify};
pub use facts::{Arguments, CallFacts, Ending, RequestFacts, TargetAnswer, TargetCall};
pub use head::{
    CheckedHead, HeadSignError, HeadSigner, START_KIND, SignedHead, head_message, verify_signed,
};
pub use metrics::{CacheCounts, MetricsSettings, emf_line};
pub use record::{
    AuditRecord, TARGET_FAILED, TARGET_OK, Verdict, civil_from_days, now_ms, rfc3339_ms,
};

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

#[cfg(test)]
mod tests {
    use super::*;

    /// The trail itself: one start record first, every record covered by a head before it
    /// returns, and the whole verifies; a failing signer leaves the records unsigned.
    #[tokio::test]
    async fn the_trail_opens_with_a_start_and_signs_heads_that_verify() {
        use std::sync::Mutex;
        #[derive(Default)]
        struct Kept(Mutex<(Vec<AuditRecord>, Vec<SignedHead>)>);
        #[async_trait]
        impl AuditSink for Kept {
            async fn write(&self, r: &AuditRecord) -> Result<(), AuditError> {
                self.0.lock().unwrap().0.push(r.clone());
                Ok(())
            }
            async fn write_head(&self, h: &SignedHead) -> Result<(), AuditError> {
                self.0.lock().unwrap().1.push(h.clone());
                Ok(())
            }
        }
        struct Signer(bool);
        #[async_trait]
        impl HeadSigner for Signer {
            async fn sign(&self, m: &[u8]) -> Result<(String, String, Vec<u8>), HeadSignError> {
                match self.0 {
                    true => Ok(("k".into(), "HMAC_SHA_256".into(), m.to_vec())),
                    false => Err(HeadSignError("down".into())),
                }
            }
        }
        for works in [true, false] {
            let kept = Arc::new(Kept::default());
            let trail = AuditTrail::new("i", vec![Arc::clone(&kept) as _], None)
                .with_signer(Some(Arc::new(Signer(works))));
            let calls = (0..5).map(|_| trail.record(AuditRecord::default()));
            futures_util::future::join_all(calls).await;
            let (records, heads) = kept.0.lock().unwrap().clone();
            assert_eq!(records.len(), 6);
            assert_eq!(records.iter().filter(|r| r.kind.is_some()).count(), 1);
            let start = records.iter().find(|r| r.seq == 0).unwrap();
            assert_eq!(start.kind.as_deref(), Some(START_KIND));
            // The fake MAC is the message: valid exactly when it is the head's message.
            let checked: Vec<CheckedHead> = heads
                .into_iter()
                .map(|h| {
                    use base64::Engine;
                    let mac = base64::engine::general_purpose::STANDARD
                        .decode(&h.mac)
                        .unwrap();
                    let valid = mac == h.message();
                    CheckedHead { head: h, valid }
                })
                .collect();
            let problems = &verify_signed(&records, &checked, true)[0].problems;
            if works {
                assert!(
                    checked.iter().any(|h| h.head.seq == 5),
                    "the newest is covered"
                );
                assert_eq!(problems, &[]);
            } else {
                assert!(checked.is_empty());
                assert_eq!(
                    problems,
                    &[ChainError::Unsigned {
                        instance: "i".into()
                    }]
                );
            }
        }
    }
}
