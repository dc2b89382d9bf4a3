//! Dynamic client registration bodies (`POST /register`) and client metadata documents
//! (CIMD), as `oauth::registration` reads them. An accepted request holds 1 to 10 redirect
//! URIs, each one the redirect rules accept, each matching itself and parsing as a URL; a
//! client name is short and free of control characters. The first byte picks the form
//! (a registration body, or a metadata document at a URL taken from the body's
//! `client_id`).

use mcp_oauth_gateway::oauth::redirect;
use mcp_oauth_gateway::oauth::registration::{
    ClientRequest, MAX_REDIRECT_URIS, is_client_id_url, parse_document, parse_request,
};

fn check(req: &ClientRequest) {
    assert!((1..=MAX_REDIRECT_URIS).contains(&req.redirect_uris.len()));
    for uri in &req.redirect_uris {
        assert!(redirect::validate(uri).is_ok(), "{uri:?} was accepted");
        assert!(redirect::matches(uri, uri), "{uri:?} matches itself");
        assert!(url::Url::parse(uri).is_ok(), "{uri:?} parses as a URL");
    }
    if let Some(name) = &req.client_name {
        assert!(name.chars().count() <= 200 && !name.chars().any(char::is_control));
    }
}

pub fn run(data: &[u8]) {
    let Some((&form, body)) = data.split_first() else {
        return;
    };
    if form % 2 == 0 {
        if let Ok(req) = parse_request(body) {
            check(&req);
        }
        return;
    }
    let url = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|d| d.get("client_id")?.as_str().map(str::to_owned))
        .unwrap_or_default();
    if is_client_id_url(&url) {
        let parsed = url::Url::parse(&url).expect("a client id URL parses");
        assert_eq!(parsed.scheme(), "https");
        assert!(parsed.host_str().is_some_and(|h| !h.is_empty()));
    }
    if let Ok(req) = parse_document(&url, body) {
        check(&req);
    }
}
