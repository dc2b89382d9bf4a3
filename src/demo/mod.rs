//! The demo functions `make dev` and the suite run beside the gateway: HTTP tools
//! (`tools`, the binary demo-tools) and Lambda tools (`lambda`, the binary demo-lambda). They
//! live in the library so that their unit tests run in its test binary; the binaries only
//! start them.

pub mod lambda;
pub mod tools;
