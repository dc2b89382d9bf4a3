//! Unit tests of the gateway's consent and its attacks over the fake IdP: nothing reaches
//! the IdP or the client before this browser approves, a flow completes only in the browser
//! that started it, bad redirect URIs are refused never a panic, pre-approval and the
//! registration token.

use super::OAuthError;
use super::flow::{Authorize, ConsentAnswer};
use super::relay_tests::*;

/// The attack review's finding: an attacker approves its own client in its own browser and
/// forwards the IdP link (relay state included) to the victim, whose IdP session answers at
/// once. The callback now needs the flow cookie of the browser that left for the IdP.
#[tokio::test]
async fn an_idp_link_made_in_one_browser_never_completes_in_another() {
    let (f, _) = facade(true);
    let evil = registered_with(&f, "https://evil.example/cb").await;
    let q = authorize_query(&evil, "https://evil.example/cb");
    let (location, _, flow) = approve_flow(&f, &q, "attacker", 1000).await;
    let state = enc(&pairs(&location)["state"]);
    let callback = format!("code=victims-code&state={state}");
    // The victim's browser: no flow cookie, or another flow's.
    for victim in [
        None,
        Some((flow.name.clone(), "another value".to_owned())),
        Some(("mcp_gw_flow_other".to_owned(), flow.value.clone())),
    ] {
        let jar = |n: &str| {
            victim
                .as_ref()
                .filter(|(name, _)| name == n)
                .map(|(_, v)| v.clone())
        };
        assert!(matches!(
            f.callback(&callback, jar, 1001),
            Err(OAuthError::ForeignFlow)
        ));
    }
}

/// The attack review's finding: a redirect URI the URL parser refuses (port 99999) passed
/// validation and made the deny path and the callback panic, aborting the process.
#[tokio::test]
async fn unparsable_redirect_uris_are_refused_never_a_panic() {
    let (f, _) = facade(true);
    let id = registered(&f).await;
    for redirect in ["http://127.0.0.1:99999/cb", "http://127.0.0.1:0/cb"] {
        let q = authorize_query(&id, redirect);
        assert!(matches!(
            f.authorize(&q, None, "c", 1000).await,
            Err(OAuthError::InvalidRedirectUri(_))
        ));
    }
    for body in [
        br#"{"redirect_uris":["http://127.0.0.1:99999/cb"]}"#.as_slice(),
        br#"{"redirect_uris":["https://[zz]/cb"]}"#,
        br#"{"redirect_uris":["microsoft-edge:https://evil.example/cb"]}"#,
    ] {
        assert!(f.register(body, None, 1).await.is_err());
    }
}

/// Finding 1 (consent half) and finding 2: an unapproved client gets the consent page, and
/// no error before consent is ever a redirect.
#[tokio::test]
async fn nothing_reaches_the_idp_or_the_client_before_this_browser_approves() {
    let (f, _) = facade(true);
    let evil = registered_with(&f, "https://evil.example/cb").await;
    let q = authorize_query(&evil, "https://evil.example/cb");
    let Authorize::AskConsent(prompt) = f.authorize(&q, None, "victim", 1000).await.unwrap() else {
        panic!("an unapproved client went straight to the IdP");
    };
    assert_eq!(prompt.client_name.as_deref(), Some("Test app"));
    assert_eq!(
        prompt.destination,
        super::redirect::Destination::Site("evil.example".into())
    );
    assert_eq!(prompt.scopes, ["mcp:tools"]);
    // The form posted without this browser's CSRF cookie, or with another's: refused.
    for csrf in [None, Some("attacker")] {
        assert!(matches!(
            f.consent(&prompt.form_token, csrf, true, None, 1000).await,
            Err(OAuthError::CrossSiteForm)
        ));
    }
    // Denied: a site elsewhere hears nothing (a page); a loopback client hears access_denied.
    let ConsentAnswer::Denied { location } = f
        .consent(&prompt.form_token, Some("victim"), false, None, 1000)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(location, None);
    let local = registered(&f).await;
    let lq = authorize_query(&local, "http://127.0.0.1:3/cb");
    let Authorize::AskConsent(lp) = f.authorize(&lq, None, "v", 1000).await.unwrap() else {
        panic!()
    };
    let ConsentAnswer::Denied { location } = f
        .consent(&lp.form_token, Some("v"), false, None, 1000)
        .await
        .unwrap()
    else {
        panic!()
    };
    let location = location.unwrap();
    assert!(location.starts_with("http://127.0.0.1:3/cb?"), "{location}");
    assert_eq!(pairs(&location)["error"], "access_denied");
    // Errors that used to be redirected to the client's URI are refused here (a page).
    for bad in [
        q.replace("response_type=code", "response_type=token"),
        q.replace("&code_challenge_method=S256", ""),
        q.replace(CHALLENGE, "short"),
    ] {
        assert!(
            f.authorize(&bad, None, "victim", 1000).await.is_err(),
            "{bad}"
        );
    }
    // Approved once, this browser goes straight on; another browser is asked again.
    let (_, approvals) = approve(&f, &q, "victim", 1000).await;
    assert!(matches!(
        f.authorize(&q, Some(&approvals), "victim", 1001)
            .await
            .unwrap(),
        Authorize::ToIdp { .. }
    ));
    assert!(matches!(
        f.authorize(&q, None, "other", 1001).await.unwrap(),
        Authorize::AskConsent(_)
    ));
    // The approval is for that client alone, and it expires.
    let other = registered_with(&f, "https://evil.example/cb").await;
    let oq = authorize_query(&other, "https://evil.example/cb");
    assert!(matches!(
        f.authorize(&oq, Some(&approvals), "victim", 1001)
            .await
            .unwrap(),
        Authorize::AskConsent(_)
    ));
    assert!(matches!(
        f.authorize(&q, Some(&approvals), "victim", 1000 + 3600)
            .await
            .unwrap(),
        Authorize::AskConsent(_)
    ));
}

#[tokio::test]
async fn only_pre_approved_redirect_uris_skip_the_consent_page() {
    let mut s = settings(true);
    s.preapproved_redirects = vec!["https://claude.ai/api/mcp/auth_callback".into()];
    let (f, _) = facade_with(s);
    let claude = registered_with(&f, "https://claude.ai/api/mcp/auth_callback").await;
    let q = authorize_query(&claude, "https://claude.ai/api/mcp/auth_callback");
    assert!(matches!(
        f.authorize(&q, None, "c", 1000).await.unwrap(),
        Authorize::ToIdp { .. }
    ));
    let evil = registered_with(&f, "https://claude.ai.evil.example/api/mcp/auth_callback").await;
    let q = authorize_query(
        &evil,
        "https://claude.ai.evil.example/api/mcp/auth_callback",
    );
    assert!(matches!(
        f.authorize(&q, None, "c", 1000).await.unwrap(),
        Authorize::AskConsent(_)
    ));
}

#[tokio::test]
async fn an_initial_access_token_gates_registration_when_configured() {
    let mut s = settings(true);
    s.registration_token_sha256 = Some(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"let-me-in")
            .as_ref()
            .to_vec(),
    );
    let (f, _) = facade_with(s);
    let body = br#"{"redirect_uris":["http://127.0.0.1/cb"]}"#;
    for bearer in [None, Some("wrong"), Some("let-me-i")] {
        assert!(matches!(
            f.register(body, bearer, 1).await,
            Err(OAuthError::InvalidToken)
        ));
    }
    assert!(f.register(body, Some("let-me-in"), 1).await.is_ok());
}
