//! Where outbound credentials may come from (`crate::outbound::sources`):
//! `GATEWAY_OUTBOUND_ENV_PREFIX` and `GATEWAY_OUTBOUND_SECRET_PREFIX`, and the gateway's own
//! secrets no catalog entry may read (`GATEWAY_IDENTITY_KEY_SECRET`,
//! `GATEWAY_FACADE_STATE_SECRET_ARN`, `GATEWAY_FACADE_REGISTRATION_TOKEN_SECRET`). The gateway and `gatewayctl` read the same
//! variables, so a document `validate` and `import` accept is one the gateway accepts.

use super::{ConfigError, bad};
use crate::outbound::SecretSources;
use crate::outbound::sources::{DEFAULT_ENV_PREFIX, DEFAULT_SECRET_PREFIX};

/// The gateway's own secrets, by the setting that names each.
const OWN: [&str; 3] = [
    "GATEWAY_IDENTITY_KEY_SECRET",
    "GATEWAY_FACADE_STATE_SECRET_ARN",
    // The façade's initial access token: read out, it would let anyone register.
    "GATEWAY_FACADE_REGISTRATION_TOKEN_SECRET",
];

/// The allow-list from the environment; a prefix that could reach the gateway's own
/// secrets or variables stops start-up (and `gatewayctl`).
pub fn from_env(env: &impl Fn(&str) -> Option<String>) -> Result<SecretSources, ConfigError> {
    let get = |name: &str, default: &str| {
        env(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_owned())
    };
    let own: Vec<(&'static str, String)> = OWN
        .iter()
        .filter_map(|name| {
            env(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .map(|v| (*name, v))
        })
        .collect();
    SecretSources::new(
        &get("GATEWAY_OUTBOUND_ENV_PREFIX", DEFAULT_ENV_PREFIX),
        &get("GATEWAY_OUTBOUND_SECRET_PREFIX", DEFAULT_SECRET_PREFIX),
        &own,
    )
    .map_err(|(name, reason)| bad(name, reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<SecretSources, ConfigError> {
        from_env(&|k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_and_the_gateways_own_secrets() {
        let s = with(&[]).unwrap();
        assert!(s.check_env("TOOL_SECRET_X").is_ok());
        assert!(s.check_secret("mcp-gateway/tools/x").is_ok());
        let s = with(&[
            ("GATEWAY_IDENTITY_KEY_SECRET", "gw/identity"),
            (
                "GATEWAY_FACADE_STATE_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:gw/state-AbCdEf",
            ),
            ("GATEWAY_OUTBOUND_SECRET_PREFIX", "gw/"),
        ]);
        assert_eq!(s.unwrap_err().name, "GATEWAY_IDENTITY_KEY_SECRET");
        let s = with(&[
            ("GATEWAY_IDENTITY_KEY_SECRET", "gw/identity"),
            ("GATEWAY_OUTBOUND_SECRET_PREFIX", "gw/tools/"),
        ])
        .unwrap();
        assert!(s.check_secret("gw/identity").is_err());
        assert!(s.check_secret("gw/tools/crm").is_ok());
        // The façade's initial access token too (the attack review: read out, it would let
        // anyone register), under the prefix stops start-up.
        let s = with(&[
            ("GATEWAY_FACADE_REGISTRATION_TOKEN_SECRET", "gw/tools/iat"),
            ("GATEWAY_OUTBOUND_SECRET_PREFIX", "gw/tools/"),
        ]);
        assert_eq!(
            s.unwrap_err().name,
            "GATEWAY_FACADE_REGISTRATION_TOKEN_SECRET"
        );
    }

    #[test]
    fn prefixes_that_reach_reserved_names_stop_start_up() {
        for (name, value) in [
            ("GATEWAY_OUTBOUND_ENV_PREFIX", "AWS_"),
            ("GATEWAY_OUTBOUND_ENV_PREFIX", "GATEWAY_TOOLS_"),
            ("GATEWAY_OUTBOUND_SECRET_PREFIX", "tools"),
        ] {
            assert_eq!(with(&[(name, value)]).unwrap_err().name, name, "{value}");
        }
    }
}
