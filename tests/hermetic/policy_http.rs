//! Group policies through the router, with the policy file source: who sees which tools,
//! deny beating allow, denied and unknown tools answered alike, and the 403 scope step-up.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::router;
use crate::support::router::tokens::{self, sign};

const CONFIG: &str = r#"
policies:
  - group: "*"
    allow: [current_time]
  - group: engineering
    allow: [echo, calculate]
  - group: finance
    allow: [calculate]
    deny: [echo]
  - group: admins
    allow: ["*"]
    scopes: [{tools: "crm_*", scopes: ["mcp:admin", "crm:read"]}]
tools:
  - {name: echo, inputSchema: {type: object}, target: {kind: http, url: "${DEMO_TOOLS_URL}/echo"}}
  - {name: calculate, inputSchema: {type: object}, target: {kind: http, url: "${DEMO_TOOLS_URL}/echo"}}
  - {name: current_time, inputSchema: {type: object}, target: {kind: http, url: "${DEMO_TOOLS_URL}/echo"}}
  - {name: crm_export, inputSchema: {type: object}, target: {kind: http, url: "${DEMO_TOOLS_URL}/echo"}}
"#;

fn token(gw: &router::Gateway, groups: &[&str], scope: &str) -> String {
    let mut c = tokens::claims(&gw.stub.base_url);
    c["groups"] = json!(groups);
    c["scope"] = json!(scope);
    format!("Bearer {}", sign("rsa-1", &c))
}

async fn list(gw: &router::Gateway, auth: &str) -> Vec<String> {
    let msg = router::rpc(1, "tools/list", json!({}));
    let (status, _, body) = router::post_json(&gw.raw, &[("authorization", auth)], &msg).await;
    assert_eq!(status, StatusCode::OK);
    body.unwrap()["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn call(gw: &router::Gateway, auth: &str, tool: &str) -> router::Reply {
    let msg = router::rpc(
        7,
        "tools/call",
        json!({"name": tool, "arguments": {"text": "hi"}}),
    );
    router::post_json(&gw.raw, &[("authorization", auth)], &msg).await
}

#[tokio::test]
async fn each_caller_sees_exactly_the_tools_its_groups_allow() {
    let gw = router::gateway_with_catalog(CONFIG).await;
    let cases: [(&[&str], &[&str]); 5] = [
        (&[], &["current_time"]),
        (&["engineering"], &["calculate", "current_time", "echo"]),
        (&["finance"], &["calculate", "current_time"]),
        (&["engineering", "finance"], &["calculate", "current_time"]),
        (
            &["admins"],
            &["calculate", "crm_export", "current_time", "echo"],
        ),
    ];
    for (groups, expected) in cases {
        let auth = token(&gw, groups, "mcp:tools");
        assert_eq!(list(&gw, &auth).await, expected, "groups {groups:?}");
    }
}

#[tokio::test]
async fn denied_and_unknown_tools_get_the_same_answer_and_reach_no_target() {
    let gw = router::gateway_with_catalog(CONFIG).await;
    // Finance denies echo even though engineering allows it: deny wins.
    let auth = token(&gw, &["engineering", "finance"], "mcp:tools");
    let (s1, _, denied) = call(&gw, &auth, "echo").await;
    let (s2, _, unknown) = call(&gw, &auth, "no_such_tool").await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    let (denied, unknown) = (denied.unwrap(), unknown.unwrap());
    assert_eq!(denied["error"]["code"], -32602);
    let shape = |v: &Value, name: &str| v.to_string().replace(name, "NAME");
    assert_eq!(shape(&denied, "echo"), shape(&unknown, "no_such_tool"));
    let nobody = token(&gw, &[], "");
    let (_, _, default_denied) = call(&gw, &nobody, "calculate").await;
    assert_eq!(
        shape(&default_denied.unwrap(), "calculate"),
        shape(&unknown, "no_such_tool")
    );
    assert!(
        gw.stub.echo_bodies.lock().unwrap().is_empty(),
        "a refused call reached a target"
    );
    // And an allowed one does.
    let (_, _, ok) = call(&gw, &auth, "calculate").await;
    assert!(ok.unwrap()["result"]["content"].is_array());
    assert_eq!(gw.stub.echo_bodies.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_missing_scope_is_a_403_step_up_naming_every_scope_needed() {
    let gw = router::gateway_with_catalog(CONFIG).await;
    let auth = token(&gw, &["admins"], "mcp:tools crm:read");
    // Still listed, so the client can call it and step up.
    assert!(list(&gw, &auth).await.contains(&"crm_export".to_owned()));
    let (status, headers, body) = call(&gw, &auth, "crm_export").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        headers["www-authenticate"],
        "Bearer error=\"insufficient_scope\", scope=\"crm:read mcp:admin\", resource_metadata=\"https://gateway.test/.well-known/oauth-protected-resource/mcp\""
    );
    let body = body.unwrap();
    assert_eq!(body["id"], 7);
    assert_eq!(body["error"]["code"], -32003);
    router::assert_valid("2025-11-25", "JSONRPCErrorResponse", &body);
    assert!(gw.stub.echo_bodies.lock().unwrap().is_empty());

    // In the per-request era too.
    let msg = router::modern_rpc(
        8,
        "tools/call",
        json!({"name": "crm_export", "arguments": {}}),
    );
    let mut headers = router::modern_headers("tools/call", Some("crm_export"));
    headers.push(("authorization", &auth));
    let (status, h, _) = router::post_json(&gw.raw, &headers, &msg).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        h["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );

    // With every scope, the same call goes through.
    let stepped_up = token(&gw, &["admins"], "mcp:tools crm:read mcp:admin");
    let (status, _, body) = call(&gw, &stepped_up, "crm_export").await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    assert_eq!(gw.stub.echo_bodies.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn targets_get_a_signed_statement_of_who_called_and_never_the_token() {
    let gw = router::gateway_with_catalog(CONFIG).await;
    let auth = token(&gw, &["engineering"], "mcp:tools");
    let (status, _, _) = call(&gw, &auth, "echo").await;
    assert_eq!(status, StatusCode::OK);
    let headers = gw.stub.echo_headers.lock().unwrap()[0].clone();
    let bearer = auth.trim_start_matches("Bearer ");
    for (name, value) in &headers {
        assert!(
            !value.to_str().unwrap_or("").contains(bearer),
            "{name} carries the caller's token"
        );
    }
    assert!(headers.get("authorization").is_none());
    let statement = headers["x-gateway-identity"].to_str().unwrap().to_owned();

    // Verifiable with the public keys the gateway publishes, without auth.
    let req = router::request(axum::http::Method::GET, "/.well-known/jwks.json", &[], "");
    let (status, _, jwks) = router::send(&gw.raw, req).await;
    assert_eq!(status, StatusCode::OK);
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.unwrap()).unwrap();
    let header = jsonwebtoken::decode_header(&statement).unwrap();
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid published");
    // The audience is the tool's URL exactly, and no leeway on the 60 s statement.
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.leeway = 0;
    let audience = format!("{}/echo", gw.stub.base_url);
    v.set_audience(&[audience.as_str()]);
    v.set_issuer(&[router::tokens::AUDIENCE]);
    let claims = jsonwebtoken::decode::<Value>(
        &statement,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &v,
    )
    .expect("the statement verifies")
    .claims;
    assert_eq!(claims["sub"], "user-alice");
    assert_eq!(claims["username"], "alice");
    assert_eq!(claims["groups"], json!(["engineering"]));
    assert_eq!(claims["caller_iss"], gw.stub.base_url.as_str());
    assert_eq!(claims["tool"], "echo");
    let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
    assert!(lifetime <= 300, "{lifetime}");
}

/// With a group prefix, an issuer's `admins` is `partner:admins`: the policies of the
/// gateway's own `admins` do not reach it, only policies naming the prefixed group.
#[tokio::test]
async fn a_prefixed_issuers_groups_match_only_policies_naming_the_prefix() {
    let catalog = r#"
policies:
  - {group: "*", allow: [current_time]}
  - {group: admins, allow: ["*"]}
  - {group: "partner:admins", allow: [echo]}
tools:
  - {name: echo, inputSchema: {type: object}, target: {kind: http, url: "${DEMO_TOOLS_URL}/echo"}}
  - {name: crm_export, inputSchema: {type: object}, target: {kind: http, url: "${DEMO_TOOLS_URL}/echo"}}
  - {name: current_time, inputSchema: {type: object}, target: {kind: http, url: "${DEMO_TOOLS_URL}/echo"}}
"#;
    let gw =
        router::gateway_with_catalog_and(catalog, &[("GATEWAY_OIDC_GROUP_PREFIX", "partner:")])
            .await;
    let admin = token(&gw, &["admins"], "");
    assert_eq!(list(&gw, &admin).await, ["current_time", "echo"]);
    let (_, denied) = router::expect_json(call(&gw, &admin, "crm_export").await, StatusCode::OK);
    assert!(denied.get("error").is_some(), "{denied}");
    let (_, allowed) = router::expect_json(call(&gw, &admin, "echo").await, StatusCode::OK);
    assert!(
        allowed["result"]["content"].is_array() && allowed["result"].get("isError").is_none(),
        "{allowed}"
    );
}
