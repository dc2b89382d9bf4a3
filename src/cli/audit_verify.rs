//! `gatewayctl audit verify`: reads chains and their signed heads (from the table, or from
//! a file of stdout lines), checks each head's MAC with KMS VerifyMac under the configured
//! key, and reports every chain: intact and signed, intact but unsigned (nothing
//! authenticated; refused unless `--allow-unsigned`), or broken and how. With `--file` and
//! `--against-table` it also checks that every record of the log is in the table as logged,
//! which is how a chain deleted whole (or its tail with its heads) is found.

use std::path::Path;

use super::{CliError, Global, input, output::Out};
use crate::adapters::audit_dynamodb::DynamoAuditStore;
use crate::adapters::audit_kms::verify_head;
use crate::audit::{AuditRecord, ChainError, ChainReport, CheckedHead, SignedHead, verify_signed};

/// What a check is given: the key to verify heads with, and whether unsigned chains pass.
pub struct VerifyOptions {
    pub kms_key_id: Option<String>,
    pub allow_unsigned: bool,
}

/// Checks every head's MAC (with the configured key, never the one a head names).
pub async fn check_macs(
    g: &Global,
    key: Option<&str>,
    heads: Vec<SignedHead>,
) -> Result<Vec<CheckedHead>, CliError> {
    let Some(key) = key else {
        return Ok(heads
            .into_iter()
            .map(|head| CheckedHead { head, valid: false })
            .collect());
    };
    let kms = input::kms(g).await?;
    let mut checked = Vec::with_capacity(heads.len());
    for head in heads {
        let valid = verify_head(&kms, key, &head)
            .await
            .map_err(|e| CliError::Input(e.to_string()))?;
        checked.push(CheckedHead { head, valid });
    }
    Ok(checked)
}

/// Verifies records and heads and prints the report; an error if any chain is broken or
/// (without `allow_unsigned`) unsigned.
pub async fn verify_and_report(
    g: &Global,
    out: Out,
    opts: &VerifyOptions,
    records: &[AuditRecord],
    heads: Vec<SignedHead>,
    extra: Vec<ChainError>,
) -> Result<(), CliError> {
    let key = opts.kms_key_id.as_deref();
    let heads = check_macs(g, key, heads).await?;
    let mut reports = verify_signed(records, &heads, key.is_some());
    for problem in extra {
        let instance = problem_instance(&problem);
        match reports.iter_mut().find(|r| r.instance == instance) {
            Some(r) => r.problems.push(problem),
            None => reports.push(ChainReport {
                instance,
                records: 0,
                problems: vec![problem],
                signed: key.is_some(),
                valid_heads: 0,
            }),
        }
    }
    report(out, &reports, opts.allow_unsigned)
}

fn problem_instance(p: &ChainError) -> String {
    // Every variant names its instance first; its message starts with it.
    p.to_string()
        .strip_prefix("instance ")
        .and_then(|s| s.split(':').next())
        .unwrap_or_default()
        .to_owned()
}

fn report(out: Out, reports: &[ChainReport], allow_unsigned: bool) -> Result<(), CliError> {
    let (mut broken, mut unsigned) = (0, 0);
    for r in reports {
        if !r.problems.is_empty() {
            broken += 1;
            out.line(&format!(
                "chain {}: {} records, BROKEN",
                r.instance, r.records
            ))?;
            for p in &r.problems {
                out.line(&format!("  {p}"))?;
            }
        } else if r.signed {
            out.line(&format!(
                "chain {}: {} records, intact, {} signed heads verified",
                r.instance, r.records, r.valid_heads
            ))?;
        } else {
            unsigned += 1;
            out.line(&format!(
                "chain {}: {} records, linked but UNSIGNED (no key to check heads with: a rewrite with recomputed digests would pass)",
                r.instance, r.records
            ))?;
        }
    }
    if broken > 0 {
        return Err(CliError::Input(format!(
            "{broken} of {} audit chains are broken",
            reports.len()
        )));
    }
    if unsigned > 0 && !allow_unsigned {
        return Err(CliError::Input(format!(
            "{unsigned} audit chains are unsigned: pass --kms-key-id (GATEWAY_AUDIT_KMS_KEY_ID) to check their heads, or --allow-unsigned to accept links alone"
        )));
    }
    if reports.is_empty() {
        out.line("no audit records found")?;
    }
    Ok(())
}

/// The audit records and signed heads among a file of stdout lines (others skipped).
pub fn read_file(path: &Path) -> Result<(Vec<AuditRecord>, Vec<SignedHead>), CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Input(format!("{}: cannot read: {e}", path.display())))?;
    let unreadable = |e: serde_json::Error| {
        CliError::Input(format!("{}: unreadable audit line: {e}", path.display()))
    };
    let (mut records, mut heads) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        match v.get("type").and_then(|t| t.as_str()) {
            Some("audit") => records.push(serde_json::from_value(v).map_err(unreadable)?),
            Some("audit_head") => heads.push(serde_json::from_value(v).map_err(unreadable)?),
            _ => {}
        }
    }
    Ok((records, heads))
}

/// What the table lacks or holds otherwise than the log: each record of `logged` must be
/// in the table with the digest logged.
pub async fn against_table(
    store: &DynamoAuditStore,
    logged: &[AuditRecord],
) -> Result<Vec<ChainError>, CliError> {
    let mut instances: Vec<&str> = logged.iter().map(|r| r.instance.as_str()).collect();
    instances.sort_unstable();
    instances.dedup();
    let mut problems = Vec::new();
    for instance in instances {
        let (stored, _) = store
            .chain(instance)
            .await
            .map_err(|e| CliError::Input(e.to_string()))?;
        for r in logged.iter().filter(|r| r.instance == instance) {
            match stored.iter().find(|s| s.seq == r.seq) {
                None => problems.push(ChainError::NotInTable {
                    instance: instance.to_owned(),
                    seq: r.seq,
                }),
                Some(s) if s.digest != r.digest => problems.push(ChainError::Rechained {
                    instance: instance.to_owned(),
                    seq: r.seq,
                }),
                Some(_) => {}
            }
        }
    }
    Ok(problems)
}
