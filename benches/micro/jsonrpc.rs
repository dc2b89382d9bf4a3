//! JSON-RPC speed for `tools/call` bodies of 0.2, 2.6 and 46 KB: parse + serialize (the
//! envelope, the call's params, and a result carrying an answer of the same size), then the
//! whole call as `McpService` handles it in process — policy decision and the signed
//! identity statement included, target and network excluded — and the identity statement
//! alone.
//!
//! Run with `cargo bench --bench micro`; figures in BENCHMARKS.md.

use std::borrow::Cow;
use std::hint::black_box;
use std::sync::Arc;

use crate::support::cpu_time;
use crate::support::service;
use async_trait::async_trait;

use cpu_time::ThreadCpu;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use service::{principal, service, signer};

use mcp_oauth_gateway::catalog::{Catalog, ToolDefinition};
use mcp_oauth_gateway::identity::{IdentityClaims, IdentitySigner};
use mcp_oauth_gateway::mcp::jsonrpc::{self, Incoming};
use mcp_oauth_gateway::mcp::{CallContext, Outcome, TransportHeaders};
use mcp_oauth_gateway::policy::{ConfigDocument, GroupPolicy};
use mcp_oauth_gateway::targets::{CallToolResult, TargetError, ToolCall, ToolInvoker, ToolOutput};

/// Arguments of roughly `bytes` bytes: a few scalars, then records like a tool that takes a
/// table or a document (strings that need no escaping and some that do, numbers, nesting).
fn arguments(bytes: usize) -> Value {
    let mut records = Vec::new();
    let mut args = json!({"query": "quarterly revenue by region", "limit": 10, "records": []});
    let mut i = 0;
    while serde_json::to_string(&args).unwrap().len() < bytes.saturating_sub(60) {
        records.push(json!({
            "id": i, "name": format!("row {i}"), "amount": 1234.5 + i as f64,
            "note": "line one\nline \"two\"", "tags": ["a", "b"],
        }));
        args["records"] = Value::Array(records.clone());
        i += 1;
    }
    args
}

fn body(bytes: usize) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "jsonrpc": "2.0", "id": 42, "method": "tools/call",
        "params": {"name": "echo", "arguments": arguments(bytes),
                   "_meta": {"progressToken": "p-1"}},
    }))
    .unwrap()
}

const SIZES: [(&str, usize); 3] = [("0.2KB", 200), ("2.6KB", 2600), ("46KB", 46_000)];

/// The shape the dispatcher reads a `tools/call`'s params into (it is private there).
#[derive(Deserialize)]
struct CallParams<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
}

fn echo_tool() -> ToolDefinition {
    serde_json::from_value(json!({
        "name": "echo", "inputSchema": {"type": "object"},
        "target": {"kind": "http", "url": "http://127.0.0.1:9/echo"},
    }))
    .unwrap()
}

fn parse_serialize(c: &mut Criterion<ThreadCpu>) {
    let catalog = Catalog::build(vec![echo_tool()]).unwrap();
    let tool = catalog.get("echo").unwrap();
    let mut group = c.benchmark_group("jsonrpc_tools_call_parse_serialize");
    for (label, size) in SIZES {
        let body = body(size);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(label), &body, |b, body| {
            b.iter(|| {
                let Ok(Incoming::Request { id, params, .. }) = jsonrpc::parse(black_box(body))
                else {
                    panic!("parses")
                };
                let p: CallParams<'_> = serde_json::from_str(params.unwrap().get()).unwrap();
                assert_eq!(p.name, "echo");
                // The target's answer: a JSON document the size of the arguments.
                let answer = p.arguments.unwrap().to_owned();
                let result = CallToolResult::success(tool, ToolOutput::Json(answer)).unwrap();
                black_box(jsonrpc::result_body(&id, &result))
            })
        });
    }
    group.finish();
}

/// A target in memory that answers with the arguments it was given.
struct EchoInvoker;

#[async_trait]
impl ToolInvoker for EchoInvoker {
    async fn invoke(&self, call: ToolCall<'_>) -> Result<ToolOutput, TargetError> {
        Ok(ToolOutput::Json(call.arguments.to_owned()))
    }
}

fn whole_call(c: &mut Criterion<ThreadCpu>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let policies: Vec<GroupPolicy> =
        serde_json::from_value(json!([{"group": "engineering", "allow": ["echo"]}])).unwrap();
    let doc = ConfigDocument {
        policies,
        tools: vec![echo_tool()],
        upstreams: vec![],
    };
    let signer = signer();
    let svc = service(&rt, doc, signer.clone(), Arc::new(EchoInvoker));
    let ctx = CallContext {
        deadline: None,
        request_id: "bench-request".into(),
        principal: principal(&["engineering"]),
    };
    let headers = TransportHeaders::default();
    let mut group = c.benchmark_group("mcp_tools_call_in_process");
    for (label, size) in SIZES {
        let body = body(size);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(label), &body, |b, body| {
            b.iter(
                || match rt.block_on(svc.handle(black_box(body), &headers, &ctx)) {
                    Ok(Outcome::Reply(bytes)) => black_box(bytes.len()),
                    _ => panic!("tools/call failed"),
                },
            )
        });
    }
    group.finish();

    let p = principal(&["engineering"]);
    c.bench_function("identity_statement_es256_sign", |b| {
        b.iter(|| {
            let claims = IdentityClaims::new(
                signer.issuer(),
                "http://127.0.0.1:9".into(),
                &p,
                "echo",
                "bench-request",
                1_800_000_000,
            );
            black_box(rt.block_on(signer.sign(&claims)).unwrap())
        })
    });
}

criterion_group! {
    name = benches;
    config = cpu_time::criterion();
    targets = parse_serialize, whole_call
}
