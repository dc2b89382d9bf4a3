//! The façade's browser pages: the consent page (who asks, where the browser goes next,
//! which scopes; approve or deny) and the error page every `/authorize` and callback error
//! is shown on instead of a redirect. Every value is HTML-escaped; the pages load nothing,
//! run no script and refuse to be framed.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::oauth::ConsentPrompt;
use crate::oauth::redirect::Destination;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Headers every façade page carries: no framing (clickjacking of the approve button), no
/// script, no caching, no referrer (the URL holds the request).
pub fn page_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;\
padding:0 1rem;line-height:1.5}code{word-break:break-all}.warn{color:#a40000}\
button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.8rem}";

fn html(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>{STYLE}</style></head><body>{body}</body></html>",
        escape(title)
    )
}

fn destination_line(d: &Destination, uri: &str) -> String {
    let uri = escape(uri);
    match d {
        Destination::ThisMachine(host) => format!(
            "<p>After you sign in, your browser goes back to a program on <b>this computer</b> \
             (<code>{}</code>): <code>{uri}</code></p>",
            escape(host)
        ),
        Destination::App(scheme) => format!(
            "<p class=\"warn\">After you sign in, your browser hands the result to <b>an app on \
             this computer</b> registered for <code>{}:</code> links: <code>{uri}</code>. Approve \
             only if you installed that app and started this sign-in from it.</p>",
            escape(scheme)
        ),
        Destination::Site(host) => format!(
            "<p class=\"warn\">After you sign in, your browser goes to <b>another website, \
             {}</b>: <code>{uri}</code>. Approve only if you started this from that site.</p>",
            escape(host)
        ),
    }
}

/// The consent page: a single form posting back to `/authorize` with its sealed token.
pub fn consent(base: &str, prompt: &ConsentPrompt) -> Response {
    let name = prompt
        .client_name
        .as_deref()
        .map_or("An unnamed application".to_owned(), |n| {
            format!("<b>{}</b>", escape(n))
        });
    let vouched = match &prompt.client_url {
        Some(url) => format!("<p>It is described by <code>{}</code>.</p>", escape(url)),
        None => "<p>The name is the application's own claim; this gateway has not verified it.</p>"
            .to_owned(),
    };
    let scopes = if prompt.scopes.is_empty() {
        "<p>It asks for the default access.</p>".to_owned()
    } else {
        let items: String = prompt
            .scopes
            .iter()
            .map(|s| format!("<li><code>{}</code></li>", escape(s)))
            .collect();
        format!("<p>It asks for:</p><ul>{items}</ul>")
    };
    let body = format!(
        "<h1>Allow access to the MCP gateway?</h1>\
         <p>{name} wants to sign you in to <code>{gateway}</code> and use its tools as you.</p>\
         {vouched}{dest}{scopes}\
         <form method=\"post\" action=\"{action}\" data-gateway-consent=\"1\">\
         <input type=\"hidden\" name=\"consent_token\" value=\"{token}\">\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
         </form>",
        gateway = escape(base),
        dest = destination_line(&prompt.destination, &prompt.redirect_uri),
        action = escape(&format!("{base}/authorize")),
        token = escape(&prompt.form_token),
    );
    let mut resp = (StatusCode::OK, html("Allow access?", &body)).into_response();
    page_headers(resp.headers_mut());
    resp
}

/// A page saying why the sign-in stopped: shown where an error must not be redirected.
pub fn error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = format!(
        "<h1>The sign-in cannot go on</h1><p>{}</p><p><code>{}</code></p>\
         <p>You can close this window and start again from your application.</p>",
        escape(description),
        escape(error)
    );
    let mut resp = (status, html("Sign-in stopped", &body)).into_response();
    page_headers(resp.headers_mut());
    resp
}

/// The page after the user denied access to a client that is not on this machine.
pub fn denied() -> Response {
    error(
        StatusCode::FORBIDDEN,
        "access_denied",
        "You denied this application access. Nothing was shared with it.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_on_the_consent_page_is_escaped() {
        let prompt = ConsentPrompt {
            client_name: Some("<script>alert(1)</script>".into()),
            client_url: None,
            redirect_uri: "https://evil.example/cb?a=\"><img src=x>".into(),
            destination: Destination::Site("evil.example".into()),
            scopes: vec!["<b>".into()],
            form_token: "t\"><x".into(),
        };
        let resp = consent("https://gw.example", &prompt);
        assert_eq!(resp.headers()["x-frame-options"], "DENY");
        assert!(
            resp.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        let body =
            futures_util::FutureExt::now_or_never(axum::body::to_bytes(resp.into_body(), 1 << 20))
                .unwrap()
                .unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(!body.contains("<script>") && !body.contains("<img"));
        assert!(body.contains("<code>&lt;b&gt;</code>"));
        assert!(body.contains("&lt;script&gt;"));
        assert!(body.contains("another website, evil.example"));
        assert!(body.contains("value=\"t&quot;&gt;&lt;x\""));
    }
}
