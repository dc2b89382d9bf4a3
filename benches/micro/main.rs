//! The micro benches, one binary: token verification (`verify`), policy (`policy`),
//! JSON-RPC (`jsonrpc`) and the audit trail (`audit`), each timing the benchmark thread's
//! CPU (`support::cpu_time`). `cargo bench --bench micro [-- FILTER]` (what `make bench`
//! runs); the figures are in BENCHMARKS.md.

mod audit;
mod jsonrpc;
mod policy;
mod support;
mod verify;

criterion::criterion_main!(
    verify::benches,
    policy::benches,
    jsonrpc::benches,
    audit::benches
);
