//! Signed chain heads: after records are linked, the newest (instance, seq, digest) of the
//! chain is authenticated with a key the gateway can use but never read (KMS GenerateMac)
//! and kept beside the records. Digests alone are unkeyed: whoever can write the table can
//! rewrite a chain from record N on and recompute every digest. A signed head pins what
//! the chain held at each flush, so such a rewrite, an overwritten record, a deleted one
//! and a tail removed before a later head are all found by `check_heads`, which
//! `verify_signed` adds to the chain's own checks (`chain::verify`).
//!
//! What heads cannot show: records removed after the newest head together with every head
//! that covered them. Against that (and a chain deleted whole) compare with the stdout copy
//! in CloudWatch Logs (`gatewayctl audit verify --file … --against-table`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::chain::{ChainError, ChainReport, verify};
use super::record::AuditRecord;

/// What `kind` says on the record that opens a chain.
pub const START_KIND: &str = "start";

/// One signed head: the chain `instance` held record `seq` with digest `digest` when the
/// gateway signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedHead {
    pub instance: String,
    pub seq: u64,
    pub digest: String,
    pub time_ms: u64,
    /// The key that signed (as KMS names it); `audit verify` uses its own configured key,
    /// never this one, and reports a head naming another.
    pub key_id: String,
    /// `HMAC_SHA_256`.
    pub algorithm: String,
    /// The MAC, standard base64.
    pub mac: String,
}

/// The exact bytes a head's MAC covers.
pub fn head_message(instance: &str, seq: u64, digest: &str) -> Vec<u8> {
    format!("mcp-oauth-gateway audit head v1\n{instance}\n{seq}\n{digest}").into_bytes()
}

impl SignedHead {
    pub fn message(&self) -> Vec<u8> {
        head_message(&self.instance, self.seq, &self.digest)
    }
}

/// Why a head could not be signed. The text is for the log.
#[derive(Debug, thiserror::Error)]
#[error("audit head not signed: {0}")]
pub struct HeadSignError(pub String);

/// Signs heads (KMS GenerateMac in a deployment).
#[async_trait]
pub trait HeadSigner: Send + Sync {
    /// The MAC over `message`, with the key id and algorithm that made it.
    async fn sign(&self, message: &[u8]) -> Result<(String, String, Vec<u8>), HeadSignError>;
}

/// A head as read back, and whether its MAC verified under the verifier's key.
#[derive(Debug, Clone)]
pub struct CheckedHead {
    pub head: SignedHead,
    pub valid: bool,
}

/// The head problems of one chain: `records` sorted by seq (one instance), `heads` that
/// chain's heads. `signed` = heads are expected (a key is configured for the check).
pub fn check_heads(
    instance: &str,
    records: &[&AuditRecord],
    heads: &[CheckedHead],
    signed: bool,
) -> Vec<ChainError> {
    let i = || instance.to_owned();
    let mut problems = Vec::new();
    match records.first() {
        Some(first) if first.seq == 0 && first.kind.as_deref() == Some(START_KIND) => {}
        // A chain that opens at seq 0 with a request record was never a whole chain.
        Some(first) if first.seq == 0 => problems.push(ChainError::NotStart { instance: i() }),
        _ => problems.push(ChainError::StartMissing { instance: i() }),
    }
    if !signed {
        return problems;
    }
    let mut newest_valid: Option<u64> = None;
    for h in heads {
        if !h.valid {
            problems.push(ChainError::ForgedHead {
                instance: i(),
                seq: h.head.seq,
            });
            continue;
        }
        newest_valid = newest_valid.max(Some(h.head.seq));
        match records.iter().find(|r| r.seq == h.head.seq) {
            // The record is gone: `Missing` names the gap unless it was the tail.
            None => {}
            Some(r) if r.digest != h.head.digest => problems.push(ChainError::Rechained {
                instance: i(),
                seq: h.head.seq,
            }),
            Some(_) => {}
        }
    }
    let last = records.last().map(|r| r.seq);
    match (newest_valid, last) {
        (None, _) => problems.push(ChainError::Unsigned { instance: i() }),
        (Some(h), Some(l)) if h > l => problems.push(ChainError::Truncated {
            instance: i(),
            signed: h,
            last: l,
        }),
        (Some(_), None) => {}
        (Some(h), Some(l)) if l > h => problems.push(ChainError::UnsignedTail {
            instance: i(),
            from: h + 1,
            to: l,
        }),
        _ => {}
    }
    problems
}

/// `chain::verify`, plus each chain's start record and, when `signed`, its heads (whose MACs the
/// caller checked): see `check_heads`. A chain with heads but no record left is
/// reported too (every record deleted).
pub fn verify_signed(
    records: &[AuditRecord],
    heads: &[CheckedHead],
    signed: bool,
) -> Vec<ChainReport> {
    let mut reports = verify(records);
    for h in heads {
        if !reports.iter().any(|r| r.instance == h.head.instance) {
            reports.push(ChainReport {
                instance: h.head.instance.clone(),
                records: 0,
                problems: Vec::new(),
                signed,
                valid_heads: 0,
            });
        }
    }
    for report in &mut reports {
        let mut rs: Vec<&AuditRecord> = records
            .iter()
            .filter(|r| r.instance == report.instance)
            .collect();
        rs.sort_by_key(|r| r.seq);
        let mine: Vec<CheckedHead> = heads
            .iter()
            .filter(|h| h.head.instance == report.instance)
            .cloned()
            .collect();
        report.signed = signed;
        report.valid_heads = mine.iter().filter(|h| h.valid).count();
        report
            .problems
            .extend(check_heads(&report.instance, &rs, &mine, signed));
    }
    reports.sort_by(|a, b| a.instance.cmp(&b.instance));
    reports
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::chain::Chain;

    fn chain(n: u64) -> Vec<AuditRecord> {
        let mut c = Chain::new("i");
        (0..n)
            .map(|k| {
                let mut r = AuditRecord {
                    kind: (k == 0).then(|| START_KIND.to_owned()),
                    time_ms: k,
                    ..AuditRecord::default()
                };
                c.link(&mut r);
                r
            })
            .collect()
    }

    fn head(r: &AuditRecord, valid: bool) -> CheckedHead {
        CheckedHead {
            head: SignedHead {
                instance: r.instance.clone(),
                seq: r.seq,
                digest: r.digest.clone(),
                time_ms: 0,
                key_id: "k".into(),
                algorithm: "HMAC_SHA_256".into(),
                mac: String::new(),
            },
            valid,
        }
    }

    fn check(rs: &[AuditRecord], heads: &[CheckedHead]) -> Vec<ChainError> {
        let refs: Vec<&AuditRecord> = rs.iter().collect();
        check_heads("i", &refs, heads, true)
    }

    #[test]
    fn a_whole_signed_chain_has_no_head_problem() {
        let rs = chain(4);
        assert_eq!(check(&rs, &[head(&rs[0], true), head(&rs[3], true)]), []);
    }

    #[test]
    fn a_rewrite_with_recomputed_digests_contradicts_the_signed_head() {
        let rs = chain(4);
        let signed = [head(&rs[0], true), head(&rs[3], true)];
        // The attack of finding 5: records 2.. rewritten, digests recomputed.
        let mut c = Chain::new("i");
        let mut forged: Vec<AuditRecord> = rs.iter().take(2).cloned().collect();
        for r in &forged {
            let mut copy = r.clone();
            copy.digest.clear();
            c.link(&mut copy);
        }
        for k in 2..4 {
            let mut r = AuditRecord {
                time_ms: 99 + k,
                ..AuditRecord::default()
            };
            c.link(&mut r);
            forged.push(r);
        }
        assert_eq!(verify(&forged)[0].problems, []);
        assert_eq!(
            check(&forged, &signed),
            [ChainError::Rechained {
                instance: "i".into(),
                seq: 3
            }]
        );
    }

    #[test]
    fn forged_heads_missing_starts_truncation_and_unsigned_tails_are_named() {
        let rs = chain(4);
        let problems = check(&rs[1..], &[head(&rs[3], false), head(&rs[1], true)]);
        assert!(problems.contains(&ChainError::StartMissing {
            instance: "i".into()
        }));
        assert!(problems.contains(&ChainError::ForgedHead {
            instance: "i".into(),
            seq: 3
        }));
        assert!(problems.contains(&ChainError::UnsignedTail {
            instance: "i".into(),
            from: 2,
            to: 3
        }));
        assert_eq!(
            check(&rs[..2], &[head(&rs[3], true)]),
            [ChainError::Truncated {
                instance: "i".into(),
                signed: 3,
                last: 1
            }]
        );
        assert_eq!(
            check(&rs, &[]),
            [ChainError::Unsigned {
                instance: "i".into()
            }]
        );
    }
}
