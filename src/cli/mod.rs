//! `gatewayctl`, the admin CLI: its commands and options (clap) and what each one does.
//! Reading input and connecting live in `input`, printing in `output`; every failure is a
//! `CliError`, which the binary prints as one line on stderr with a non-zero exit.

pub mod audit;
mod audit_verify;
mod clients;
mod identity_key;
mod input;
mod output;
pub mod revoke;
mod upstream;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::adapters::dynamodb_admin::{AdminError, TableState};
use crate::policy::{Caller, ConfigDocument};
use output::Out;

/// Administer the MCP gateway's group policies, tool catalog and revocations in DynamoDB.
#[derive(Debug, Parser)]
#[command(
    name = "gatewayctl",
    version,
    after_help = "Credentials come from the usual AWS chain (environment, profile, SSO, instance role). \
                  For a local emulator such as moto, set --endpoint-url (or AWS_ENDPOINT_URL)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct Global {
    /// The DynamoDB table of policies and tools.
    #[arg(
        long,
        global = true,
        env = "GATEWAY_POLICY_TABLE",
        hide_env_values = true
    )]
    pub table: Option<String>,
    /// DynamoDB endpoint, for a local emulator (moto): http://127.0.0.1:5000.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", hide_env_values = true)]
    pub endpoint_url: Option<String>,
    /// AWS region of the table.
    #[arg(long, global = true, env = "AWS_REGION", hide_env_values = true)]
    pub region: Option<String>,
    /// Print JSON instead of text (get, list, put, import, export, validate, explain, revoke,
    /// revocations).
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the configuration table.
    #[command(subcommand)]
    Table(TableCommand),
    /// Put, get, list or delete a group policy.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The audit table: create it, query records, verify their chains.
    Audit(audit::AuditArgs),
    /// Put, get, list or delete a tool definition.
    #[command(subcommand)]
    Tool(ToolCommand),
    /// Put, get, list or delete an upstream MCP server (its tools join as `<prefix>___<tool>`).
    #[command(subcommand)]
    Upstream(upstream::UpstreamCommand),
    /// List or remove the app clients the authorization-server façade registered.
    #[command(subcommand)]
    Clients(clients::ClientsCommand),
    /// Make the table match a configuration document; report what changed.
    ///
    /// The whole document is validated before anything is written, and only items that
    /// differ (ignoring versions and times) are written, so importing twice changes nothing
    /// the second time. `${VAR}` in a tool's target URL is filled from the environment.
    Import {
        /// The YAML (or JSON) document: `policies:` and `tools:`.
        file: PathBuf,
        /// Also delete the policies and tools the document does not name.
        #[arg(long)]
        prune: bool,
        /// Report what would change, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the whole stored configuration as one YAML document.
    Export {
        /// Write it to FILE instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Check a configuration document without touching DynamoDB.
    ///
    /// Unset `${VAR}` in target URLs are checked with a placeholder and named in a warning
    /// (import needs them set).
    Validate {
        /// The YAML (or JSON) document.
        file: PathBuf,
    },
    /// Create or rotate the gateway's identity-statement key in Secrets Manager.
    #[command(subcommand)]
    IdentityKey(identity_key::IdentityKeyCommand),
    /// Revoke a user, a token or an app client (the deny-list).
    #[command(subcommand)]
    Revoke(revoke::RevokeCommand),
    /// Remove a revocation.
    #[command(subcommand)]
    Unrevoke(revoke::UnrevokeCommand),
    /// List the revocations (the deny-list).
    Revocations,
    /// Show the decision for a caller and a tool, and the rule that made it.
    Explain {
        /// The caller's groups, comma-separated (none: only the every-user policy applies).
        #[arg(
            long,
            value_name = "GROUPS",
            default_value = "",
            hide_default_value = true
        )]
        groups: String,
        /// The token's scopes, comma- or space-separated.
        #[arg(
            long,
            value_name = "SCOPES",
            default_value = "",
            hide_default_value = true
        )]
        scopes: String,
        /// The tool name.
        #[arg(long)]
        tool: String,
        /// Decide on this document instead of the table (no DynamoDB needed).
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TableCommand {
    /// Create the table (pk, sk; on-demand). An existing table with those keys is fine.
    Create,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Store one group policy from FILE (YAML or JSON; `-` reads standard input).
    ///
    /// The stored version becomes the previous one plus 1. A `version` in the input must be
    /// the stored one (so an edit of a stale copy is refused); leave it out to overwrite.
    Put {
        /// The policy: group, description, allow, deny, scopes.
        file: String,
    },
    /// Print a group's policy (YAML; JSON with --json).
    Get { group: String },
    /// List every policy.
    List,
    /// Delete a group's policy.
    Delete { group: String },
}

#[derive(Debug, Subcommand)]
pub enum ToolCommand {
    /// Store one tool definition from FILE (YAML or JSON; `-` reads standard input).
    ///
    /// `${VAR}` in the target URL is filled from the environment.
    Put {
        /// The tool: name, title, description, inputSchema, outputSchema, annotations, target.
        file: String,
    },
    /// Print a tool's definition (YAML; JSON with --json).
    Get { name: String },
    /// List every tool.
    List,
    /// Delete a tool.
    Delete { name: String },
}

/// Why a command failed: one line for stderr.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Admin(#[from] AdminError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Input(String),
    #[error("{path}: {error}")]
    Write { path: String, error: std::io::Error },
}

impl CliError {
    /// 2 for a command line that cannot work (as clap does), 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// Runs one command.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let endpoint = cli.global.endpoint_url.clone();
    run_command(cli).await.map_err(|e| match (e, endpoint) {
        (CliError::Admin(e @ AdminError::Unreachable { .. }), Some(url)) => {
            CliError::Input(format!("{e} [endpoint {url}]"))
        }
        (e, _) => e,
    })
}

async fn run_command(cli: Cli) -> Result<(), CliError> {
    let g = &cli.global;
    let out = Out { json: g.json };
    match cli.command {
        Command::Table(TableCommand::Create) => {
            let admin = input::connect(g).await?;
            let state = admin.create_table().await?;
            let verb = match state {
                TableState::Created => "created",
                TableState::AlreadyExisted => "already exists",
            };
            out.line(&format!("table {} {verb}", admin.config().table()))
        }
        Command::Policy(cmd) => policy(g, out, cmd).await,
        Command::Audit(args) => audit::run(g, out, args).await,
        Command::Revoke(cmd) => revoke::revoke(g, out, cmd).await,
        Command::Unrevoke(cmd) => revoke::unrevoke(g, out, cmd).await,
        Command::Revocations => revoke::list(g, out).await,
        Command::Tool(cmd) => tool(g, out, cmd).await,
        Command::Upstream(cmd) => upstream::run(g, out, cmd).await,
        Command::IdentityKey(cmd) => identity_key::run(g, out, cmd).await,
        Command::Clients(cmd) => clients::run(g, out, cmd).await,
        Command::Import {
            file,
            prune,
            dry_run,
        } => {
            let doc = input::document(&file)?;
            let admin = input::connect(g).await?;
            let report = if dry_run {
                admin.plan_import(&doc, prune).await?
            } else {
                admin.import(&doc, prune).await?
            };
            out.import(&report, dry_run)
        }
        Command::Export { output } => {
            let doc = input::connect(g).await?.export().await?;
            let text = out.document(&doc);
            match output {
                None => out.raw(&text),
                Some(path) => {
                    std::fs::write(&path, text).map_err(|error| CliError::Write {
                        path: path.display().to_string(),
                        error,
                    })?;
                    eprintln!(
                        "exported {} policies and {} tools to {}",
                        doc.policies.len(),
                        doc.tools.len(),
                        path.display()
                    );
                    Ok(())
                }
            }
        }
        Command::Validate { file } => {
            let (doc, missing) = input::document_for_check(&file)?;
            for var in &missing {
                eprintln!(
                    "warning: {var} is not set; target URLs using it were checked with a placeholder (import needs it)"
                );
            }
            out.validated(&file, &doc)
        }
        Command::Explain {
            groups,
            scopes,
            tool,
            file,
        } => {
            let (doc, source) = match &file {
                Some(f) => (
                    input::document_for_check(f)?.0,
                    format!("file {}", f.display()),
                ),
                None => {
                    let admin = input::connect(g).await?;
                    let source = format!("table {}", admin.config().table());
                    (admin.export().await?, source)
                }
            };
            explain(out, doc, &source, &groups, &scopes, &tool)
        }
    }
}

async fn policy(g: &Global, out: Out, cmd: PolicyCommand) -> Result<(), CliError> {
    let admin = input::connect(g).await?;
    match cmd {
        PolicyCommand::Put { file } => {
            let p = admin.put_policy(&input::policy(&file)?).await?;
            out.stored(
                &p,
                &format!(
                    "policy {} is now version {}",
                    p.group,
                    p.version.unwrap_or(0)
                ),
            )
        }
        PolicyCommand::Get { group } => out.item(&admin.get_policy(&group).await?),
        PolicyCommand::List => out.policies(&admin.list_policies().await?),
        PolicyCommand::Delete { group } => {
            admin.delete_policy(&group).await?;
            out.line(&format!("deleted policy {group}"))
        }
    }
}

async fn tool(g: &Global, out: Out, cmd: ToolCommand) -> Result<(), CliError> {
    let admin = input::connect(g).await?;
    match cmd {
        ToolCommand::Put { file } => {
            let t = admin.put_tool(&input::tool(&file)?).await?;
            out.stored(&t, &format!("stored tool {}", t.name))
        }
        ToolCommand::Get { name } => out.item(&admin.get_tool(&name).await?),
        ToolCommand::List => out.tools(&admin.list_tools().await?),
        ToolCommand::Delete { name } => {
            admin.delete_tool(&name).await?;
            out.line(&format!("deleted tool {name}"))
        }
    }
}

fn explain(
    out: Out,
    doc: ConfigDocument,
    source: &str,
    groups: &str,
    scopes: &str,
    tool: &str,
) -> Result<(), CliError> {
    let doc_upstreams = doc.upstreams.clone();
    let (catalog, policies) = doc
        .compile()
        .map_err(|e| CliError::Input(format!("{source}: {e}")))?;
    let groups: Vec<String> = groups
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect();
    let scopes = crate::config::list(scopes);
    // A federated tool is not in the document: its upstream's prefix names it.
    let upstream = match catalog.get(tool) {
        Some(_) => None,
        None => doc_upstreams.iter().find_map(|u| {
            let prefix = format!("{}{}", u.prefix(), crate::federation::SEPARATOR);
            tool.strip_prefix(&prefix)
                .filter(|rest| !rest.is_empty())
                .map(|_| u.name.as_str())
        }),
    };
    let decision = (catalog.get(tool).is_some() || upstream.is_some())
        .then(|| Caller::new(&policies, &groups, &scopes).decide(tool));
    out.explain(&output::Explained {
        source,
        tool,
        groups: &groups,
        scopes: &scopes,
        decision: decision.as_ref(),
        upstream,
    })
}
