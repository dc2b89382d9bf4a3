//! The statement verifier against statements signed by a real (local) gateway key: the
//! attacks of finding 9 (issue #14) refused, a good statement accepted.

use std::sync::Arc;

use async_trait::async_trait;

use crate::identity_key::LocalKeySigner;
use gateway_core::auth::issuer::KeySource;
use gateway_core::auth::keystore::{FetchError, JwksFetcher, KeyStore, RefreshPolicy};
use gateway_core::catalog::Target;
use gateway_core::identity::verify::*;
use gateway_core::identity::{IdentityClaims, IdentitySigner};

const GATEWAY: &str = "https://gw.example/mcp";

/// Serves one JWKS document, as the gateway's `/.well-known/jwks.json` would.
struct Served(String);

#[async_trait]
impl JwksFetcher for Served {
    async fn fetch(&self, _url: &str) -> Result<Vec<u8>, FetchError> {
        Ok(self.0.clone().into_bytes())
    }
}

fn caller() -> gateway_core::auth::Principal {
    gateway_core::auth::Principal {
        issuer: "https://idp".into(),
        subject: "u-1".into(),
        username: "alice".into(),
        email: None,
        groups: vec!["eng".into()],
        scopes: vec![],
        client_id: None,
        expires_at: 0,
        token_id: None,
    }
}

fn http(url: &str) -> Target {
    serde_json::from_value(serde_json::json!({"kind": "http", "url": url})).unwrap()
}

/// The gateway's published keys, as a verifier fetching its JWKS would hold them.
fn keys_of(signer: &LocalKeySigner) -> Arc<KeyStore> {
    Arc::new(KeyStore::new(
        GATEWAY.into(),
        KeySource::Jwks("https://gw.example/.well-known/jwks.json".into()),
        Arc::new(Served(signer.jwks_json())),
        RefreshPolicy::default(),
    ))
}

async fn setup() -> (LocalKeySigner, StatementVerifier) {
    let signer = LocalKeySigner::ephemeral(GATEWAY.into());
    let keys = keys_of(&signer);
    (signer, StatementVerifier::new(GATEWAY.into(), keys))
}

async fn statement(signer: &LocalKeySigner, target: &Target, tool: &str, now: u64) -> String {
    let caller = caller();
    let claims = IdentityClaims::new(GATEWAY, target.audience(tool), &caller, tool, "r-1", now);
    signer.sign(&claims).await.unwrap()
}

/// Two tools on one host used to share an audience (the origin): a statement minted for
/// one was accepted by the other. Now each verifier accepts its own URL only.
#[tokio::test]
async fn a_statement_for_one_tool_is_refused_by_another_on_the_same_host() {
    let (signer, verifier) = setup().await;
    let (echo, calc) = (
        http("https://tools.example/echo"),
        http("https://tools.example/calculate"),
    );
    let now = gateway_core::auth::verifier::now_secs();
    let for_echo = statement(&signer, &echo, "echo", now).await;
    let ok = verifier
        .verify(&for_echo, "https://tools.example/echo", now)
        .await
        .unwrap();
    assert_eq!((ok.username.as_str(), ok.tool.as_str()), ("alice", "echo"));
    assert_eq!(
        verifier
            .verify(&for_echo, "https://tools.example/calculate", now)
            .await,
        Err(StatementError::Audience)
    );
    assert_eq!(
        calc.audience("calculate"),
        "https://tools.example/calculate"
    );
}

/// A 60 s statement is refused from its `exp` on: no leeway doubles its life.
#[tokio::test]
async fn an_expired_statement_is_refused_without_leeway() {
    let (signer, verifier) = setup().await;
    let echo = http("https://tools.example/echo");
    let minted = 1_900_000_000;
    let s = statement(&signer, &echo, "echo", minted).await;
    let aud = "https://tools.example/echo";
    let last = minted + gateway_core::identity::LIFETIME_SECS - 1;
    assert!(verifier.verify(&s, aud, last).await.is_ok());
    for late in [last + 1, last + 2, last + 60] {
        assert_eq!(
            verifier.verify(&s, aud, late).await,
            Err(StatementError::Time),
            "{late}"
        );
    }
}

#[tokio::test]
async fn other_issuers_keys_and_lifetimes_are_refused() {
    let (signer, verifier) = setup().await;
    let echo = http("https://tools.example/echo");
    let now = gateway_core::auth::verifier::now_secs();
    let s = statement(&signer, &echo, "echo", now).await;
    let other = StatementVerifier::new("https://other/mcp".into(), keys_of(&signer));
    let aud = "https://tools.example/echo";
    assert_eq!(
        other.verify(&s, aud, now).await,
        Err(StatementError::Issuer)
    );
    // Signed by another key (an attacker's gateway): refused.
    let forger = LocalKeySigner::ephemeral(GATEWAY.into());
    let forged = statement(&forger, &echo, "echo", now).await;
    assert!(matches!(
        verifier.verify(&forged, aud, now).await,
        Err(StatementError::Signature(_))
    ));
    let mut long = Statement {
        iss: GATEWAY.into(),
        aud: aud.into(),
        sub: "u".into(),
        username: "u".into(),
        email: None,
        groups: vec![],
        caller_iss: "i".into(),
        tool: "echo".into(),
        iat: now,
        exp: now + 3600,
        jti: "j".into(),
    };
    assert_eq!(check(&long, GATEWAY, aud, now), Err(StatementError::Time));
    long.exp = now + 60;
    assert_eq!(check(&long, GATEWAY, aud, now), Ok(()));
}
