//! Finding 10 of issue #14: nothing proved that `RUST_LOG=trace` never logs a token. The
//! real gateway binary runs here at `trace` (every target, the capped libraries included)
//! against moto (Cognito, DynamoDB audit table, KMS-signed audit heads, with AWS
//! credentials of its own) and the local oidc-provider (opaque tokens by introspection,
//! with the gateway's client secret), and serves: valid Cognito tokens, a forged one, a
//! Cognito ID token, an OIDC JWT its introspection cannot vouch for, a valid and a random
//! opaque token, and a tool call that sends an outbound credential to its target. Then no
//! line of its stdout or stderr may hold any of those tokens (or their signatures), the
//! password, the outbound credential, the AWS secret key or session token, or the
//! introspection client secret. (Without the caps on the AWS SDK's targets, which main
//! lacked, this fails: `aws_sigv4` traces the canonical request with its
//! `x-amz-security-token`.) The façade is on too: a registration, its consent page, the
//! approval (CSRF cookie, flow cookie) and token requests carrying a refresh token and a
//! code, none of which, nor the façade's state key, may be logged.
//!
//! Needs `AWS_ENDPOINT_URL` (moto) and `MCP_E2E_NODE`, which `make test` exports; without
//! them it fails, never skips.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::audit_kit::{self, call, rpc, spawn_gateway, start_target, wait_for};
use crate::support::idp::{
    OidcProvider, TestPool, alice_token, oidc_token, required_env, unique_resource,
};

const PASSWORD: &str = "Trace-Passw0rd!";
const STATE_KEY: &str = "dHJhY2UtdGVzdC1zdGF0ZS1rZXktb2YtdGhlLWZhY2FkZS0zMmI=";

/// A façade flow as far as it goes without a browser at the IdP; returns the values it
/// carried that must never be logged (cookies, the consent token, a refresh token, a code).
async fn facade_flow(base: &str) -> Vec<String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let reg: serde_json::Value = http
        .post(format!("{base}/register"))
        .json(&json!({"redirect_uris": ["http://127.0.0.1:7/cb"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = reg["client_id"].as_str().unwrap().to_owned();
    let authorize = url::Url::parse_with_params(
        &format!("{base}/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", "http://127.0.0.1:7/cb"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    let page = http.get(authorize).send().await.unwrap();
    let csrf = page.headers()["set-cookie"].to_str().unwrap();
    let csrf = csrf.split(';').next().unwrap().to_owned();
    let html = page.text().await.unwrap();
    let at = html.find("name=\"consent_token\" value=\"").unwrap() + 28;
    let token = html[at..at + html[at..].find('"').unwrap()].replace("&amp;", "&");
    let approved = http
        .post(format!("{base}/authorize"))
        .header("cookie", &csrf)
        .form(&[("consent_token", token.as_str()), ("decision", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), StatusCode::FOUND);
    let flow = approved.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let flow = flow
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let refresh = format!("refresh-{}", uuid::Uuid::new_v4().simple());
    let code = format!("code-{}", uuid::Uuid::new_v4().simple());
    for form in [
        vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ],
        vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            (
                "code_verifier",
                "dBjftJeZ4CVP-mJ92K1ifvtoJcwH7XUnKtrjPnNHJcE",
            ),
            ("redirect_uri", "http://127.0.0.1:7/cb"),
        ],
    ] {
        let mut form = form;
        form.push(("client_id", client_id.as_str()));
        let resp = http
            .post(format!("{base}/token"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    }
    let csrf_value = csrf.split_once('=').unwrap().1.to_owned();
    vec![csrf_value, token, flow, refresh, code]
}
const CATALOG: &str = r#"
policies:
  - group: engineering
    allow: [echo]
tools:
  - name: echo
    inputSchema: {type: object}
    target:
      kind: http
      url: "${TRACE_TARGET_URL}/echo"
      auth: {kind: header, name: x-api-key, value: {env: TOOL_SECRET_TRACE_KEY}}
"#;

fn signature(token: &str) -> String {
    token.rsplit('.').next().unwrap_or(token).to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_trace_level_no_log_line_holds_a_token_or_a_secret() {
    required_env("AWS_ENDPOINT_URL");
    let target_key = format!("outbound-key-{}", uuid::Uuid::new_v4().simple());
    let aws_secret = format!("aws-secret-{}", uuid::Uuid::new_v4().simple());
    let aws_session = format!("aws-session-{}", uuid::Uuid::new_v4().simple());
    let (target, seen) = start_target().await;
    let pool = TestPool::seed(
        "trace",
        &[],
        &[("alice", PASSWORD, &["engineering"])],
        false,
    )
    .await;
    let alice = pool.login("alice").await;
    let mut forged = alice.access.clone().into_bytes();
    let at = forged.len() - 10;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();

    let jwt_resource = unique_resource();
    let opaque_resource = unique_resource();
    let idp = OidcProvider::spawn_with(&[&jwt_resource], &[&opaque_resource]);
    let oidc_jwt = alice_token(&idp.issuer, &jwt_resource).await;
    let opaque = oidc_token(
        &idp.issuer,
        "client-alice",
        "alice-secret",
        &opaque_resource,
        "mcp:tools",
    )
    .await;
    let random_opaque = format!("random{}", uuid::Uuid::new_v4().simple());

    let table = format!("trace-audit-{}", uuid::Uuid::new_v4());
    let kms = mcp_oauth_gateway::adapters::aws_clients::AwsClients::load()
        .await
        .kms();
    let head_key = kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Hmac256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .expect("an HMAC key in moto")
        .key_metadata
        .unwrap()
        .arn
        .unwrap();
    let dir = std::env::temp_dir().join(format!("trace-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let catalog = dir.join("catalog.yaml");
    std::fs::write(&catalog, CATALOG).unwrap();
    let audiences = format!("{jwt_resource},{opaque_resource}");
    let introspection = format!("{}/token/introspection", idp.issuer);
    let created = audit_kit::gatewayctl(&["audit", "--audit-table", &table, "table", "create"]);
    assert!(created.status.success());
    let mut gw = spawn_gateway(&[
        ("RUST_LOG", "trace"),
        ("AWS_SECRET_ACCESS_KEY", &aws_secret),
        ("AWS_SESSION_TOKEN", &aws_session),
        ("GATEWAY_COGNITO_USER_POOL_ID", &pool.pool_id),
        ("GATEWAY_COGNITO_CLIENT_IDS", &pool.client_id),
        ("GATEWAY_COGNITO_JWKS_URL", &pool.jwks_url),
        ("GATEWAY_OIDC_ISSUER", &idp.issuer),
        ("GATEWAY_OIDC_AUDIENCES", &audiences),
        ("GATEWAY_OIDC_GROUP_PREFIX", "oidc:"),
        ("GATEWAY_OIDC_INTROSPECTION_URL", &introspection),
        (
            "GATEWAY_OIDC_INTROSPECTION_CLIENT_ID",
            "gateway-introspector",
        ),
        (
            "GATEWAY_OIDC_INTROSPECTION_CLIENT_SECRET",
            "introspector-secret",
        ),
        ("GATEWAY_OIDC_INTROSPECTION_OPAQUE", "true"),
        ("GATEWAY_CATALOG_FILE", catalog.to_str().unwrap()),
        ("GATEWAY_AUDIT_TABLE", &table),
        ("GATEWAY_AUDIT_KMS_KEY_ID", &head_key),
        ("TRACE_TARGET_URL", &target),
        ("TOOL_SECRET_TRACE_KEY", &target_key),
        ("GATEWAY_FACADE_ISSUER", &idp.issuer),
        ("GATEWAY_FACADE_CLIENT_ID", "mcp-gateway-relay"),
        ("GATEWAY_FACADE_URL", "http://127.0.0.1:9"),
        ("GATEWAY_FACADE_STATE_KEY", STATE_KEY),
    ]);
    let base = gw.base.clone();
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}});

    assert_eq!(
        call(&base, &alice.access, "echo", json!({"t": 1})).await,
        StatusCode::OK
    );
    assert_eq!(
        rpc(&base, Some(&alice.access), list.clone()).await,
        StatusCode::OK
    );
    assert_eq!(
        rpc(&base, Some(&opaque), list.clone()).await,
        StatusCode::OK
    );
    for refused in [&forged, &alice.id, &random_opaque] {
        assert_eq!(
            rpc(&base, Some(refused), list.clone()).await,
            StatusCode::UNAUTHORIZED
        );
    }
    // The provider cannot introspect its own JWTs: refused as an outage, still unlogged.
    assert_eq!(
        rpc(&base, Some(&oidc_jwt), list.clone()).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let facade = facade_flow(&base).await;
    // The start record, then one per request, all written (the trail's own proof of work).
    wait_for(&gw.stdout, 8, |v| v["type"] == "audit");
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "the echo call reached its target"
    );
    assert!(
        seen.lock().unwrap()[0].contains(&target_key),
        "with its credential"
    );

    let _ = gw.child.kill();
    let _ = gw.child.wait();
    std::thread::sleep(Duration::from_millis(200));
    let logs: Vec<String> = [&gw.stdout, &gw.stderr]
        .iter()
        .flat_map(|l| l.lock().unwrap().clone())
        .collect();
    // The pool's empty group prefix begins the provider's `oidc:`: start-up says so
    // (finding 10, prefixes compared for equality only).
    assert!(
        logs.iter().any(|l| l.contains("WARN")
            && l.contains("one issuer's group prefix begins the other's")
            && l.contains("other_prefix=oidc:")),
        "no prefix-overlap warning"
    );
    // The filter really was wide open: the gateway's own debug lines are there (it logs
    // nothing finer itself; the libraries' trace lines are what the caps hold back).
    assert!(
        logs.iter()
            .any(|l| l.contains("DEBUG") && l.contains("audit record written")),
        "no debug line at all"
    );
    assert!(logs.len() > 20, "only {} lines", logs.len());
    let secrets = [
        alice.access.clone(),
        signature(&alice.access),
        alice.id.clone(),
        signature(&alice.id),
        forged.clone(),
        oidc_jwt.clone(),
        signature(&oidc_jwt),
        opaque.clone(),
        random_opaque.clone(),
        PASSWORD.to_owned(),
        target_key.clone(),
        aws_secret.clone(),
        aws_session.clone(),
        "introspector-secret".to_owned(),
        STATE_KEY.to_owned(),
    ];
    let secrets: Vec<String> = secrets.into_iter().chain(facade).collect();
    for line in &logs {
        for s in &secrets {
            assert!(!line.contains(s.as_str()), "a secret in a log line: {line}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
