//! Bad input at every public endpoint, as property tests through the router (issue #16):
//! `/mcp` with any method and headers, `/register`, `/authorize` (GET and the consent POST),
//! `/oauth/callback`, `/token`, the metadata documents and `/health`, the façade on. Whatever
//! arrives, the answer is never a 500 (nor any 5xx but an unreachable identity provider's
//! 502/503/504, which the façade's endpoints and its metadata documents may meet: the test's
//! issuer publishes no metadata); a 4xx from a JSON endpoint is JSON naming its error; and a good `tools/list`
//! right after still answers 200, so no input leaves the gateway broken.

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use proptest::prelude::*;
use tower::ServiceExt;

use crate::support::router::*;

const PATHS: [&str; 10] = [
    "/mcp",
    "/register",
    "/authorize",
    "/oauth/callback",
    "/token",
    "/.well-known/oauth-protected-resource/mcp",
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
    "/.well-known/jwks.json",
    "/health",
];

const HEADERS: [&str; 9] = [
    "content-type",
    "accept",
    "mcp-protocol-version",
    "mcp-session-id",
    "mcp-method",
    "mcp-name",
    "origin",
    "authorization",
    "cookie",
];

/// One runtime and one gateway for every case (building one per case would be the test).
fn fixture() -> &'static (tokio::runtime::Runtime, Gateway, String) {
    static FIXTURE: OnceLock<(tokio::runtime::Runtime, Gateway, String)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let gw = rt.block_on(async {
            let stub = start_stub().await;
            let issuer = stub.base_url.clone();
            gateway_on(
                stub,
                &[
                    ("GATEWAY_FACADE_ISSUER", issuer.as_str()),
                    ("GATEWAY_FACADE_CLIENT_ID", "public-client"),
                    ("GATEWAY_SCOPES_SUPPORTED", "mcp:tools"),
                ],
            )
            .await
        });
        let token = token(&gw.stub);
        (rt, gw, token)
    })
}

/// Bodies that are nearly right as often as they are noise: JSON-RPC, registration
/// metadata and forms, each with bytes changed, cut or appended.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let seeds = prop::sample::select(vec![
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}"#,
        r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"}]"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#,
        r#"{"redirect_uris":["http://127.0.0.1:3334/cb"],"client_name":"c"}"#,
        "grant_type=authorization_code&code=x&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&code_verifier=v&client_id=public-client",
        "grant_type=refresh_token&refresh_token=r&client_id=public-client",
        "",
    ]);
    (
        seeds,
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        any::<u16>(),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(seed, flips, cut, tail)| {
            let mut b = seed.as_bytes().to_vec();
            for (at, byte) in flips {
                if !b.is_empty() {
                    let i = at % b.len();
                    b[i] = byte;
                }
            }
            b.truncate(usize::from(cut) % (b.len() + 1).max(1) + b.len() / 2);
            b.extend(tail);
            b
        })
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("application/json".to_owned()),
        Just("text/event-stream".to_owned()),
        Just("2025-06-18".to_owned()),
        Just("2025-03-26".to_owned()),
        Just("Bearer x.y.z".to_owned()),
        "[ -~]{0,40}",
    ]
}

fn request() -> impl Strategy<Value = (Method, String, Vec<(usize, String)>, bool, Vec<u8>)> {
    (
        prop::sample::select(vec![
            Method::GET,
            Method::POST,
            Method::DELETE,
            Method::PUT,
            Method::OPTIONS,
        ]),
        (0..PATHS.len(), "[a-zA-Z0-9=&%_.~:/?-]{0,60}"),
        prop::collection::vec((0..HEADERS.len(), header_value()), 0..5),
        any::<bool>(),
        body(),
    )
        .prop_map(|(m, (p, query), headers, token, body)| {
            let uri = if query.is_empty() {
                PATHS[p].to_owned()
            } else {
                format!("{}?{}", PATHS[p], query.trim_start_matches('?'))
            };
            (m, uri, headers, token, body)
        })
}

/// The good request that must still answer 200 after any bad one.
fn good_list(token: &str) -> Request<Body> {
    Request::post("/mcp")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .body(Body::from(
            r#"{"jsonrpc":"2.0","id":9,"method":"tools/list"}"#,
        ))
        .unwrap()
}

async fn answer(req: Request<Body>) -> (StatusCode, Option<String>, Vec<u8>) {
    let (_, gw, _) = fixture();
    let resp = gw.raw.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = axum::body::to_bytes(resp.into_body(), 4 << 20)
        .await
        .unwrap()
        .to_vec();
    (status, ctype, body)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn no_input_gets_a_500_or_breaks_the_gateway((method, uri, headers, with_token, body) in request()) {
        let (rt, _, token) = fixture();
        let path = uri.split('?').next().unwrap_or_default().to_owned();
        let mut req = Request::builder().method(method.clone()).uri(&uri);
        for (h, v) in &headers {
            req = req.header(HEADERS[*h], v.as_str());
        }
        if with_token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let Ok(req) = req.body(Body::from(body)) else {
            // Not a request a client can send (a header value the HTTP layer refuses).
            return Ok(());
        };
        let (status, ctype, text) = rt.block_on(answer(req));
        // What the façade answers from the identity provider's metadata.
        let idp_reachable_only = [
            "/authorize",
            "/oauth/callback",
            "/token",
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration",
        ]
        .contains(&path.as_str());
        prop_assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{} {}: {:?}", method, uri, String::from_utf8_lossy(&text));
        prop_assert!(
            !status.is_server_error()
                || (idp_reachable_only && [502, 503, 504].contains(&status.as_u16())),
            "{} {} -> {}", method, uri, status
        );
        if status.is_client_error() && ctype.as_deref().is_some_and(|c| c.starts_with("application/json")) {
            let v: serde_json::Value = serde_json::from_slice(&text)
                .map_err(|e| TestCaseError::fail(format!("{uri}: {status}: not JSON: {e}")))?;
            prop_assert!(v.get("error").is_some(), "{} {}: {}", method, uri, v);
        }
        let (after, _, _) = rt.block_on(answer(good_list(token)));
        prop_assert_eq!(after, StatusCode::OK, "a good request after {} {}", method, uri);
    }
}

/// Replays issue #16's finding: an oversized façade body used to get axum's plain-text
/// "length limit exceeded" (2 MiB) that no OAuth client can read. Now past 64 KiB, declared
/// or streamed without a length, `/register` and `/token` answer a 413 RFC 6749 error
/// document, the consent form a 413 page, and the gateway answers the next request.
#[test]
fn an_oversized_facade_body_gets_a_413_its_client_can_read() {
    let (rt, _, token) = fixture();
    let big = vec![b'a'; 64 * 1024 + 1];
    for path in ["/register", "/token", "/authorize"] {
        for declared in [true, false] {
            let body = if declared {
                Body::from(big.clone())
            } else {
                // No Content-Length: only reading finds the end is too far.
                let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
                    big.chunks(4096).map(|c| Ok(c.to_vec())).collect();
                Body::from_stream(futures_util::stream::iter(chunks))
            };
            let mut req = Request::post(path).header(
                "content-type",
                if path == "/register" {
                    "application/json"
                } else {
                    "application/x-www-form-urlencoded"
                },
            );
            if declared {
                req = req.header("content-length", big.len().to_string());
            }
            let (status, ctype, text) = rt.block_on(answer(req.body(body).unwrap()));
            let text = String::from_utf8_lossy(&text).into_owned();
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {text}");
            if path == "/authorize" {
                assert!(ctype.unwrap().starts_with("text/html"), "{path}");
                assert!(text.contains("invalid_request"), "{path}: {text}");
            } else {
                assert!(ctype.unwrap().starts_with("application/json"), "{path}");
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["error"], "invalid_request", "{path}: {v}");
                assert!(
                    v["error_description"].as_str().unwrap().contains("65536"),
                    "{path}: {v}"
                );
            }
        }
    }
    assert_eq!(rt.block_on(answer(good_list(token))).0, StatusCode::OK);
}
