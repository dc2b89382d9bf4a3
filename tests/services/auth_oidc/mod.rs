//! OIDC access tokens from a real OpenID Connect provider (npm `oidc-provider`,
//! tests/idp/oidc_provider.mjs): claim mapping (nested and flat groups claims, user name,
//! email, `scope` and `scp`), RFC 8707 audiences, the standalone gateway over HTTP with its
//! RFC 9728 metadata, and key handling — rotation, the unknown-kid refetch rate limit, JWKS
//! outages and failing closed — all with keys found through OpenID discovery.
//!
//! Claim and gateway tests use the provider `make test` shares (`OIDC_ISSUER`) and only add
//! resources to it. Key-handling tests rotate keys and take the JWKS down, so each starts a
//! private provider (`MCP_E2E_NODE`), killed when the test ends. Without those variables
//! these tests fail; they never skip. Nothing here sleeps: fetches are counted through the
//! provider's `/__admin/stats`.

mod verifiers;

mod key_handling;
mod shared_provider;
mod token_types;
