//! How the gateway knows a token without keeping it: its SHA-256 digest, the key of the
//! verified-token cache and of every revocation verdict.

use aws_lc_rs::digest;

/// SHA-256 of a token.
pub type TokenDigest = [u8; 32];

pub fn token_digest(token: &str) -> TokenDigest {
    let d = digest::digest(&digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}
