#![no_main]
//! `mcp_oauth_gateway_fuzz::lambda_event` under libFuzzer (docs/fuzzing.md).

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcp_oauth_gateway_fuzz::lambda_event::run(data));
