//! `gatewayctl`: the admin CLI for the gateway's group policies and tool catalog in
//! DynamoDB. The commands live in `mcp_oauth_gateway::cli`; this file owns the process:
//! argument parsing, the async runtime, and turning every failure into one line on stderr
//! and a non-zero exit (2 for usage errors, 1 for everything else), never a panic trace.

use std::process::ExitCode;

use clap::Parser;

use mcp_oauth_gateway::cli::{self, Cli};

fn main() -> ExitCode {
    // A bug must still end in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        eprintln!("error: internal error: {what}");
    }));
    let args = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
