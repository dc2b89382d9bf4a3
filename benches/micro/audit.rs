//! What the audit trail costs per request: linking a realistic record onto the chain (its
//! digest), its stdout line, and the EMF metrics line. Every `/mcp` request pays all three
//! with the default settings.
//!
//! Run with `cargo bench --bench micro`; figures in BENCHMARKS.md.

use std::hint::black_box;

use crate::support::cpu_time;

use cpu_time::ThreadCpu;
use criterion::{Criterion, criterion_group};

use mcp_oauth_gateway::adapters::audit_stdout::audit_line;
use mcp_oauth_gateway::audit::{
    AuditRecord, CacheCounts, Chain, MetricsSettings, Verdict, emf_line,
};

/// An allowed tools/call to an HTTP target, as the gateway records it.
fn record() -> AuditRecord {
    AuditRecord {
        time: "2026-11-27T10:00:00.123Z".into(),
        time_ms: 1_795_773_600_123,
        request_id: "9fbc5f57-34e0-4a8e-a7ef-8fdf8e562679".into(),
        api_request_id: Some("9fbc5f57-34e0-4a8e-a7ef-8fdf8e562679".into()),
        issuer: Some("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI".into()),
        subject: Some("2f6e5c1a-8b3d-4e7f-9a0b-1c2d3e4f5a6b".into()),
        username: Some("alice".into()),
        client_id: Some("4k2j3h4g5f6d7s8a9p0o1i2u3y".into()),
        groups: Some(vec!["engineering".into(), "admins".into()]),
        method: Some("tools/call".into()),
        tool: Some("echo".into()),
        decision: Verdict::Allow,
        rule: Some("group \"engineering\" allows \"echo\" (policy version 7)".into()),
        policy_group: Some("engineering".into()),
        policy_version: Some(7),
        target_kind: Some("http".into()),
        target: Some("https://tools.example.com".into()),
        target_outcome: Some("ok".into()),
        status: 200,
        gateway_us: 412,
        target_us: Some(305),
        arguments_sha256: Some(
            "528d2891e8be772c8008dd098401f5cb0e5f2f92a5405bb767f376afa10f854c".into(),
        ),
        protocol_version: Some("2025-11-25".into()),
        ..AuditRecord::default()
    }
}

fn audit(c: &mut Criterion<ThreadCpu>) {
    let mut chain = Chain::new("3c0d7f0e-2b1a-4f5e-9d8c-7b6a5f4e3d2c");
    let settings = MetricsSettings::new("McpOAuthGateway", "mcp-oauth-gateway");
    let base = record();
    c.bench_function("audit/link", |b| {
        b.iter(|| {
            let mut r = base.clone();
            chain.link(&mut r);
            black_box(r)
        })
    });
    let mut linked = base.clone();
    chain.link(&mut linked);
    c.bench_function("audit/stdout_line", |b| {
        b.iter(|| black_box(audit_line(black_box(&linked))))
    });
    c.bench_function("audit/emf_line", |b| {
        b.iter(|| {
            black_box(emf_line(
                &settings,
                black_box(&linked),
                CacheCounts::default(),
            ))
        })
    });
}

criterion_group! {
    name = benches;
    config = cpu_time::criterion();
    targets = audit
}
