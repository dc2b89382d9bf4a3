//! Which redirect URIs a client may register and how a presented one matches a registered
//! one: `https://`, or `http://` on a loopback host with any port (RFC 8252 §7.3).

use super::OAuthError;

/// The host and the rest of an `http(s)://` URI, or `None` when it is not one.
fn split(uri: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = uri.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    Some((scheme, authority, tail))
}

/// The authority's host without its port (`[::1]` keeps its brackets).
fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        authority.find(']').map_or(authority, |i| &authority[..=i])
    } else {
        authority.split(':').next().unwrap_or("")
    }
}

/// RFC 8252 §8.3 prefers the IP literals, but mcp-remote, Claude Code and others register
/// `http://localhost:<port>/...`; it is the user's own machine either way.
fn is_loopback_ip(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "[::1]" | "localhost")
}

/// Checks one redirect URI a client asks to register.
pub fn validate(uri: &str) -> Result<(), OAuthError> {
    let bad = |why: &str| Err(OAuthError::InvalidRedirectUri(format!("{uri:?}: {why}")));
    if uri.len() > 2000 || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("not a URI");
    }
    let Some((scheme, authority, tail)) = split(uri) else {
        return bad("not an absolute URI");
    };
    if authority.is_empty() || authority.contains(['@', '\\']) {
        return bad("no host, or userinfo");
    }
    if tail.contains('#') {
        return bad("a redirect URI has no fragment");
    }
    let host = host_of(authority);
    let port = authority[host.len()..].strip_prefix(':');
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return bad("bad port");
    }
    match scheme {
        "https" => Ok(()),
        // RFC 8252 §8.3: `localhost` may resolve elsewhere; only the loopback IPs.
        "http" if is_loopback_ip(host) => Ok(()),
        "http" => bad("http:// is allowed on 127.0.0.1, [::1] and localhost only"),
        _ => bad("only https:// and loopback http:// redirect URIs are accepted"),
    }
}

/// Whether `given` is one of `registered`: exactly, or for a loopback IP registration the
/// same URI on any port (native apps pick an ephemeral port per run).
pub fn matches(registered: &str, given: &str) -> bool {
    if registered == given {
        return true;
    }
    let (Some((rs, ra, rt)), Some((gs, ga, gt))) = (split(registered), split(given)) else {
        return false;
    };
    let (rh, gh) = (host_of(ra), host_of(ga));
    rs == "http"
        && gs == "http"
        && is_loopback_ip(rh)
        && rh == gh
        && rt == gt
        && !ga.contains('@')
        && ga[gh.len()..]
            .strip_prefix(':')
            .is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The registered URI `given` stands for, if any.
pub fn find<'a>(registered: &'a [String], given: &str) -> Option<&'a str> {
    registered
        .iter()
        .find(|r| matches(r, given))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_accepts_https_and_loopback_ips_only() {
        for ok in [
            "https://app.example.com/cb",
            "http://127.0.0.1/callback",
            "http://127.0.0.1:33418/callback",
            "http://[::1]:8080/cb?x=1",
            "http://localhost:3000/oauth/callback",
            "https://claude.ai/api/mcp/auth_callback",
        ] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/cb",
            "http://127.0.0.1.evil.example/cb",
            "http://localhost.evil.example/cb",
            "http://127.0.0.1@evil.example/cb",
            "https://app.example.com/cb#frag",
            "javascript:alert(1)",
            "myapp://callback",
            "cursor://anysphere.cursor-retrieval/oauth/callback",
            "https:///nohost",
            "http://127.0.0.1:/cb",
            "http://127.0.0.1:80x/cb",
            "https://app.example.com/a b",
            "/relative",
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback_registrations_match_any_port_and_nothing_else() {
        let reg = "http://127.0.0.1/callback";
        assert!(matches(reg, "http://127.0.0.1:51234/callback"));
        assert!(matches(reg, "http://127.0.0.1/callback"));
        assert!(matches(
            "http://127.0.0.1:1/callback",
            "http://127.0.0.1:2/callback"
        ));
        assert!(!matches(reg, "http://127.0.0.1:51234/other"));
        assert!(!matches(reg, "http://127.0.0.1:51234/callback?x=1"));
        assert!(!matches(reg, "http://[::1]:51234/callback"));
        assert!(!matches(reg, "http://localhost:51234/callback"));
        assert!(matches(
            "http://localhost:1/oauth/callback",
            "http://localhost:2/oauth/callback"
        ));
        assert!(!matches(
            reg,
            "http://127.0.0.1:51234@evil.example/callback"
        ));
        assert!(!matches(reg, "https://127.0.0.1:51234/callback"));
        // https registrations match exactly, ports included.
        let web = "https://app.example.com/cb";
        assert!(matches(web, web));
        assert!(!matches(web, "https://app.example.com:444/cb"));
        assert!(!matches(web, "https://app.example.com/cb/"));
        assert_eq!(
            find(&[web.into(), reg.into()], "http://127.0.0.1:9/callback"),
            Some(reg)
        );
        assert_eq!(find(&[web.into()], "https://evil.example/cb"), None);
    }
}
