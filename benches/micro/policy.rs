//! Policy speed: one decision against 10, 100 and 1,000 rules, and `tools/list` filtering
//! over a 500-tool catalog, both the bare filter and the whole request as `McpService`
//! answers it (parse, snapshot, filter, serialize).
//!
//! Run with `cargo bench --bench micro`; figures in BENCHMARKS.md.

use std::hint::black_box;
use std::sync::Arc;

use crate::support::cpu_time;
use crate::support::service;
use async_trait::async_trait;

use cpu_time::ThreadCpu;
use criterion::{BenchmarkId, Criterion, criterion_group};
use serde_json::json;
use service::{principal, service, signer};

use mcp_oauth_gateway::catalog::{Catalog, ToolDefinition};
use mcp_oauth_gateway::mcp::{CallContext, Outcome, TransportHeaders};
use mcp_oauth_gateway::policy::{Caller, ConfigDocument, GroupPolicy, PolicySet};
use mcp_oauth_gateway::targets::{TargetError, ToolCall, ToolInvoker, ToolOutput};

fn policy(group: &str, allow: Vec<String>, deny: Vec<String>) -> GroupPolicy {
    serde_json::from_value(json!({"group": group, "allow": allow, "deny": deny})).expect("policy")
}

/// `rules` patterns in groups of ten (nine allows, one deny), every group one the caller
/// is in: the worst case, since only the caller's groups are ever scanned. Patterns mix
/// exact names and globs as real policies do.
fn rules(rules: usize) -> (PolicySet, Vec<String>) {
    let groups = rules / 10;
    let policies: Vec<GroupPolicy> = (0..groups)
        .map(|g| {
            let allow = (0..9)
                .map(|r| match r % 3 {
                    0 => format!("team{g}_tool{r}"),
                    1 => format!("team{g}_prefix{r}_*"),
                    _ => format!("team{g}_?ool{r}"),
                })
                .collect();
            policy(
                &format!("group{g}"),
                allow,
                vec![format!("team{g}_danger_*")],
            )
        })
        .collect();
    let names = (0..groups).map(|g| format!("group{g}")).collect();
    (PolicySet::build(&policies).expect("valid"), names)
}

fn decision(c: &mut Criterion<ThreadCpu>) {
    let mut group = c.benchmark_group("policy_decide");
    let scopes = vec!["mcp:tools".to_owned()];
    for n in [10usize, 100, 1000] {
        let (set, groups) = rules(n);
        let last = format!("team{}_tool6", n / 10 - 1);
        // Per request: the caller's policies are resolved, then one decision is made.
        group.bench_with_input(BenchmarkId::new("allowed_by_last_rule", n), &n, |b, _| {
            b.iter(|| {
                let caller = Caller::new(&set, black_box(&groups), &scopes);
                black_box(caller.decide(black_box(&last)))
            })
        });
        group.bench_with_input(BenchmarkId::new("default_deny", n), &n, |b, _| {
            b.iter(|| {
                let caller = Caller::new(&set, black_box(&groups), &scopes);
                black_box(caller.decide(black_box("not_in_any_rule")))
            })
        });
    }
    group.finish();
}

const TOOLS: usize = 500;

fn tool(i: usize) -> ToolDefinition {
    serde_json::from_value(json!({
        "name": format!("dept{}_tool{i:03}", i % 10),
        "title": format!("Tool {i}"),
        "description": "Does one thing for one department; here so that the listing has a realistic size.",
        "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}, "count": {"type": "integer"}}, "required": ["text"]},
        "annotations": {"readOnlyHint": true},
        "target": {"kind": "http", "url": format!("http://127.0.0.1:9/tool{i}")},
    }))
    .expect("tool")
}

/// The demo organisation's shape at catalog scale: everyone tells the time, three
/// departments see their own tools, one group denies a subset.
fn org() -> ConfigDocument {
    let policies = vec![
        policy("*", vec!["dept0_tool000".into()], vec![]),
        policy(
            "engineering",
            vec!["dept1_*".into(), "dept2_*".into()],
            vec![],
        ),
        policy(
            "finance",
            vec!["dept3_*".into()],
            vec!["dept3_tool1??".into()],
        ),
        policy("admins", vec!["*".into()], vec![]),
    ];
    ConfigDocument {
        policies,
        tools: (0..TOOLS).map(tool).collect(),
        upstreams: vec![],
    }
}

fn filter(c: &mut Criterion<ThreadCpu>) {
    let (catalog, set): (Catalog, PolicySet) = org().compile().expect("valid");
    let scopes = vec![];
    let mut group = c.benchmark_group("tools_list_filter_500");
    for (who, groups) in [
        ("engineer", vec!["engineering".to_owned()]),
        ("finance", vec!["finance".to_owned()]),
        ("admin", vec!["engineering".to_owned(), "admins".to_owned()]),
    ] {
        group.bench_function(who, |b| {
            b.iter(|| {
                let caller = Caller::new(&set, black_box(&groups), &scopes);
                let visible: Vec<_> = catalog
                    .iter()
                    .filter(|t| caller.visible(&t.def.name))
                    .map(|t| &*t.listing)
                    .collect();
                black_box(visible.len())
            })
        });
    }
    group.finish();
}

struct NoTargets;

#[async_trait]
impl ToolInvoker for NoTargets {
    async fn invoke(&self, _call: ToolCall<'_>) -> Result<ToolOutput, TargetError> {
        Err(TargetError::NotInvoked("bench".into()))
    }
}

fn list_request(c: &mut Criterion<ThreadCpu>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let svc = service(&rt, org(), signer(), Arc::new(NoTargets));
    let body = br#"{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}}"#;
    let headers = TransportHeaders::default();
    let mut group = c.benchmark_group("tools_list_request_500");
    for (who, groups) in [
        ("engineer", &["engineering"][..]),
        ("admin", &["engineering", "admins"][..]),
    ] {
        let ctx = CallContext {
            deadline: None,
            request_id: "bench-request".into(),
            principal: principal(groups),
        };
        group.bench_function(who, |b| {
            b.iter(|| {
                let out = rt.block_on(svc.handle(black_box(body), &headers, &ctx));
                match out {
                    Ok(Outcome::Reply(bytes)) => black_box(bytes.len()),
                    _ => panic!("tools/list failed"),
                }
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = cpu_time::criterion();
    targets = decision, filter, list_request
}
