//! Key handling, each test with a private provider and the default refresh policy (an
//! unknown kid may trigger one refetch per 10 s): key rotation, the unknown-kid refetch
//! rate limit, JWKS outages and failing closed.

use mcp_oauth_gateway::auth::AuthError;

use super::verifiers::*;
use crate::support::idp::{OidcProvider, admin, alice_token, jwks_hits, unique_resource, with_kid};

#[tokio::test]
async fn rotated_key_is_picked_up_with_exactly_one_jwks_fetch() {
    let resource = unique_resource();
    let provider = OidcProvider::spawn(&[&resource]);
    let issuer = provider.issuer.as_str();
    let v = verifier(issuer, &resource, "groups").await;

    let a = alice_token(issuer, &resource).await;
    let never_presented = alice_token(issuer, &resource).await;
    let old_kid = kid(&a);
    assert!(!v.verify(&a).await.expect("token A verifies").cached);

    admin(issuer, "reset-stats").await;
    let rotated = admin(issuer, "rotate").await;
    assert_eq!(rotated["previous"], old_kid.as_str());
    let b = alice_token(issuer, &resource).await;
    let new_kid = kid(&b);
    assert_eq!(rotated["kid"], new_kid.as_str());
    assert_ne!(new_kid, old_kid);

    let verified = v
        .verify(&b)
        .await
        .expect("token B verifies after a refetch");
    assert!(!verified.cached);
    assert_eq!(verified.principal.username, "alice");
    assert_eq!(jwks_hits(issuer).await, 1, "one fetch for the new kid");

    // Another token under the new key: the key is known now, no further fetch.
    let c = alice_token(issuer, &resource).await;
    assert!(!v.verify(&c).await.expect("token C verifies").cached);
    assert_eq!(jwks_hits(issuer).await, 1);

    // The JWKS serves only the new key, and so does the store now: an old-key token that
    // was never verified before is refused, and (right after the refetch) without a fetch.
    assert_eq!(
        v.verify(&never_presented).await.err(),
        Some(AuthError::UnknownKid(issuer.to_owned()))
    );
    assert_eq!(jwks_hits(issuer).await, 1);
    let store = v.key_store(issuer).expect("configured issuer");
    assert_eq!(store.keys().kids().collect::<Vec<_>>(), [new_kid.as_str()]);
}

#[tokio::test]
async fn unknown_kid_refetch_is_rate_limited() {
    let resource = unique_resource();
    let provider = OidcProvider::spawn(&[&resource]);
    let issuer = provider.issuer.as_str();
    let v = verifier(issuer, &resource, "groups").await;
    assert_eq!(jwks_hits(issuer).await, 1, "the start-up load");
    admin(issuer, "reset-stats").await;

    let token = alice_token(issuer, &resource).await;
    assert!(v.verify(&token).await.is_ok());
    assert_eq!(jwks_hits(issuer).await, 0, "a known kid needs no fetch");

    // The first unknown kid may refetch (it could be a rotation) ...
    let unknown = AuthError::UnknownKid(issuer.to_owned());
    assert_eq!(
        v.verify(&with_kid(&token, "nope")).await.err(),
        Some(unknown.clone())
    );
    assert_eq!(
        jwks_hits(issuer).await,
        1,
        "one refetch for the first unknown kid"
    );
    // ... but more of them within 10 s of it must not reach the JWKS.
    for made_up in ["nope", "nope-again", "still-nope"] {
        assert_eq!(
            v.verify(&with_kid(&token, made_up)).await.err(),
            Some(unknown.clone()),
            "kid {made_up}"
        );
    }
    assert_eq!(jwks_hits(issuer).await, 1, "unknown kids are rate limited");

    // The real key still works after the refusals.
    let fresh = alice_token(issuer, &resource).await;
    assert!(!v.verify(&fresh).await.expect("fresh token").cached);
}

#[tokio::test]
async fn jwks_outage_keeps_the_keys_already_loaded() {
    let resource = unique_resource();
    let provider = OidcProvider::spawn(&[&resource]);
    let issuer = provider.issuer.as_str();
    let v = verifier(issuer, &resource, "groups").await;
    admin(issuer, "jwks-down").await;
    admin(issuer, "reset-stats").await;

    let fresh = alice_token(issuer, &resource).await;
    let verified = v.verify(&fresh).await.expect("verifies from loaded keys");
    assert!(!verified.cached, "not from the verified-token cache");
    assert_eq!(jwks_hits(issuer).await, 0);

    // An unknown kid triggers a refetch, which fails (503): the kid stays unknown (not
    // "no keys") and the keys already loaded stay.
    assert_eq!(
        v.verify(&with_kid(&fresh, "nope")).await.err(),
        Some(AuthError::UnknownKid(issuer.to_owned()))
    );
    assert_eq!(jwks_hits(issuer).await, 1, "the refetch reached the JWKS");
    let after = alice_token(issuer, &resource).await;
    assert!(!v.verify(&after).await.expect("still verifies").cached);
    assert_eq!(v.key_store(issuer).expect("issuer").keys().len(), 1);
}

#[tokio::test]
async fn issuer_whose_jwks_was_down_at_start_fails_closed() {
    let resource = unique_resource();
    let provider = OidcProvider::spawn(&[&resource]);
    let issuer = provider.issuer.as_str();
    admin(issuer, "jwks-down").await;
    let v = verifier(issuer, &resource, "groups").await;
    assert_eq!(jwks_hits(issuer).await, 1, "the failed start-up load");
    let store = v.key_store(issuer).expect("configured issuer");
    assert!(store.keys().is_empty());

    let token = alice_token(issuer, &resource).await;
    let no_keys = AuthError::NoKeys(issuer.to_owned());
    assert_eq!(v.verify(&token).await.err(), Some(no_keys.clone()));
    assert_eq!(
        jwks_hits(issuer).await,
        2,
        "the first refusal retries the JWKS once"
    );
    for _ in 0..3 {
        assert_eq!(v.verify(&token).await.err(), Some(no_keys.clone()));
    }
    assert_eq!(
        jwks_hits(issuer).await,
        2,
        "refusals within 10 s of that retry do not refetch"
    );

    // Once the JWKS answers and a fetch happens, the same token verifies.
    admin(issuer, "jwks-up").await;
    assert_eq!(store.refresh().await.expect("JWKS is back"), 1);
    assert!(v.verify(&token).await.is_ok());
}
