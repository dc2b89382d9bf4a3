//! Finding 9 of issue #14 replayed against the real demo-tools process, the repository's
//! example of a target that verifies statements: `aud` used to be the target's origin, so a
//! statement minted for `echo` was accepted by `calculate` on the same host, and the
//! verifier allowed 60 s of leeway on a 60 s statement. Now each tool accepts only
//! statements for its own URL, and none from `exp` on. The statements are signed by a real
//! gateway key (`LocalKeySigner`) whose JWKS a local server publishes, as the gateway does.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};

use mcp_oauth_gateway::adapters::identity_key::LocalKeySigner;
use mcp_oauth_gateway::auth::Principal;
use mcp_oauth_gateway::identity::{IdentityClaims, IdentitySigner};

use crate::support::clients;

const GATEWAY: &str = "https://gateway.test/mcp";

fn alice() -> Principal {
    Principal {
        issuer: "https://idp.test".into(),
        subject: "user-alice".into(),
        username: "alice".into(),
        email: None,
        groups: vec!["engineering".into()],
        scopes: vec![],
        client_id: None,
        expires_at: 0,
        token_id: None,
    }
}

fn now() -> u64 {
    mcp_oauth_gateway::auth::verifier::now_secs()
}

struct Setup {
    signer: Arc<LocalKeySigner>,
    tools: clients::Server,
}

/// The demo tools, verifying statements of `signer`'s gateway for their own base URL.
async fn setup() -> Setup {
    let signer = Arc::new(LocalKeySigner::ephemeral(GATEWAY.into()));
    let jwks = signer.jwks_json();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let jwks_url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let app = Router::new().route("/jwks.json", get(move || async move { jwks.clone() }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let port = clients::free_port();
    let (bind, base) = (
        format!("127.0.0.1:{port}"),
        format!("http://127.0.0.1:{port}"),
    );
    let tools = clients::spawn(
        env!("CARGO_BIN_EXE_demo-tools"),
        &[
            ("DEMO_TOOLS_BIND", &bind),
            ("DEMO_GATEWAY_ISSUER", GATEWAY),
            ("DEMO_GATEWAY_JWKS_URL", &jwks_url),
            ("DEMO_TOOLS_AUDIENCE", &base),
        ],
    );
    Setup { signer, tools }
}

impl Setup {
    async fn statement(&self, aud: String, tool: &str, iat: u64) -> String {
        let caller = alice();
        let claims = IdentityClaims::new(GATEWAY, aud, &caller, tool, "req-1", iat);
        self.signer.sign(&claims).await.unwrap()
    }

    /// POSTs `body` to the tool's route with `statement`; the status and answer.
    async fn call(&self, route: &str, statement: &str, body: Value) -> (u16, Value) {
        let resp = reqwest::Client::new()
            .post(format!("{}/{route}", self.tools.base))
            .header("x-gateway-identity", statement)
            .json(&body)
            .send()
            .await
            .unwrap();
        (
            resp.status().as_u16(),
            resp.json().await.unwrap_or(Value::Null),
        )
    }
}

#[tokio::test]
async fn a_statement_for_one_tool_is_refused_by_another_on_the_same_host() {
    let s = setup().await;
    let echo_aud = format!("{}/echo", s.tools.base);
    let for_echo = s.statement(echo_aud, "echo", now()).await;
    let (status, answer) = s.call("echo", &for_echo, json!({"text": "hi"})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["caller"], "alice");
    let sum = json!({"a": 1, "b": 2, "op": "add"});
    let (status, _) = s.call("calculate", &for_echo, sum.clone()).await;
    assert_eq!(status, 401, "echo's statement replayed to calculate");
    // The old audience, the host's origin, is no tool's audience any more.
    let for_host = s.statement(s.tools.base.clone(), "calculate", now()).await;
    assert_eq!(s.call("calculate", &for_host, sum.clone()).await.0, 401);
    let for_calc = s
        .statement(format!("{}/calculate", s.tools.base), "calculate", now())
        .await;
    assert_eq!(s.call("calculate", &for_calc, sum).await.0, 200);
}

#[tokio::test]
async fn an_expired_statement_is_refused_without_leeway() {
    let s = setup().await;
    let aud = format!("{}/echo", s.tools.base);
    let lifetime = mcp_oauth_gateway::identity::LIFETIME_SECS;
    // Minted a lifetime ago: its `exp` is now (or just past). A 60 s leeway accepted it.
    let expired = s.statement(aud.clone(), "echo", now() - lifetime).await;
    let (status, _) = s.call("echo", &expired, json!({"text": "late"})).await;
    assert_eq!(status, 401, "an expired statement was accepted");
    let older = s
        .statement(aud.clone(), "echo", now() - lifetime - 30)
        .await;
    assert_eq!(s.call("echo", &older, json!({"text": "late"})).await.0, 401);
    // Half-way through its life it is still good.
    let fresh = s.statement(aud, "echo", now() - lifetime / 2).await;
    assert_eq!(s.call("echo", &fresh, json!({"text": "ok"})).await.0, 200);
}
