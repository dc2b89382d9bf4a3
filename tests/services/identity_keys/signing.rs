//! Keys that sign: a Secrets Manager key and its rotations (picked up without a restart,
//! the previous key still published, a staged AWSPENDING key published first), a KMS key,
//! and a key secret created and rotated with `gatewayctl`.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use mcp_oauth_gateway::adapters::identity_key::generate_pem;

use super::statements::*;
use crate::support::router;

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
    let gw = router::gateway_with(&[
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
    let fresh = router::gateway_with(&[("GATEWAY_IDENTITY_KEY_SECRET", name.as_str())]).await;
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

    let gw = router::gateway_with(&[("GATEWAY_IDENTITY_KMS_KEY_ID", alias.as_str())]).await;
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

    let gw = router::gateway_with(&[
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
