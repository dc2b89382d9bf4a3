//! `gatewayctl clients list|remove`: the app clients the façade created for registrations
//! (Cognito `CreateUserPoolClient`), as recorded in the policy table. Removing one deletes
//! the Cognito app client first, then the record, so its sign-ins and refreshes stop.

use clap::Subcommand;
use serde_json::json;

use super::output::Out;
use super::{CliError, Global, input};
use crate::adapters::aws_clients::AwsClients;
use crate::adapters::cognito_clients::CognitoClients;
use crate::adapters::registrations::Registrations;

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// List the registered app clients (id, name, redirect URIs, issuer, creation time).
    List,
    /// Delete an app client at Cognito and its record.
    Remove {
        /// The app client id (as `clients list` prints it).
        client_id: String,
    },
}

fn failed(e: crate::oauth::OAuthError) -> CliError {
    CliError::Input(e.to_string())
}

pub async fn run(g: &Global, out: Out, cmd: ClientsCommand) -> Result<(), CliError> {
    let admin = input::connect(g).await?;
    let registrations = Registrations::new(admin.config().clone());
    match cmd {
        ClientsCommand::List => {
            let all = registrations.list().await.map_err(failed)?;
            if out.json {
                return out.raw(&format!("{}\n", json!(all)));
            }
            if all.is_empty() {
                return out.line("no registered clients");
            }
            for r in &all {
                out.line(&format!(
                    "{}\t{}\t{}\t{}\t{}",
                    r.client_id,
                    r.client_name.as_deref().unwrap_or("-"),
                    r.redirect_uris.join(","),
                    r.issuer,
                    r.created_at
                ))?;
            }
            Ok(())
        }
        ClientsCommand::Remove { client_id } => {
            let all = registrations.list().await.map_err(failed)?;
            let Some(r) = all.iter().find(|r| r.client_id == client_id) else {
                return Err(CliError::Input(format!(
                    "no registered client {client_id:?}"
                )));
            };
            let pool = r.issuer.rsplit('/').next().unwrap_or_default().to_owned();
            // The pool's own region (its id begins with it), else the configured one.
            let region = pool.split('_').next().filter(|r| !r.is_empty());
            let aws = AwsClients::load_with(input::endpoint(g)?, region).await;
            let cognito = CognitoClients::new(aws.cognito(), pool);
            let existed = cognito.delete(&client_id).await.map_err(failed)?;
            // Its registration slot goes back under the cap.
            if registrations.remove(&client_id).await.map_err(failed)? {
                crate::oauth::RegistrationLog::release(&registrations)
                    .await
                    .map_err(failed)?;
            }
            out.line(&format!(
                "removed {client_id}{}",
                if existed {
                    ""
                } else {
                    " (the app client was already gone)"
                }
            ))
        }
    }
}
