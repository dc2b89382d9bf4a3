#!/usr/bin/env bash
# `make test`: the whole suite from a clean checkout. Installs what it needs, checks format,
# lints and the SAM template, builds once, starts both functions under `cargo lambda watch`
# on a free loopback port, runs every test (unit, router, recorded events, real MCP
# clients against the standalone server and the Lambda runtime), stops everything. moto
# (Cognito, seeded) and a local OIDC provider run alongside for the auth tests.
set -euo pipefail
source "$(dirname "$0")/common.sh"
trap stop_all EXIT
trap 'exit 130' INT TERM
cd "$ROOT"

# The Python and Node installs (mostly waiting on downloads) run beside the format check
# and the lints, which need neither; the SAM checks wait for them.
background setup_python
PY_SETUP=$BG_PID
background setup_node
NODE_SETUP=$BG_PID
setup_done() { join "installing the Python tools" "$PY_SETUP"; join "installing the Node packages" "$NODE_SETUP"; }

# TEST_ARGS (development only, never set by CI): run just these `cargo test` arguments, e.g.
# TEST_ARGS="--test e2e e2e_oauth::" (one of the binaries tests/hermetic.rs, services.rs and
# e2e.rs, and a filter on the test path), with the same services, skipping the lints.
TEST_ARGS=${TEST_ARGS:-}
if [ -z "$TEST_ARGS" ]; then
  say "cargo fmt --check"
  cargo fmt --all -- --check
  say "cargo clippy --workspace --all-targets -- -D warnings"
  cargo clippy --workspace --all-targets --locked -- -D warnings
  setup_done
  say "SAM template: cfn-lint and sam validate --lint"
  cfn-lint template.yaml
  sam validate --lint --template template.yaml

  # Every target but the binaries as tests (they hold nothing to test; `--all-targets` would
  # build them so): the libraries and their tests, the integration tests, the binaries, and
  # the micro benches, which `cargo test` runs once each as a smoke (never timed).
  say "Building (one target dir, reused by cargo lambda watch)"
  cargo build "${BUILD_FEATURES[@]}" --lib --bins --tests --benches --locked
  # What `cargo lambda watch` builds (the binaries, without dev-dependencies) is built
  # already: `shared-test-build` gives both builds the same features. When a dependency
  # update makes a dev-dependency turn on a feature it does not name, this rebuilds part
  # of the tree (minutes of every run): that stops the suite here, with what to add.
  rebuilt=$(cargo build "${BUILD_FEATURES[@]}" --bins --locked 2>&1 | tee /dev/stderr | sed -n 's/^ *Compiling \([^ ]*\) .*/\1/p')
  [ -z "$rebuilt" ] || die "the binaries' build recompiled $(echo $rebuilt | tr '\n' ' '): a dev-dependency turns on features in them that Cargo.toml's shared-test-build does not (compare \`cargo tree -e features -i CRATE\` with and without \`-e dev\`)"
  say "Fuzz smoke: every target over its seeds and 2000 mutations (make fuzz runs them for real)"
  bash scripts/fuzz.sh --smoke
else
  setup_done
  cargo build "${BUILD_FEATURES[@]}" --bins --locked
fi

# Identity providers for the auth tests: moto's Cognito seeded with the dev pool and users
# (AWS_ENDPOINT_URL, COGNITO_CONFIG) and a real OIDC provider whose JWT access tokens are for
# the gateway's MCP URL under cargo lambda watch (OIDC_ISSUER; that URL is MCP_WATCH_URL).
start_moto
seed_cognito
WATCH_PORT=$(free_port)
start_oidc "http://127.0.0.1:$WATCH_PORT/lambda-url/mcp-oauth-gateway/mcp"

# The gateway under watch reads its policies and tools from moto's DynamoDB, seeded with the
# demo organisation, whose tools include an upstream MCP server's (tests/services/gatewayctl/
# uses tables of its own), plus tests/fixtures/watch-targets.yaml: tools of every target kind
# that fail or time out, for tests/e2e/e2e_targets.rs.
start_everything
seed_policies "$WATCH_PORT"
DEMO_TOOLS_URL="http://127.0.0.1:$WATCH_PORT/lambda-url/demo-tools" \
  "$ROOT/target/debug/gatewayctl" --table "$MCP_WATCH_POLICY_TABLE" import "$ROOT/tests/fixtures/watch-targets.yaml"

WATCH_FLAGS=(--ignore-changes)
gateway_auth_env "$WATCH_PORT"
start_watch "$WATCH_PORT"

# start_watch exported MCP_WATCH_URL and MCP_WATCH_INVOKE_URL (watch's Lambda Invoke API,
# where tests/services/lambda_targets.rs points a standalone gateway's
# AWS_ENDPOINT_URL_LAMBDA).
export MCP_E2E_PYTHON="$VENV/bin/python"
export MCP_E2E_NODE="$(command -v node)"
# tests/services/policy_dynamodb/ starts private moto instances (to take DynamoDB down
# mid-run).
export MCP_E2E_MOTO_SERVER="$VENV/bin/moto_server"

say "cargo test"
if [ -n "$TEST_ARGS" ]; then
  # shellcheck disable=SC2086 # word-split on purpose
  cargo test "${BUILD_FEATURES[@]}" --locked $TEST_ARGS
else
  cargo test "${BUILD_FEATURES[@]}" --lib --tests --benches --locked --no-fail-fast
  say "Soak smoke: 20 s of mixed load, a JWKS rotation and a slow target (make soak runs it for real)"
  bash scripts/soak.sh --smoke
fi
say "Every test passed"
