//! The gateway's identity-statement key from the cloud, against moto (`AWS_ENDPOINT_URL`):
//! a PKCS#8 PEM key in Secrets Manager (statements verify with the published JWKS, a
//! rotation is picked up without a restart while the previous key stays published, a
//! staged AWSPENDING key is published before it signs) and a KMS key (statements verify
//! with GetPublicKey's key; a failing Sign fails the call before the target is reached).
//! Unusable keys stop start-up with a message that names the key and never shows it. Run
//! by `make test`; without `AWS_ENDPOINT_URL` these tests fail, never skip.

mod common;

use std::time::Duration;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use mcp_oauth_gateway::AppState;
use mcp_oauth_gateway::adapters::identity_key::{KeyPair, generate_pem};
use mcp_oauth_gateway::config::Config;

/// A guard against a hung refresh, not a timing assumption (refreshes run every second).
const POLL_LIMIT: Duration = Duration::from_secs(60);

async fn sdk() -> aws_config::SdkConfig {
    std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .expect("AWS_ENDPOINT_URL is not set: run the suite with `make test` (moto)");
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

fn kid_of(pem: &str) -> String {
    KeyPair::from_pem(pem).expect("a valid key").public.kid
}

/// Calls the echo tool; the statement the stub target received, or `None` (with the
/// result) when the target was not reached.
async fn call_echo(gw: &common::Gateway) -> (Value, Option<String>) {
    let before = gw.stub.echo_headers.lock().unwrap().len();
    let msg = common::rpc(
        1,
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "hi"}}),
    );
    let (status, _, body) = common::post_json(&gw.app, &[], &msg).await;
    assert_eq!(status, StatusCode::OK);
    let result = body.unwrap()["result"].clone();
    let headers = gw.stub.echo_headers.lock().unwrap();
    let statement = headers.get(before).map(|h| {
        h.get("x-gateway-identity")
            .expect("the statement header")
            .to_str()
            .unwrap()
            .to_owned()
    });
    (result, statement)
}

async fn statement(gw: &common::Gateway) -> String {
    let (result, statement) = call_echo(gw).await;
    assert_eq!(result["isError"], Value::Null, "{result}");
    statement.expect("the target was reached")
}

async fn jwks(gw: &common::Gateway) -> JwkSet {
    let req = common::request(Method::GET, "/.well-known/jwks.json", &[], "");
    let (status, _, body) = common::send(&gw.raw, req).await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_value(body.unwrap()).unwrap()
}

fn kids(set: &JwkSet) -> Vec<String> {
    set.keys
        .iter()
        .map(|k| k.common.key_id.clone().unwrap())
        .collect()
}

fn kid(statement: &str) -> String {
    jsonwebtoken::decode_header(statement).unwrap().kid.unwrap()
}

/// Verifies `statement` with the key its `kid` names in `set`; its claims.
fn verify(gw: &common::Gateway, statement: &str, set: &JwkSet) -> Value {
    let kid = kid(statement);
    let jwk = set
        .find(&kid)
        .unwrap_or_else(|| panic!("kid {kid} is not published"));
    let mut v = Validation::new(Algorithm::ES256);
    v.set_audience(&[&gw.stub.base_url]);
    v.set_issuer(&[common::tokens::AUDIENCE]);
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let claims = jsonwebtoken::decode::<Value>(statement, &key, &v)
        .expect("the statement verifies")
        .claims;
    assert_eq!(claims["username"], "alice");
    assert_eq!(claims["tool"], "echo");
    claims
}

/// Calls until a statement is signed by `want` (each call may start a refresh).
async fn statement_signed_by(gw: &common::Gateway, want: &str) -> String {
    let deadline = tokio::time::Instant::now() + POLL_LIMIT;
    loop {
        let s = statement(gw).await;
        if kid(&s) == want {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never signed by {want}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Reads the JWKS until it publishes `want`.
async fn jwks_with(gw: &common::Gateway, want: &str) -> JwkSet {
    let deadline = tokio::time::Instant::now() + POLL_LIMIT;
    loop {
        let set = jwks(gw).await;
        if set.find(want).is_some() {
            return set;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{want} never published"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_secret_key_signs_and_its_rotations_are_picked_up_without_a_restart() {
    let sm = aws_sdk_secretsmanager::Client::new(&sdk().await);
    let name = unique("gw-identity");
    let (a, b, c) = (generate_pem(), generate_pem(), generate_pem());
    let (kid_a, kid_b, kid_c) = (kid_of(&a), kid_of(&b), kid_of(&c));
    sm.create_secret()
        .name(&name)
        .secret_string(&a)
        .send()
        .await
        .unwrap();
    let gw = common::gateway_with(&[
        ("GATEWAY_IDENTITY_KEY_SECRET", name.as_str()),
        ("GATEWAY_IDENTITY_KEY_REFRESH_SECS", "1"),
    ])
    .await;

    let signed_by_a = statement(&gw).await;
    assert_eq!(kid(&signed_by_a), kid_a);
    let set = jwks(&gw).await;
    assert_eq!(kids(&set), [kid_a.as_str()]);
    verify(&gw, &signed_by_a, &set);

    // Rotation: B becomes AWSCURRENT, A AWSPREVIOUS. B signs; A stays published.
    sm.put_secret_value()
        .secret_id(&name)
        .secret_string(&b)
        .send()
        .await
        .unwrap();
    let signed_by_b = statement_signed_by(&gw, &kid_b).await;
    let set = jwks(&gw).await;
    assert_eq!(kids(&set)[0], kid_b, "the signing key comes first");
    verify(&gw, &signed_by_b, &set);
    verify(&gw, &signed_by_a, &set);
    // An instance started after the rotation publishes A too (as AWSPREVIOUS).
    let fresh = common::gateway_with(&[("GATEWAY_IDENTITY_KEY_SECRET", name.as_str())]).await;
    assert_eq!(kids(&jwks(&fresh).await), [kid_b.clone(), kid_a.clone()]);
    assert_eq!(kid(&statement(&fresh).await), kid_b);

    // A staged rotation: C as AWSPENDING is published while B still signs.
    sm.put_secret_value()
        .secret_id(&name)
        .secret_string(&c)
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    let set = jwks_with(&gw, &kid_c).await;
    assert!(set.find(&kid_b).is_some() && set.find(&kid_a).is_some());
    assert_eq!(kid(&statement(&gw).await), kid_b);
    assert!(!serde_json::to_string(&set).unwrap().contains("\"d\""));
}

#[tokio::test]
async fn a_kms_key_signs_statements_that_verify_with_its_public_key() {
    let kms = aws_sdk_kms::Client::new(&sdk().await);
    let key = kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::EccNistP256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap();
    let key_id = key.key_metadata().unwrap().key_id().to_owned();
    let alias = format!("alias/{}", unique("gw-identity"));
    kms.create_alias()
        .alias_name(&alias)
        .target_key_id(&key_id)
        .send()
        .await
        .unwrap();
    let spki = kms.get_public_key().key_id(&key_id).send().await.unwrap();
    let spki = spki.public_key().unwrap().as_ref().to_vec();
    let point = &spki[spki.len() - 65..];
    let kms_public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point);

    let gw = common::gateway_with(&[("GATEWAY_IDENTITY_KMS_KEY_ID", alias.as_str())]).await;
    let set = jwks(&gw).await;
    assert_eq!(set.keys.len(), 1);
    let published = serde_json::to_value(&set.keys[0]).unwrap();
    let coordinate = |n: &str| {
        URL_SAFE_NO_PAD
            .decode(published[n].as_str().unwrap())
            .unwrap()
    };
    assert_eq!([coordinate("x"), coordinate("y")].concat(), &point[1..]);
    for _ in 0..10 {
        let s = statement(&gw).await;
        assert_eq!(Some(kid(&s)), set.keys[0].common.key_id);
        verify(&gw, &s, &set);
        // Independently of the gateway's JWKS: r || s over the signing input.
        let (input, sig) = s.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        assert_eq!(sig.len(), 64);
        kms_public
            .verify(input.as_bytes(), &sig)
            .expect("verifies with GetPublicKey's key");
    }

    // KMS refuses to sign (the alias is gone): a generic tool error, the target untouched.
    kms.delete_alias().alias_name(&alias).send().await.unwrap();
    let (result, statement) = call_echo(&gw).await;
    assert_eq!(result["isError"], true, "{result}");
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("The tool could not be completed"),
        "{text}"
    );
    assert!(!text.contains(&alias) && !text.contains("KMS"), "{text}");
    assert!(statement.is_none(), "the target must not be called");
}

/// Runs gatewayctl against moto; its stdout (it must succeed).
fn gatewayctl(args: &[&str]) -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatewayctl"))
        .args(args)
        .args(["--endpoint-url", &endpoint, "--region", "us-east-1"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "gatewayctl {args:?}: {stderr}");
    assert!(!stdout.contains("PRIVATE") && !stderr.contains("PRIVATE"));
    stdout
}

#[tokio::test]
async fn gatewayctl_creates_and_rotates_a_key_secret_the_gateway_follows() {
    let sm = aws_sdk_secretsmanager::Client::new(&sdk().await);
    let name = unique("gw-identity-ctl");
    let created: Value = serde_json::from_str(&gatewayctl(&[
        "--json",
        "identity-key",
        "create-secret",
        &name,
    ]))
    .unwrap();
    let arn = created["secret"].as_str().unwrap();
    assert!(arn.starts_with("arn:aws:secretsmanager:"), "{created}");
    let stored = sm.get_secret_value().secret_id(arn).send().await.unwrap();
    let first = kid_of(stored.secret_string().unwrap());
    assert_eq!(created["kid"], first.as_str());

    let gw = common::gateway_with(&[
        ("GATEWAY_IDENTITY_KEY_SECRET", arn),
        ("GATEWAY_IDENTITY_KEY_REFRESH_SECS", "1"),
    ])
    .await;
    assert_eq!(kid(&statement(&gw).await), first);
    let text = gatewayctl(&["identity-key", "rotate", arn]);
    let second = text.trim().rsplit(' ').next().unwrap().to_owned();
    assert_ne!(second, first, "{text}");
    let s = statement_signed_by(&gw, &second).await;
    verify(&gw, &s, &jwks_with(&gw, &first).await);
}

/// Start-up with `extra` settings must fail; its message.
async fn start_up_error(extra: &[(&str, &str)]) -> String {
    let stub = common::start_stub().await;
    let mut env = common::base_env(&stub);
    for (k, v) in extra {
        env.insert((*k).into(), (*v).into());
    }
    let lookup = |k: &str| env.get(k).cloned();
    let config = match Config::from_lookup(lookup) {
        Ok(c) => c,
        Err(e) => return e.to_string(),
    };
    match AppState::build(&config, &lookup).await {
        Ok(_) => panic!("the gateway started with {extra:?}"),
        Err(e) => e.to_string(),
    }
}

fn p384_pem() -> String {
    let der = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
        &aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        &aws_lc_rs::rand::SystemRandom::new(),
    )
    .unwrap();
    let body = STANDARD.encode(der.as_ref());
    format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")
}

#[tokio::test]
async fn unusable_keys_stop_start_up_with_a_message_that_never_shows_them() {
    let config = sdk().await;
    let (sm, kms) = (
        aws_sdk_secretsmanager::Client::new(&config),
        aws_sdk_kms::Client::new(&config),
    );
    let p384 = p384_pem();
    let sec1 = generate_pem().replace("PRIVATE KEY", "EC PRIVATE KEY");
    let not_pem = "hunter2-not-a-key-0123456789".to_owned();
    for value in [&not_pem, &p384, &sec1] {
        let name = unique("gw-identity-bad");
        sm.create_secret()
            .name(&name)
            .secret_string(value)
            .send()
            .await
            .unwrap();
        let e = start_up_error(&[("GATEWAY_IDENTITY_KEY_SECRET", &name)]).await;
        assert!(e.contains(&name), "{e}");
        assert!(e.contains("AWSCURRENT"), "{e}");
        assert!(e.contains("not a PKCS#8 P-256 private key"), "{e}");
        let body: String = value.lines().filter(|l| !l.starts_with("-----")).collect();
        assert!(!e.contains(&body[..16]) && !e.contains("BEGIN"), "{e}");
    }
    let missing = unique("gw-identity-missing");
    let e = start_up_error(&[("GATEWAY_IDENTITY_KEY_SECRET", &missing)]).await;
    assert!(
        e.contains(&missing) && e.contains("ResourceNotFoundException"),
        "{e}"
    );

    use aws_sdk_kms::types::{KeySpec, KeyUsageType};
    for (spec, usage) in [
        (KeySpec::EccNistP384, KeyUsageType::SignVerify),
        (KeySpec::SymmetricDefault, KeyUsageType::EncryptDecrypt),
    ] {
        let key = kms
            .create_key()
            .key_spec(spec)
            .key_usage(usage)
            .send()
            .await
            .unwrap();
        let id = key.key_metadata().unwrap().key_id().to_owned();
        let e = start_up_error(&[("GATEWAY_IDENTITY_KMS_KEY_ID", &id)]).await;
        assert!(
            e.contains(&id) && e.contains("not an ECC_NIST_P256 SIGN_VERIFY key"),
            "{e}"
        );
    }
    let e = start_up_error(&[("GATEWAY_IDENTITY_KMS_KEY_ID", "alias/gw-identity-nope")]).await;
    assert!(e.contains("GetPublicKey failed (NotFoundException)"), "{e}");

    let e = start_up_error(&[
        ("GATEWAY_IDENTITY_KEY_SECRET", "s"),
        ("GATEWAY_IDENTITY_KMS_KEY_ID", "alias/k"),
    ])
    .await;
    assert!(e.contains("set only one identity key source"), "{e}");
}

/// The binary itself refuses to start on a bad key, and says why on stderr.
#[tokio::test]
async fn the_gateway_process_exits_on_a_bad_key_secret() {
    let sm = aws_sdk_secretsmanager::Client::new(&sdk().await);
    let name = unique("gw-identity-bad");
    let p384 = p384_pem();
    sm.create_secret()
        .name(&name)
        .secret_string(&p384)
        .send()
        .await
        .unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-oauth-gateway"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("GATEWAY_") {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd
        .envs([
            ("GATEWAY_BIND", "127.0.0.1:0"),
            ("DEMO_TOOLS_URL", "http://127.0.0.1:1"),
            ("GATEWAY_OIDC_ISSUER", "http://127.0.0.1:1"),
            ("GATEWAY_RESOURCE_URL", "http://127.0.0.1:1/mcp"),
            ("GATEWAY_IDENTITY_KEY_SECRET", name.as_str()),
            ("RUST_LOG", "off"),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A gateway that wrongly starts would serve forever: stop waiting after a while.
    let deadline = std::time::Instant::now() + POLL_LIMIT;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "started: {stdout}");
    assert!(
        stderr.contains("start-up failed") && stderr.contains(&name),
        "{stderr}"
    );
    let body: String = p384.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(!stderr.contains(&body[..16]) && !stdout.contains(&body[..16]));
}
