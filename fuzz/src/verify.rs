//! Tokens through the whole verifier (compact JWS, header, key lookup, signature, claims,
//! principal) for an OIDC issuer whose keys are served from memory. The first byte picks
//! the form: even, the rest is the token as text; odd, the rest is `header NUL claims`,
//! signed with the issuer's real key, so arbitrary headers and claims get past the
//! signature. Whatever comes in, the answer is a verdict, never a panic, and a token that
//! verifies names the issuer and has a subject.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use mcp_oauth_gateway::auth::keystore::RefreshPolicy;
use mcp_oauth_gateway::auth::verifier::Verifier;
use mcp_oauth_gateway::auth::{FetchError, IssuerConfig, JwksFetcher};

use crate::fixtures::{self, AUDIENCE, ISSUER, RUNTIME};

/// The issuer's JWKS from memory.
pub struct StaticJwks(pub Vec<u8>);

#[async_trait]
impl JwksFetcher for StaticJwks {
    async fn fetch(&self, _url: &str) -> Result<Vec<u8>, FetchError> {
        Ok(self.0.clone())
    }
}

static VERIFIER: LazyLock<Verifier> = LazyLock::new(|| {
    let issuer = IssuerConfig::oidc(
        ISSUER.into(),
        vec![AUDIENCE.into()],
        vec![],
        Some(format!("{ISSUER}/jwks")),
        "groups",
    );
    // No verified-token cache: every input goes the whole way.
    let v = Verifier::new(
        vec![issuer],
        Arc::new(StaticJwks(fixtures::jwks())),
        RefreshPolicy::default(),
        0,
    );
    RUNTIME.block_on(v.load_all());
    v
});

pub fn run(data: &[u8]) {
    let Some((&form, rest)) = data.split_first() else {
        return;
    };
    let token = if form % 2 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let (header, claims) = rest.split_at(split);
        fixtures::signed(header, claims.get(1..).unwrap_or_default())
    };
    if let Ok(verified) = RUNTIME.block_on(VERIFIER.verify(&token)) {
        let p = &verified.principal;
        assert_eq!(p.issuer, ISSUER, "a verified token names its issuer");
        assert!(!p.subject.is_empty(), "a verified token has a subject");
    }
}
