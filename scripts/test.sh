#!/usr/bin/env bash
# `make test`: the whole suite from a clean checkout. Installs what it needs, checks format,
# lints and the SAM template, builds once, starts both functions under `cargo lambda watch`
# on a free loopback port, runs every test (unit, router, recorded events, real MCP
# clients against the standalone server and the Lambda runtime), stops everything.
set -euo pipefail
source "$(dirname "$0")/common.sh"
trap stop_all EXIT
trap 'exit 130' INT TERM
cd "$ROOT"

setup_python
setup_node

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings
say "SAM template: cfn-lint and sam validate --lint"
cfn-lint template.yaml
sam validate --lint --template template.yaml

say "Building (one target dir, reused by cargo lambda watch)"
cargo build --all-targets --locked

WATCH_FLAGS=(--ignore-changes)
start_watch "$(free_port)"

export MCP_E2E_PYTHON="$VENV/bin/python"
export MCP_E2E_NODE="$(command -v node)"

say "cargo test"
cargo test --all-targets --locked --no-fail-fast
