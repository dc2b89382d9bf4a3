//! How the router is served: under the Lambda runtime when `AWS_LAMBDA_RUNTIME_API` is set
//! (real Lambda, `cargo lambda watch`), otherwise as a plain HTTP server (containers,
//! benchmarks, tests). Also sets up logging for both.

pub mod lambda_event;

use std::net::SocketAddr;

use axum::Router;
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Libraries that log whole requests (Lambda events with their `Authorization` header,
/// HTTP traffic with its headers, signed AWS requests with their canonical form and session
/// token, TLS secrets) at debug or trace: capped whatever `RUST_LOG` says, so no log level
/// ever writes a token or a secret. A target matches every module under it.
const CAPPED: [(&str, Level); 28] = [
    ("lambda_runtime", Level::INFO),
    ("lambda_runtime_api_client", Level::INFO),
    ("lambda_http", Level::INFO),
    ("hyper", Level::INFO),
    ("hyper_util", Level::INFO),
    ("hyper_rustls", Level::WARN),
    ("reqwest", Level::INFO),
    ("h2", Level::INFO),
    ("tower", Level::INFO),
    ("tower_http", Level::INFO),
    ("axum", Level::INFO),
    // The AWS SDK: sigv4 traces canonical requests, smithy the requests and responses.
    ("aws_config", Level::INFO),
    ("aws_runtime", Level::INFO),
    ("aws_sigv4", Level::INFO),
    ("aws_credential_types", Level::INFO),
    ("aws_types", Level::INFO),
    ("aws_smithy_runtime", Level::INFO),
    ("aws_smithy_runtime_api", Level::INFO),
    ("aws_smithy_http", Level::INFO),
    ("aws_smithy_http_client", Level::INFO),
    ("aws_smithy_types", Level::INFO),
    ("aws_sdk_", Level::INFO),
    // TLS stacks.
    ("rustls", Level::WARN),
    ("tokio_rustls", Level::WARN),
    ("rustls_platform_verifier", Level::WARN),
    ("webpki", Level::WARN),
    ("aws_lc_rs", Level::WARN),
    ("aws_lc_sys", Level::WARN),
];

fn token_safe_cap() -> Targets {
    CAPPED.iter().fold(
        Targets::new().with_default(Level::TRACE),
        |t, (target, level)| t.with_target(*target, *level),
    )
}

/// The log filter: `RUST_LOG`, else Lambda's own `AWS_LAMBDA_LOG_LEVEL` (set by the
/// function's logging configuration), else `info`.
fn log_filter(env: impl Fn(&str) -> Option<String>) -> EnvFilter {
    env("RUST_LOG")
        .and_then(|v| EnvFilter::try_new(v).ok())
        .or_else(|| {
            let level = env("AWS_LAMBDA_LOG_LEVEL")?.to_ascii_lowercase();
            EnvFilter::try_new(level).ok()
        })
        .unwrap_or_else(|| EnvFilter::new("info"))
}

/// Logs go to stderr: JSON under Lambda (CloudWatch parses it) or when
/// `GATEWAY_LOG_FORMAT=json`, text otherwise; each line inside a request carries its
/// `request` span (the request id). Level: see `log_filter`. Stdout is for the audit
/// records and metrics lines.
pub fn init_tracing() {
    let json = match std::env::var("GATEWAY_LOG_FORMAT") {
        Ok(v) => v.eq_ignore_ascii_case("json"),
        Err(_) => std::env::var("AWS_LAMBDA_FUNCTION_NAME").is_ok(),
    };
    let filter = log_filter(|k| std::env::var(k).ok());
    let cap = token_safe_cap();
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = if json {
        fmt.json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed()
    } else {
        fmt.with_ansi(false).boxed()
    };
    tracing_subscriber::registry()
        .with(fmt.with_filter(filter).with_filter(cap))
        .init();
}

/// True when a Lambda runtime API is there to poll.
pub fn under_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// Serves `router` until the runtime or a signal stops it.
pub async fn serve(router: Router, bind: SocketAddr, name: &str) -> Result<(), String> {
    if under_lambda() {
        tracing::info!(name, "serving under the Lambda runtime");
        return lambda_event::run(router).await.map_err(|e| e.to_string());
    }
    let limits = crate::server::Limits::from_env(|k| std::env::var(k).ok())?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(name, %addr, ?limits, "serving standalone");
    // One plain line that scripts and tests wait for (port 0 picks a free port).
    println!("{name} listening on http://{addr}");
    crate::server::serve(listener, router, limits, shutdown_signal()).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libraries_that_log_raw_requests_are_capped_at_info() {
        let cap = token_safe_cap();
        for target in [
            "lambda_runtime::layers::api_response",
            "lambda_http",
            "hyper::proto",
            "reqwest::connect",
            "aws_sigv4::http_request::sign",
            "aws_smithy_runtime::client::orchestrator",
            "aws_sdk_dynamodb::operation::put_item",
            "aws_sdk_kms",
            "aws_config::imds",
            "tower_http::trace",
        ] {
            assert!(!cap.would_enable(target, &Level::DEBUG), "{target}");
            assert!(!cap.would_enable(target, &Level::TRACE), "{target}");
            assert!(cap.would_enable(target, &Level::INFO), "{target}");
        }
        for tls in ["rustls::client::hs", "aws_lc_rs", "hyper_rustls::connector"] {
            assert!(!cap.would_enable(tls, &Level::INFO), "{tls}");
            assert!(cap.would_enable(tls, &Level::WARN), "{tls}");
        }
        assert!(cap.would_enable("mcp_oauth_gateway::auth", &Level::TRACE));
    }

    #[test]
    fn the_level_comes_from_rust_log_then_lambda() {
        let f = |pairs: &'static [(&'static str, &'static str)]| {
            log_filter(move |k| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            })
            .to_string()
        };
        assert_eq!(f(&[]), "info");
        assert_eq!(f(&[("AWS_LAMBDA_LOG_LEVEL", "DEBUG")]), "debug");
        assert_eq!(
            f(&[("RUST_LOG", "warn"), ("AWS_LAMBDA_LOG_LEVEL", "DEBUG")]),
            "warn"
        );
    }
}
