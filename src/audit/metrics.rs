//! CloudWatch Embedded Metric Format: one JSON line per request that CloudWatch Logs turns
//! into metrics — requests, allowed, denied (also by reason), 401s (also by reason), target
//! errors, gateway and target latency — plus the cache counters (verified tokens, JWKS keys,
//! policy snapshot) and JWKS fetches since the previous line, so their sums are exact.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

use super::record::{AuditRecord, Verdict};

/// Where the lines go and how they are named.
#[derive(Debug, Clone)]
pub struct MetricsSettings {
    pub namespace: String,
    /// The `Service` dimension.
    pub service: String,
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

fn directive(namespace: &str, dimensions: &[&str], metrics: &[(&str, &str)]) -> Value {
    json!({
        "Namespace": namespace,
        "Dimensions": [dimensions],
        "Metrics": metrics
            .iter()
            .map(|(name, unit)| json!({ "Name": name, "Unit": unit }))
            .collect::<Vec<_>>(),
    })
}

/// The EMF line for one audited request.
pub fn emf_line(settings: &MetricsSettings, record: &AuditRecord, cache: CacheCounts) -> String {
    let ns = settings.namespace.as_str();
    let is = |v: Verdict| u64::from(record.decision == v);
    let target_error = u64::from(record.target_outcome.as_deref() == Some("error"));
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
    let mut body = Map::new();
    body.insert("Service".into(), json!(settings.service));
    body.insert("requestId".into(), json!(record.request_id));
    body.insert("Requests".into(), json!(1));
    body.insert("Allowed".into(), json!(is(Verdict::Allow)));
    body.insert("Denied".into(), json!(is(Verdict::Deny)));
    body.insert("Unauthorized".into(), json!(is(Verdict::Unauthorized)));
    body.insert("Errors".into(), json!(is(Verdict::Error)));
    body.insert("TargetErrors".into(), json!(target_error));
    body.insert(
        "GatewayLatency".into(),
        json!(record.gateway_us as f64 / 1000.0),
    );
    if let Some(us) = record.target_us {
        metrics.push(("TargetLatency", MS));
        body.insert("TargetLatency".into(), json!(us as f64 / 1000.0));
    }
    for (name, value) in [
        ("TokenCacheHits", cache.token_hits),
        ("TokenCacheMisses", cache.token_misses),
        ("JwksCacheHits", cache.jwks_hits),
        ("JwksCacheMisses", cache.jwks_misses),
        ("JwksRefreshes", cache.jwks_refreshes),
        ("PolicySnapshotHits", cache.policy_hits),
        ("PolicySnapshotLoads", cache.policy_loads),
    ] {
        body.insert(name.into(), json!(value));
    }
    let mut directives = vec![directive(ns, &["Service"], &metrics)];
    // The same value again under a reason dimension: denials and 401s by why.
    let reason = record.reason.as_deref().unwrap_or("unknown");
    match record.decision {
        Verdict::Deny => {
            body.insert("DenyReason".into(), json!(reason));
            directives.push(directive(
                ns,
                &["Service", "DenyReason"],
                &[("Denied", COUNT)],
            ));
        }
        Verdict::Unauthorized => {
            body.insert("AuthFailure".into(), json!(reason));
            directives.push(directive(
                ns,
                &["Service", "AuthFailure"],
                &[("Unauthorized", COUNT)],
            ));
        }
        _ => {}
    }
    body.insert(
        "_aws".into(),
        json!({ "Timestamp": record.time_ms, "CloudWatchMetrics": directives }),
    );
    Value::Object(body).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> MetricsSettings {
        MetricsSettings {
            namespace: "Gw".into(),
            service: "mcp-oauth-gateway".into(),
        }
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
