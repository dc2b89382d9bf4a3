//! Which URLs the gateway will fetch from or advertise: `https://`, or plain `http://` on a
//! loopback host only (local emulators), never with userinfo. Shared by configuration, key
//! discovery and the admin CLI.

/// `https://…`, or `http://…` on a loopback host only (local emulators).
pub fn url_is_safe(url: &str) -> bool {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let (https, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        _ => return false,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // No userinfo: `http://127.0.0.1@evil.example/` is evil.example to an HTTP client.
    if authority.is_empty() || authority.contains('@') || authority.contains('\\') {
        return false;
    }
    if https {
        return true;
    }
    let host = if authority.starts_with('[') {
        authority
            .split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or("").to_owned()
    };
    matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]")
}

#[cfg(test)]
mod tests {
    use super::url_is_safe;

    #[test]
    fn urls_must_be_https_or_loopback() {
        assert!(url_is_safe("https://login.example.com/x"));
        assert!(url_is_safe(
            "http://127.0.0.1:5000/pool/.well-known/jwks.json"
        ));
        assert!(url_is_safe("http://localhost/x"));
        assert!(url_is_safe("http://[::1]:8080"));
        assert!(!url_is_safe("http://example.com/x"));
        assert!(!url_is_safe("http://127.0.0.1.evil.com/x"));
        assert!(!url_is_safe("http://localhost@evil.com/x"));
        assert!(!url_is_safe("http://127.0.0.1:1@evil.example/jwks"));
        assert!(!url_is_safe("http://[::1]@evil.example/"));
        assert!(!url_is_safe("https://user:pass@idp.example/"));
        assert!(!url_is_safe("http://127.0.0.1\\@evil.example/"));
        assert!(!url_is_safe("ftp://127.0.0.1/x"));
        assert!(!url_is_safe("https://"));
        assert!(!url_is_safe("https://idp.example/a b"));
    }
}
