//! The outbound secret allow-list: each forbidden source of finding 4 (issue #14) refused,
//! the prefix-bypass attempts refused, and the allowed sources still allowed.

use super::*;

const ACCT: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";

fn sources() -> SecretSources {
    SecretSources::new(
        DEFAULT_ENV_PREFIX,
        DEFAULT_SECRET_PREFIX,
        &[
            (
                "GATEWAY_IDENTITY_KEY_SECRET",
                "mcp-gateway/identity-key".into(),
            ),
            (
                "GATEWAY_FACADE_STATE_SECRET_ARN",
                format!("{ACCT}mcp-gateway/facade-state-AbCdEf"),
            ),
        ],
    )
    .unwrap()
}

#[test]
fn env_sources_outside_the_prefix_or_reserved_are_refused() {
    let s = sources();
    for var in [
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "GATEWAY_FACADE_STATE_KEY",
        "OA_TEST_API_KEY",
        "TOOL_SECRET_",
        "tool_secret_x",
        "TOOL_SECRET_A=B",
        "",
    ] {
        assert!(s.check_env(var).is_err(), "{var} allowed");
    }
    assert!(s.check_env("TOOL_SECRET_CRM_KEY").is_ok());
    let r = SecretRef {
        env: Some("AWS_SECRET_ACCESS_KEY".into()),
        secret: None,
        field: None,
    };
    assert!(
        s.check(&r)
            .unwrap_err()
            .starts_with("env: \"AWS_SECRET_ACCESS_KEY\"")
    );
}

#[test]
fn a_prefix_cannot_open_the_reserved_variables() {
    let s = SecretSources::new("AWS_TOOLS_", DEFAULT_SECRET_PREFIX, &[]);
    assert_eq!(s.unwrap_err().0, "GATEWAY_OUTBOUND_ENV_PREFIX");
    for bad in ["GATEWAY_", "gateway_x_", "AWS", "A", "", "TOOL SECRET"] {
        assert!(
            SecretSources::new(bad, DEFAULT_SECRET_PREFIX, &[]).is_err(),
            "{bad}"
        );
    }
    // Even a prefix that would admit them by its shape: the reserved names stay refused.
    let s = SecretSources::new("X_", DEFAULT_SECRET_PREFIX, &[]).unwrap();
    assert!(s.check_env("X_AWS_OK").is_ok());
}

#[test]
fn secrets_outside_the_prefix_or_the_gateways_own_are_refused() {
    let s = sources();
    for id in [
        "mcp-gateway/identity-key".to_owned(),
        format!("{ACCT}mcp-gateway/identity-key-XyZ123"),
        format!("{ACCT}mcp-gateway/identity-key"),
        format!("{ACCT}mcp-gateway/facade-state"),
        "mcp-gateway/facade-state".to_owned(),
        "other/secret".to_owned(),
        "mcp-gateway/tools".to_owned(),
        "mcp-gateway/tools/".to_owned(),
        format!("{ACCT}other/x-AbCdEf"),
        "*".to_owned(),
    ] {
        assert!(s.check_secret(&id).is_err(), "{id} allowed");
    }
    let own = s.check_secret("mcp-gateway/identity-key").unwrap_err();
    assert!(own.contains("gateway's own"), "{own}");
}

#[test]
fn prefix_bypass_attempts_are_refused() {
    let s = sources();
    for id in [
        // A name that only starts like the prefix.
        "mcp-gateway/toolsX/a".to_owned(),
        "MCP-GATEWAY/tools/a".to_owned(),
        // The prefix further along the ARN, or in another field of it.
        format!("{ACCT}other/mcp-gateway/tools/a"),
        "arn:aws:secretsmanager:us-east-1:123456789012:mcp-gateway/tools/a".to_owned(),
        "arn:aws:ssm:us-east-1:123456789012:secret:mcp-gateway/tools/a".to_owned(),
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:x:mcp-gateway/tools/a".to_owned(),
        "arn:aws:secretsmanager:us-east-1:1234:secret:mcp-gateway/tools/a".to_owned(),
        // Characters no secret name has.
        "mcp-gateway/tools/a b".to_owned(),
        "mcp-gateway/tools/a:b".to_owned(),
    ] {
        assert!(s.check_secret(&id).is_err(), "{id} allowed");
    }
}

#[test]
fn a_name_prefix_must_end_with_a_slash_so_arn_suffixes_cannot_match_it() {
    // `tools-ab` would match `arn:…:secret:tools-abXYZ1`, a secret named `tools`.
    for bad in [
        "tools-ab",
        "mcp-gateway/tools",
        "",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:t",
    ] {
        let e = SecretSources::new(DEFAULT_ENV_PREFIX, bad, &[]).unwrap_err();
        assert_eq!(e.0, "GATEWAY_OUTBOUND_SECRET_PREFIX", "{bad}");
    }
}

#[test]
fn the_gateways_own_secret_may_not_lie_under_the_prefix() {
    let e = SecretSources::new(
        DEFAULT_ENV_PREFIX,
        DEFAULT_SECRET_PREFIX,
        &[(
            "GATEWAY_IDENTITY_KEY_SECRET",
            "mcp-gateway/tools/identity".into(),
        )],
    )
    .unwrap_err();
    assert_eq!(e.0, "GATEWAY_IDENTITY_KEY_SECRET");
}

#[test]
fn allowed_secrets_by_name_partial_and_full_arn() {
    let s = sources();
    for id in [
        "mcp-gateway/tools/crm".to_owned(),
        format!("{ACCT}mcp-gateway/tools/crm"),
        format!("{ACCT}mcp-gateway/tools/crm-AbCdEf"),
    ] {
        assert!(s.check_secret(&id).is_ok(), "{id} refused");
    }
}

#[test]
fn an_arn_prefix_scopes_partition_region_and_account() {
    let prefix = format!("{ACCT}tools/");
    let s = SecretSources::new(DEFAULT_ENV_PREFIX, &prefix, &[]).unwrap();
    assert!(s.check_secret(&format!("{ACCT}tools/a-AbCdEf")).is_ok());
    for id in [
        "tools/a".to_owned(),
        "arn:aws:secretsmanager:us-east-1:999999999999:secret:tools/a".to_owned(),
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tools/a".to_owned(),
    ] {
        assert!(s.check_secret(&id).is_err(), "{id} allowed");
    }
}
