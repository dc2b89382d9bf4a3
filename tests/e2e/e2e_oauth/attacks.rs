//! Issue #14's façade findings replayed as an attacker would, against the standalone
//! gateway and the local oidc-provider: the one-link token theft (confused deputy), CSRF and
//! framing of the consent page, and the open redirect. Each fails on the façade before the
//! consent page existed.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::support::clients::*;
use crate::support::oauth::*;

/// A loopback listener that counts the connections it is offered (it answers none).
pub struct Counting {
    pub url: String,
    pub hits: Arc<AtomicUsize>,
}

pub fn counting_listener(path: &str) -> Counting {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}{path}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(conn);
        }
    });
    Counting { url, hits }
}

/// Finding 1: with an IdP session and the victim's earlier consent for the relay client,
/// an attacker's registration plus one link used to hand the attacker the victim's code.
/// Now the victim's browser stops at the gateway's consent page naming evil.example, the
/// attacker cannot answer that page for the victim, and a denial sends nothing anywhere.
#[tokio::test]
async fn one_link_never_hands_an_attackers_client_the_victims_code() {
    let g = facade_gateway(&[]).await;
    let evil_local = counting_listener("/cb");
    let report: Value = run_client(
        &required_env("MCP_E2E_NODE"),
        &[
            "tests/clients/confused_deputy.mjs",
            &g.base,
            &g.resource,
            &evil_local.url,
        ],
    );
    // The precondition of the attack holds: the victim's browser has an IdP session and
    // consent, so the IdP answers a second sign-in with no form at all.
    assert_eq!(report["firstHasCode"], true, "{report}");
    assert_eq!(report["secondHasCode"], true, "{report}");
    assert_eq!(report["formsOnSecondSignIn"], 0, "{report}");
    assert_eq!(report["consentPagesForLegit"], 1, "{report}");
    // The attacker's link stops at the consent page, which says where the code would go.
    assert_eq!(
        report["evil"],
        json!({"landed": null, "consentPage": true, "frameOptions": "DENY",
               "csp": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
               "namesEvil": true}),
        "{report}"
    );
    assert_eq!(
        report["local"],
        json!({"landed": null, "consentPage": true, "saysThisComputer": true}),
        "{report}"
    );
    assert_eq!(
        evil_local.hits.load(Ordering::SeqCst),
        0,
        "the browser never reached the attacker's loopback redirect URI"
    );
    // The attacker's own consent token, posted for the victim (no cookie cross-site, or
    // the victim's cookies): refused, no redirect.
    for forged in ["forgedCrossSite", "forgedWithVictimCookies"] {
        assert_eq!(
            report[forged],
            json!({"status": 403, "location": null}),
            "{forged}: {report}"
        );
    }
    // The IdP link the attacker got for its own approved flow, opened by the victim: the
    // IdP answers, the gateway's callback refuses (a page), no code reaches evil.example.
    assert_eq!(report["attackerApproved"], 302, "{report}");
    assert_eq!(
        report["forwardedIdpLink"],
        json!({"stoppedAt": "GET /oauth/callback", "status": 403}),
        "{report}"
    );
    // Denied: a page; evil.example hears nothing.
    assert_eq!(
        report["denied"],
        json!({"stoppedAt": "POST /authorize", "status": 403}),
        "{report}"
    );
}

/// Finding 2: `/authorize` used to redirect its errors to any registered URI, an open
/// redirect from the gateway's domain. Every error before consent is a page now.
#[tokio::test]
async fn authorize_errors_are_pages_never_redirects() {
    let g = facade_gateway(&[]).await;
    let (_, reg) = register(
        &g.base,
        json!({"redirect_uris": ["https://evil.example/cb"]}),
    )
    .await;
    let client_id = reg["client_id"].as_str().unwrap();
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    for (response_type, pkce) in [("token", true), ("code", false), ("id_token", true)] {
        let mut q = vec![
            ("client_id", client_id),
            ("redirect_uri", "https://evil.example/cb"),
            ("response_type", response_type),
            ("state", "s"),
        ];
        if pkce {
            q.push(("code_challenge", challenge));
            q.push(("code_challenge_method", "S256"));
        }
        let url = url::Url::parse_with_params(&format!("{}/authorize", g.base), &q).unwrap();
        let resp = http().get(url).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{response_type}");
        assert!(resp.headers().get("location").is_none(), "{response_type}");
        assert_eq!(resp.headers()["x-frame-options"], "DENY");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let body = resp.text().await.unwrap();
        assert!(!body.contains("evil.example"), "{body}");
    }
}

/// The attack review's finding: a consent answer posted from another origin (a page
/// elsewhere auto-submitting a form, with the victim's cookies planted or sent) is refused.
#[tokio::test]
async fn consent_answers_from_another_origin_are_refused() {
    let g = facade_gateway(&[]).await;
    let (_, reg) = register(&g.base, json!({"redirect_uris": ["http://127.0.0.1:9/cb"]})).await;
    let url = url::Url::parse_with_params(
        &format!("{}/authorize", g.base),
        &[
            ("response_type", "code"),
            ("client_id", reg["client_id"].as_str().unwrap()),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    let mut browser = Browser::default();
    let page = browser.get(url.as_str()).await;
    let token = consent_token(&page.body).unwrap();
    let form = [("consent_token", token.as_str()), ("decision", "approve")];
    for (name, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let resp = browser
            .post_form_with(&format!("{}/authorize", g.base), &form, &[(name, value)])
            .await;
        assert_eq!(resp.status, 403, "{name}: {value}");
        assert!(resp.location().is_none());
    }
    // From the page itself, it goes on.
    let resp = browser
        .post_form_with(
            &format!("{}/authorize", g.base),
            &form,
            &[("origin", &g.base), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(resp.status, 302, "{}", resp.body);
}
