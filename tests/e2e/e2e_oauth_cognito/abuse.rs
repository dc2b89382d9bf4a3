//! Issue #14's registration findings replayed against moto: concurrent registrations racing
//! past the cap (it was check-then-create), registrations nobody ever used holding slots
//! and app clients forever, `/register` open to anyone where the operator wants an initial
//! access token, and the façade's state key in the function's environment instead of
//! Secrets Manager.

use std::process::{Command, Stdio};

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use super::{gatewayctl, registering_gateway};
use crate::support::clients::*;
use crate::support::oauth::*;

async fn sdk() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}

fn new_table() -> String {
    let table = format!("oauth-{}", uuid::Uuid::new_v4().simple());
    let out = gatewayctl(&table, &["table", "create"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    table
}

/// The pool's app clients whose name starts with `prefix`.
async fn app_clients_named(prefix: &str) -> Vec<String> {
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&sdk().await);
    let pool = cognito_config()["userPoolId"].as_str().unwrap().to_owned();
    let mut out = Vec::new();
    let mut next = None;
    loop {
        let page = idp
            .list_user_pool_clients()
            .user_pool_id(&pool)
            .max_results(60)
            .set_next_token(next)
            .send()
            .await
            .unwrap();
        for c in page.user_pool_clients() {
            if c.client_name().is_some_and(|n| n.starts_with(prefix)) {
                out.push(c.client_id().unwrap().to_owned());
            }
        }
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            return out;
        }
    }
}

/// Finding 7: the cap was a count followed by a create, so parallel registrations all
/// passed it. Twelve at once against a cap of three: exactly three app clients.
#[tokio::test]
async fn concurrent_registrations_never_pass_the_cap() {
    let table = new_table();
    let (_gateway, base) =
        registering_gateway(&table, &[("GATEWAY_FACADE_MAX_REGISTRATIONS", "3")]);
    let name = format!("race{}", uuid::Uuid::new_v4().simple());
    let attempts = (0..12).map(|_| {
        register(
            &base,
            json!({"redirect_uris": ["http://127.0.0.1:7777/callback"], "client_name": name}),
        )
    });
    let answers = futures_util::future::join_all(attempts).await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let refused = answers
        .iter()
        .filter(|(s, a)| *s == 403 && a["error"] == "access_denied")
        .count();
    assert_eq!((created, refused), (3, 9), "{answers:?}");
    assert_eq!(app_clients_named(&format!("mcp-{name}")).await.len(), 3);
}

/// Finding 7: registrations that never redeemed a code are deleted (app client, record and
/// slot) once older than GATEWAY_FACADE_UNUSED_REGISTRATION_TTL_SECS; used ones stay.
#[tokio::test]
async fn registrations_never_used_expire_and_give_their_slot_back() {
    let table = new_table();
    let (_gateway, base) = registering_gateway(
        &table,
        &[
            ("GATEWAY_FACADE_MAX_REGISTRATIONS", "2"),
            ("GATEWAY_FACADE_UNUSED_REGISTRATION_TTL_SECS", "300"),
        ],
    );
    let name = format!("stale{}", uuid::Uuid::new_v4().simple());
    for _ in 0..2 {
        let (status, a) = register(
            &base,
            json!({"redirect_uris": ["http://127.0.0.1:7777/callback"], "client_name": name}),
        )
        .await;
        assert_eq!(status, 201, "{a}");
    }
    let (status, _) = register(
        &base,
        json!({"redirect_uris": ["http://127.0.0.1:7777/callback"], "client_name": name}),
    )
    .await;
    assert_eq!(status, 403, "the cap holds");
    // Age both records by an hour; mark one of them used.
    let listed: Value =
        serde_json::from_slice(&gatewayctl(&table, &["--json", "clients", "list"]).stdout).unwrap();
    let ids: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["clientId"].as_str().unwrap().to_owned())
        .collect();
    let ddb = aws_sdk_dynamodb::Client::new(&sdk().await);
    let old = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 3600)
        .to_string();
    for (i, id) in ids.iter().enumerate() {
        let mut update = ddb
            .update_item()
            .table_name(&table)
            .key("pk", AttributeValue::S("OAUTH_CLIENT".into()))
            .key("sk", AttributeValue::S(format!("CLIENT#{id}")))
            .expression_attribute_values(":old", AttributeValue::N(old.clone()));
        update = if i == 0 {
            update.update_expression("SET createdAt = :old, usedAt = :old")
        } else {
            update.update_expression("SET createdAt = :old")
        };
        update.send().await.unwrap();
    }
    // The next registration sweeps the unused one and takes its slot (a full gateway
    // sweeps at most once a second: the refusal above was one).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, a) = register(
        &base,
        json!({"redirect_uris": ["http://127.0.0.1:7777/callback"], "client_name": name}),
    )
    .await;
    assert_eq!(status, 201, "{a}");
    let remaining = app_clients_named(&format!("mcp-{name}")).await;
    assert_eq!(remaining.len(), 2, "{remaining:?}");
    assert!(remaining.contains(&ids[0]), "the used registration stays");
    assert!(
        !remaining.contains(&ids[1]),
        "the unused one is gone at Cognito"
    );
    let listed: Value =
        serde_json::from_slice(&gatewayctl(&table, &["--json", "clients", "list"]).stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
}

async fn put_secret(name: &str, value: &str) -> String {
    let sm = aws_sdk_secretsmanager::Client::new(&sdk().await);
    let out = sm
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .unwrap();
    out.arn().unwrap().to_owned()
}

/// Finding 7 (RFC 7591 §3): with GATEWAY_FACADE_REGISTRATION_TOKEN_SECRET set, anonymous
/// registration is refused (401 invalid_token); the token from Secrets Manager registers.
#[tokio::test]
async fn an_initial_access_token_gates_registration() {
    let name = format!("mcp-gateway/test/iat-{}", uuid::Uuid::new_v4().simple());
    put_secret(&name, "the-initial-access-token").await;
    let g = facade_gateway(&[("GATEWAY_FACADE_REGISTRATION_TOKEN_SECRET", &name)]).await;
    let body = json!({"redirect_uris": ["http://127.0.0.1:7777/callback"]});
    for bearer in [None, Some("wrong"), Some("the-initial-access-toke")] {
        let mut req = http().post(format!("{}/register", g.base)).json(&body);
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{bearer:?}");
        assert_eq!(
            resp.headers()["www-authenticate"],
            "Bearer error=\"invalid_token\""
        );
        assert_eq!(
            resp.json::<Value>().await.unwrap()["error"],
            "invalid_token"
        );
    }
    let resp = http()
        .post(format!("{}/register", g.base))
        .bearer_auth("the-initial-access-token")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
}

/// Finding 10: the state key came from a plain environment value (resolved into the
/// function's configuration at deploy time). Now it is read from Secrets Manager at
/// start-up: two gateways given the secret's ARN open each other's client ids, and a
/// secret that cannot be read stops start-up naming the setting.
#[tokio::test]
async fn the_state_key_comes_from_secrets_manager() {
    let name = format!("mcp-gateway/test/state-{}", uuid::Uuid::new_v4().simple());
    let arn = put_secret(
        &name,
        "c3RhdGUta2V5LWZvci10aGUtZmFjYWRlLWluLXNlY3JldHMtbWFuYWdlcg==",
    )
    .await;
    let a = facade_gateway(&[("GATEWAY_FACADE_STATE_SECRET_ARN", &arn)]).await;
    let b = facade_gateway(&[("GATEWAY_FACADE_STATE_SECRET_ARN", &arn)]).await;
    let (_, reg) = register(&a.base, json!({"redirect_uris": ["http://127.0.0.1:1/cb"]})).await;
    let q = [
        ("response_type", "code"),
        ("client_id", reg["client_id"].as_str().unwrap()),
        ("redirect_uri", "http://127.0.0.1:1/cb"),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ];
    let url = url::Url::parse_with_params(&format!("{}/authorize", b.base), &q).unwrap();
    let page = Browser::default().get(url.as_str()).await;
    assert_eq!(
        page.status, 200,
        "the other instance knows the client: {}",
        page.body
    );
    assert!(consent_token(&page.body).is_some());

    let out = Command::new(env!("CARGO_BIN_EXE_mcp-oauth-gateway"))
        .env("GATEWAY_BIND", "127.0.0.1:0")
        .env("GATEWAY_RESOURCE_URL", "http://127.0.0.1:9/mcp")
        .env("GATEWAY_OIDC_ISSUER", required_env("OIDC_ISSUER"))
        .env("GATEWAY_FACADE_ISSUER", required_env("OIDC_ISSUER"))
        .env("GATEWAY_FACADE_CLIENT_ID", RELAY_CLIENT)
        .env("GATEWAY_CATALOG_FILE", "config/catalog.yaml")
        .env("DEMO_TOOLS_URL", "http://127.0.0.1:9")
        .env("GATEWAY_FACADE_STATE_SECRET_ARN", format!("{name}-missing"))
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("GATEWAY_FACADE_STATE_SECRET_ARN"), "{err}");
}
