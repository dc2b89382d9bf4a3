//! Key documents as an issuer (or anyone able to answer in its place) may serve them: the
//! bytes are a JWKS; the gateway keeps the keys it can use, says why it skips the others,
//! and every key it keeps can be asked to check a signature without panicking. The last
//! 64 bytes of the input, when there are that many, are that signature: a fuzzed key meets
//! fuzzed signatures too.

use mcp_oauth_gateway::auth::jwk::parse_jwks;

pub fn run(data: &[u8]) {
    let Ok((set, _skipped)) = parse_jwks(data) else {
        return;
    };
    let signature = &data[data.len().saturating_sub(64)..];
    for kid in set.kids().map(str::to_owned).collect::<Vec<_>>() {
        let key = set.get(&kid).expect("a listed kid is held");
        assert_eq!(key.kid, kid, "a key is held under its own kid");
        let _ = key.verify(b"header.claims", signature);
    }
    assert_eq!(set.len(), set.kids().count());
}
