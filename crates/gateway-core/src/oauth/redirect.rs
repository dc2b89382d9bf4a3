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

/// Short (single-label) schemes of known MCP desktop clients. Any other private-use scheme
/// must be reverse-domain (RFC 8252 §7.1): a single label may be a browser's or the system's
/// own launcher (`microsoft-edge:https://…` opens a web page, `search-ms:`, `shell:`), which
/// would hand the code to a website while the page says "an app".
const KNOWN_SHORT_SCHEMES: &[&str] = &["claude", "cursor", "vscode", "vscode-insiders", "windsurf"];

/// A private-use scheme: RFC 3986 scheme syntax, lower case, reverse-domain
/// (`com.example.app`) or one of the known desktop clients' short ones.
pub fn is_private_use_scheme(scheme: &str) -> bool {
    let mut chars = scheme.chars();
    let syntax = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && scheme.len() <= 100
        && scheme
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
        && !scheme.ends_with('.')
        && !scheme.contains("..");
    syntax && (scheme.contains('.') || KNOWN_SHORT_SCHEMES.contains(&scheme))
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
        return bad(
            "only https://, loopback http:// and reverse-domain private-use schemes are accepted",
        );
    }
    if rest.is_empty() || rest.contains('#') {
        return bad("a private-use redirect URI needs a path and has no fragment");
    }
    let lower = rest.to_ascii_lowercase();
    if ["http:", "https:", "http%3a", "https%3a"]
        .iter()
        .any(|u| lower.contains(u))
    {
        return bad("a private-use redirect URI never carries a web address");
    }
    if url::Url::parse(uri).is_err() {
        return bad("not a URI");
    }
    Ok(())
}

/// Whether a path has a dot segment, literal or percent-encoded: a browser resolves it, so
/// `https://host/api/../x` would leave a pre-approved `https://host/api/*`.
fn has_dot_segment(tail: &str) -> bool {
    let path = tail.split(['?', '#']).next().unwrap_or("");
    let lower = path.to_ascii_lowercase();
    lower.contains("%2e") || path.split('/').any(|seg| seg == "." || seg == "..")
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
    if has_dot_segment(tail) {
        return bad("a redirect URI has no dot segments");
    }
    let host = host_of(authority);
    let port = authority[host.len()..].strip_prefix(':');
    if port.is_some_and(|p| port_number(p).is_none()) {
        return bad("bad port");
    }
    // What a browser makes of it must be what was checked here: the same host and port.
    let Ok(parsed) = url::Url::parse(uri) else {
        return bad("not a URI");
    };
    let same_host = parsed
        .host_str()
        .is_some_and(|h| h.eq_ignore_ascii_case(host));
    let same_port =
        parsed.port_or_known_default() == port.map_or(parsed.port_or_known_default(), port_number);
    if !same_host || !same_port {
        return bad("the host or port does not read the same to a browser");
    }
    match scheme {
        "https" => Ok(()),
        // RFC 8252 §8.3: `localhost` may resolve elsewhere; only the loopback IPs.
        "http" if is_loopback_ip(host) => Ok(()),
        "http" => bad("http:// is allowed on 127.0.0.1, [::1] and localhost only"),
        _ => bad("only https:// and loopback http:// redirect URIs are accepted"),
    }
}

/// A port: 1 to 65535, digits only.
fn port_number(p: &str) -> Option<u16> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse::<u16>().ok().filter(|n| *n > 0)
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
            .is_none_or(|p| port_number(p).is_some())
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
#[path = "redirect_tests.rs"]
mod tests;
