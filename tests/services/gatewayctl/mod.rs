//! `gatewayctl`, the real binary, against moto's DynamoDB (`AWS_ENDPOINT_URL`, set by `make
//! test`; these tests fail without it, they never reach real AWS). Every test uses its own
//! fresh table: round trips, idempotent import, export, prune, validate without DynamoDB,
//! explain, every error as one line with a non-zero exit, forbidden secret sources refused,
//! a table over 1 MB read back through the gateway's own paginated loader, and upstream MCP
//! servers one at a time.

mod imports;
mod offline;
mod sources;
mod store;
mod upstreams;
