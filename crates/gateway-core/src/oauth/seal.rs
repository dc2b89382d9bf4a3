//! Signed, short-lived values the gateway hands out and later takes back (the relay state,
//! client ids of registrations): `base64url(json).base64url(HMAC-SHA256)`, with a purpose
//! tag so one kind can never be replayed as another, and an expiry.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::OAuthError;

/// The HMAC key; never printed.
pub struct Sealer {
    key: hmac::Key,
}

#[derive(Serialize, serde::Deserialize)]
struct Envelope<T> {
    /// Purpose.
    p: String,
    /// Expiry, seconds since the epoch.
    e: u64,
    v: T,
}

impl Sealer {
    /// `secret` must hold at least 32 bytes.
    pub fn new(secret: &[u8]) -> Self {
        assert!(secret.len() >= 32, "a sealing key has at least 32 bytes");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// A fresh random key, for a single process.
    pub fn random() -> Self {
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret).expect("system randomness");
        Self::new(&secret)
    }

    pub fn seal<T: Serialize>(&self, purpose: &str, value: &T, expires_at: u64) -> String {
        let env = Envelope {
            p: purpose.to_owned(),
            e: expires_at,
            v: value,
        };
        let body = B64.encode(serde_json::to_vec(&env).expect("sealed values serialize"));
        let tag = hmac::sign(&self.key, body.as_bytes());
        format!("{body}.{}", B64.encode(tag.as_ref()))
    }

    /// The value, when the signature is ours, the purpose is `purpose` and it has not expired.
    pub fn open<T: DeserializeOwned>(
        &self,
        purpose: &str,
        sealed: &str,
        now: u64,
    ) -> Result<T, OAuthError> {
        let (body, tag) = sealed.split_once('.').ok_or(OAuthError::BadSeal)?;
        let tag = B64.decode(tag).map_err(|_| OAuthError::BadSeal)?;
        hmac::verify(&self.key, body.as_bytes(), &tag).map_err(|_| OAuthError::BadSeal)?;
        let json = B64.decode(body).map_err(|_| OAuthError::BadSeal)?;
        let env: Envelope<T> = serde_json::from_slice(&json).map_err(|_| OAuthError::BadSeal)?;
        if env.p != purpose {
            return Err(OAuthError::BadSeal);
        }
        if env.e <= now {
            return Err(OAuthError::Expired);
        }
        Ok(env.v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_unaltered_in_time_and_for_their_purpose() {
        let s = Sealer::new(&[7u8; 32]);
        let sealed = s.seal("state", &("a".to_string(), 1u32), 100);
        let v: (String, u32) = s.open("state", &sealed, 99).unwrap();
        assert_eq!(v, ("a".into(), 1));
        assert!(matches!(
            s.open::<(String, u32)>("state", &sealed, 100),
            Err(OAuthError::Expired)
        ));
        assert!(matches!(
            s.open::<(String, u32)>("client", &sealed, 99),
            Err(OAuthError::BadSeal)
        ));
        // Another key, a flipped byte, a swapped body: all refused.
        let other = Sealer::new(&[8u8; 32]);
        assert!(other.open::<(String, u32)>("state", &sealed, 99).is_err());
        let (body, tag) = sealed.split_once('.').unwrap();
        let forged_body = B64.encode(br#"{"p":"state","e":999,"v":["b",1]}"#);
        assert!(
            s.open::<(String, u32)>("state", &format!("{forged_body}.{tag}"), 99)
                .is_err()
        );
        let mut t = tag.to_string();
        t.replace_range(0..1, if t.starts_with('A') { "B" } else { "A" });
        assert!(
            s.open::<(String, u32)>("state", &format!("{body}.{t}"), 99)
                .is_err()
        );
        assert!(s.open::<(String, u32)>("state", "garbage", 99).is_err());
    }
}
