//! Finding 10 of issue #14, with the real provider's tokens: an ID token, signed by the
//! very key the gateway trusts, is refused by its header alone when the issuer is set to
//! require RFC 9068 `typ: at+jwt`, while the provider's access tokens (typed `at+jwt`) still
//! pass. The ID token comes from a real authorization-code flow (PKCE, the provider's
//! development login and consent pages, driven over HTTP).

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

use mcp_oauth_gateway::adapters::jwks_http::HttpJwksFetcher;
use mcp_oauth_gateway::auth::keystore::RefreshPolicy;
use mcp_oauth_gateway::auth::verifier::Verifier;
use mcp_oauth_gateway::auth::{AuthError, IssuerConfig};

use crate::support::idp::{OidcProvider, alice_token, unique_resource};

const CLIENT: &str = "mcp-gateway-relay";
const REDIRECT: &str = "http://127.0.0.1/oauth/callback";

/// A browser without JavaScript: follows redirects by hand, keeps cookies.
struct Browser {
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    fn new() -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            http,
            cookies: BTreeMap::new(),
        }
    }

    fn keep(&mut self, resp: &reqwest::Response) {
        for c in resp.headers().get_all(SET_COOKIE) {
            let pair = c.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies.insert(k.trim().to_owned(), v.to_owned());
            }
        }
    }

    fn jar(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> reqwest::Response {
        let resp = req
            .header(COOKIE, self.jar())
            .send()
            .await
            .expect("request");
        self.keep(&resp);
        resp
    }

    /// GETs `url` and follows redirects on the provider until one leaves it (returned) or a
    /// page answers (its URL and body).
    async fn follow(&mut self, issuer: &str, mut url: String) -> (String, String) {
        for _ in 0..10 {
            let resp = self.send(self.http.get(&url)).await;
            match resp.headers().get(LOCATION) {
                Some(l) => {
                    let l = l.to_str().unwrap();
                    url = if l.starts_with('/') {
                        format!("{issuer}{l}")
                    } else {
                        l.to_owned()
                    };
                    if !url.starts_with(issuer) {
                        return (url, String::new());
                    }
                }
                None => return (url, resp.text().await.unwrap()),
            }
        }
        panic!("too many redirects");
    }
}

/// An ID token (and the access token beside it) for alice through the code flow.
async fn code_flow(issuer: &str, resource: &str) -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes().repeat(2));
    let challenge =
        URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref());
    let mut b = Browser::new();
    let auth = reqwest::Url::parse_with_params(
        &format!("{issuer}/auth"),
        &[
            ("client_id", CLIENT),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid mcp:tools"),
            ("resource", resource),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("nonce", "n-0S6_WzA2Mj"),
        ],
    )
    .unwrap();
    let (mut page, mut html) = b.follow(issuer, auth.to_string()).await;
    for prompt in ["login", "consent"] {
        if !page.contains("/interaction/") {
            break;
        }
        // The development pages post to the form's own action.
        let action = html
            .split("action=\"")
            .nth(1)
            .and_then(|a| a.split('"').next())
            .unwrap_or_else(|| panic!("no form on {page}: {html}"))
            .to_owned();
        let url = if action.starts_with('/') {
            format!("{issuer}{action}")
        } else {
            action
        };
        let form: Vec<(&str, &str)> = match prompt {
            "login" => vec![("prompt", "login"), ("login", "alice"), ("password", "x")],
            _ => vec![("prompt", "consent")],
        };
        let resp = b.send(b.http.post(&url).form(&form)).await;
        let Some(next) = resp.headers().get(LOCATION) else {
            panic!(
                "{prompt} at {url}: {} {}",
                resp.status(),
                resp.text().await.unwrap()
            );
        };
        let next = next.to_str().unwrap().to_owned();
        let next = if next.starts_with('/') {
            format!("{issuer}{next}")
        } else {
            next
        };
        (page, html) = b.follow(issuer, next).await;
    }
    assert!(page.starts_with(REDIRECT), "ended at {page}");
    let code = reqwest::Url::parse(&page)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no code in {page}"));
    let tokens: Value = b
        .http
        .post(format!("{issuer}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = tokens["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{tokens}"));
    (
        id.to_owned(),
        tokens["access_token"].as_str().unwrap().to_owned(),
    )
}

fn header_typ(token: &str) -> Option<String> {
    let h = token.split('.').next().unwrap();
    let v: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap();
    v["typ"].as_str().map(str::to_owned)
}

async fn verifier(issuer: &str, audiences: Vec<String>, require_at_jwt: bool) -> Verifier {
    let mut cfg = IssuerConfig::oidc(issuer.to_owned(), audiences, vec![], None, "groups");
    cfg.require_at_jwt = require_at_jwt;
    let v = Verifier::new(
        vec![cfg],
        Arc::new(
            HttpJwksFetcher::new(
                &mcp_oauth_gateway::adapters::http_clients::HttpClients::new().unwrap(),
            )
            .unwrap(),
        ),
        RefreshPolicy::default(),
        100,
    );
    v.load_all().await;
    v
}

#[tokio::test]
async fn an_id_token_of_the_provider_is_refused_by_its_typ_when_at_jwt_is_required() {
    let resource = unique_resource();
    let idp = OidcProvider::spawn(&[&resource]);
    let (id_token, code_access) = code_flow(&idp.issuer, &resource).await;
    let access = alice_token(&idp.issuer, &resource).await;
    assert_eq!(header_typ(&access).as_deref(), Some("at+jwt"));
    assert_eq!(header_typ(&code_access).as_deref(), Some("at+jwt"));
    assert_ne!(header_typ(&id_token).as_deref(), Some("at+jwt"));
    // Even with the ID token's own audience (the client id) accepted, as a careless
    // audience setting would.
    let audiences = vec![resource.clone(), CLIENT.to_owned()];
    let strict = verifier(&idp.issuer, audiences.clone(), true).await;
    assert_eq!(
        strict.verify(&id_token).await.unwrap_err(),
        AuthError::TokenType
    );
    strict
        .verify(&access)
        .await
        .expect("an at+jwt access token");
    strict
        .verify(&code_access)
        .await
        .expect("the code flow's access token");
    // Without the option the ID token is still refused, by its nonce.
    let lax = verifier(&idp.issuer, audiences, false).await;
    assert_eq!(
        lax.verify(&id_token).await.unwrap_err(),
        AuthError::TokenUse
    );
}
