//! Audit and metrics settings: where records go, how long the DynamoDB copy lives, whose
//! argument values are recorded, and the metrics namespace.

use super::{ConfigError, bad, list, number};

/// `GATEWAY_AUDIT_*` and `GATEWAY_METRICS*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSettings {
    /// `GATEWAY_AUDIT_STDOUT` (default on): one JSON line per record on stdout.
    pub stdout: bool,
    /// `GATEWAY_AUDIT_TABLE`: also keep records in this DynamoDB table.
    pub table: Option<String>,
    /// `GATEWAY_AUDIT_KMS_KEY_ID`: the KMS HMAC key (GENERATE_VERIFY_MAC) that signs chain
    /// heads. Without it heads are not signed and `audit verify` reports chains unsigned.
    pub kms_key_id: Option<String>,
    /// `GATEWAY_AUDIT_TTL_DAYS` (default 365): when DynamoDB expires a record.
    pub ttl_days: u64,
    /// `GATEWAY_AUDIT_ARGUMENT_TOOLS`: tools whose argument values are recorded (every
    /// other tool: a SHA-256 digest of the arguments only).
    pub argument_tools: Vec<String>,
    /// `GATEWAY_METRICS` (default on): CloudWatch EMF lines on stdout.
    pub metrics: bool,
    /// `GATEWAY_METRICS_NAMESPACE` (default `McpOAuthGateway`).
    pub metrics_namespace: String,
}

fn switch(
    env: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match env(name).map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") => Ok(default),
        Some("1" | "true" | "on" | "yes") => Ok(true),
        Some("0" | "false" | "off" | "no") => Ok(false),
        Some(v) => Err(bad(name, format!("{v:?} is not on or off"))),
    }
}

/// Whether `t` can name a DynamoDB table.
pub(crate) fn table_name_ok(t: &str) -> bool {
    (3..=255).contains(&t.len())
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

impl AuditSettings {
    pub fn from_lookup(env: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let table = env("GATEWAY_AUDIT_TABLE")
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        if let Some(t) = &table {
            if !table_name_ok(t) {
                return Err(bad(
                    "GATEWAY_AUDIT_TABLE",
                    format!("{t:?} is not a DynamoDB table name"),
                ));
            }
        }
        let namespace = env("GATEWAY_METRICS_NAMESPACE")
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "McpOAuthGateway".into());
        if namespace.len() > 255 || namespace.contains(':') {
            return Err(bad(
                "GATEWAY_METRICS_NAMESPACE",
                "must be at most 255 characters without ':'",
            ));
        }
        Ok(Self {
            stdout: switch(env, "GATEWAY_AUDIT_STDOUT", true)?,
            table,
            kms_key_id: env("GATEWAY_AUDIT_KMS_KEY_ID")
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty()),
            ttl_days: number(env, "GATEWAY_AUDIT_TTL_DAYS", 365u64, 1..=3650)?,
            argument_tools: list(&env("GATEWAY_AUDIT_ARGUMENT_TOOLS").unwrap_or_default()),
            metrics: switch(env, "GATEWAY_METRICS", true)?,
            metrics_namespace: namespace,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<AuditSettings, ConfigError> {
        let m: HashMap<&str, &str> = pairs.iter().copied().collect();
        AuditSettings::from_lookup(&|k| m.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn defaults_record_to_stdout_with_metrics_and_no_argument_values() {
        let s = settings(&[]).unwrap();
        assert!(s.stdout && s.metrics);
        assert_eq!(s.table, None);
        assert_eq!(s.ttl_days, 365);
        assert_eq!(s.kms_key_id, None, "heads unsigned unless a key is named");
        assert!(s.argument_tools.is_empty());
        assert_eq!(s.metrics_namespace, "McpOAuthGateway");
    }

    #[test]
    fn settings_parse_and_bad_ones_name_their_variable() {
        let s = settings(&[
            ("GATEWAY_AUDIT_TABLE", "audit-1"),
            ("GATEWAY_AUDIT_STDOUT", "off"),
            ("GATEWAY_AUDIT_ARGUMENT_TOOLS", "echo, calculate"),
            ("GATEWAY_AUDIT_TTL_DAYS", "30"),
            ("GATEWAY_AUDIT_KMS_KEY_ID", " alias/audit-heads "),
        ])
        .unwrap();
        assert_eq!(s.kms_key_id.as_deref(), Some("alias/audit-heads"));
        assert_eq!(s.table.as_deref(), Some("audit-1"));
        assert!(!s.stdout);
        assert_eq!(s.argument_tools, ["echo", "calculate"]);
        assert_eq!(s.ttl_days, 30);
        let name = |p: &[(&str, &str)]| settings(p).unwrap_err().name;
        assert_eq!(
            name(&[("GATEWAY_AUDIT_TABLE", "a b")]),
            "GATEWAY_AUDIT_TABLE"
        );
        assert_eq!(
            name(&[("GATEWAY_AUDIT_STDOUT", "maybe")]),
            "GATEWAY_AUDIT_STDOUT"
        );
        assert_eq!(
            name(&[("GATEWAY_AUDIT_TTL_DAYS", "0")]),
            "GATEWAY_AUDIT_TTL_DAYS"
        );
        assert_eq!(name(&[("GATEWAY_METRICS", "2")]), "GATEWAY_METRICS");
    }
}
