//! The authorization-server façade end to end on the standalone server, against the local
//! oidc-provider (login and consent pages): metadata, registration, the loopback relay's
//! refusals and pass-throughs, PKCE held by the client alone, and the TypeScript SDK signing
//! a user in headlessly and stepping up.
//!
//! Needs `MCP_E2E_NODE` and `OIDC_ISSUER`, which `make test` sets; without them these tests
//! fail, they never skip.

use serde_json::{Value, json};

use crate::support::clients::*;
use crate::support::oauth::*;
mod attacks;
mod sdk;

#[tokio::test]
async fn metadata_sends_clients_to_the_facade_and_registration_checks_redirect_uris() {
    let g = facade_gateway(&[]).await;
    let prm: Value = http()
        .get(format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            g.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prm["authorization_servers"], json!([g.base]), "{prm}");

    let idp: Value = http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            required_env("OIDC_ISSUER")
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resp = http()
        .get(format!("{}/.well-known/oauth-authorization-server", g.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let md: Value = resp.json().await.unwrap();
    assert_eq!(md["issuer"], g.base);
    assert_eq!(
        md["authorization_endpoint"],
        format!("{}/authorize", g.base)
    );
    assert_eq!(md["token_endpoint"], format!("{}/token", g.base));
    assert_eq!(md["registration_endpoint"], format!("{}/register", g.base));
    assert_eq!(
        md["jwks_uri"], idp["jwks_uri"],
        "the IdP still signs the tokens"
    );
    assert_eq!(md["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(md["token_endpoint_auth_methods_supported"], json!(["none"]));
    assert!(md.get("client_id_metadata_document_supported").is_none());
    assert!(md.get("introspection_endpoint").is_none(), "{md}");

    for (body, error) in [
        (
            json!({"redirect_uris": ["http://evil.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (json!({"redirect_uris": []}), "invalid_redirect_uri"),
        (
            json!({"redirect_uris": ["https://app.example/cb#x"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb"], "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
        ),
        (json!("not an object"), "invalid_client_metadata"),
    ] {
        let (status, answer) = register(&g.base, body.clone()).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert_eq!(answer["error"], error, "{body} -> {answer}");
    }
    let (status, answer) = register(
        &g.base,
        json!({"redirect_uris": ["http://127.0.0.1:4444/cb", "https://app.example/cb"],
               "client_name": "Test", "token_endpoint_auth_method": "client_secret_basic"}),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["token_endpoint_auth_method"], "none");
    assert_eq!(answer["client_name"], "Test");
    assert_eq!(
        answer["redirect_uris"],
        json!(["http://127.0.0.1:4444/cb", "https://app.example/cb"])
    );
    assert!(answer.get("client_secret").is_none());
    assert!(answer["client_id"].as_str().is_some_and(|c| !c.is_empty()));

    // Native apps' private-use schemes (RFC 8252 §7.1), reverse-domain or short like
    // Cursor's; the consent page says an app on this computer gets the code.
    let cursor = "cursor://anysphere.cursor-retrieval/oauth/callback";
    let (status, answer) = register(
        &g.base,
        json!({"redirect_uris": [cursor, "com.example.app:/oauth2redirect"]}),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    let url = url::Url::parse_with_params(
        &format!("{}/authorize", g.base),
        &[
            ("response_type", "code"),
            ("client_id", answer["client_id"].as_str().unwrap()),
            ("redirect_uri", cursor),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    let page = Browser::default().get(url.as_str()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("an app on this computer") && page.body.contains("cursor:"),
        "{}",
        page.body
    );
    for scheme in [
        "javascript:alert(1)",
        "data:text/html,x",
        "file:///etc/passwd",
    ] {
        let (status, _) = register(&g.base, json!({"redirect_uris": [scheme]})).await;
        assert_eq!(status, 400, "{scheme}");
    }
}

#[tokio::test]
async fn the_relay_never_redirects_elsewhere_and_passes_pkce_and_state_through() {
    let g = facade_gateway(&[]).await;
    let (_, reg) = register(
        &g.base,
        json!({"redirect_uris": ["http://127.0.0.1:4444/cb"]}),
    )
    .await;
    let client_id = reg["client_id"].as_str().unwrap().to_owned();
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let authorize = |client: &str, redirect: &str, pkce: bool| {
        let mut q = vec![
            ("response_type", "code".to_owned()),
            ("client_id", client.to_owned()),
            ("redirect_uri", redirect.to_owned()),
            ("state", "client state/+&=".to_owned()),
            ("scope", "mcp:tools".to_owned()),
            ("resource", g.resource.clone()),
        ];
        if pkce {
            q.push(("code_challenge", challenge.to_owned()));
            q.push(("code_challenge_method", "S256".to_owned()));
        }
        let url = url::Url::parse_with_params(&format!("{}/authorize", g.base), &q).unwrap();
        http().get(url).send()
    };

    // Unregistered redirect URIs and unknown or altered client ids: an error page, never a redirect.
    let mut forged = client_id.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for (client, redirect, status) in [
        (client_id.as_str(), "http://evil.example/cb", 400),
        (client_id.as_str(), "http://127.0.0.1:4444/other", 400),
        (client_id.as_str(), "https://127.0.0.1:4444/cb", 400),
        (
            client_id.as_str(),
            "http://127.0.0.1:4444@evil.example/cb",
            400,
        ),
        (forged.as_str(), "http://127.0.0.1:4444/cb", 401),
        (RELAY_CLIENT, "http://127.0.0.1:4444/cb", 401),
    ] {
        let resp = authorize(client, redirect, true).await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{redirect}");
        assert!(resp.headers().get("location").is_none(), "{redirect}");
    }

    // A registered loopback URI on another port: the gateway's consent page first (no
    // framing, a CSRF cookie scoped to the façade), then, approved, off to the IdP with the
    // client's PKCE challenge unchanged, the relay's own client and callback, a signed state.
    let url = |redirect: &str, pkce: bool| {
        let mut q = vec![
            ("response_type", "code".to_owned()),
            ("client_id", client_id.clone()),
            ("redirect_uri", redirect.to_owned()),
            ("state", "client state/+&=".to_owned()),
            ("scope", "mcp:tools".to_owned()),
            ("resource", g.resource.clone()),
        ];
        if pkce {
            q.push(("code_challenge", challenge.to_owned()));
            q.push(("code_challenge_method", "S256".to_owned()));
        }
        url::Url::parse_with_params(&format!("{}/authorize", g.base), &q)
            .unwrap()
            .to_string()
    };
    let mut browser = Browser::default();
    let page = browser.get(&url("http://127.0.0.1:5555/cb", true)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.location().is_none());
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert!(
        page.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(page.body.contains("this computer"), "{}", page.body);
    let (_, csrf) = &browser.cookies["mcp_gw_csrf"];
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(csrf.contains(attr), "{csrf}");
    }
    assert!(!csrf.contains("Secure"), "plain loopback HTTP: {csrf}");
    let token = consent_token(&page.body).unwrap();
    let resp = browser
        .post_form(
            &format!("{}/authorize", g.base),
            &[("consent_token", &token), ("decision", "approve")],
        )
        .await;
    assert_eq!(resp.status, 302, "{}", resp.body);
    let (_, approval) = &browser.cookies["mcp_gw_consent"];
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(approval.contains(attr), "{approval}");
    }
    let location = resp.location().unwrap();
    assert!(
        location.starts_with(&format!("{}/auth?", required_env("OIDC_ISSUER"))),
        "{location}"
    );
    let q = query(&location);
    assert_eq!(q["code_challenge"], challenge);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["client_id"], RELAY_CLIENT);
    assert_eq!(q["redirect_uri"], format!("{}/oauth/callback", g.base));
    assert_eq!(q["resource"], g.resource);
    assert_eq!(q["scope"], "mcp:tools");
    let relay_state = q["state"].clone();
    assert_ne!(relay_state, "client state/+&=");
    // Approved, this browser goes straight to the IdP next time (on any loopback port).
    let again = browser.get(&url("http://127.0.0.1:6666/cb", true)).await;
    assert_eq!(again.status, 302);
    assert!(again.location().unwrap().contains("/auth?"));
    let second_state = query(&again.location().unwrap())["state"].clone();
    // Each flow leaves with a cookie of its own, which its callback will need.
    let flows: Vec<&String> = browser
        .cookies
        .iter()
        .filter(|(k, _)| k.starts_with("mcp_gw_flow_"))
        .map(|(_, (_, line))| line)
        .collect();
    assert_eq!(flows.len(), 2, "{flows:?}");
    for line in flows {
        for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=600"] {
            assert!(line.contains(attr), "{line}");
        }
    }

    // Without PKCE: a page, even for an approved client (finding 2: nothing before the IdP
    // is redirected).
    let resp = browser.get(&url("http://127.0.0.1:5555/cb", false)).await;
    assert_eq!(resp.status, 400);
    assert!(resp.location().is_none());
    assert!(resp.body.contains("PKCE"), "{}", resp.body);

    // The IdP's answer goes back to the client's redirect URI with its state unchanged, in
    // the browser that left for the IdP; in any other (no flow cookie) it is a page.
    let callback_url = |state: &str, extra: &[(&str, &str)]| {
        let mut q: Vec<(&str, &str)> = vec![("state", state)];
        q.extend_from_slice(extra);
        url::Url::parse_with_params(&format!("{}/oauth/callback", g.base), &q)
            .unwrap()
            .to_string()
    };
    let callback =
        |state: &str, extra: &[(&str, &str)]| http().get(callback_url(state, extra)).send();
    let elsewhere = callback(&relay_state, &[("code", "the-code")])
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 403);
    assert!(elsewhere.headers().get("location").is_none());
    let resp = browser
        .get(&callback_url(&relay_state, &[("code", "the-code")]))
        .await;
    assert_eq!(resp.status, 302, "{}", resp.body);
    let back = query(&resp.location().unwrap());
    // The IdP's code sealed to this flow (client, redirect URI, challenge), never bare.
    assert!(
        back["code"] != "the-code" && back["code"].len() > 40,
        "{back:?}"
    );
    assert_eq!(back["state"], "client state/+&=");
    assert!(
        resp.location()
            .unwrap()
            .starts_with("http://127.0.0.1:5555/cb?")
    );
    // Used, the flow's cookie is gone: the same state does not complete twice.
    let twice = browser
        .get(&callback_url(&relay_state, &[("code", "the-code")]))
        .await;
    assert_eq!(twice.status, 403);
    let resp = browser
        .get(&callback_url(&second_state, &[("error", "access_denied")]))
        .await;
    let back = query(&resp.location().unwrap());
    assert_eq!(back["error"], "access_denied");
    assert!(!back.contains_key("code"));
    // An altered relay state, or none: an error page.
    let (body, tag) = relay_state.split_once('.').unwrap();
    for bad in [
        format!("{body}x.{tag}"),
        format!("{body}.{}", &tag[1..]),
        String::new(),
    ] {
        let resp = callback(&bad, &[("code", "c")]).await.unwrap();
        assert_eq!(resp.status(), 400);
        assert!(resp.headers().get("location").is_none());
    }

    let resp = http()
        .post(format!("{}/token", g.base))
        .form(&[
            ("grant_type", "password"),
            ("client_id", client_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
}

#[tokio::test]
async fn only_the_clients_verifier_redeems_the_code() {
    let g = facade_gateway(&[]).await;
    let report = run_client(
        &required_env("MCP_E2E_NODE"),
        &["tests/clients/oauth_pkce_check.mjs", &g.base, &g.resource],
    );
    assert_eq!(report["stateReturned"], true, "{report}");
    assert_eq!(
        report["wrongVerifier"],
        json!({"status": 400, "error": "invalid_grant"})
    );
    assert_eq!(report["noVerifier"]["status"], 400, "{report}");
    assert_eq!(report["rightVerifier"]["status"], 200, "{report}");
    assert_eq!(report["rightVerifier"]["hasAccessToken"], true);
    assert_eq!(
        report["refreshed"],
        json!({"status": 200, "hasAccessToken": true}),
        "refresh tokens are relayed too"
    );
    assert_eq!(
        report["codeReused"],
        json!({"status": 400, "error": "invalid_grant"})
    );
    // The token is the IdP's, for this gateway: it opens /mcp.
    let token = report["accessToken"].as_str().unwrap();
    let resp = http()
        .post(&g.resource)
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}
