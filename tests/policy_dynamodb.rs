//! Group tool policies stored in DynamoDB, end to end: the standalone gateway binary
//! (spawned on 127.0.0.1) reads its policies and catalog from a table in moto's DynamoDB
//! and decides with real Cognito access tokens from moto's Cognito, over real HTTP. Every
//! test seeds its own user pool (users, groups) and its own table (created with the item
//! layout of `adapters::dynamodb_config`); tool targets are a tiny echo server started
//! here. Covered: per-group `tools/list`, denied and unknown tools answered alike, a policy
//! change picked up without a restart, the 403 scope step-up, a DynamoDB outage (a private
//! moto_server, killed mid-run: last good snapshot, then refusal, then recovery) and
//! start-up without a readable table (fail closed).
//!
//! Needs `AWS_ENDPOINT_URL` and `AWS_REGION` (moto, Cognito and DynamoDB) and
//! `MCP_E2E_MOTO_SERVER` (the `moto_server` to start private instances with), which
//! `make test` exports; without them these tests fail, they never skip.

#[path = "support/idp.rs"]
mod idp;

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use mcp_oauth_gateway::adapters::dynamodb_config::{
    POLICY_PK, policy_sk, policy_to_item, tool_to_item,
};
use mcp_oauth_gateway::catalog::{Target, ToolDefinition};
use mcp_oauth_gateway::policy::{EVERYONE, GroupPolicy, ScopeRequirement};

use idp::{Process, TestPool, free_port, http, jwt_claims, required_env, tool_names};

/// How long a change may take to show: generous against a 1 s refresh interval (a bound
/// on a poll, not a timing assertion).
const CHANGE_LIMIT: Duration = Duration::from_secs(10);
/// How long an outage may take to exceed a 3 s staleness limit and be refused.
const OUTAGE_LIMIT: Duration = Duration::from_secs(15);
const POLL_EVERY: Duration = Duration::from_millis(200);
const PASSWORD: &str = "Policy-Passw0rd!";

// ---------------------------------------------------------------------------------------
// Cognito: a fresh pool per test
// ---------------------------------------------------------------------------------------

/// A fresh pool with `users` (name, groups), all with `PASSWORD`; every group named is
/// created.
async fn seed_pool(users: &[(&str, &[&str])]) -> TestPool {
    let users: Vec<(&str, &str, &[&str])> = users
        .iter()
        .map(|(user, groups)| (*user, PASSWORD, *groups))
        .collect();
    TestPool::seed("policy-dynamodb", &[], &users, false).await
}

/// The gateway trusting `cognito` and reading policies from `table`, plus `extra`.
fn policy_gateway(cognito: &TestPool, table: &str, extra: &[(&str, &str)]) -> Process {
    let mut envs = vec![("GATEWAY_POLICY_TABLE", table)];
    envs.extend_from_slice(extra);
    cognito.gateway(&envs)
}

// ---------------------------------------------------------------------------------------
// DynamoDB: a fresh table per test
// ---------------------------------------------------------------------------------------

/// A DynamoDB client for the shared moto (`AWS_ENDPOINT_URL`) or for `endpoint`.
async fn dynamodb(endpoint: Option<&str>) -> aws_sdk_dynamodb::Client {
    required_env("AWS_ENDPOINT_URL");
    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let mut config = aws_sdk_dynamodb::config::Builder::from(&sdk);
    if let Some(url) = endpoint {
        config = config.endpoint_url(url);
    }
    aws_sdk_dynamodb::Client::from_conf(config.build())
}

/// A configuration table: `pk` (S, hash) and `sk` (S, range), on demand.
struct Table {
    client: aws_sdk_dynamodb::Client,
    name: String,
}

impl Table {
    async fn create(client: aws_sdk_dynamodb::Client) -> Self {
        let name = format!("policies-{}", uuid::Uuid::new_v4());
        Self::create_named(client, name).await
    }

    async fn create_named(client: aws_sdk_dynamodb::Client, name: String) -> Self {
        let attribute = |n: &str| {
            AttributeDefinition::builder()
                .attribute_name(n)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute definition")
        };
        let key = |n: &str, t: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(n)
                .key_type(t)
                .build()
                .expect("key schema element")
        };
        client
            .create_table()
            .table_name(&name)
            .attribute_definitions(attribute("pk"))
            .attribute_definitions(attribute("sk"))
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateTable {name}: {e:?}"));
        Self { client, name }
    }

    async fn put(&self, item: std::collections::HashMap<String, AttributeValue>) {
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutItem into {}: {e:?}", self.name));
    }

    async fn put_policy(&self, p: &GroupPolicy) {
        self.put(policy_to_item(p)).await;
    }

    async fn put_tool(&self, t: &ToolDefinition) {
        self.put(tool_to_item(t)).await;
    }

    async fn seed(&self, policies: &[GroupPolicy], tools: &[ToolDefinition]) {
        for p in policies {
            self.put_policy(p).await;
        }
        for t in tools {
            self.put_tool(t).await;
        }
    }

    async fn delete_policy(&self, group: &str) {
        self.client
            .delete_item()
            .table_name(&self.name)
            .key("pk", AttributeValue::S(POLICY_PK.into()))
            .key("sk", AttributeValue::S(policy_sk(group)))
            .send()
            .await
            .expect("DeleteItem");
    }
}

fn policy(group: &str, allow: &[&str], deny: &[&str]) -> GroupPolicy {
    GroupPolicy {
        group: group.into(),
        description: Some(format!("the {group} group")),
        allow: allow.iter().map(|s| s.to_string()).collect(),
        deny: deny.iter().map(|s| s.to_string()).collect(),
        scopes: vec![],
        version: Some(1),
        updated_at: Some("2026-11-27T00:00:00Z".into()),
    }
}

fn requiring(mut p: GroupPolicy, tools: &str, scopes: &[&str]) -> GroupPolicy {
    p.scopes.push(ScopeRequirement {
        tools: tools.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    });
    p
}

/// A tool served by the echo target at `{base}/{name}`.
fn tool(name: &str, base: &str) -> ToolDefinition {
    ToolDefinition {
        name: name.into(),
        title: Some(format!("Tool {name}")),
        description: Some(format!("Runs {name}")),
        input_schema: json!({"type": "object", "properties": {"n": {"type": "integer"}}}),
        output_schema: None,
        annotations: None,
        target: Target::Http {
            url: format!("{base}/{name}"),
            timeout_ms: Some(5_000),
            auth: None,
        },
    }
}

fn tools(names: &[&str], base: &str) -> Vec<ToolDefinition> {
    names.iter().map(|n| tool(n, base)).collect()
}

// ---------------------------------------------------------------------------------------
// The echo target and a private moto
// ---------------------------------------------------------------------------------------

/// `POST /{tool}` answers `{"tool": …, "arguments": …}` and records the call; on 127.0.0.1,
/// stopped when dropped.
struct EchoTarget {
    base: String,
    calls: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl EchoTarget {
    async fn start() -> Self {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route(
                "/{tool}",
                post(
                    |State(calls): State<Arc<Mutex<Vec<String>>>>,
                     Path(tool): Path<String>,
                     body: axum::body::Bytes| async move {
                        calls.lock().unwrap().push(tool.clone());
                        let arguments: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        axum::Json(json!({"tool": tool, "arguments": arguments}))
                    },
                ),
            )
            .with_state(Arc::clone(&calls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the echo target");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("echo target");
        });
        Self { base, calls, task }
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl Drop for EchoTarget {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A `moto_server` of this test's own on 127.0.0.1, killed when dropped (or on `kill`).
struct PrivateMoto {
    child: Option<Child>,
    port: u16,
    url: String,
}

impl PrivateMoto {
    async fn start() -> Self {
        Self::start_on(free_port()).await
    }

    async fn start_on(port: u16) -> Self {
        let bin = required_env("MCP_E2E_MOTO_SERVER");
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let mut moto = Self {
            child: Some(child),
            port,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let up = http()
                .get(format!("{}/moto-api/", moto.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if up {
                return moto;
            }
            if let Some(status) = moto
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("{bin} on port {port} exited ({status}) before answering");
            }
            assert!(
                Instant::now() < deadline,
                "{bin} did not answer on port {port} within 60 s"
            );
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Kills it and waits until it is gone.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateMoto {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---------------------------------------------------------------------------------------
// MCP over HTTP
// ---------------------------------------------------------------------------------------

/// One HTTP answer: status, headers, raw body and the body as JSON (Null if it is not).
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
    json: Value,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {} {}", self.status, self.text)
    }
}

async fn rpc(base: &str, token: &str, body: Value) -> Reply {
    let resp = http()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .bearer_auth(token)
        .body(body.to_string())
        .send()
        .await
        .expect("POST /mcp");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("response body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        text,
        json,
    }
}

async fn list(base: &str, token: &str) -> Reply {
    rpc(
        base,
        token,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}),
    )
    .await
}

async fn call(base: &str, token: &str, id: Value, name: &str) -> Reply {
    rpc(
        base,
        token,
        json!({
            "jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": name, "arguments": {"n": 7}}
        }),
    )
    .await
}

async fn initialize(base: &str, token: &str) -> Reply {
    rpc(
        base,
        token,
        json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "policy-dynamodb", "version": "0"}
            }
        }),
    )
    .await
}

/// The names of a successful `tools/list`.
fn listed(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, StatusCode::OK, "tools/list: {reply:?}");
    tool_names(&reply.json)
}

/// A successful `tools/call` that reached the echo target for `tool`.
fn assert_ran(reply: &Reply, tool: &str) {
    assert_eq!(reply.status, StatusCode::OK, "tools/call {tool}: {reply:?}");
    let result = &reply.json["result"];
    assert!(result["isError"].is_null(), "tools/call {tool}: {reply:?}");
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    let echoed: Value = serde_json::from_str(text)
        .unwrap_or_else(|_| panic!("tools/call {tool}: not the echo target's answer: {reply:?}"));
    assert_eq!(echoed, json!({"tool": tool, "arguments": {"n": 7}}));
}

/// The refusal of a denied or unknown tool: HTTP 200, JSON-RPC -32602, no challenge.
fn assert_unknown_tool(reply: &Reply, tool: &str) {
    assert_eq!(reply.status, StatusCode::OK, "tools/call {tool}: {reply:?}");
    assert_eq!(
        reply.json["error"]["code"], -32602,
        "tools/call {tool}: {reply:?}"
    );
    assert!(reply.json.get("result").is_none(), "{reply:?}");
    assert!(reply.headers.get("www-authenticate").is_none(), "{reply:?}");
}

/// The refusal for want of a usable policy snapshot: HTTP 503, JSON-RPC -32603 with `id`.
fn assert_unavailable(reply: &Reply, id: &Value, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {reply:?}"
    );
    assert_eq!(reply.json["jsonrpc"], "2.0", "{what}: {reply:?}");
    assert_eq!(&reply.json["id"], id, "{what}: {reply:?}");
    assert_eq!(reply.json["error"]["code"], -32603, "{what}: {reply:?}");
    let message = reply.json["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("tool policies"),
        "{what}: the message should say what is wrong: {reply:?}"
    );
    assert!(reply.json.get("result").is_none(), "{what}: {reply:?}");
}

/// Polls `tools/list` until it names exactly `want` (in that order), at most CHANGE_LIMIT.
async fn await_list(base: &str, token: &str, want: &[&str], change: &str) {
    let deadline = Instant::now() + CHANGE_LIMIT;
    loop {
        let reply = list(base, token).await;
        if reply.status == StatusCode::OK && tool_names(&reply.json) == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{change}: tools/list still answers {reply:?} after {CHANGE_LIMIT:?}, want {want:?}"
        );
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// `name="value"` parameters of a challenge (values without escaped quotes).
fn challenge_params(challenge: &str) -> Vec<(String, String)> {
    let rest = challenge
        .strip_prefix("Bearer ")
        .unwrap_or_else(|| panic!("not a Bearer challenge: {challenge}"));
    rest.split("\", ")
        .map(|part| {
            let (k, v) = part
                .split_once("=\"")
                .unwrap_or_else(|| panic!("malformed challenge parameter {part:?}"));
            (k.to_owned(), v.trim_end_matches('"').to_owned())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_decide_the_tool_list_and_denied_tools_look_unknown() {
    let cognito = seed_pool(&[
        ("erin", &["engineering"]),
        ("finn", &["finance"]),
        ("bo", &["engineering", "finance"]),
        ("nadia", &[]),
    ])
    .await;
    let target = EchoTarget::start().await;
    let table = Table::create(dynamodb(None).await).await;
    table
        .seed(
            &[
                policy(EVERYONE, &["current_time"], &[]),
                policy("engineering", &["echo", "eng_*"], &["eng_secret"]),
                policy("finance", &["echo", "ledger_*"], &["eng_deploy"]),
            ],
            &tools(
                &[
                    "ledger_write",
                    "echo",
                    "eng_secret",
                    "hr_payroll",
                    "current_time",
                    "eng_deploy",
                    "ledger_read",
                    "eng_build",
                ],
                &target.base,
            ),
        )
        .await;
    let gateway = policy_gateway(&cognito, &table.name, &[]);
    let erin = cognito.login("erin").await.access;
    let finn = cognito.login("finn").await.access;
    let bo = cognito.login("bo").await.access;
    let nadia = cognito.login("nadia").await.access;
    assert_eq!(jwt_claims(&erin)["cognito:groups"], json!(["engineering"]));

    // Exactly the allowed tools, in name order; groups unioned, a deny of either wins.
    let base = gateway.base.as_str();
    assert_eq!(
        listed(&list(base, &erin).await),
        ["current_time", "echo", "eng_build", "eng_deploy"]
    );
    assert_eq!(
        listed(&list(base, &finn).await),
        ["current_time", "echo", "ledger_read", "ledger_write"]
    );
    assert_eq!(
        listed(&list(base, &bo).await),
        [
            "current_time",
            "echo",
            "eng_build",
            "ledger_read",
            "ledger_write"
        ]
    );
    assert_eq!(listed(&list(base, &nadia).await), ["current_time"]);
    let entry = &list(base, &erin).await.json["result"]["tools"][2];
    assert_eq!(
        entry,
        &json!({
            "name": "eng_build", "title": "Tool eng_build", "description": "Runs eng_build",
            "inputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}}
        })
    );

    // Allowed calls reach the target.
    assert_ran(&call(base, &erin, json!(1), "eng_build").await, "eng_build");
    assert_ran(
        &call(base, &finn, json!(2), "ledger_read").await,
        "ledger_read",
    );
    assert_ran(
        &call(base, &nadia, json!(3), "current_time").await,
        "current_time",
    );
    assert_eq!(target.calls(), ["eng_build", "ledger_read", "current_time"]);

    // Default deny, an explicit deny, another group's deny and a tool that does not exist:
    // the same answer, byte for byte, but for the name it echoes.
    let id = json!("same-id");
    let refusals = [
        (&erin, "ledger_read"),
        (&erin, "eng_secret"),
        (&bo, "eng_deploy"),
        (&nadia, "hr_payroll"),
        (&erin, "no_such_tool"),
    ];
    let mut shapes = Vec::new();
    for (token, name) in refusals {
        let reply = call(base, token, id.clone(), name).await;
        assert_unknown_tool(&reply, name);
        assert_eq!(reply.json["id"], id, "{reply:?}");
        assert!(reply.text.contains(name), "the name is echoed: {reply:?}");
        shapes.push((
            name,
            reply.headers.get("content-type").cloned(),
            reply.text.replace(name, "<NAME>"),
        ));
    }
    let (first, first_type, first_body) = &shapes[0];
    for (name, content_type, body) in &shapes[1..] {
        assert_eq!(
            (content_type, body),
            (first_type, first_body),
            "{name} is answered differently from {first}"
        );
    }
    assert_eq!(
        target.calls().len(),
        3,
        "refused calls never reach a target"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_change_takes_effect_without_a_restart() {
    let cognito = seed_pool(&[("erin", &["engineering"])]).await;
    let target = EchoTarget::start().await;
    let table = Table::create(dynamodb(None).await).await;
    table
        .seed(
            &[policy("engineering", &["eng_build"], &[])],
            &tools(&["eng_build", "eng_deploy", "ops_restart"], &target.base),
        )
        .await;
    let gateway = policy_gateway(
        &cognito,
        &table.name,
        &[("GATEWAY_POLICY_REFRESH_SECS", "1")],
    );
    let erin = cognito.login("erin").await.access;
    let base = gateway.base.as_str();

    assert_eq!(listed(&list(base, &erin).await), ["eng_build"]);
    assert_unknown_tool(
        &call(base, &erin, json!(1), "eng_deploy").await,
        "eng_deploy",
    );

    // A wider allow.
    let mut engineering = policy("engineering", &["eng_*"], &[]);
    engineering.version = Some(2);
    table.put_policy(&engineering).await;
    await_list(base, &erin, &["eng_build", "eng_deploy"], "allow eng_*").await;
    assert_ran(
        &call(base, &erin, json!(2), "eng_deploy").await,
        "eng_deploy",
    );

    // A new tool in the catalog.
    table.put_tool(&tool("eng_test", &target.base)).await;
    await_list(
        base,
        &erin,
        &["eng_build", "eng_deploy", "eng_test"],
        "tool eng_test added",
    )
    .await;

    // A deny.
    engineering.deny = vec!["eng_build".into()];
    engineering.version = Some(3);
    table.put_policy(&engineering).await;
    await_list(base, &erin, &["eng_deploy", "eng_test"], "deny eng_build").await;
    assert_unknown_tool(&call(base, &erin, json!(3), "eng_build").await, "eng_build");

    // The policy gone: default deny.
    table.delete_policy("engineering").await;
    await_list(base, &erin, &[], "policy deleted").await;
    assert_unknown_tool(
        &call(base, &erin, json!(4), "eng_deploy").await,
        "eng_deploy",
    );

    assert_eq!(target.calls(), ["eng_deploy"], "only the allowed call ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_needing_a_scope_the_token_lacks_gets_a_403_step_up_challenge() {
    // Cognito access tokens carry `aws.cognito.signin.user.admin`, never `mcp:admin`.
    const COGNITO_SCOPE: &str = "aws.cognito.signin.user.admin";
    let cognito = seed_pool(&[("erin", &["engineering"])]).await;
    let target = EchoTarget::start().await;
    let table = Table::create(dynamodb(None).await).await;
    let everyone = requiring(
        requiring(policy(EVERYONE, &["echo"], &[]), "echo", &[COGNITO_SCOPE]),
        "admin_reset",
        &["mcp:audit"],
    );
    let engineering = requiring(
        policy("engineering", &["admin_*", "echo"], &[]),
        "admin_*",
        &["mcp:admin", COGNITO_SCOPE],
    );
    table
        .seed(
            &[everyone, engineering],
            &tools(&["admin_reset", "admin_users", "echo"], &target.base),
        )
        .await;
    let gateway = policy_gateway(&cognito, &table.name, &[]);
    let erin = cognito.login("erin").await.access;
    let scopes: Vec<String> = jwt_claims(&erin)["scope"]
        .as_str()
        .expect("a scope claim")
        .split(' ')
        .map(str::to_owned)
        .collect();
    assert!(scopes.iter().any(|s| s == COGNITO_SCOPE), "{scopes:?}");
    assert!(!scopes.iter().any(|s| s.starts_with("mcp:")), "{scopes:?}");
    let base = gateway.base.as_str();
    let metadata_url = format!("{base}/.well-known/oauth-protected-resource/mcp");

    // Listed all the same, so that a client can step up when it calls.
    assert_eq!(
        listed(&list(base, &erin).await),
        ["admin_reset", "admin_users", "echo"]
    );
    // A required scope the token has: allowed.
    assert_ran(&call(base, &erin, json!(1), "echo").await, "echo");

    for (id, tool, needed) in [
        (
            json!("step-up-1"),
            "admin_reset",
            vec![COGNITO_SCOPE, "mcp:admin", "mcp:audit"],
        ),
        (json!(42), "admin_users", vec![COGNITO_SCOPE, "mcp:admin"]),
    ] {
        let reply = call(base, &erin, id.clone(), tool).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{tool}: {reply:?}");
        let challenge = idp::challenge(&reply.headers);
        let params = challenge_params(&challenge);
        let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["error", "scope", "resource_metadata"],
            "{challenge}"
        );
        assert_eq!(params[0].1, "insufficient_scope", "{challenge}");
        // Every scope the call needs (those the token has too), each once.
        let asked: Vec<&str> = params[1].1.split(' ').collect();
        let asked_set: BTreeSet<&str> = asked.iter().copied().collect();
        assert_eq!(asked.len(), asked_set.len(), "{challenge}");
        assert_eq!(
            asked_set,
            needed.iter().copied().collect::<BTreeSet<_>>(),
            "{challenge}"
        );
        assert_eq!(params[2].1, metadata_url, "{challenge}");
        assert_eq!(
            challenge,
            format!(
                r#"Bearer error="insufficient_scope", scope="{}", resource_metadata="{metadata_url}""#,
                params[1].1
            )
        );
        assert_eq!(reply.json["jsonrpc"], "2.0", "{reply:?}");
        assert_eq!(reply.json["id"], id, "{reply:?}");
        assert_eq!(reply.json["error"]["code"], -32003, "{reply:?}");
        assert!(reply.json.get("result").is_none(), "{reply:?}");
    }
    assert_eq!(
        target.calls(),
        ["echo"],
        "a step-up never reaches the target"
    );

    // The challenge names the document the gateway serves.
    let metadata: Value = http()
        .get(&metadata_url)
        .send()
        .await
        .expect("GET the metadata")
        .json()
        .await
        .expect("metadata is JSON");
    assert_eq!(metadata["resource"], format!("{base}/mcp"), "{metadata}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dynamodb_outage_serves_the_last_good_snapshot_then_refuses_then_recovers() {
    let cognito = seed_pool(&[("erin", &["engineering"])]).await;
    let target = EchoTarget::start().await;
    let mut moto = PrivateMoto::start().await;
    let policies = [policy("engineering", &["echo", "eng_build"], &[])];
    let catalog = tools(&["echo", "eng_build", "ops_restart"], &target.base);
    let table = Table::create(dynamodb(Some(&moto.url)).await).await;
    table.seed(&policies, &catalog).await;
    // The shared moto has no such table: a gateway that ignored the DynamoDB-only endpoint
    // would find nothing to load.
    let shared = dynamodb(None).await;
    assert!(
        shared
            .describe_table()
            .table_name(&table.name)
            .send()
            .await
            .is_err(),
        "the table should exist only in the private moto"
    );
    // DynamoDB at the private moto only; Cognito's JWKS stays on the shared one.
    let gateway = policy_gateway(
        &cognito,
        &table.name,
        &[
            ("AWS_ENDPOINT_URL_DYNAMODB", moto.url.as_str()),
            ("GATEWAY_POLICY_REFRESH_SECS", "1"),
            ("GATEWAY_POLICY_MAX_STALENESS_SECS", "3"),
            // Refused reads are expected here; the assertions say what went wrong.
            ("RUST_LOG", "off"),
        ],
    );
    let erin = cognito.login("erin").await.access;
    let base = gateway.base.as_str();

    let first = list(base, &erin).await;
    assert_eq!(
        first.status,
        StatusCode::OK,
        "the gateway did not load its policies from the private moto at {} \
         (is AWS_ENDPOINT_URL_DYNAMODB honoured?): {first:?}",
        moto.url
    );
    assert_eq!(listed(&first), ["echo", "eng_build"]);
    assert_ran(&call(base, &erin, json!(0), "echo").await, "echo");

    moto.kill();

    // Right after the outage starts: the last good snapshot.
    assert_eq!(
        listed(&list(base, &erin).await),
        ["echo", "eng_build"],
        "the last good snapshot should be served within the staleness limit"
    );

    // Then, within a bounded wait, refused: never allowed because of an error.
    let deadline = Instant::now() + OUTAGE_LIMIT;
    let mut n = 0;
    let mut refused_once = false;
    let calls_at_refusal = loop {
        n += 1;
        let id = json!(format!("outage-{n}"));
        let called = call(base, &erin, id.clone(), "echo").await;
        let listing = list(base, &erin).await;
        for (what, reply) in [("tools/call", &called), ("tools/list", &listing)] {
            assert!(
                reply.status == StatusCode::OK || reply.status == StatusCode::SERVICE_UNAVAILABLE,
                "{what} during the outage: {reply:?}"
            );
        }
        if called.status == StatusCode::OK {
            // Past the limit the snapshot only ages: one refusal means refusals from then on.
            assert!(
                !refused_once,
                "tools/call allowed after the gateway had refused as stale: {called:?}"
            );
            assert_ran(&called, "echo");
        }
        refused_once |= called.status == StatusCode::SERVICE_UNAVAILABLE
            || listing.status == StatusCode::SERVICE_UNAVAILABLE;
        if called.status == StatusCode::SERVICE_UNAVAILABLE
            && listing.status == StatusCode::SERVICE_UNAVAILABLE
        {
            assert_unavailable(&called, &id, "tools/call past the staleness limit");
            assert_unavailable(&listing, &json!(1), "tools/list past the staleness limit");
            break target.calls().len();
        }
        assert!(
            Instant::now() < deadline,
            "tools/call and tools/list still not refused {OUTAGE_LIMIT:?} after DynamoDB went \
             down (staleness limit 3 s): {called:?} / {listing:?}"
        );
        tokio::time::sleep(POLL_EVERY).await;
    };
    // And it stays refused: no call is allowed on a snapshot past the limit.
    for i in 0..10 {
        let id = json!(format!("stale-{i}"));
        for tool in ["echo", "eng_build", "ops_restart", "no_such_tool"] {
            let reply = call(base, &erin, id.clone(), tool).await;
            assert_unavailable(&reply, &id, &format!("tools/call {tool} while stale"));
        }
        assert_unavailable(
            &list(base, &erin).await,
            &json!(1),
            "tools/list while stale",
        );
        tokio::time::sleep(POLL_EVERY).await;
    }
    assert_eq!(
        target.calls().len(),
        calls_at_refusal,
        "no call reached a target once policies were stale"
    );

    // DynamoDB back (a fresh moto on the same port, the table written again): served again.
    let revived = PrivateMoto::start_on(moto.port).await;
    let table = Table::create_named(dynamodb(Some(&revived.url)).await, table.name.clone()).await;
    table.seed(&policies, &catalog).await;
    await_list(base, &erin, &["echo", "eng_build"], "DynamoDB back").await;
    assert_ran(
        &call(base, &erin, json!("back"), "eng_build").await,
        "eng_build",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_without_readable_policies_fails_closed() {
    let cognito = seed_pool(&[("erin", &["engineering"])]).await;
    let target = EchoTarget::start().await;
    let good = Table::create(dynamodb(None).await).await;
    good.seed(
        &[policy("engineering", &["echo"], &[])],
        &tools(&["echo"], &target.base),
    )
    .await;
    let invalid = Table::create(dynamodb(None).await).await;
    invalid
        .seed(
            &[policy("engineering", &["echo", "not a pattern"], &[])],
            &tools(&["echo"], &target.base),
        )
        .await;
    let missing = format!("policies-missing-{}", uuid::Uuid::new_v4());
    let down = format!("http://127.0.0.1:{}", free_port());
    let erin = cognito.login("erin").await.access;

    // The control: the good table, readable.
    let control = policy_gateway(&cognito, &good.name, &[]);
    assert_eq!(listed(&list(&control.base, &erin).await), ["echo"]);

    for (case, table, endpoint) in [
        ("a missing table", missing.as_str(), None),
        (
            // The good table exists on the shared moto; DynamoDB's own endpoint is down.
            "the DynamoDB endpoint down",
            good.name.as_str(),
            Some(down.as_str()),
        ),
        (
            "an invalid policy in the table",
            invalid.name.as_str(),
            None,
        ),
    ] {
        // Failed reads are expected here; the assertions say what went wrong. The deny-list
        // (same table) is off: its own outage refuses tokens before any decision, which
        // tests/revocation_denylist.rs covers.
        let mut extra = vec![("RUST_LOG", "off"), ("GATEWAY_REVOCATION_DENY_LIST", "off")];
        if let Some(url) = endpoint {
            extra.push(("AWS_ENDPOINT_URL_DYNAMODB", url));
        }
        let gateway = policy_gateway(&cognito, table, &extra);
        let base = gateway.base.as_str();
        // It serves, and its keys loaded: the token is accepted, a forged one is not.
        let init = initialize(base, &erin).await;
        assert_eq!(init.status, StatusCode::OK, "{case}: initialize: {init:?}");
        let forged = list(base, "e30.e30.c2ln").await;
        assert_eq!(
            forged.status,
            StatusCode::UNAUTHORIZED,
            "{case}: {forged:?}"
        );
        // Every decision is refused.
        for round in 0..2 {
            assert_unavailable(
                &list(base, &erin).await,
                &json!(1),
                &format!("{case}: tools/list #{round}"),
            );
            let id = json!(format!("{round}"));
            assert_unavailable(
                &call(base, &erin, id.clone(), "echo").await,
                &id,
                &format!("{case}: tools/call #{round}"),
            );
        }
    }
    assert!(target.calls().is_empty(), "{:?}", target.calls());
}
