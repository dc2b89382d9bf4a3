//! Unit tests of the relay over a fake IdP: what reaches the IdP's authorization and token
//! endpoints, and what never leaves the gateway.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::flow::{Authorize, ConsentAnswer, FlowCookie};
use super::relay::{Facade, FacadeSettings, RegistrationMode};
use super::seal::Sealer;
use super::{IdpGateway, IdpMetadata, OAuthError};

#[derive(Default)]
pub(super) struct FakeIdp {
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

pub(super) fn settings(forward_resource: bool) -> FacadeSettings {
    FacadeSettings {
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
        consent_ttl: 3600,
        preapproved_redirects: vec![],
        registration_token_sha256: None,
        unused_registration_ttl: 86_400,
    }
}

pub(super) fn facade_with(settings: FacadeSettings) -> (Facade, Arc<FakeIdp>) {
    let idp = Arc::new(FakeIdp::default());
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

pub(super) fn facade(forward_resource: bool) -> (Facade, Arc<FakeIdp>) {
    facade_with(settings(forward_resource))
}

pub(super) fn pairs(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

pub(super) async fn registered_with(f: &Facade, redirect: &str) -> String {
    let body = serde_json::json!({"redirect_uris": [redirect], "client_name": "Test app"});
    let answer = f
        .register(body.to_string().as_bytes(), None, 1000)
        .await
        .unwrap();
    answer["client_id"].as_str().unwrap().to_owned()
}

pub(super) async fn registered(f: &Facade) -> String {
    registered_with(f, "http://127.0.0.1/cb").await
}

pub(super) const CHALLENGE: &str = "aZ8ADpk4Li4E3rsiYG_49JV05E0lXZsVa6RHpqHuL-Y";
/// The verifier whose S256 is CHALLENGE.
pub(super) const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K1ifvtoJcwH7XUnKtrjPnNHJcE";

pub(super) fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub(super) fn authorize_query(id: &str, redirect: &str) -> String {
    format!(
        "response_type=code&client_id={id}&redirect_uri={}&state=a%20b&code_challenge={CHALLENGE}&code_challenge_method=S256&resource=https%3A%2F%2Fgw.example%2Fmcp&scope=mcp%3Atools",
        enc(redirect)
    )
}

/// Approves in one browser (CSRF cookie `csrf`): the IdP URL and the approvals cookie.
pub(super) async fn approve(f: &Facade, q: &str, csrf: &str, now: u64) -> (String, String) {
    let (location, approvals, _) = approve_flow(f, q, csrf, now).await;
    (location, approvals)
}

/// As `approve`, with the flow cookie the browser got.
pub(super) async fn approve_flow(
    f: &Facade,
    q: &str,
    csrf: &str,
    now: u64,
) -> (String, String, FlowCookie) {
    let Authorize::AskConsent(prompt) = f.authorize(q, None, csrf, now).await.unwrap() else {
        panic!("consent was not asked");
    };
    match f
        .consent(&prompt.form_token, Some(csrf), true, None, now)
        .await
        .unwrap()
    {
        ConsentAnswer::Approved {
            location,
            approvals,
            flow,
        } => (location, approvals, flow),
        other => panic!("{other:?}"),
    }
}
#[tokio::test]
async fn authorize_then_callback_round_trips_the_clients_state_and_expires() {
    let (f, _) = facade(true);
    let id = registered(&f).await;
    let q = authorize_query(&id, "http://127.0.0.1:999/cb");
    let (location, _, flow) = approve_flow(&f, &q, "c", 1000).await;
    let jar = |name: &str| (name == flow.name).then(|| flow.value.clone());
    let to_idp = pairs(&location);
    assert_eq!(to_idp["client_id"], "public");
    assert_eq!(to_idp["code_challenge"], CHALLENGE);
    assert_eq!(to_idp["redirect_uri"], "https://gw.example/oauth/callback");
    assert_eq!(to_idp["resource"], "https://gw.example/mcp");
    let state = enc(&to_idp["state"]);
    let (back, cleared) = f
        .callback(&format!("code=c1&state={state}"), jar, 1500)
        .unwrap();
    assert_eq!(cleared, flow.name);
    assert!(back.starts_with("http://127.0.0.1:999/cb?"), "{back}");
    assert_eq!(pairs(&back)["state"], "a b");
    // The code the client gets is the IdP's sealed to this flow, never the bare one.
    assert_ne!(pairs(&back)["code"], "c1");
    assert!(matches!(
        f.callback(&format!("code=c1&state={state}"), jar, 1600),
        Err(OAuthError::Expired)
    ));
    // A repeated parameter is refused before anything else.
    assert!(
        f.authorize(&format!("{q}&client_id={id}"), None, "c", 1000)
            .await
            .is_err()
    );
}

/// A code the client would get back for `q` (approved in browser "c").
pub(super) async fn relayed_code(f: &Facade, q: &str, idp_code: &str) -> String {
    let (location, _, flow) = approve_flow(f, q, "c", 1000).await;
    let state = enc(&pairs(&location)["state"]);
    let (back, _) = f
        .callback(
            &format!("code={idp_code}&state={state}"),
            |n: &str| (n == flow.name).then(|| flow.value.clone()),
            1001,
        )
        .unwrap();
    pairs(&back)["code"].clone()
}

#[tokio::test]
async fn the_token_request_reaches_the_idp_with_its_client_and_callback_and_the_clients_verifier() {
    let (f, idp) = facade(false);
    let id = registered(&f).await;
    let code = relayed_code(&f, &authorize_query(&id, "http://127.0.0.1:5/cb"), "c1").await;
    let body = format!(
        "grant_type=authorization_code&client_id={}&code={}&code_verifier={VERIFIER}&redirect_uri=http%3A%2F%2F127.0.0.1%3A5%2Fcb&resource=https%3A%2F%2Fgw.example%2Fmcp",
        enc(&id),
        enc(&code)
    );
    let (status, _) = f.token(&body, 1002).await.unwrap();
    assert_eq!(status, 200);
    let sent = idp.forms.lock().unwrap()[0].clone();
    let get = |k: &str| sent.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("client_id"), Some("public"));
    assert_eq!(get("code"), Some("c1"), "the IdP gets its own code back");
    assert_eq!(get("code_verifier"), Some(VERIFIER));
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
        body.replace(&format!("&code_verifier={VERIFIER}"), ""),
    ] {
        assert!(f.token(&bad, 1002).await.is_err(), "{bad}");
    }
    assert_eq!(idp.forms.lock().unwrap().len(), 1);
}

/// Finding 1 (code half): a code that came back for one client, redirect URI or PKCE
/// challenge is refused at `/token` for any other (RFC 6749 §4.1.3), before the IdP.
#[tokio::test]
async fn a_code_is_redeemed_only_by_the_flow_it_came_back_for() {
    let (f, idp) = facade(true);
    let victim = registered_with(&f, "http://127.0.0.1/cb").await;
    let attacker = registered_with(&f, "http://127.0.0.1/cb").await;
    let code = relayed_code(&f, &authorize_query(&victim, "http://127.0.0.1:7/cb"), "c9").await;
    let token = |client: &str, redirect: &str, verifier: &str, code: &str| {
        format!(
            "grant_type=authorization_code&client_id={}&code={}&code_verifier={verifier}&redirect_uri={}",
            enc(client),
            enc(code),
            enc(redirect)
        )
    };
    for (body, why) in [
        (
            token(&attacker, "http://127.0.0.1:7/cb", VERIFIER, &code),
            "another client",
        ),
        (
            token(&victim, "http://127.0.0.1:8/cb", VERIFIER, &code),
            "another redirect URI",
        ),
        (
            token(&victim, "http://127.0.0.1:7/cb", &"x".repeat(43), &code),
            "another verifier",
        ),
        (
            token(&victim, "http://127.0.0.1:7/cb", VERIFIER, "c9"),
            "the bare IdP code",
        ),
    ] {
        let e = f.token(&body, 1002).await.unwrap_err();
        assert!(matches!(e, OAuthError::InvalidGrant(_)), "{why}: {e:?}");
    }
    assert!(
        idp.forms.lock().unwrap().is_empty(),
        "nothing reached the IdP"
    );
    let ok = token(&victim, "http://127.0.0.1:7/cb", VERIFIER, &code);
    assert_eq!(f.token(&ok, 1002).await.unwrap().0, 200);
    // Sealed codes expire with the relay state.
    assert!(matches!(
        f.token(&ok, 1001 + 600).await,
        Err(OAuthError::InvalidGrant(_))
    ));
}
