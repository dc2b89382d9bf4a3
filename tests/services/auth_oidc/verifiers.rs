//! The helpers the tests here share: a verifier trusting an issuer through OpenID
//! discovery, a resource registered at the shared provider, and reading a principal or a
//! token's `kid`.

use std::sync::Arc;

use mcp_oauth_gateway::adapters::jwks_http::HttpJwksFetcher;
use mcp_oauth_gateway::auth::keystore::RefreshPolicy;
use mcp_oauth_gateway::auth::{IssuerConfig, Principal, Verifier};

use crate::support::idp::{jwt_header, register_resource, required_env, unique_resource};

/// A verifier trusting `issuer` for `audience`, keys through OpenID discovery, loaded.
/// Default refresh policy: an unknown kid may trigger one refetch per 10 s.
pub async fn verifier(issuer: &str, audience: &str, groups_claim: &str) -> Verifier {
    let v = Verifier::new(
        vec![IssuerConfig::oidc(
            issuer.to_owned(),
            vec![audience.to_owned()],
            vec![],
            None,
            groups_claim,
        )],
        Arc::new(
            HttpJwksFetcher::new(
                &mcp_oauth_gateway::adapters::http_clients::HttpClients::new().unwrap(),
            )
            .expect("HTTP client"),
        ),
        RefreshPolicy::default(),
        100,
    );
    v.load_all().await;
    v
}

/// The shared provider with one more resource registered on it.
pub async fn shared_with_resource() -> (String, String) {
    let issuer = required_env("OIDC_ISSUER");
    let resource = unique_resource();
    register_resource(&issuer, &resource).await;
    (issuer, resource)
}

pub async fn principal(v: &Verifier, token: &str) -> Arc<Principal> {
    v.verify(token)
        .await
        .unwrap_or_else(|e| panic!("token refused: {e:?}"))
        .principal
}

pub fn kid(token: &str) -> String {
    jwt_header(token)["kid"]
        .as_str()
        .expect("the provider's tokens carry a kid")
        .to_owned()
}
