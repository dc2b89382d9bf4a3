//! JWS compact serialization: split, decode and check the header, verify the signature
//! with a key chosen by configuration (never by the token). Claims are not looked at here.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::AuthError;
use super::jwk::{Alg, VerifyingKey};

/// Largest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The protected header, as far as the gateway reads it. Parameters that would let a token
/// name its own keys, or demand extensions we do not implement, are caught here.
#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: Option<&'a RawValue>,
    #[serde(default, borrow)]
    kid: Option<&'a RawValue>,
    #[serde(default, borrow)]
    crit: Option<&'a RawValue>,
    #[serde(default, borrow)]
    jku: Option<&'a RawValue>,
    #[serde(default, borrow)]
    jwk: Option<&'a RawValue>,
    #[serde(default, borrow)]
    x5u: Option<&'a RawValue>,
    #[serde(default, borrow)]
    x5c: Option<&'a RawValue>,
    #[serde(default, borrow)]
    b64: Option<&'a RawValue>,
    #[serde(default, borrow)]
    typ: Option<&'a RawValue>,
}

/// A token whose form and header passed; its signature is not checked yet.
#[derive(Debug)]
pub struct Jws<'t> {
    pub alg: Alg,
    pub kid: String,
    /// The header's `typ`, lower-cased without an `application/` prefix (RFC 7515
    /// §4.1.9); `claims::check_type` decides on it. A non-string `typ` is malformed.
    pub typ: Option<String>,
    /// `base64url(header) "." base64url(payload)`: what the signature covers.
    signing_input: &'t str,
    signature: Vec<u8>,
    pub payload: Vec<u8>,
}

fn decode(part: &str) -> Result<Vec<u8>, AuthError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::Malformed("bad base64url"))
}

/// Splits and checks a compact JWS.
pub fn parse(token: &str) -> Result<Jws<'_>, AuthError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::TooLarge);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed("not three dot-separated parts"));
    };
    if h.is_empty() || s.is_empty() {
        return Err(AuthError::Malformed("empty header or signature"));
    }
    let header_bytes = decode(h)?;
    let header: Header<'_> = serde_json::from_slice(&header_bytes)
        .map_err(|_| AuthError::Malformed("header is not a JSON object"))?;
    if header.crit.is_some() {
        return Err(AuthError::ForbiddenHeader("crit"));
    }
    if header.b64.is_some() {
        return Err(AuthError::ForbiddenHeader("b64"));
    }
    for (name, value) in [
        ("jku", &header.jku),
        ("jwk", &header.jwk),
        ("x5u", &header.x5u),
        ("x5c", &header.x5c),
    ] {
        if value.is_some() {
            return Err(AuthError::ForbiddenHeader(name));
        }
    }
    let alg_name: String = header
        .alg
        .and_then(|a| serde_json::from_str(a.get()).ok())
        .ok_or(AuthError::Malformed("alg missing or not a string"))?;
    let alg = Alg::parse(&alg_name).ok_or(AuthError::Algorithm)?;
    let kid: String = match header.kid {
        None => return Err(AuthError::MissingKid),
        Some(k) => serde_json::from_str(k.get()).map_err(|_| AuthError::MissingKid)?,
    };
    let typ = match header.typ {
        None => None,
        Some(t) => {
            let t: String = serde_json::from_str(t.get())
                .map_err(|_| AuthError::Malformed("typ is not a string"))?;
            let t = t.trim().to_ascii_lowercase();
            Some(
                t.strip_prefix("application/")
                    .map(str::to_owned)
                    .unwrap_or(t),
            )
        }
    };
    let signature = decode(s)?;
    let payload = decode(p)?;
    Ok(Jws {
        alg,
        kid,
        typ,
        signing_input: &token[..h.len() + 1 + p.len()],
        signature,
        payload,
    })
}

impl Jws<'_> {
    /// Verifies the signature with `key`, whose pinned algorithm must be the header's.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), AuthError> {
        if key.alg != self.alg {
            return Err(AuthError::KeyMismatch);
        }
        if key.verify(self.signing_input.as_bytes(), &self.signature) {
            Ok(())
        } else {
            Err(AuthError::BadSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn token(header: &str) -> String {
        format!("{}.{}.{}", enc(header), enc("{}"), enc("sig"))
    }

    #[test]
    fn form_is_checked() {
        assert!(matches!(parse("a.b"), Err(AuthError::Malformed(_))));
        assert!(matches!(parse("a.b.c.d"), Err(AuthError::Malformed(_))));
        assert!(matches!(parse(".b.c"), Err(AuthError::Malformed(_))));
        assert!(matches!(parse("!!.b.c"), Err(AuthError::Malformed(_))));
        let padded = format!(
            "{}=.{}.{}",
            enc(r#"{"alg":"RS256","kid":"k"}"#),
            enc("{}"),
            enc("s")
        );
        assert!(matches!(parse(&padded), Err(AuthError::Malformed(_))));
        assert!(matches!(parse(&token("[1]")), Err(AuthError::Malformed(_))));
        let big = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert!(matches!(parse(&big), Err(AuthError::TooLarge)));
    }

    #[test]
    fn header_rules() {
        let t = token(r#"{"alg":"RS256","kid":"k","typ":"at+jwt"}"#);
        let ok = parse(&t).unwrap();
        assert_eq!((ok.alg, ok.kid.as_str()), (Alg::RS256, "k"));
        for alg in ["none", "None", "HS256", "HS512", "ES512", ""] {
            let t = token(&format!(r#"{{"alg":"{alg}","kid":"k"}}"#));
            assert!(matches!(parse(&t), Err(AuthError::Algorithm)), "{alg}");
        }
        assert!(matches!(
            parse(&token(r#"{"kid":"k"}"#)),
            Err(AuthError::Malformed(_))
        ));
        assert!(matches!(
            parse(&token(r#"{"alg":"RS256"}"#)),
            Err(AuthError::MissingKid)
        ));
        assert!(matches!(
            parse(&token(r#"{"alg":"RS256","kid":7}"#)),
            Err(AuthError::MissingKid)
        ));
        for (h, name) in [
            (r#"{"alg":"RS256","kid":"k","crit":["exp"]}"#, "crit"),
            (
                r#"{"alg":"RS256","kid":"k","jku":"https://evil/jwks"}"#,
                "jku",
            ),
            (r#"{"alg":"RS256","kid":"k","jwk":{"kty":"RSA"}}"#, "jwk"),
            (
                r#"{"alg":"RS256","kid":"k","x5u":"https://evil/cert"}"#,
                "x5u",
            ),
            (r#"{"alg":"RS256","kid":"k","x5c":["MII"]}"#, "x5c"),
            (r#"{"alg":"RS256","kid":"k","b64":false}"#, "b64"),
        ] {
            assert!(
                matches!(parse(&token(h)), Err(AuthError::ForbiddenHeader(n)) if n == name),
                "{h}"
            );
        }
        let dup = token(r#"{"alg":"RS256","alg":"none","kid":"k"}"#);
        assert!(matches!(parse(&dup), Err(AuthError::Malformed(_))));
    }
}
