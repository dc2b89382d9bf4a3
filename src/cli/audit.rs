//! `gatewayctl audit`: create the audit table, query it by user, by tool or by time range
//! (each a DynamoDB Query on an index, never a Scan), and verify record chains — from the
//! table or from a file of the gateway's stdout lines.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::audit_verify::{self, VerifyOptions, verify_and_report};
use super::{CliError, Global, input, output::Out};
use crate::adapters::audit_dynamodb::{AuditStoreError, DynamoAuditStore};
use crate::audit::{AuditRecord, now_ms, rfc3339_ms};

/// `gatewayctl audit …`
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The DynamoDB audit table.
    #[arg(long, env = "GATEWAY_AUDIT_TABLE", hide_env_values = true)]
    pub audit_table: Option<String>,
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// A time range; `--to` defaults to now, `--from` to 24 hours before `--to`.
#[derive(Debug, Args)]
pub struct Range {
    /// Start: RFC 3339 UTC (`2026-11-27T08:00:00Z`) or a date (`2026-11-27`).
    #[arg(long)]
    pub from: Option<String>,
    /// End (inclusive), same forms; a date means its whole day.
    #[arg(long)]
    pub to: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Create the audit table (keys, the byUser/byTool/byDay indexes, TTL on expiresAt).
    #[command(subcommand)]
    Table(AuditTableCommand),
    /// Records of one user, one tool, or everyone, in a time range, oldest first.
    Query {
        /// The username the records name.
        #[arg(long, conflicts_with = "tool")]
        user: Option<String>,
        /// The tool the records name.
        #[arg(long)]
        tool: Option<String>,
        #[command(flatten)]
        range: Range,
    },
    /// Check that record chains are whole, unedited and signed; exits 1 if one is not.
    ///
    /// From the table: every chain with a record in the range (or the one --instance
    /// names), each read whole with its signed heads. From --file: the audit lines among a
    /// log of stdout lines. Each chain must open with its start record; with a key, every
    /// signed head's MAC is checked (KMS VerifyMac) and the records must be those the heads
    /// hold, up to the newest head.
    Verify {
        /// One instance's chain.
        #[arg(long, conflicts_with = "file")]
        instance: Option<String>,
        /// A file of the gateway's stdout JSON lines (other lines are skipped).
        #[arg(long)]
        file: Option<PathBuf>,
        /// With --file: also check that the table holds every logged record as logged (a
        /// chain or tail deleted from the table is found this way).
        #[arg(long, requires = "file")]
        against_table: bool,
        /// The KMS HMAC key the gateway signs heads with (needs kms:VerifyMac on it).
        #[arg(long, env = "GATEWAY_AUDIT_KMS_KEY_ID", hide_env_values = true)]
        kms_key_id: Option<String>,
        /// Accept chains whose heads are not checked (no key): links alone prove nothing
        /// against whoever can write the table.
        #[arg(long)]
        allow_unsigned: bool,
        #[command(flatten)]
        range: Range,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditTableCommand {
    /// Create it (on demand). An existing table is left as it is.
    Create,
}

/// Milliseconds since the epoch for `YYYY-MM-DD[THH:MM:SS[.fff]Z]`; a bare date is its
/// start, or with `end` its last millisecond.
pub fn parse_time(s: &str, end: bool) -> Option<u64> {
    let s = s.trim();
    let n = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    if s.get(4..5)? != "-"
        || s.get(7..8)? != "-"
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&d)
    {
        return None;
    }
    // Howard Hinnant's days-from-civil.
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = u64::try_from(era * 146_097 + doe - 719_468).ok()?;
    let day_ms = days * 86_400_000;
    if s.len() == 10 {
        return Some(if end { day_ms + 86_399_999 } else { day_ms });
    }
    let rest = s.get(10..)?;
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    let rest = rest
        .strip_suffix('Z')
        .or_else(|| rest.strip_suffix("+00:00"))?;
    let (hms, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let parts: Vec<u64> = hms
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, mi, sec] = parts[..] else { return None };
    if h > 23 || mi > 59 || sec > 60 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms: u64 = format!("{frac:0<3}").get(..3)?.parse().ok()?;
    Some(day_ms + ((h * 60 + mi) * 60 + sec) * 1000 + ms)
}

/// The range as record times (RFC 3339, milliseconds) and the UTC days it touches.
fn resolve(range: &Range) -> Result<(String, String, Vec<String>), CliError> {
    let bad = |what: &str, v: &str| {
        CliError::Usage(format!(
            "--{what} {v:?} is not a UTC time like 2026-11-27T08:00:00Z or a date like 2026-11-27"
        ))
    };
    let to = match &range.to {
        Some(v) => parse_time(v, true).ok_or_else(|| bad("to", v))?,
        None => now_ms(),
    };
    let from = match &range.from {
        Some(v) => parse_time(v, false).ok_or_else(|| bad("from", v))?,
        None => to.saturating_sub(86_400_000),
    };
    if from > to {
        return Err(CliError::Usage("--from is after --to".into()));
    }
    const DAY: u64 = 86_400_000;
    if (to - from) / DAY > 366 {
        return Err(CliError::Usage("a range covers at most 366 days".into()));
    }
    let days = (from / DAY..=to / DAY)
        .map(|d| rfc3339_ms(d * DAY)[..10].to_owned())
        .collect();
    Ok((rfc3339_ms(from), rfc3339_ms(to), days))
}

async fn store(g: &Global, table: Option<&str>) -> Result<DynamoAuditStore, CliError> {
    let Some(t) = table.map(str::trim).filter(|t| !t.is_empty()) else {
        return Err(CliError::Usage(
            "no audit table: pass --audit-table TABLE or set GATEWAY_AUDIT_TABLE".into(),
        ));
    };
    if !crate::config::audit::table_name_ok(t) {
        return Err(CliError::Usage(format!(
            "{t:?} is not a DynamoDB table name"
        )));
    }
    Ok(DynamoAuditStore::new(
        input::client(g).await?,
        t.to_owned(),
        1,
    ))
}

fn store_error(e: AuditStoreError) -> CliError {
    CliError::Input(e.to_string())
}

fn print_records(out: Out, records: &[AuditRecord]) -> Result<(), CliError> {
    for r in records {
        let line = if out.json {
            serde_json::to_string(r).expect("a record always serializes")
        } else {
            let or = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
            format!(
                "{} {} {} {} {} {}{} status={} request={}",
                r.time,
                or(&r.username),
                r.decision.as_str(),
                or(&r.method),
                or(&r.tool),
                r.reason
                    .as_deref()
                    .map(|x| format!("reason={x} "))
                    .unwrap_or_default(),
                r.target_outcome
                    .as_deref()
                    .map(|x| format!("target={x}"))
                    .unwrap_or_default(),
                r.status,
                r.request_id
            )
        };
        out.line(&line)?;
    }
    Ok(())
}

/// Runs one `gatewayctl audit` command.
pub async fn run(g: &Global, out: Out, args: AuditArgs) -> Result<(), CliError> {
    let table = args.audit_table.as_deref();
    match args.command {
        AuditCommand::Table(AuditTableCommand::Create) => {
            let store = store(g, table).await?;
            let created = store.create_table().await.map_err(store_error)?;
            let verb = if created { "created" } else { "already exists" };
            out.line(&format!("audit table {} {verb}", store.table()))
        }
        AuditCommand::Query { user, tool, range } => {
            let (from, to, days) = resolve(&range)?;
            let store = store(g, table).await?;
            let mut records = match (&user, &tool) {
                (Some(u), _) => store.by_key(false, u, &from, &to).await,
                (_, Some(t)) => store.by_key(true, t, &from, &to).await,
                _ => store.by_time(&days, &from, &to).await,
            }
            .map_err(store_error)?;
            records
                .sort_by(|a, b| (&a.time, &a.instance, a.seq).cmp(&(&b.time, &b.instance, b.seq)));
            print_records(out, &records)
        }
        AuditCommand::Verify {
            instance,
            file,
            against_table,
            kms_key_id,
            allow_unsigned,
            range,
        } => {
            let opts = VerifyOptions {
                kms_key_id: kms_key_id.filter(|k| !k.trim().is_empty()),
                allow_unsigned,
            };
            if let Some(path) = file {
                let (records, heads) = audit_verify::read_file(&path)?;
                let extra = if against_table {
                    let store = store(g, table).await?;
                    audit_verify::against_table(&store, &records).await?
                } else {
                    Vec::new()
                };
                return verify_and_report(g, out, &opts, &records, heads, extra).await;
            }
            let store = store(g, table).await?;
            let instances: BTreeSet<String> = match instance {
                Some(i) => BTreeSet::from([i]),
                None => {
                    let (from, to, days) = resolve(&range)?;
                    let seen = store
                        .by_time(&days, &from, &to)
                        .await
                        .map_err(store_error)?;
                    let mut all: BTreeSet<String> = seen.into_iter().map(|r| r.instance).collect();
                    // And every chain in the table: an item re-put without its day is in no
                    // index, so the range alone would never bring its chain here.
                    all.extend(store.instances().await.map_err(store_error)?);
                    all
                }
            };
            let (mut records, mut heads) = (Vec::new(), Vec::new());
            for i in &instances {
                let (rs, hs) = store.chain(i).await.map_err(store_error)?;
                records.extend(rs);
                heads.extend(hs);
            }
            verify_and_report(g, out, &opts, &records, heads, Vec::new()).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_dates_parse_as_utc() {
        assert_eq!(parse_time("1970-01-01", false), Some(0));
        assert_eq!(parse_time("1970-01-01", true), Some(86_399_999));
        assert_eq!(
            parse_time("2000-02-29T00:00:00.123Z", false),
            Some(951_782_400_123)
        );
        assert_eq!(
            parse_time("2026-11-27T12:00:00Z", false),
            Some(1_795_780_800_000)
        );
        assert_eq!(
            parse_time("2026-11-27T12:00:00.5Z", false),
            Some(1_795_780_800_500)
        );
        for bad in [
            "2026-13-01",
            "yesterday",
            "2026-11-27T12:00:00",
            "2026-11-27T25:00:00Z",
        ] {
            assert_eq!(parse_time(bad, false), None, "{bad}");
        }
        let t = 1_795_780_800_123;
        assert_eq!(parse_time(&rfc3339_ms(t), false), Some(t));
    }

    #[test]
    fn a_range_lists_the_days_it_touches() {
        let range = Range {
            from: Some("2026-11-26T23:00:00Z".into()),
            to: Some("2026-11-27".into()),
        };
        let (from, to, days) = resolve(&range).unwrap();
        assert_eq!(from, "2026-11-26T23:00:00.000Z");
        assert_eq!(to, "2026-11-27T23:59:59.999Z");
        assert_eq!(days, ["2026-11-26", "2026-11-27"]);
    }
}
