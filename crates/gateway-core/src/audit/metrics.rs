//! CloudWatch Embedded Metric Format: one JSON line per request that CloudWatch Logs turns
//! into metrics — requests, allowed, denied (also by reason), 401s (also by reason), target
//! errors, gateway and target latency — plus the cache counters (verified tokens, JWKS keys,
//! policy snapshot) and JWKS fetches since the previous line, so their sums are exact.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde_json::json;
use serde_json::value::RawValue;

use super::record::{AuditRecord, TARGET_FAILED, Verdict};

/// Where the lines go and how they are named, with the metric declarations (`_aws`) of
/// every kind of line serialized once: only the values change from request to request.
#[derive(Debug, Clone)]
pub struct MetricsSettings {
    service: String,
    /// Without and with target latency (0-2, 3-5), each for any line, a denial, a 401.
    declarations: [Box<RawValue>; 6],
}

impl MetricsSettings {
    /// Lines for `service` (the `Service` dimension) in CloudWatch namespace `namespace`.
    pub fn new(namespace: &str, service: &str) -> Self {
        let declarations = std::array::from_fn(|i| {
            let (target_latency, by_reason) = (i / 3 == 1, i % 3);
            let mut metrics: Vec<(&str, &str)> = vec![
                ("Requests", COUNT),
                ("Allowed", COUNT),
                ("Denied", COUNT),
                ("Unauthorized", COUNT),
                ("Errors", COUNT),
                ("TargetErrors", COUNT),
                ("GatewayLatency", MS),
                ("TokenCacheHits", COUNT),
                ("TokenCacheMisses", COUNT),
                ("JwksCacheHits", COUNT),
                ("JwksCacheMisses", COUNT),
                ("JwksRefreshes", COUNT),
                ("PolicySnapshotHits", COUNT),
                ("PolicySnapshotLoads", COUNT),
            ];
            if target_latency {
                metrics.push(("TargetLatency", MS));
            }
            let mut all = vec![directive(namespace, &["Service"], &metrics)];
            // The same value again under a reason dimension: denials and 401s by why.
            match by_reason {
                1 => all.push(directive(
                    namespace,
                    &["Service", "DenyReason"],
                    &[("Denied", COUNT)],
                )),
                2 => all.push(directive(
                    namespace,
                    &["Service", "AuthFailure"],
                    &[("Unauthorized", COUNT)],
                )),
                _ => {}
            }
            RawValue::from_string(serde_json::Value::Array(all).to_string())
                .expect("declarations are JSON")
        });
        Self {
            service: service.to_owned(),
            declarations,
        }
    }
}

/// Cache counters taken since the previous line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    pub token_hits: u64,
    pub token_misses: u64,
    pub jwks_hits: u64,
    pub jwks_misses: u64,
    pub jwks_refreshes: u64,
    pub policy_hits: u64,
    pub policy_loads: u64,
}

fn take(c: &AtomicU64) -> u64 {
    c.swap(0, Ordering::Relaxed)
}

impl CacheCounts {
    /// Takes (and zeroes) the process-wide counters kept by the caches themselves.
    pub fn take() -> Self {
        use crate::auth::{cache, keystore};
        use crate::policy::snapshot;
        Self {
            token_hits: take(&cache::HITS),
            token_misses: take(&cache::MISSES),
            jwks_hits: take(&keystore::KEY_HITS),
            jwks_misses: take(&keystore::KEY_MISSES),
            jwks_refreshes: take(&keystore::REFRESHES),
            policy_hits: take(&snapshot::HITS),
            policy_loads: take(&snapshot::LOADS),
        }
    }
}

const COUNT: &str = "Count";
const MS: &str = "Milliseconds";

fn directive(namespace: &str, dimensions: &[&str], metrics: &[(&str, &str)]) -> serde_json::Value {
    json!({
        "Namespace": namespace,
        "Dimensions": [dimensions],
        "Metrics": metrics
            .iter()
            .map(|(name, unit)| json!({ "Name": name, "Unit": unit }))
            .collect::<Vec<_>>(),
    })
}

/// One line: every declared metric's value, the dimensions, and the declarations.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Line<'a> {
    service: &'a str,
    #[serde(rename = "requestId")]
    request_id: &'a str,
    requests: u64,
    allowed: u64,
    denied: u64,
    unauthorized: u64,
    errors: u64,
    target_errors: u64,
    gateway_latency: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_latency: Option<f64>,
    token_cache_hits: u64,
    token_cache_misses: u64,
    jwks_cache_hits: u64,
    jwks_cache_misses: u64,
    jwks_refreshes: u64,
    policy_snapshot_hits: u64,
    policy_snapshot_loads: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    deny_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_failure: Option<&'a str>,
    #[serde(rename = "_aws")]
    aws: Aws<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Aws<'a> {
    timestamp: u64,
    cloud_watch_metrics: &'a RawValue,
}

/// The EMF line for one audited request.
pub fn emf_line(settings: &MetricsSettings, record: &AuditRecord, cache: CacheCounts) -> String {
    let is = |v: Verdict| u64::from(record.decision == v);
    let reason = record.reason.as_deref().unwrap_or("unknown");
    let by_reason = match record.decision {
        Verdict::Deny => 1,
        Verdict::Unauthorized => 2,
        _ => 0,
    };
    let declared = &settings.declarations[usize::from(record.target_us.is_some()) * 3 + by_reason];
    let line = Line {
        service: &settings.service,
        request_id: &record.request_id,
        requests: 1,
        allowed: is(Verdict::Allow),
        denied: is(Verdict::Deny),
        unauthorized: is(Verdict::Unauthorized),
        errors: is(Verdict::Error),
        target_errors: u64::from(record.target_outcome.as_deref() == Some(TARGET_FAILED)),
        gateway_latency: record.gateway_us as f64 / 1000.0,
        target_latency: record.target_us.map(|us| us as f64 / 1000.0),
        token_cache_hits: cache.token_hits,
        token_cache_misses: cache.token_misses,
        jwks_cache_hits: cache.jwks_hits,
        jwks_cache_misses: cache.jwks_misses,
        jwks_refreshes: cache.jwks_refreshes,
        policy_snapshot_hits: cache.policy_hits,
        policy_snapshot_loads: cache.policy_loads,
        deny_reason: (by_reason == 1).then_some(reason),
        auth_failure: (by_reason == 2).then_some(reason),
        aws: Aws {
            timestamp: record.time_ms,
            cloud_watch_metrics: declared,
        },
    };
    serde_json::to_string(&line).expect("a metrics line always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::Value;

    fn settings() -> MetricsSettings {
        MetricsSettings::new("Gw", "mcp-oauth-gateway")
    }

    #[test]
    fn an_allowed_call_counts_latency_and_caches() {
        let r = AuditRecord {
            time_ms: 42,
            request_id: "r1".into(),
            decision: Verdict::Allow,
            gateway_us: 1500,
            target_us: Some(1000),
            target_outcome: Some("ok".into()),
            ..AuditRecord::default()
        };
        let cache = CacheCounts {
            token_hits: 2,
            jwks_refreshes: 1,
            ..CacheCounts::default()
        };
        let v: Value = serde_json::from_str(&emf_line(&settings(), &r, cache)).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], 42);
        let d = &v["_aws"]["CloudWatchMetrics"];
        assert_eq!(d.as_array().unwrap().len(), 1);
        assert_eq!(d[0]["Namespace"], "Gw");
        assert_eq!(d[0]["Dimensions"], json!([["Service"]]));
        let names: Vec<&str> = d[0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        // Every declared metric has its value in the line (EMF requires it).
        for n in &names {
            assert!(v.get(*n).is_some(), "{n} has no value");
        }
        assert!(names.contains(&"TargetLatency"));
        assert_eq!(v["Allowed"], 1);
        assert_eq!(v["Denied"], 0);
        assert_eq!(v["GatewayLatency"], 1.5);
        assert_eq!(v["TargetLatency"], 1.0);
        assert_eq!(v["TokenCacheHits"], 2);
        assert_eq!(v["JwksRefreshes"], 1);
    }

    #[test]
    fn denials_and_401s_are_also_counted_by_reason() {
        let mut r = AuditRecord {
            decision: Verdict::Deny,
            reason: Some("default_deny".into()),
            ..AuditRecord::default()
        };
        let v: Value =
            serde_json::from_str(&emf_line(&settings(), &r, CacheCounts::default())).unwrap();
        assert_eq!(v["DenyReason"], "default_deny");
        let d = &v["_aws"]["CloudWatchMetrics"][1];
        assert_eq!(d["Dimensions"], json!([["Service", "DenyReason"]]));
        assert_eq!(d["Metrics"][0]["Name"], "Denied");
        assert_eq!(v["Denied"], 1);
        r.decision = Verdict::Unauthorized;
        r.reason = Some("Expired".into());
        let v: Value =
            serde_json::from_str(&emf_line(&settings(), &r, CacheCounts::default())).unwrap();
        assert_eq!(v["AuthFailure"], "Expired");
        assert_eq!(v["Unauthorized"], 1);
        assert!(v.get("TargetLatency").is_none());
    }
}
