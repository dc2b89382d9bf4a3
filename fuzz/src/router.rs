//! Any request through the whole in-process router (`app(state)`, built once by
//! `wiring::build` on offline ports: keys from memory, the embedded catalog, its tools on a
//! closed loopback port, the façade on, audit and metrics to no sink): the JSON-RPC envelope and MCP
//! dispatch, the façade's `/register`, `/authorize`, `/oauth/callback` and `/token`, the
//! metadata documents and `/health`. No input gets a 500, and a good `tools/list` right
//! after any input still succeeds.
//!
//! The first byte picks the method (bits 0–1), the path (bits 2–4) and whether a valid
//! bearer token is added (bit 5). Then, up to a blank line, header lines `name: value`
//! (a first line starting with `?` is the query); the rest is the body.

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use tower::ServiceExt;

use mcp_oauth_gateway::adapters::aws_clients::AwsClients;
use mcp_oauth_gateway::adapters::catalog_file::{self, FileSource};
use mcp_oauth_gateway::adapters::http_clients::HttpClients;
use mcp_oauth_gateway::config::Config;
use mcp_oauth_gateway::wiring::{Clients, Ports, build};

use crate::fixtures::{self, AUDIENCE, ISSUER, RUNTIME};
use crate::verify::StaticJwks;

const PATHS: [&str; 8] = [
    "/mcp",
    "/register",
    "/authorize",
    "/token",
    "/oauth/callback",
    "/.well-known/oauth-protected-resource/mcp",
    "/.well-known/oauth-authorization-server",
    "/health",
];

static APP: LazyLock<(Router, String)> = LazyLock::new(|| {
    let env = |k: &str| {
        Some(match k {
            "GATEWAY_OIDC_ISSUER" | "GATEWAY_FACADE_ISSUER" => ISSUER.to_owned(),
            "GATEWAY_OIDC_JWKS_URL" => format!("{ISSUER}/jwks"),
            "GATEWAY_RESOURCE_URL" => AUDIENCE.to_owned(),
            "GATEWAY_FACADE_CLIENT_ID" => "fuzz-public".to_owned(),
            "DEMO_TOOLS_URL" => "http://127.0.0.1:9".to_owned(),
            "GATEWAY_AUDIT_STDOUT" | "GATEWAY_METRICS" => "off".to_owned(),
            _ => return None,
        })
    };
    let config = Config::from_lookup(env).expect("fuzz configuration");
    let doc = catalog_file::load(None, &env, &config.outbound).expect("embedded catalog");
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .build();
    let ports = Ports {
        clients: Clients {
            aws: AwsClients::from_sdk(sdk),
            http: HttpClients::new().expect("TLS"),
        },
        fetcher: Arc::new(StaticJwks(fixtures::jwks())),
        source: Arc::new(FileSource::new(None, doc)),
        audit_sinks: Vec::new(),
        deny_source: None,
    };
    let state = RUNTIME.block_on(build(&config, ports)).expect("gateway");
    (mcp_oauth_gateway::app(state), fixtures::good_token())
});

async fn send(app: &Router, req: Request<Body>) -> StatusCode {
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    // Read the body too: a stream can fail after its head.
    let _ = axum::body::to_bytes(resp.into_body(), 8 << 20).await;
    status
}

fn good_list(token: &str) -> Request<Body> {
    Request::post("/mcp")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .body(Body::from(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        ))
        .expect("request")
}

pub fn run(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (app, token) = &*APP;
    let method =
        [Method::POST, Method::GET, Method::DELETE, Method::OPTIONS][usize::from(pick & 3)].clone();
    let mut uri = PATHS[usize::from(pick >> 2 & 7)].to_owned();
    let split = rest.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (&[][..], rest),
    };
    let mut req = Request::builder().method(method);
    for (i, line) in head.split(|&b| b == b'\n').enumerate() {
        if i == 0 && line.first() == Some(&b'?') {
            uri.push_str(&String::from_utf8_lossy(line));
            continue;
        }
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let value = line[colon + 1..]
                .strip_prefix(b" ")
                .unwrap_or(&line[colon + 1..]);
            req = req.header(&line[..colon], value);
        }
    }
    if pick & 32 != 0 {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    // An invalid header name or value, or a query that is no URI: no request to send.
    let Ok(req) = req.uri(uri).body(Body::from(body.to_vec())) else {
        return;
    };
    RUNTIME.block_on(async {
        let status = send(app, req).await;
        assert_ne!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "a 500 for bad input"
        );
        let after = send(app, good_list(token)).await;
        assert_eq!(
            after,
            StatusCode::OK,
            "a good request after any input succeeds"
        );
    });
}
