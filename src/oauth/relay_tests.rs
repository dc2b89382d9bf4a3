//! Unit tests of the relay over a fake IdP: what reaches the IdP's authorization and token
//! endpoints, and what never leaves the gateway.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::relay::{Facade, FacadeSettings, RegistrationMode};
use super::seal::Sealer;
use super::{IdpGateway, IdpMetadata, OAuthError};

#[derive(Default)]
struct FakeIdp {
    forms: Mutex<Vec<Vec<(String, String)>>>,
}

#[async_trait]
impl IdpGateway for FakeIdp {
    async fn metadata(&self) -> Result<Arc<IdpMetadata>, OAuthError> {
        Ok(Arc::new(
            IdpMetadata::parse(
                "https://idp.example",
                br#"{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/auth","token_endpoint":"https://idp.example/token"}"#,
            )
            .unwrap(),
        ))
    }
    async fn token(
        &self,
        endpoint: &str,
        form: &[(String, String)],
    ) -> Result<(u16, Vec<u8>), OAuthError> {
        assert_eq!(endpoint, "https://idp.example/token");
        self.forms.lock().unwrap().push(form.to_vec());
        Ok((
            200,
            br#"{"access_token":"t","token_type":"Bearer"}"#.to_vec(),
        ))
    }
}

fn facade(forward_resource: bool) -> (Facade, Arc<FakeIdp>) {
    let idp = Arc::new(FakeIdp::default());
    let settings = FacadeSettings {
        base: "https://gw.example".into(),
        idp_issuer: "https://idp.example".into(),
        relay: true,
        registration: RegistrationMode::Static {
            client_id: "public".into(),
        },
        cimd_client_id: None,
        scopes: vec![],
        state_ttl: 600,
        forward_resource,
        max_registrations: 10,
    };
    (
        Facade::new(
            settings,
            Sealer::new(&[1; 32]),
            idp.clone(),
            None,
            None,
            None,
        ),
        idp,
    )
}

fn pairs(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn registered(f: &Facade) -> String {
    let answer = f
        .register(br#"{"redirect_uris":["http://127.0.0.1/cb"]}"#, 1000)
        .await
        .unwrap();
    answer["client_id"].as_str().unwrap().to_owned()
}

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[tokio::test]
async fn authorize_then_callback_round_trips_the_clients_state_and_expires() {
    let (f, _) = facade(true);
    let id = registered(&f).await;
    let q = format!(
        "response_type=code&client_id={id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A999%2Fcb&state=a%20b&code_challenge={CHALLENGE}&code_challenge_method=S256&resource=https%3A%2F%2Fgw.example%2Fmcp"
    );
    let to_idp = pairs(&f.authorize(&q, 1000).await.unwrap());
    assert_eq!(to_idp["client_id"], "public");
    assert_eq!(to_idp["code_challenge"], CHALLENGE);
    assert_eq!(to_idp["redirect_uri"], "https://gw.example/oauth/callback");
    assert_eq!(to_idp["resource"], "https://gw.example/mcp");
    let state =
        url::form_urlencoded::byte_serialize(to_idp["state"].as_bytes()).collect::<String>();
    let back = f.callback(&format!("code=c1&state={state}"), 1500).unwrap();
    assert!(back.starts_with("http://127.0.0.1:999/cb?"), "{back}");
    assert_eq!(pairs(&back)["state"], "a b");
    assert_eq!(pairs(&back)["code"], "c1");
    assert!(matches!(
        f.callback(&format!("code=c1&state={state}"), 1600),
        Err(OAuthError::Expired)
    ));
    // A repeated parameter is refused before anything else.
    assert!(
        f.authorize(&format!("{q}&client_id={id}"), 1000)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_token_request_reaches_the_idp_with_its_client_and_callback_and_the_clients_verifier() {
    let (f, idp) = facade(false);
    let id = registered(&f).await;
    let body = format!(
        "grant_type=authorization_code&client_id={id}&code=c1&code_verifier=v1&redirect_uri=http%3A%2F%2F127.0.0.1%3A5%2Fcb&resource=https%3A%2F%2Fgw.example%2Fmcp"
    );
    let (status, _) = f.token(&body, 1000).await.unwrap();
    assert_eq!(status, 200);
    let sent = idp.forms.lock().unwrap()[0].clone();
    let get = |k: &str| sent.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("client_id"), Some("public"));
    assert_eq!(get("code_verifier"), Some("v1"));
    assert_eq!(
        get("redirect_uri"),
        Some("https://gw.example/oauth/callback")
    );
    assert_eq!(
        get("resource"),
        None,
        "resource is not forwarded when turned off"
    );
    // An unregistered redirect URI or a missing verifier never reaches the IdP.
    for bad in [
        body.replace("127.0.0.1%3A5%2Fcb", "evil.example%2Fcb"),
        body.replace("&code_verifier=v1", ""),
    ] {
        assert!(f.token(&bad, 1000).await.is_err(), "{bad}");
    }
    assert_eq!(idp.forms.lock().unwrap().len(), 1);
}
