//! Audit records and EMF metrics lines on stdout, one JSON object per line: under Lambda,
//! CloudWatch Logs ingests each as structured JSON (and extracts the EMF metrics); in a
//! container, whatever collects stdout does. Records are marked `"type":"audit"`, and are
//! otherwise exactly the chained record, so `gatewayctl audit verify --file` can check
//! the chain from a log export. Signed heads go out as `"type":"audit_head"` lines.

use std::io::Write;

use async_trait::async_trait;

use gateway_core::audit::{AuditError, AuditRecord, AuditSink, MetricsSink, SignedHead};

/// The stdout sink. Writes whole lines under the stdout lock, so concurrent requests never
/// interleave inside a line.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdoutSink;

fn write_line(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

/// The stdout form of a record: the record's JSON with `"type":"audit"` first (spliced in
/// rather than through `#[serde(flatten)]`, which buffers the whole record once more).
pub fn audit_line(record: &AuditRecord) -> String {
    let json = serde_json::to_string(record).expect("a record always serializes");
    // A record always has fields, so its JSON is `{"…`.
    format!("{{\"type\":\"audit\",{}", &json[1..])
}

/// The stdout form of a signed head: `"type":"audit_head"` first, then the head.
pub fn head_line(head: &SignedHead) -> String {
    let json = serde_json::to_string(head).expect("a head always serializes");
    format!("{{\"type\":\"audit_head\",{}", &json[1..])
}

#[async_trait]
impl AuditSink for StdoutSink {
    async fn write(&self, record: &AuditRecord) -> Result<(), AuditError> {
        write_line(&audit_line(record)).map_err(|e| AuditError {
            sink: "stdout",
            detail: e.to_string(),
        })
    }

    async fn write_head(&self, head: &SignedHead) -> Result<(), AuditError> {
        write_line(&head_line(head)).map_err(|e| AuditError {
            sink: "stdout",
            detail: e.to_string(),
        })
    }
}

impl MetricsSink for StdoutSink {
    fn emit(&self, line: &str) {
        // A closed stdout must not take requests down; the audit sink reports it.
        let _ = write_line(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_the_record_marked_as_audit_and_reads_back_as_it() {
        let mut chain = gateway_core::audit::Chain::new("i");
        let mut r = AuditRecord {
            request_id: "r".into(),
            tool: Some("echo".into()),
            ..AuditRecord::default()
        };
        chain.link(&mut r);
        let line = audit_line(&r);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["type"], "audit");
        assert_eq!(v["tool"], "echo");
        let back: AuditRecord = serde_json::from_str(&line).unwrap();
        assert_eq!(back, r);
        assert_eq!(gateway_core::audit::record_digest(&back), r.digest);
    }
}
