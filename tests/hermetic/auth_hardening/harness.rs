//! The harness every test here uses: a gateway trusting the stub as an OIDC issuer and as a
//! Cognito pool, a verifier configured the same way, and the accepted/refused checks that
//! compare the router's opaque 401 with the verifier's reason.

use std::sync::Arc;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use mcp_oauth_gateway::adapters::jwks_http::HttpJwksFetcher;
use mcp_oauth_gateway::auth::keystore::RefreshPolicy;
use mcp_oauth_gateway::auth::verifier::Verifier;
use mcp_oauth_gateway::auth::{AuthError, IssuerConfig};

use crate::support::router;
use crate::support::router::tokens::{AUDIENCE, claims, now};

pub const POOL: &str = "us-east-1_Hardening1";
pub const COGNITO_CLIENT: &str = "cognito-app-client";

pub fn cognito_issuer() -> String {
    format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}")
}

/// A gateway trusting the stub as an OIDC issuer and, with the same JWKS, a Cognito pool;
/// and a verifier configured the same way, to read the reason of each refusal.
pub struct Harness {
    pub gw: router::Gateway,
    pub verifier: Verifier,
}

impl Harness {
    pub async fn new() -> Self {
        let stub = router::start_stub().await;
        let jwks = format!("{}/jwks.json", stub.base_url);
        let issuers = json!([{
            "kind": "cognito", "userPoolId": POOL, "clientIds": [COGNITO_CLIENT], "jwksUrl": jwks,
        }])
        .to_string();
        let gw = router::gateway_on(stub, &[("GATEWAY_ISSUERS", &issuers)]).await;
        let verifier = Verifier::new(
            vec![
                IssuerConfig::oidc(
                    gw.stub.base_url.clone(),
                    vec![AUDIENCE.into()],
                    vec![],
                    Some(jwks.clone()),
                    "groups",
                ),
                IssuerConfig::cognito("us-east-1", POOL, vec![COGNITO_CLIENT.into()], Some(jwks)),
            ],
            Arc::new(
                HttpJwksFetcher::new(
                    &mcp_oauth_gateway::adapters::http_clients::HttpClients::new().unwrap(),
                )
                .unwrap(),
            ),
            RefreshPolicy::default(),
            100,
        );
        verifier.load_all().await;
        Self { gw, verifier }
    }

    pub fn issuer(&self) -> String {
        self.gw.stub.base_url.clone()
    }

    pub fn claims(&self) -> Value {
        claims(&self.issuer())
    }

    /// A good Cognito access token's claims.
    pub fn cognito_claims(&self) -> Value {
        json!({
            "iss": cognito_issuer(), "sub": "9f1c-user", "client_id": COGNITO_CLIENT,
            "token_use": "access", "username": "alice", "cognito:groups": ["engineering"],
            "scope": "aws.cognito.signin.user.admin", "exp": now() + 600, "iat": now(),
            "jti": "jti-c", "origin_jti": "o-jti",
        })
    }

    pub async fn http(&self, token: &str) -> router::Reply {
        let auth = format!("Bearer {token}");
        let body = router::rpc(1, "tools/list", json!({})).to_string();
        router::post(&self.gw.raw, &[("authorization", &auth)], body).await
    }

    /// Accepted by both the router and the verifier.
    pub async fn accepted(&self, token: &str) {
        let (status, _, body) = self.http(token).await;
        assert_eq!(status, StatusCode::OK, "{body:?}");
        self.verifier.verify(token).await.expect("verifier accepts");
    }

    /// Refused with an opaque 401 by the router, for `reason` by the verifier.
    pub async fn refused(&self, token: &str, reason: AuthError) {
        let (status, headers, body) = self.http(token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let challenge = headers["www-authenticate"].to_str().unwrap();
        assert_eq!(
            challenge,
            format!(
                "Bearer resource_metadata=\"https://gateway.test/.well-known/oauth-protected-resource/mcp\", error=\"invalid_token\""
            )
        );
        // Identical for every failure: the client never learns which check failed.
        assert_eq!(
            body.unwrap(),
            json!({"jsonrpc": "2.0", "error": {"code": -32001, "message": "Unauthorized: a valid bearer token is required"}})
        );
        assert!(!challenge.contains(token));
        assert_eq!(self.verifier.verify(token).await.unwrap_err(), reason);
    }
}

pub fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}
