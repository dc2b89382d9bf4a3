//! How a target checks a statement: the library helper the demo tools use, and the rules
//! every verifier of statements should follow. Signature by a key the gateway publishes
//! (ES256 only), `iss` the gateway exactly, `aud` exactly the audience of the target being
//! called (`super::audience`: a statement minted for another tool on the same host is
//! refused), and no leeway on time: the statement lives 60 s, so a verifier that allowed
//! another 60 s would double it (finding 9 of issue #14).
//!
//! Pure: keys come through `KeyStore` (whose fetcher is an adapter).

use std::sync::Arc;

use serde::Deserialize;

use crate::auth::jwk::Alg;
use crate::auth::keystore::KeyStore;
use crate::auth::{AuthError, jws};

/// Why a statement was refused. For the target's log; a caller gets a bare 401.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StatementError {
    #[error("statement malformed or badly signed: {0}")]
    Signature(String),
    #[error("statement claims unreadable")]
    Claims,
    #[error("statement from another issuer")]
    Issuer,
    #[error("statement for another target")]
    Audience,
    #[error("statement expired, not yet valid, or too long-lived")]
    Time,
}

/// What a verified statement says about the caller.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Statement {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub username: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    pub caller_iss: String,
    pub tool: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
}

/// Verifies the statements of one gateway. Built once; keys are fetched on first use.
pub struct StatementVerifier {
    issuer: String,
    keys: Arc<KeyStore>,
}

impl StatementVerifier {
    /// `issuer` is the gateway's `iss` (its resource URL); `keys` serve its JWKS.
    pub fn new(issuer: String, keys: Arc<KeyStore>) -> Self {
        Self { issuer, keys }
    }

    /// Verifies `statement` for the target whose audience is `audience`, at `now` (seconds
    /// since the epoch). Valid strictly before `exp`, no leeway.
    pub async fn verify(
        &self,
        statement: &str,
        audience: &str,
        now: u64,
    ) -> Result<Statement, StatementError> {
        let sig = |e: AuthError| StatementError::Signature(e.to_string());
        let jws = jws::parse(statement).map_err(sig)?;
        if jws.alg != Alg::ES256 {
            return Err(StatementError::Signature("not ES256".into()));
        }
        let key = self.keys.key(&jws.kid).await.map_err(sig)?;
        jws.verify(&key).map_err(sig)?;
        let s: Statement =
            serde_json::from_slice(&jws.payload).map_err(|_| StatementError::Claims)?;
        check(&s, &self.issuer, audience, now)?;
        Ok(s)
    }
}

/// The claim rules, apart from the signature.
pub fn check(s: &Statement, issuer: &str, audience: &str, now: u64) -> Result<(), StatementError> {
    if s.iss != issuer {
        return Err(StatementError::Issuer);
    }
    if s.aud != audience {
        return Err(StatementError::Audience);
    }
    // `exp` bounds it: a statement that claims a longer life than the gateway gives is
    // not one of its statements. (An `iat` a little ahead of this clock is let be: the
    // window still ends at `exp`.)
    let lifetime_ok = s.exp > s.iat && s.exp - s.iat <= super::LIFETIME_SECS;
    if !lifetime_ok || now >= s.exp {
        return Err(StatementError::Time);
    }
    Ok(())
}

// Tests against statements signed by a real key: gateway-adapters' identity_key_tests.rs.
