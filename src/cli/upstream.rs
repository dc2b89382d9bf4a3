//! `gatewayctl upstream put|get|list|delete`: the upstream MCP servers of the configuration
//! table, one at a time (import/export handle them as part of a whole document). A change
//! reaches every gateway at its next snapshot refresh.

use clap::Subcommand;

use super::output::{Out, pretty};
use super::{CliError, Global, input};
use crate::federation::Upstream;

#[derive(Debug, Subcommand)]
pub enum UpstreamCommand {
    /// Store one upstream from FILE (YAML or JSON; `-` reads standard input).
    ///
    /// `${VAR}` in its URL is filled from the environment. Its prefix may not be another
    /// stored upstream's.
    Put {
        /// The upstream: name, url, prefix, tools, timeoutMs, auth.
        file: String,
    },
    /// Print an upstream's definition (YAML; JSON with --json).
    Get { name: String },
    /// List every upstream.
    List,
    /// Delete an upstream (its tools leave the catalog at the next refresh).
    Delete { name: String },
}

pub async fn run(g: &Global, out: Out, cmd: UpstreamCommand) -> Result<(), CliError> {
    let admin = input::connect(g).await?;
    match cmd {
        UpstreamCommand::Put { file } => {
            let u = admin.put_upstream(&input::upstream(&file)?).await?;
            out.stored(
                &u,
                &format!("stored upstream {} (tools {}___*)", u.name, u.prefix()),
            )
        }
        UpstreamCommand::Get { name } => out.item(&admin.get_upstream(&name).await?),
        UpstreamCommand::List => list(out, &admin.list_upstreams().await?),
        UpstreamCommand::Delete { name } => {
            admin.delete_upstream(&name).await?;
            out.line(&format!("deleted upstream {name}"))
        }
    }
}

/// NAME, PREFIX, URL, the tool patterns taken and how the gateway authenticates (never a
/// secret: only where the credential comes from).
fn list(out: Out, all: &[Upstream]) -> Result<(), CliError> {
    if out.json {
        return out.raw(&pretty(&all));
    }
    if all.is_empty() {
        return out.line("no upstreams");
    }
    let rows = all
        .iter()
        .map(|u| {
            vec![
                u.name.clone(),
                u.prefix().to_owned(),
                u.url.clone(),
                if u.tools.is_empty() {
                    "*".to_owned()
                } else {
                    u.tools.join(",")
                },
                u.auth.as_ref().map_or("-".to_owned(), |a| a.describe()),
            ]
        })
        .collect();
    out.table(&["NAME", "PREFIX", "URL", "TOOLS", "AUTH"], rows)
}
