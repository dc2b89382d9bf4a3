//! Every item of the JWT checklist in REQUIREMENTS.md, each refused by its own test with a
//! token built for that attack: through the router (a 401 that says nothing about which
//! check failed) and through the verifier (the reason the log records).

mod harness;

mod claims;
mod signatures;
mod token_types;
mod transport;
