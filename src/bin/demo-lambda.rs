//! The demo Lambda tools function (`mcp_oauth_gateway::demo::lambda` says what it serves).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    mcp_oauth_gateway::demo::lambda::main().await
}
