//! Unusable keys: start-up stops with a message that names the key and never shows it,
//! and the gateway process exits on a bad key secret.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use mcp_oauth_gateway::adapters::identity_key::generate_pem;
use mcp_oauth_gateway::config::Config;

use super::statements::*;
use crate::support::router;

/// Start-up with `extra` settings must fail; its message.
async fn start_up_error(extra: &[(&str, &str)]) -> String {
    let stub = router::start_stub().await;
    let mut env = router::base_env(&stub);
    for (k, v) in extra {
        env.insert((*k).into(), (*v).into());
    }
    let lookup = |k: &str| env.get(k).cloned();
    let config = match Config::from_lookup(lookup) {
        Ok(c) => c,
        Err(e) => return e.to_string(),
    };
    match mcp_oauth_gateway::wiring::start(&config, &lookup).await {
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
