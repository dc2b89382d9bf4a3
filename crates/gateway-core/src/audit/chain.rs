//! Digest chaining: every record carries the SHA-256 of the previous record of its gateway
//! instance and its own digest over everything else, so an edited record (its digest no
//! longer matches), a deleted one (a gap in `seq`, or a `prev` that names nothing) and a
//! re-ordered one are detectable. Digests are unkeyed, so a rewrite with recomputed digests
//! is not: signed heads (`head`) are what catch that.

use std::collections::BTreeMap;

use aws_lc_rs::digest;

use super::record::AuditRecord;

/// `prev` of the first record of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, bytes).as_ref())
}

/// The digest of a record: SHA-256 of its JSON serialization without `digest` (which
/// includes `prev`, so each digest covers the whole chain before it).
pub fn record_digest(record: &AuditRecord) -> String {
    let serialize = |r: &AuditRecord| serde_json::to_vec(r).expect("a record always serializes");
    if record.digest.is_empty() {
        // Being linked: nothing to leave out, no copy needed.
        return sha256_hex(&serialize(record));
    }
    let mut r = record.clone();
    r.digest.clear();
    sha256_hex(&serialize(&r))
}

/// The running end of one instance's chain.
#[derive(Debug)]
pub struct Chain {
    instance: String,
    next_seq: u64,
    prev: String,
}

impl Chain {
    pub fn new(instance: impl Into<String>) -> Self {
        Self {
            instance: instance.into(),
            next_seq: 0,
            prev: GENESIS.to_owned(),
        }
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The newest linked record's seq and digest.
    pub fn head(&self) -> Option<(u64, &str)> {
        self.next_seq
            .checked_sub(1)
            .map(|s| (s, self.prev.as_str()))
    }

    /// Links `record` onto the chain: sets instance, seq, prev and digest.
    pub fn link(&mut self, record: &mut AuditRecord) {
        record.instance.clone_from(&self.instance);
        record.seq = self.next_seq;
        record.prev = std::mem::take(&mut self.prev);
        record.digest = record_digest(record);
        self.prev.clone_from(&record.digest);
        self.next_seq += 1;
    }
}

/// What is wrong with a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("instance {instance}: record {seq} was edited (its digest does not match)")]
    Edited { instance: String, seq: u64 },
    #[error("instance {instance}: record {expected} is missing (next present: {found})")]
    Missing {
        instance: String,
        expected: u64,
        found: u64,
    },
    #[error("instance {instance}: record {seq} does not follow the record before it")]
    BrokenLink { instance: String, seq: u64 },
    #[error("instance {instance}: record {seq} appears more than once")]
    Duplicate { instance: String, seq: u64 },
    #[error(
        "instance {instance}: the chain's start record is missing (deleted, or expired by TTL)"
    )]
    StartMissing { instance: String },
    #[error("instance {instance}: record 0 is not a start record")]
    NotStart { instance: String },
    #[error("instance {instance}: the signed head at record {seq} does not verify (forged)")]
    ForgedHead { instance: String, seq: u64 },
    #[error(
        "instance {instance}: record {seq} is not the record the signed head holds (overwritten or re-chained)"
    )]
    Rechained { instance: String, seq: u64 },
    #[error(
        "instance {instance}: truncated: a signed head covers record {signed}, the chain ends at {last}"
    )]
    Truncated {
        instance: String,
        signed: u64,
        last: u64,
    },
    #[error(
        "instance {instance}: records {from}..={to} are covered by no signed head (appended, or signing failed)"
    )]
    UnsignedTail {
        instance: String,
        from: u64,
        to: u64,
    },
    #[error("instance {instance}: no signed head at all")]
    Unsigned { instance: String },
    #[error("instance {instance}: record {seq} is in the stdout log but not in the table")]
    NotInTable { instance: String, seq: u64 },
}

/// How one chain checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub instance: String,
    pub records: usize,
    /// Every problem found (empty = intact).
    pub problems: Vec<ChainError>,
    /// Heads checked against a key (false: digests and links only, nothing authenticated).
    pub signed: bool,
    /// How many heads verified.
    pub valid_heads: usize,
}

/// Checks digests and links of every chain among `records` (any order, any mix of
/// instances), each from seq 0. Unkeyed: a rewrite with recomputed digests passes this;
/// `head::verify_signed` is the check that catches it.
pub fn verify(records: &[AuditRecord]) -> Vec<ChainReport> {
    let mut chains: BTreeMap<&str, Vec<&AuditRecord>> = BTreeMap::new();
    for r in records {
        chains.entry(&r.instance).or_default().push(r);
    }
    chains
        .into_iter()
        .map(|(instance, mut rs)| {
            rs.sort_by_key(|r| r.seq);
            ChainReport {
                instance: instance.to_owned(),
                records: rs.len(),
                problems: verify_one(instance, &rs),
                signed: false,
                valid_heads: 0,
            }
        })
        .collect()
}

fn verify_one(instance: &str, records: &[&AuditRecord]) -> Vec<ChainError> {
    let mut problems = Vec::new();
    let mut expected_seq = 0u64;
    let mut prev: Option<&AuditRecord> = None;
    for r in records {
        let i = instance.to_owned();
        if record_digest(r) != r.digest {
            problems.push(ChainError::Edited {
                instance: i.clone(),
                seq: r.seq,
            });
        }
        if prev.is_some_and(|p| p.seq == r.seq) {
            problems.push(ChainError::Duplicate {
                instance: i,
                seq: r.seq,
            });
            continue;
        }
        if r.seq != expected_seq {
            problems.push(ChainError::Missing {
                instance: i.clone(),
                expected: expected_seq,
                found: r.seq,
            });
        }
        let linked = match prev {
            Some(p) => r.prev == p.digest,
            None => r.seq != 0 || r.prev == GENESIS,
        };
        // After a gap the link cannot match; the gap is the finding.
        if !linked && r.seq == expected_seq {
            problems.push(ChainError::BrokenLink {
                instance: i,
                seq: r.seq,
            });
        }
        expected_seq = r.seq + 1;
        prev = Some(r);
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::Verdict;

    fn chain(n: u64) -> Vec<AuditRecord> {
        let mut c = Chain::new("i-1");
        (0..n)
            .map(|k| {
                let mut r = AuditRecord {
                    time_ms: 1_000 + k,
                    request_id: format!("req-{k}"),
                    username: Some("alice".into()),
                    tool: Some("echo".into()),
                    decision: Verdict::Allow,
                    status: 200,
                    ..AuditRecord::default()
                };
                c.link(&mut r);
                r
            })
            .collect()
    }

    fn problems(records: &[AuditRecord]) -> Vec<ChainError> {
        verify(records)
            .into_iter()
            .flat_map(|r| r.problems)
            .collect()
    }

    #[test]
    fn a_fresh_chain_links_from_genesis_and_verifies() {
        let rs = chain(4);
        assert_eq!(rs[0].prev, GENESIS);
        assert_eq!(rs[0].seq, 0);
        assert_eq!(rs[1].prev, rs[0].digest);
        assert_eq!(rs[3].seq, 3);
        assert_eq!(rs[0].digest.len(), 64);
        assert_eq!(problems(&rs), vec![]);
        let reports = verify(&rs);
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].records, 4);
    }

    #[test]
    fn digests_cover_every_field_and_the_previous_record() {
        let rs = chain(2);
        let mut other = rs[1].clone();
        other.prev = GENESIS.into();
        assert_ne!(record_digest(&other), rs[1].digest);
        let mut other = rs[1].clone();
        other.groups = Some(vec!["admins".into()]);
        assert_ne!(record_digest(&other), rs[1].digest);
        assert_eq!(record_digest(&rs[1]), rs[1].digest, "deterministic");
    }

    #[test]
    fn an_edit_is_found() {
        let mut rs = chain(3);
        rs[1].username = Some("mallory".into());
        assert_eq!(
            problems(&rs),
            vec![ChainError::Edited {
                instance: "i-1".into(),
                seq: 1
            }]
        );
    }

    #[test]
    fn an_edit_with_a_recomputed_digest_breaks_the_next_link() {
        let mut rs = chain(3);
        rs[1].decision = Verdict::Deny;
        rs[1].digest = record_digest(&rs[1]);
        assert_eq!(
            problems(&rs),
            vec![ChainError::BrokenLink {
                instance: "i-1".into(),
                seq: 2
            }]
        );
    }

    #[test]
    fn deletions_are_found_in_the_middle_and_at_the_start() {
        let mut rs = chain(4);
        rs.remove(2);
        assert_eq!(
            problems(&rs),
            vec![ChainError::Missing {
                instance: "i-1".into(),
                expected: 2,
                found: 3
            }]
        );
        let mut rs = chain(3);
        rs.remove(0);
        assert_eq!(
            problems(&rs),
            vec![ChainError::Missing {
                instance: "i-1".into(),
                expected: 0,
                found: 1
            }]
        );
    }

    #[test]
    fn chains_of_instances_are_checked_separately_in_any_order() {
        let mut rs = chain(3);
        let mut c2 = Chain::new("i-2");
        let mut r = AuditRecord::default();
        c2.link(&mut r);
        rs.push(r);
        rs.reverse();
        let reports = verify(&rs);
        assert_eq!(reports.len(), 2);
        assert!(reports.iter().all(|r| r.problems.is_empty()));
    }
}
