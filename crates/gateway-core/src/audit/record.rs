//! The audit record: one per `/mcp` request, naming the real user, what was asked, what was
//! decided and by which rule, what the target did and how long it all took. Never a token,
//! never a secret; argument values only for tools configured to record them.

use serde::{Deserialize, Serialize};

/// What became of the request. Each name is spelt out (not derived from the variant) since
/// it is stored data: renaming a variant must not change what records say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Verdict {
    /// Authenticated and allowed (the target may still have failed: see `targetOutcome`).
    #[default]
    #[serde(rename = "allow")]
    Allow,
    /// Refused by policy (a deny rule, default deny, an unknown tool, a missing scope).
    #[serde(rename = "deny")]
    Deny,
    /// Refused for a missing or bad token (401).
    #[serde(rename = "unauthorized")]
    Unauthorized,
    /// Refused before any decision: malformed request, policies unavailable, …
    #[serde(rename = "error")]
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
            Verdict::Unauthorized => "unauthorized",
            Verdict::Error => "error",
        }
    }
}

/// `targetOutcome` of a target that answered usefully, and of one that failed. Stored data:
/// never change either.
pub const TARGET_OK: &str = "ok";
pub const TARGET_FAILED: &str = "error";

/// One audit record. Field order is the serialization order, which the chain digest
/// covers: change it only with a new chain format.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// The gateway instance (process) whose chain this record belongs to.
    pub instance: String,
    /// Position in the instance's chain, from 0.
    pub seq: u64,
    /// Digest of the previous record of the chain (`chain::GENESIS` for the first).
    pub prev: String,
    /// RFC 3339 UTC with milliseconds; sorts as text.
    pub time: String,
    pub time_ms: u64,
    /// The id the client's error messages and the logs carry.
    pub request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda_request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// The JSON-RPC method (absent when the body never parsed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    pub decision: Verdict,
    /// Why, for anything but a plain allow: `default_deny`, `deny_rule`, `unknown_tool`,
    /// `insufficient_scope`, the token check that failed (`Expired`, `BadSignature`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The rule that decided, as `gatewayctl explain` words it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<u64>,
    /// `http`, `lambda`, … (the catalog's `kind`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_kind: Option<String>,
    /// Who the target is (an HTTP origin, a function name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `ok` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_outcome: Option<String>,
    /// What went wrong: `Timeout`, `Status`, `Unreachable`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_error: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// Time spent in the gateway, target included, in microseconds.
    pub gateway_us: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_us: Option<u64>,
    /// Hex SHA-256 of the `arguments` JSON text as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments_sha256: Option<String>,
    /// The `arguments` JSON text, only for tools configured to record values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
    /// The MCP revision the request spoke (`initialize`: the one negotiated). Fields added
    /// after the first chain format go last and are left out when empty, so records written
    /// before they existed still verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    /// Let through without the issuer's online revocation check, which did not answer
    /// (the issuer is configured to fail open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_unchecked: Option<bool>,
    /// `start` for the record that opens an instance's chain (seq 0, no request); absent on
    /// request records. `audit verify` requires every chain to open with one, so a chain
    /// whose beginning was cut off is noticed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Hex SHA-256 over this record without `digest` (see `chain`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
}

/// Year, month and day of a day count since 1970-01-01 (proleptic Gregorian, Howard
/// Hinnant's days-to-civil).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// RFC 3339 UTC with milliseconds for a time in ms since the epoch.
pub fn rfc3339_ms(ms: u64) -> String {
    let secs = ms / 1000;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339_ms(1_795_780_800_999), "2026-11-27T12:00:00.999Z");
    }

    /// Stored data: never change one.
    #[test]
    fn verdicts_are_pinned() {
        for (verdict, name) in [
            (Verdict::Allow, "allow"),
            (Verdict::Deny, "deny"),
            (Verdict::Unauthorized, "unauthorized"),
            (Verdict::Error, "error"),
        ] {
            assert_eq!(verdict.as_str(), name);
            assert_eq!(
                serde_json::to_string(&verdict).unwrap(),
                format!("\"{name}\"")
            );
            assert_eq!(
                serde_json::from_str::<Verdict>(&format!("\"{name}\"")).unwrap(),
                verdict
            );
        }
    }
}
