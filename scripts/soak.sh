#!/usr/bin/env bash
# `make soak SOAK_SECS=N SOAK_RPS=R`: the standalone gateway (release build) held at R
# requests a second for N seconds (default 1800 at 1000) by wrk, against moto's DynamoDB, a
# JWKS that rotates mid-run and a target that slows down for a while (benches/soak/soak.py
# says what is sent and checked). Writes target/soak/soak.json and a table per slice
# (SOAK_SLICE_SECS, default 60); fails on any broken invariant.
# --smoke (what `make test` runs): the debug build make test made, 20 s at 200 requests a
# second in 5-second slices, the same invariants.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

if [ "${1:-}" = --smoke ]; then
  PROFILE=debug SECS=20 RPS=200 SLICE=5
else
  PROFILE=release SECS=${SOAK_SECS:-1800} RPS=${SOAK_RPS:-1000} SLICE=${SOAK_SLICE_SECS:-60}
fi
OUT="$ROOT/target/soak"
mkdir -p "$OUT" "$LOCAL"
trap stop_all EXIT

command -v wrk >/dev/null || {
  say "Installing wrk (Debian package)"
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
}
setup_python
if [ "$PROFILE" = release ]; then
  say "Release build of the gateway and the demo tools"
  cargo build --locked --release --bin mcp-oauth-gateway --bin demo-tools
fi
# As make test builds them (BUILD_FEATURES): after a make test, nothing to compile.
cargo build "${BUILD_FEATURES[@]}" --locked --bin gatewayctl \
  $([ "$PROFILE" = debug ] && echo --bin mcp-oauth-gateway --bin demo-tools)

start_moto
DEMO_PORT=$(free_port)
start "demo tools" "$LOCAL/soak-demo.log" env DEMO_TOOLS_BIND="127.0.0.1:$DEMO_PORT" \
  "$ROOT/target/$PROFILE/demo-tools"
wait_http "http://127.0.0.1:$DEMO_PORT/stats" 30 "$LOCAL/soak-demo.log"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=soak AWS_SECRET_ACCESS_KEY=soak

say "Soak: $SECS s at $RPS requests/s ($PROFILE build)"
"$VENV/bin/python" benches/soak/soak.py --gateway-bin "$ROOT/target/$PROFILE/mcp-oauth-gateway" \
  --gatewayctl "$ROOT/target/debug/gatewayctl" --demo-port "$DEMO_PORT" \
  --table mcp-gateway-soak --secs "$SECS" --slice "$SLICE" --rps "$RPS" \
  --work "$LOCAL" --out "$OUT/soak.json"
