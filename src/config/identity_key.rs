//! Where the key that signs identity statements comes from: at most one of a key file
//! (local runs), a Secrets Manager secret or a KMS key; an ephemeral key when none is set.

use std::path::PathBuf;
use std::time::Duration;

use super::{ConfigError, bad, number};

/// The identity key's source.
#[derive(Debug, Clone, PartialEq)]
pub enum IdentityKeySource {
    /// Nothing configured: a key that lives as long as the process (local runs only).
    Ephemeral,
    /// `GATEWAY_IDENTITY_KEY_FILE`: a PKCS#8 PEM file, created when missing.
    File(PathBuf),
    /// `GATEWAY_IDENTITY_KEY_SECRET`: a Secrets Manager secret (name or ARN) whose string
    /// is a PKCS#8 PEM P-256 private key.
    Secret(String),
    /// `GATEWAY_IDENTITY_KMS_KEY_ID`: a KMS ECC_NIST_P256 SIGN_VERIFY key (id, ARN or alias).
    Kms(String),
}

/// The identity key settings.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityKey {
    pub source: IdentityKeySource,
    /// `GATEWAY_IDENTITY_KEY_REFRESH_SECS`: how often a secret is re-read for rotations.
    pub refresh: Duration,
}

const FILE: &str = "GATEWAY_IDENTITY_KEY_FILE";
const SECRET: &str = "GATEWAY_IDENTITY_KEY_SECRET";
const KMS: &str = "GATEWAY_IDENTITY_KMS_KEY_ID";

/// Reads the identity key settings; more than one source is an error.
pub fn from_env(env: &impl Fn(&str) -> Option<String>) -> Result<IdentityKey, ConfigError> {
    let set: Vec<(&'static str, String)> = [FILE, SECRET, KMS]
        .into_iter()
        .filter_map(|name| {
            env(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .map(|v| (name, v))
        })
        .collect();
    let refresh = number(env, "GATEWAY_IDENTITY_KEY_REFRESH_SECS", 300u64, 1..=3600)?;
    let source = match set.as_slice() {
        [] => IdentityKeySource::Ephemeral,
        [(FILE, path)] => IdentityKeySource::File(PathBuf::from(path)),
        [(name, id)] => {
            // Names, ARNs, key ids and aliases: printable, no blanks, bounded.
            if id.len() > 2048 || !id.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(bad(name, format!("{id:?} is not a name, id or ARN")));
            }
            if *name == SECRET {
                IdentityKeySource::Secret(id.clone())
            } else {
                IdentityKeySource::Kms(id.clone())
            }
        }
        [(first, _), ..] => {
            let names: Vec<&str> = set.iter().map(|(n, _)| *n).collect();
            return Err(bad(
                first,
                format!(
                    "set only one identity key source, not {}",
                    names.join(" and ")
                ),
            ));
        }
    };
    Ok(IdentityKey {
        source,
        refresh: Duration::from_secs(refresh),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(pairs: &[(&str, &str)]) -> Result<IdentityKey, ConfigError> {
        let m: HashMap<&str, &str> = pairs.iter().copied().collect();
        from_env(&|k: &str| m.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn one_source_at_most() {
        assert_eq!(read(&[]).unwrap().source, IdentityKeySource::Ephemeral);
        assert_eq!(read(&[]).unwrap().refresh, Duration::from_secs(300));
        assert_eq!(
            read(&[(FILE, " /tmp/k.pem ")]).unwrap().source,
            IdentityKeySource::File("/tmp/k.pem".into())
        );
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gw-key-AbCdEf";
        assert_eq!(
            read(&[(SECRET, arn), (FILE, " ")]).unwrap().source,
            IdentityKeySource::Secret(arn.into())
        );
        let k = read(&[(KMS, "alias/gateway-identity")]).unwrap();
        assert_eq!(
            k.source,
            IdentityKeySource::Kms("alias/gateway-identity".into())
        );

        for pairs in [
            &[(FILE, "/k.pem"), (SECRET, "s")][..],
            &[(SECRET, "s"), (KMS, "alias/k")],
            &[(FILE, "/k.pem"), (KMS, "alias/k")],
            &[(FILE, "/k.pem"), (SECRET, "s"), (KMS, "alias/k")],
        ] {
            let e = read(pairs).unwrap_err();
            assert!(
                e.reason.starts_with("set only one identity key source"),
                "{e}"
            );
            for (name, _) in pairs {
                assert!(e.reason.contains(name), "{e}");
            }
        }
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert_eq!(read(&[(SECRET, "two words")]).unwrap_err().name, SECRET);
        assert_eq!(read(&[(KMS, "k\u{7f}")]).unwrap_err().name, KMS);
        let e = read(&[("GATEWAY_IDENTITY_KEY_REFRESH_SECS", "0")]).unwrap_err();
        assert_eq!(e.name, "GATEWAY_IDENTITY_KEY_REFRESH_SECS");
        let k = read(&[("GATEWAY_IDENTITY_KEY_REFRESH_SECS", "2")]).unwrap();
        assert_eq!(k.refresh, Duration::from_secs(2));
    }
}
