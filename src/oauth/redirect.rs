//! Which redirect URIs a client may register and how a presented one matches a registered
//! one: `https://`, `http://` on a loopback host with any port (RFC 8252 §7.3), or a
//! private-use scheme of a native app (RFC 8252 §7.1); and the operator's pre-approved
//! redirect URI patterns, the only redirects that skip the consent page.

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

/// Schemes a browser or the operating system gives a meaning of their own: never a native
/// app's private-use scheme.
const RESERVED_SCHEMES: &[&str] = &[
    "about",
    "blob",
    "chrome",
    "data",
    "file",
    "filesystem",
    "ftp",
    "intent",
    "javascript",
    "jar",
    "mailto",
    "ms-settings",
    "news",
    "sms",
    "tel",
    "vbscript",
    "view-source",
    "ws",
    "wss",
    "http",
    "https",
];

/// A private-use scheme (RFC 8252 §7.1): RFC 3986 scheme syntax, lower case, not one the
/// browser or the system interprets. Reverse-domain names (`com.example.app`) are what the
/// RFC asks for; desktop clients also use short ones (`cursor`), so both are accepted and
/// the consent page names the scheme either way.
pub fn is_private_use_scheme(scheme: &str) -> bool {
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && scheme.len() <= 100
        && scheme
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
        && !scheme.ends_with('.')
        && !scheme.contains("..")
        && !RESERVED_SCHEMES.contains(&scheme)
}

/// Where a redirect URI sends the browser, as the consent page tells the user.
#[derive(Debug, Clone, PartialEq)]
pub enum Destination {
    /// A loopback address: a program on the user's own machine.
    ThisMachine(String),
    /// A private-use scheme: an app on the user's own machine registered for it.
    App(String),
    /// Another site: its host.
    Site(String),
}

/// The destination of a validated redirect URI.
pub fn destination(uri: &str) -> Destination {
    match split(uri) {
        Some(("http", authority, _)) => Destination::ThisMachine(host_of(authority).to_owned()),
        Some(("https", authority, _)) => Destination::Site(host_of(authority).to_owned()),
        _ => Destination::App(uri.split(':').next().unwrap_or_default().to_owned()),
    }
}

fn private_use(uri: &str) -> Result<(), OAuthError> {
    let bad = |why: &str| Err(OAuthError::InvalidRedirectUri(format!("{uri:?}: {why}")));
    let Some((scheme, rest)) = uri.split_once(':') else {
        return bad("not an absolute URI");
    };
    if !is_private_use_scheme(scheme) {
        return bad("only https://, loopback http:// and private-use schemes are accepted");
    }
    if rest.is_empty() || rest.contains('#') {
        return bad("a private-use redirect URI needs a path and has no fragment");
    }
    Ok(())
}

/// Checks one redirect URI a client asks to register.
pub fn validate(uri: &str) -> Result<(), OAuthError> {
    let bad = |why: &str| Err(OAuthError::InvalidRedirectUri(format!("{uri:?}: {why}")));
    if uri.len() > 2000 || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("not a URI");
    }
    let Some((scheme, authority, tail)) = split(uri) else {
        return private_use(uri);
    };
    if scheme != "http" && scheme != "https" {
        return private_use(uri);
    }
    if authority.is_empty()
        || !authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    {
        return bad("no host, or userinfo or other characters a host never has");
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

/// An operator's pre-approved redirect URI pattern (`GATEWAY_FACADE_PREAPPROVED_REDIRECTS`):
/// a redirect URI as `validate` accepts it, optionally ending in `*` after the authority's
/// `/` (`https://claude.ai/api/mcp/*`), so a pattern can never widen the host.
pub fn validate_pattern(pattern: &str) -> Result<(), OAuthError> {
    let Some(prefix) = pattern.strip_suffix('*') else {
        return validate(pattern);
    };
    let bad = || {
        OAuthError::InvalidRedirectUri(format!(
            "{pattern:?}: a * may only end a pattern after the host's /"
        ))
    };
    if prefix.contains('*') {
        return Err(bad());
    }
    match split(prefix) {
        Some((_, authority, tail)) if tail.starts_with('/') && !authority.is_empty() => {
            validate(prefix)
        }
        _ => Err(bad()),
    }
}

/// Whether `uri` (a registered redirect URI) is covered by a pre-approved pattern.
pub fn pattern_matches(pattern: &str, uri: &str) -> bool {
    match pattern.strip_suffix('*') {
        None => matches(pattern, uri),
        // validate_pattern made sure the prefix holds the whole authority and its '/'.
        Some(prefix) => uri.starts_with(prefix) && validate(uri).is_ok(),
    }
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
            "com.example.app:/oauth2redirect",
            "cursor://anysphere.cursor-retrieval/oauth/callback",
            "myapp://callback",
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
            "data:text/html,x",
            "file:///etc/passwd",
            "Cursor://x/cb",
            "com.example.app:",
            "com.example.app:/cb#frag",
            "ftp://files.example/cb",
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
        // Private-use schemes match exactly.
        let app = "com.example.app:/cb";
        assert!(matches(app, app));
        assert!(!matches(app, "com.example.app:/cb2"));
    }

    #[test]
    fn destinations_say_whether_the_browser_leaves_this_machine() {
        assert_eq!(
            destination("http://127.0.0.1:5/cb"),
            Destination::ThisMachine("127.0.0.1".into())
        );
        assert_eq!(
            destination("https://evil.example/cb"),
            Destination::Site("evil.example".into())
        );
        assert_eq!(
            destination("cursor://anysphere.cursor-retrieval/oauth/callback"),
            Destination::App("cursor".into())
        );
    }

    #[test]
    fn pre_approved_patterns_never_widen_the_host() {
        for ok in [
            "https://claude.ai/api/mcp/auth_callback",
            "https://claude.ai/api/*",
            "http://127.0.0.1/callback",
        ] {
            assert!(validate_pattern(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://claude.ai*",
            "https://*.claude.ai/cb",
            "https://claude.ai/*/x*",
            "*",
            "https://*",
            "http://evil.example/*",
        ] {
            assert!(validate_pattern(bad).is_err(), "{bad}");
        }
        let p = "https://claude.ai/api/*";
        assert!(pattern_matches(
            p,
            "https://claude.ai/api/mcp/auth_callback"
        ));
        assert!(!pattern_matches(p, "https://claude.ai.evil.example/api/x"));
        assert!(!pattern_matches(p, "https://claude.ai/other"));
        let exact = "https://claude.ai/api/mcp/auth_callback";
        assert!(pattern_matches(exact, exact));
        assert!(!pattern_matches(
            exact,
            "https://claude.ai/api/mcp/auth_callback2"
        ));
        assert!(pattern_matches(
            "http://127.0.0.1/callback",
            "http://127.0.0.1/callback"
        ));
    }
}
