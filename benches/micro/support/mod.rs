//! What the micro benches share: the CPU-time measurement and an in-process `McpService`.

pub mod cpu_time;
pub mod service;
