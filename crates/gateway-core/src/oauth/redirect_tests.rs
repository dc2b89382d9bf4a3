//! Unit tests of the redirect URI rules, each a way a URI could send a code elsewhere.

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
        "vscode://anthropic.claude/callback",
        "http://127.0.0.1:65535/cb",
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
        // A single-label scheme may be a browser's launcher (microsoft-edge:https://…).
        "myapp://callback",
        "microsoft-edge:https://evil.example/cb",
        "com.example.app:/cb?next=https://evil.example",
        "com.example.app:/cb?next=https%3A%2F%2Fevil.example",
        "search-ms:query=x",
        // Ports a URL parser refuses, or that read differently to a browser.
        "http://127.0.0.1:99999/cb",
        "http://127.0.0.1:0/cb",
        "https://[zz]/cb",
        "https://:443/cb",
        "https://xn--/cb",
        // Dot segments leave a pre-approved prefix once the browser resolves them.
        "https://claude.ai/api/../x",
        "https://claude.ai/api/%2e%2e/x",
        "https://claude.ai/api/./x",
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
    // A port no URL parser takes never matches (it would reach an unparsable redirect).
    assert!(!matches(reg, "http://127.0.0.1:99999/callback"));
    assert!(!matches(reg, "http://127.0.0.1:0/callback"));
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
