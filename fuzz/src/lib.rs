//! The bodies of the fuzz targets (`fuzz_targets/*.rs` only hand libFuzzer's input to one of
//! these): each feeds arbitrary bytes to one of the gateway's parsers or to its whole router
//! and panics only where the gateway broke a rule it must keep whatever the input — a panic
//! of its own (with `panic = "abort"`, one kills an instance and every call in flight), a
//! 500, or a value that does not survive its own round trip. docs/fuzzing.md lists them.

pub mod config;
pub mod dynamo_item;
pub mod jwks;
pub mod lambda_event;
pub mod register;
pub mod router;
pub mod sse;
pub mod verify;

mod fixtures;
