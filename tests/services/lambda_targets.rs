//! Lambda tool targets end to end: the standalone gateway (spawned here, real OIDC tokens)
//! invokes Lambda functions through `aws-sdk-lambda`.
//!
//! - Native contract: against `demo-lambda` served by `cargo lambda watch` (started by
//!   `make test`; its Invoke API base URL is `MCP_WATCH_INVOKE_URL`), results, who called,
//!   function errors, a missing function, a timeout, and a real MCP client.
//! - AgentCore contract: `cargo lambda watch` (1.9) ignores the Invoke API's
//!   `X-Amz-Client-Context`, so these calls go to a small Invoke API stub here, which checks
//!   what the gateway really sends (the arguments as the event, the base64 ClientContext
//!   with `bedrockAgentCoreToolName` and `gatewayIdentity`) and answers like a Lambda would,
//!   `X-Amz-Function-Error` included.
//!
//! Needs `MCP_WATCH_INVOKE_URL`, `OIDC_ISSUER` and `MCP_E2E_NODE` (set by `make test`).

use std::path::PathBuf;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::support::idp::{
    self, Process, alice_token, http, jwt_claims, register_resource, required_env,
};

/// The function name the stub refuses, as Lambda would an unknown one.
const MISSING: &str = "no-such-function";

const CATALOG: &str = r#"
policies:
  - {group: "*", allow: ["*"]}
tools:
  - {name: echo, inputSchema: {type: object}, target: {kind: lambda, function: demo-lambda, contract: native}}
  - {name: whoami, inputSchema: {type: object}, target: {kind: lambda, function: demo-lambda, contract: native}}
  - {name: fail, inputSchema: {type: object}, target: {kind: lambda, function: demo-lambda, contract: native}}
  - {name: sleep, inputSchema: {type: object}, target: {kind: lambda, function: demo-lambda, contract: native, timeoutMs: 500}}
  - {name: missing, inputSchema: {type: object}, target: {kind: lambda, function: no-such-function, contract: native}}
  - {name: ac_echo, inputSchema: {type: object}, target: {kind: lambda, function: "arn:aws:lambda:us-east-1:123456789012:function:agentcore-tools", contract: agentcore, targetName: demo}}
  - {name: ac_whoami, inputSchema: {type: object}, target: {kind: lambda, function: agentcore-tools, contract: agentcore}}
  - {name: ac_fail, inputSchema: {type: object}, target: {kind: lambda, function: agentcore-tools, contract: agentcore, targetName: demo}}
  - {name: ac_missing, inputSchema: {type: object}, target: {kind: lambda, function: no-such-function, contract: agentcore}}
"#;

/// A gateway whose Lambda endpoint is `lambda_endpoint`, with a token for it.
struct Gateway {
    _process: Process,
    _dir: PathBuf,
    mcp: String,
    token: String,
}

async fn gateway(lambda_endpoint: &str) -> Gateway {
    let issuer = required_env("OIDC_ISSUER");
    let resource = idp::unique_resource();
    register_resource(&issuer, &resource).await;
    let dir = std::env::temp_dir().join(format!("lambda-targets-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let catalog = dir.join("catalog.yaml");
    std::fs::write(&catalog, CATALOG).unwrap();
    let process = idp::spawn_gateway(&[
        ("GATEWAY_RESOURCE_URL", resource.as_str()),
        ("GATEWAY_OIDC_ISSUER", issuer.as_str()),
        ("GATEWAY_CATALOG_FILE", catalog.to_str().unwrap()),
        ("AWS_ENDPOINT_URL_LAMBDA", lambda_endpoint),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
    ]);
    let mcp = format!("{}/mcp", process.base);
    Gateway {
        _process: process,
        _dir: dir,
        mcp,
        token: alice_token(&issuer, &resource).await,
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

/// `tools/call`: the result object.
async fn call(gw: &Gateway, tool: &str, arguments: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": tool, "arguments": arguments}});
    let resp = http()
        .post(&gw.mcp)
        .bearer_auth(&gw.token)
        .header("accept", "application/json, text/event-stream")
        .json(&body)
        .send()
        .await
        .expect("POST /mcp");
    assert_eq!(resp.status(), 200, "{tool}");
    let answer: Value = resp.json().await.expect("JSON-RPC answer");
    answer["result"].clone()
}

fn text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}

/// A failed call: `isError`, a correlation id, and nothing about the function.
fn assert_generic_failure(result: &Value, gw: &Gateway) {
    assert_eq!(result["isError"], true, "{result}");
    let t = text(result);
    assert!(t.contains("Correlation id: "), "{t}");
    for leak in [
        "demo-lambda",
        MISSING,
        "agentcore-tools",
        "arn:",
        "123456789012",
    ] {
        assert!(!t.contains(leak), "{leak} leaked: {t}");
    }
    assert!(!t.contains(&gw.token));
}

#[tokio::test(flavor = "multi_thread")]
async fn native_contract_under_cargo_lambda_watch() {
    let gw = gateway(&required_env("MCP_WATCH_INVOKE_URL")).await;

    let r = call(&gw, "echo", json!({"text": "hello lambda"})).await;
    assert_ne!(r["isError"], true, "{r}");
    let out: Value = serde_json::from_str(text(&r)).expect("echo answers JSON");
    assert_eq!(out, json!({"text": "hello lambda"}));

    let r = call(&gw, "whoami", json!({})).await;
    assert_ne!(r["isError"], true, "{r}");
    assert!(
        !text(&r).contains(&gw.token),
        "the bearer token reached the target"
    );
    let who: Value = serde_json::from_str(text(&r)).unwrap();
    assert_eq!(who["username"], "alice", "{who}");
    assert_eq!(who["audience"], "lambda:demo-lambda/whoami", "{who}");
    assert_eq!(who["tool"], "whoami", "{who}");
    assert_eq!(who["callerIssuer"], required_env("OIDC_ISSUER"), "{who}");

    assert_generic_failure(&call(&gw, "fail", json!({})).await, &gw);
    assert_generic_failure(&call(&gw, "missing", json!({})).await, &gw);
    // Last: the function keeps sleeping after the gateway gave up at 500 ms.
    let started = std::time::Instant::now();
    assert_generic_failure(&call(&gw, "sleep", json!({"ms": 3000})).await, &gw);
    assert!(started.elapsed() < std::time::Duration::from_millis(2500));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_mcp_client_lists_and_calls_lambda_tools() {
    let gw = gateway(&required_env("MCP_WATCH_INVOKE_URL")).await;
    let out = std::process::Command::new(required_env("MCP_E2E_NODE"))
        .args(["tests/clients/ts_client.mjs", &gw.mcp, "--header"])
        .arg(format!("Authorization: Bearer {}", gw.token))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run the TypeScript client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    let tools: Vec<&str> = report["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for t in ["ac_echo", "echo", "fail", "sleep", "whoami"] {
        assert!(tools.contains(&t), "{t} missing from {tools:?}");
    }
    assert!(report["echo"].as_str().is_some_and(|e| e.contains("text")));
}

/// The Invoke API, as far as the AgentCore contract needs it.
async fn invoke_stub(
    Path(function): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if function == MISSING {
        let err = json!({"Type": "User", "message": "Function not found: arn:aws:lambda:us-east-1:123456789012:function:no-such-function"});
        let mut resp = (StatusCode::NOT_FOUND, err.to_string()).into_response();
        resp.headers_mut().insert(
            "x-amzn-errortype",
            "ResourceNotFoundException".parse().unwrap(),
        );
        return resp;
    }
    let context = headers
        .get("x-amz-client-context")
        .and_then(|v| v.to_str().ok())
        .map(|v| STANDARD.decode(v).expect("ClientContext is base64"))
        .map(|v| serde_json::from_slice::<Value>(&v).expect("ClientContext is JSON"))
        .unwrap_or(Value::Null);
    let tool_name = context["custom"]["bedrockAgentCoreToolName"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let statement = context["custom"]["gatewayIdentity"]
        .as_str()
        .unwrap_or_default();
    let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if tool_name.ends_with("___ac_fail") {
        let err = json!({"errorType": "Error", "errorMessage": format!("failed in {function}")});
        let mut resp = (StatusCode::OK, err.to_string()).into_response();
        resp.headers_mut()
            .insert("x-amz-function-error", "Unhandled".parse().unwrap());
        return resp;
    }
    let claims = if statement.is_empty() {
        Value::Null
    } else {
        jwt_claims(statement)
    };
    let answer = json!({"function": function, "toolName": tool_name, "event": event,
                        "username": claims["username"], "audience": claims["aud"]});
    (StatusCode::OK, answer.to_string()).into_response()
}

#[tokio::test(flavor = "multi_thread")]
async fn agentcore_contract_on_the_wire() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().route(
        "/2015-03-31/functions/{function}/invocations",
        post(invoke_stub),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let gw = gateway(&endpoint).await;

    let r = call(&gw, "ac_echo", json!({"text": "hi", "n": 1})).await;
    assert_ne!(r["isError"], true, "{r}");
    let seen: Value = serde_json::from_str(text(&r)).unwrap();
    assert_eq!(seen["toolName"], "demo___ac_echo", "{seen}");
    assert_eq!(seen["event"], json!({"text": "hi", "n": 1}), "{seen}");
    assert_eq!(seen["username"], "alice", "{seen}");
    assert_eq!(
        seen["function"],
        "arn:aws:lambda:us-east-1:123456789012:function:agentcore-tools"
    );

    // Without targetName, the function name is the `<target>`.
    let r = call(&gw, "ac_whoami", json!({})).await;
    let seen: Value = serde_json::from_str(text(&r)).unwrap();
    assert_eq!(seen["toolName"], "agentcore-tools___ac_whoami", "{seen}");
    assert_eq!(
        seen["audience"], "lambda:agentcore-tools/ac_whoami",
        "the function and the tool: {seen}"
    );
    assert!(!text(&r).contains(&gw.token));

    assert_generic_failure(&call(&gw, "ac_fail", json!({})).await, &gw);
    assert_generic_failure(&call(&gw, "ac_missing", json!({})).await, &gw);
}
