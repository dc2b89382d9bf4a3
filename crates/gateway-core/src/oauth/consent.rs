//! The gateway's own consent, asked before the first redirect to the IdP for a client this
//! browser has not approved: one static client id at the IdP stands for every registered
//! client, so the IdP's consent cannot tell them apart (the MCP authorization spec's
//! confused-deputy rule). Owns the approvals cookie (sealed, per client id and registered
//! redirect URI, bounded lifetime) and the consent form's token, bound to the browser's CSRF
//! cookie so a form can only be submitted by the browser it was shown to.

use aws_lc_rs::{constant_time, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};

use super::OAuthError;
use super::redirect::Destination;
use super::seal::Sealer;

/// The cookie that remembers this browser's approvals.
pub const APPROVALS_COOKIE: &str = "mcp_gw_consent";
/// The cookie the consent form's token is bound to.
pub const CSRF_COOKIE: &str = "mcp_gw_csrf";
/// At most this many approvals are remembered per browser (the newest).
const MAX_APPROVALS: usize = 20;
const APPROVALS: &str = "consent";
const FORM: &str = "consent-form";

/// What the consent page shows the user.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentPrompt {
    /// The name the client gave itself (unverified: the page says so).
    pub client_name: Option<String>,
    /// A metadata document URL when the client is one (its host is who vouches for it).
    pub client_url: Option<String>,
    /// The redirect URI the code will be sent to.
    pub redirect_uri: String,
    pub destination: Destination,
    pub scopes: Vec<String>,
    /// The sealed form token the page posts back.
    pub form_token: String,
}

/// The approvals remembered in one browser: keys of (client id, registered redirect URI)
/// with their expiry.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Approvals {
    a: Vec<(String, u64)>,
}

fn sha256(parts: &[&str]) -> Vec<u8> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for p in parts {
        ctx.update(p.as_bytes());
        // A separator that never occurs in a URI or a client id keeps the parts apart.
        ctx.update(b"\n");
    }
    ctx.finish().as_ref().to_vec()
}

/// The key an approval is remembered under: a digest, so the cookie names no client.
pub fn approval_key(client_id: &str, registered_redirect: &str) -> String {
    B64.encode(&sha256(&[client_id, registered_redirect])[..16])
}

impl Approvals {
    /// The approvals in a cookie; none when it is missing, altered or expired.
    pub fn open(sealer: &Sealer, cookie: Option<&str>, now: u64) -> Self {
        cookie
            .and_then(|c| sealer.open::<Approvals>(APPROVALS, c, now).ok())
            .unwrap_or_default()
    }

    pub fn approves(&self, key: &str, now: u64) -> bool {
        self.a.iter().any(|(k, exp)| k == key && *exp > now)
    }

    /// Adds (or renews) one approval, forgetting expired ones and the oldest past the cap.
    pub fn add(&mut self, key: String, expires_at: u64, now: u64) {
        self.a.retain(|(k, exp)| *exp > now && *k != key);
        self.a.push((key, expires_at));
        if self.a.len() > MAX_APPROVALS {
            let extra = self.a.len() - MAX_APPROVALS;
            self.a.drain(..extra);
        }
    }

    /// The cookie value; it lasts as long as its longest approval.
    pub fn seal(&self, sealer: &Sealer) -> String {
        let until = self.a.iter().map(|(_, e)| *e).max().unwrap_or(0);
        sealer.seal(APPROVALS, self, until)
    }
}

/// The consent form's content: the `/authorize` request it answers and a digest of the CSRF
/// cookie of the browser it was shown to.
#[derive(Serialize, Deserialize)]
struct Form {
    q: String,
    c: String,
}

fn csrf_digest(csrf_cookie: &str) -> String {
    B64.encode(sha256(&["csrf", csrf_cookie]))
}

/// The token the consent form posts back.
pub fn form_token(sealer: &Sealer, query: &str, csrf_cookie: &str, expires_at: u64) -> String {
    sealer.seal(
        FORM,
        &Form {
            q: query.to_owned(),
            c: csrf_digest(csrf_cookie),
        },
        expires_at,
    )
}

/// The `/authorize` query a posted form answers, when the form is ours, in time and posted
/// by the browser it was shown to (its CSRF cookie matches).
pub fn open_form(
    sealer: &Sealer,
    token: &str,
    csrf_cookie: Option<&str>,
    now: u64,
) -> Result<String, OAuthError> {
    let form: Form = sealer.open(FORM, token, now)?;
    let cookie = csrf_cookie
        .filter(|c| !c.is_empty())
        .ok_or(OAuthError::CrossSiteForm)?;
    constant_time::verify_slices_are_equal(form.c.as_bytes(), csrf_digest(cookie).as_bytes())
        .map_err(|_| OAuthError::CrossSiteForm)?;
    Ok(form.q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approvals_are_per_client_and_redirect_and_expire() {
        let s = Sealer::new(&[1u8; 32]);
        let k = approval_key("client-a", "http://127.0.0.1/cb");
        assert_ne!(k, approval_key("client-b", "http://127.0.0.1/cb"));
        assert_ne!(k, approval_key("client-a", "https://evil.example/cb"));
        let mut a = Approvals::default();
        a.add(k.clone(), 200, 100);
        let cookie = a.seal(&s);
        let back = Approvals::open(&s, Some(&cookie), 150);
        assert!(back.approves(&k, 150));
        assert!(!back.approves(&k, 200), "expired");
        assert!(!Approvals::open(&s, Some(&cookie), 250).approves(&k, 150));
        // Another key's cookie, or an altered one, approves nothing.
        let other = Sealer::new(&[2u8; 32]);
        assert!(!Approvals::open(&other, Some(&cookie), 150).approves(&k, 150));
        assert!(!Approvals::open(&s, Some("x.y"), 150).approves(&k, 150));
    }

    #[test]
    fn approvals_keep_the_newest_within_the_cap() {
        let mut a = Approvals::default();
        for i in 0..30 {
            a.add(format!("k{i}"), 1000, 1);
        }
        assert_eq!(a.a.len(), MAX_APPROVALS);
        assert!(a.approves("k29", 2) && !a.approves("k0", 2));
        a.add("k29".into(), 2000, 1);
        assert_eq!(a.a.iter().filter(|(k, _)| k == "k29").count(), 1);
    }

    #[test]
    fn a_form_is_accepted_only_from_the_browser_it_was_shown_to() {
        let s = Sealer::new(&[3u8; 32]);
        let t = form_token(&s, "client_id=x", "cookie-1", 100);
        assert_eq!(
            open_form(&s, &t, Some("cookie-1"), 50).unwrap(),
            "client_id=x"
        );
        assert!(matches!(
            open_form(&s, &t, Some("cookie-2"), 50),
            Err(OAuthError::CrossSiteForm)
        ));
        assert!(matches!(
            open_form(&s, &t, None, 50),
            Err(OAuthError::CrossSiteForm)
        ));
        assert!(matches!(
            open_form(&s, &t, Some("cookie-1"), 100),
            Err(OAuthError::Expired)
        ));
        // An approvals cookie is no form token (purposes differ).
        let approvals = Approvals::default().seal(&s);
        assert!(open_form(&s, &approvals, Some("cookie-1"), 0).is_err());
    }
}
