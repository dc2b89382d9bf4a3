//! `gatewayctl revoke`, `unrevoke` and `revocations`: the deny-list in the configuration
//! table. A revoked user loses every token issued before the revocation (tokens issued
//! later pass: disable the user at the identity provider to stop new logins); a revoked
//! token or app client loses every use. Gateways see a change within their deny-list
//! refresh interval (`GATEWAY_REVOCATION_REFRESH_MS`, 1 s by default).

use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};

use super::output::Out;
use super::{CliError, Global, input};
use crate::auth::revocation::{DenyEntry, DenyKind};

/// Entries outlive the longest access token: Cognito's maximum access-token lifetime
/// is one day.
pub const DEFAULT_TTL_SECS: u64 = 86_400;

#[derive(Debug, Subcommand)]
pub enum RevokeCommand {
    /// Refuse every token of a user issued before now (by `sub` or user name).
    User(Target),
    /// Refuse one token, by its `jti` (or Cognito's `origin_jti`, which covers every access
    /// token refreshed from the same login).
    Token(Target),
    /// Refuse every token of an app client.
    Client(Target),
}

#[derive(Debug, Args)]
pub struct Target {
    /// The user (`sub` or user name), token id, or client id.
    pub value: String,
    /// Only tokens of this issuer (its `iss`, exactly); every trusted issuer when left out.
    #[arg(long)]
    pub issuer: Option<String>,
    /// How long the entry lasts, seconds: at least the longest token lifetime.
    #[arg(long, default_value_t = DEFAULT_TTL_SECS)]
    pub ttl_secs: u64,
    /// Why, for the people who read the list later.
    #[arg(long)]
    pub note: Option<String>,
}

/// Which revocation to remove.
#[derive(Debug, Subcommand)]
pub enum UnrevokeCommand {
    User(Key),
    Token(Key),
    Client(Key),
}

#[derive(Debug, Args)]
pub struct Key {
    pub value: String,
    /// The issuer the revocation was limited to, if it was.
    #[arg(long)]
    pub issuer: Option<String>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn noun(kind: DenyKind) -> &'static str {
    match kind {
        DenyKind::User => "user",
        DenyKind::Token => "token",
        DenyKind::Client => "client",
    }
}

pub async fn revoke(g: &Global, out: Out, cmd: RevokeCommand) -> Result<(), CliError> {
    let (kind, t) = match cmd {
        RevokeCommand::User(t) => (DenyKind::User, t),
        RevokeCommand::Token(t) => (DenyKind::Token, t),
        RevokeCommand::Client(t) => (DenyKind::Client, t),
    };
    if t.value.trim().is_empty() {
        return Err(CliError::Usage(format!("the {} is empty", noun(kind))));
    }
    if t.ttl_secs == 0 {
        return Err(CliError::Usage("--ttl-secs must be at least 1".into()));
    }
    let now = now();
    let entry = DenyEntry {
        kind,
        value: t.value.trim().to_owned(),
        issuer: t.issuer,
        // Tokens issued in this very second are refused too (`iat` has whole seconds).
        not_before: (kind == DenyKind::User).then_some(now + 1),
        expires_at: now + t.ttl_secs,
        revoked_at: Some(crate::adapters::dynamodb_admin::now_rfc3339()),
        note: t.note,
    };
    let admin = input::connect(g).await?;
    admin.revoke(&entry).await?;
    out.stored(
        &entry,
        &format!(
            "revoked {} {} until {} (epoch seconds)",
            noun(kind),
            entry.value,
            entry.expires_at
        ),
    )
}

pub async fn unrevoke(g: &Global, out: Out, cmd: UnrevokeCommand) -> Result<(), CliError> {
    let (kind, k) = match cmd {
        UnrevokeCommand::User(k) => (DenyKind::User, k),
        UnrevokeCommand::Token(k) => (DenyKind::Token, k),
        UnrevokeCommand::Client(k) => (DenyKind::Client, k),
    };
    let admin = input::connect(g).await?;
    if admin.unrevoke(kind, k.issuer.as_deref(), &k.value).await? {
        out.line(&format!("unrevoked {} {}", noun(kind), k.value))
    } else {
        Err(CliError::Input(format!(
            "no revocation of {} {:?}{}",
            noun(kind),
            k.value,
            k.issuer
                .map(|i| format!(" for issuer {i:?}"))
                .unwrap_or_default()
        )))
    }
}

pub async fn list(g: &Global, out: Out) -> Result<(), CliError> {
    let all = input::connect(g).await?.list_revocations().await?;
    if out.json {
        return out.item(&all);
    }
    if all.is_empty() {
        return out.line("no revocations");
    }
    let now = now();
    for e in &all {
        let state = if e.expires_at > now { "" } else { " (expired)" };
        out.line(&format!(
            "{:<6} {}  issuer={}  expires={}{state}",
            noun(e.kind),
            e.value,
            e.issuer.as_deref().unwrap_or("*"),
            e.expires_at
        ))?;
    }
    Ok(())
}
