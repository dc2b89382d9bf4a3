//! The demo tools function (`mcp_oauth_gateway::demo::tools` says what it serves).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    mcp_oauth_gateway::demo::tools::main().await
}
