//! Which secret sources a catalog entry may name: an allow-list, because whoever can write
//! the policy table must not thereby read the gateway's own credentials (finding 4 of issue
//! #14: `{env: AWS_SECRET_ACCESS_KEY}` on a tool pointed at someone else's URL sent them the
//! role's keys; `{secret: <the identity key>}` let them forge identity statements).
//!
//! - `{env: VAR}`: only variables under a configured prefix (`GATEWAY_OUTBOUND_ENV_PREFIX`,
//!   default `TOOL_SECRET_`), and never an `AWS_*` or `GATEWAY_*` variable whatever the
//!   prefix says.
//! - `{secret: ID}`: only secrets whose name lies under a configured prefix
//!   (`GATEWAY_OUTBOUND_SECRET_PREFIX`, default `mcp-gateway/tools/`), given as a name, a
//!   partial ARN or a full ARN; never one of the gateway's own secrets (the identity key,
//!   the façade state key), whatever the prefix says.
//!
//! Pure: the settings come from `config::outbound`; `catalog`, `federation` and
//! `adapters::outbound_auth` ask it.

use super::SecretRef;

/// The default `GATEWAY_OUTBOUND_ENV_PREFIX`.
pub const DEFAULT_ENV_PREFIX: &str = "TOOL_SECRET_";
/// The default `GATEWAY_OUTBOUND_SECRET_PREFIX`.
pub const DEFAULT_SECRET_PREFIX: &str = "mcp-gateway/tools/";
/// Variables no catalog entry may read, whatever the prefix: the AWS credentials and
/// runtime, and the gateway's own settings (the façade state key among them).
const RESERVED_ENV: [&str; 2] = ["AWS_", "GATEWAY_"];

/// Where outbound secrets may come from. Built once from the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSources {
    env_prefix: String,
    secret_prefix: SecretPrefix,
    /// The gateway's own secrets (names or ARNs), never readable by a catalog entry.
    own: Vec<String>,
}

/// A secret-name prefix, bare or scoped to one partition, region and account.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SecretPrefix {
    Name(String),
    /// `arn:P:secretsmanager:R:A:secret:` and the name prefix after it.
    Arn {
        scope: String,
        name: String,
    },
}

/// A secret id taken apart: the ARN's `arn:…:secret:` scope when it is an ARN, and the
/// name part (for a full ARN, the name followed by `-` and six random characters).
struct SecretId<'a> {
    scope: Option<String>,
    name: &'a str,
}

/// The characters of a Secrets Manager secret name.
fn name_chars_ok(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_+=.@-".contains(&b))
}

fn parse_id(id: &str) -> Option<SecretId<'_>> {
    let Some(rest) = id.strip_prefix("arn:") else {
        return name_chars_ok(id).then_some(SecretId {
            scope: None,
            name: id,
        });
    };
    let parts: Vec<&str> = rest.splitn(6, ':').collect();
    let [partition, service, region, account, kind, name] = parts[..] else {
        return None;
    };
    let field_ok =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let ok = field_ok(partition)
        && service == "secretsmanager"
        && field_ok(region)
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && kind == "secret"
        && name_chars_ok(name);
    ok.then(|| SecretId {
        scope: Some(format!(
            "arn:{partition}:secretsmanager:{region}:{account}:secret:"
        )),
        name,
    })
}

fn env_name_ok(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn reserved_env(var: &str) -> bool {
    let upper = var.to_ascii_uppercase();
    RESERVED_ENV.iter().any(|r| upper.starts_with(r))
}

impl Default for SecretSources {
    fn default() -> Self {
        Self::new(DEFAULT_ENV_PREFIX, DEFAULT_SECRET_PREFIX, &[]).expect("valid defaults")
    }
}

impl SecretSources {
    /// The allow-list. `own` names the gateway's own secrets with the setting each comes
    /// from, for the error when one lies under the outbound prefix (the IAM grant that
    /// follows the prefix would then cover it). Each error names the setting at fault.
    pub fn new(
        env_prefix: &str,
        secret_prefix: &str,
        own: &[(&'static str, String)],
    ) -> Result<Self, (&'static str, String)> {
        const ENV: &str = "GATEWAY_OUTBOUND_ENV_PREFIX";
        const SECRET: &str = "GATEWAY_OUTBOUND_SECRET_PREFIX";
        if !env_name_ok(env_prefix) {
            return Err((ENV, "must be a non-empty prefix of A-Z a-z 0-9 _".into()));
        }
        let upper = env_prefix.to_ascii_uppercase();
        if RESERVED_ENV
            .iter()
            .any(|r| upper.starts_with(r) || r.starts_with(&upper))
        {
            return Err((ENV, "may not reach AWS_* or GATEWAY_* variables".into()));
        }
        // A name prefix must end with `/`: a full ARN's name part is the name, `-` and six
        // random characters (no `/`), so a prefix ending in `/` that matches the name part
        // matches the name itself. Without it, `tools-ab` would match the ARN of a secret
        // named `tools` whose random suffix began `-ab`.
        let must_end = "must be a secret-name prefix ending in / (or an ARN ending in one)";
        let secret_prefix = match parse_id(secret_prefix) {
            Some(SecretId { name, .. }) if !name.ends_with('/') => {
                return Err((SECRET, must_end.into()));
            }
            Some(SecretId {
                scope: Some(scope),
                name,
            }) => SecretPrefix::Arn {
                scope,
                name: name.to_owned(),
            },
            Some(SecretId { scope: None, name }) => SecretPrefix::Name(name.to_owned()),
            None => return Err((SECRET, must_end.into())),
        };
        let sources = Self {
            env_prefix: env_prefix.to_owned(),
            secret_prefix,
            own: own.iter().map(|(_, id)| id.clone()).collect(),
        };
        for (setting, id) in own {
            if sources.under_prefix(id) {
                return Err((
                    setting,
                    format!("{id:?} lies under {SECRET}: catalog entries could read it"),
                ));
            }
        }
        Ok(sources)
    }

    /// Whether `id` names a secret under the prefix (the gateway's own excepted or not).
    fn under_prefix(&self, id: &str) -> bool {
        let Some(id) = parse_id(id) else {
            return false;
        };
        let (scope_ok, prefix) = match &self.secret_prefix {
            SecretPrefix::Name(p) => (true, p),
            SecretPrefix::Arn { scope, name } => (id.scope.as_ref() == Some(scope), name),
        };
        scope_ok && id.name.len() > prefix.len() && id.name.starts_with(prefix.as_str())
    }

    /// Whether `id` may be (or be a partial or full ARN of) one of the gateway's secrets.
    /// Deliberately broad: either name part a prefix of the other counts.
    fn is_own(&self, id: &str) -> bool {
        let name = parse_id(id).map_or(id, |p| p.name);
        self.own.iter().any(|own| {
            let own = parse_id(own).map_or(own.as_str(), |p| p.name);
            name.starts_with(own) || own.starts_with(name)
        })
    }

    /// Why `var` may not be read, if it may not.
    pub fn check_env(&self, var: &str) -> Result<(), String> {
        let allowed = env_name_ok(var)
            && var.len() > self.env_prefix.len()
            && var.starts_with(&self.env_prefix)
            && !reserved_env(var);
        if allowed {
            return Ok(());
        }
        Err(format!(
            "{var:?} is not an allowed variable: only names starting with {} \
             (GATEWAY_OUTBOUND_ENV_PREFIX), never AWS_* or GATEWAY_*",
            self.env_prefix
        ))
    }

    /// Why secret `id` may not be read, if it may not.
    pub fn check_secret(&self, id: &str) -> Result<(), String> {
        if self.is_own(id) {
            return Err(format!(
                "{id:?} is not an allowed secret: it is (or may be) one of the gateway's own"
            ));
        }
        if self.under_prefix(id) {
            return Ok(());
        }
        let prefix = match &self.secret_prefix {
            SecretPrefix::Name(p) => p.clone(),
            SecretPrefix::Arn { scope, name } => format!("{scope}{name}"),
        };
        Err(format!(
            "{id:?} is not an allowed secret: only secrets named under {prefix} \
             (GATEWAY_OUTBOUND_SECRET_PREFIX)"
        ))
    }

    /// Why a secret reference is not allowed; the error starts with its field (`env`,
    /// `secret`).
    pub fn check(&self, r: &SecretRef) -> Result<(), String> {
        if let Some(var) = &r.env {
            self.check_env(var).map_err(|e| format!("env: {e}"))?;
        }
        if let Some(id) = &r.secret {
            self.check_secret(id).map_err(|e| format!("secret: {e}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "sources_tests.rs"]
mod tests;
