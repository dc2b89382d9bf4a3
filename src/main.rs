//! The gateway binary: read configuration, build state once, serve the router.

use std::process::ExitCode;

use mcp_oauth_gateway::config::Config;
use mcp_oauth_gateway::{app, runtime, wiring};

#[tokio::main]
async fn main() -> ExitCode {
    // First: the one-time seeding of the crypto RNG runs beside the rest of start-up.
    let _seeding = mcp_oauth_gateway::adapters::identity_key::seed_random_in_background();
    runtime::init_tracing();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration");
            eprintln!("mcp-oauth-gateway: invalid configuration: {e}");
            return ExitCode::FAILURE;
        }
    };
    let state = match wiring::start(&config, &|k| std::env::var(k).ok()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "start-up failed");
            eprintln!("mcp-oauth-gateway: start-up failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime::serve(app(state), config.bind, "mcp-oauth-gateway").await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server stopped");
            ExitCode::FAILURE
        }
    }
}
