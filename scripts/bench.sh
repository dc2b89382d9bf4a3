#!/usr/bin/env bash
# `make bench`: every figure of BENCHMARKS.md, written to target/bench/. Micro benches
# (criterion) and the Node peers on the same tokens; load runs of the standalone gateway
# (release build) against the same targets called directly; cold start; the arm64 Lambda
# binary's size. Services (moto, server-everything, the demo tools, gateways) bind
# 127.0.0.1 and stop on exit; every load run is bounded in time.
#   BENCH_PARTS="micro peers load cold watch size" (default: all)   which parts run
#   BENCH_SECS=5 BENCH_ROUNDS=2                              seconds per wrk run, A/B rounds
#   BENCH_PROFILE=release                                    debug: a quick check of the harness
set -euo pipefail
source "$(dirname "$0")/common.sh"
trap stop_all EXIT
trap 'exit 130' INT TERM
cd "$ROOT"

PARTS=" ${BENCH_PARTS:-micro peers load cold watch size} "
# BENCH_PROFILE=debug only checks the harness quickly: its figures mean nothing.
PROFILE=${BENCH_PROFILE:-release}
OUT="$ROOT/target/bench"
mkdir -p "$OUT"
part() { [[ "$PARTS" == *" $1 "* ]]; }

setup_python
setup_node

if part micro || part peers; then
  say "Micro benches (criterion); the verify bench writes its tokens for the Node peers"
  MCP_BENCH_TOKENS="$OUT/tokens.json" cargo bench --locked --bench micro 2>&1 | tee "$OUT/micro.txt"
  "$VENV/bin/python" - "$ROOT/target/criterion" > "$OUT/micro.json" <<'EOF'
import json, pathlib, sys
root, out = pathlib.Path(sys.argv[1]), {}
for est in sorted(root.glob("**/new/estimates.json")):
    name = str(est.parent.parent.relative_to(root))
    out[name] = round(json.loads(est.read_text())["median"]["point_estimate"] / 1000, 3)
print(json.dumps({"unit": "us (criterion median)", "results": out}, indent=2))
EOF
fi
if part peers; then
  say "Peers: aws-jwt-verify and jose on the same tokens"
  node "$ROOT/benches/peers/verify.mjs" "$OUT/tokens.json" | tee "$OUT/peers.json"
fi

if part load || part cold || part watch; then
  command -v wrk >/dev/null || {
    say "Installing wrk (Debian package)"
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
  }
  say "Release build of the gateway and the demo tools; gatewayctl (debug) to seed"
  if [ "$PROFILE" = release ]; then
    cargo build --locked --release --bin mcp-oauth-gateway --bin demo-tools
  else
    cargo build "${BUILD_FEATURES[@]}" --locked --bin mcp-oauth-gateway --bin demo-tools
  fi
  # Debug builds as make test makes them (BUILD_FEATURES): after a make test, nothing to do.
  cargo build "${BUILD_FEATURES[@]}" --locked --bin gatewayctl
  GW="$ROOT/target/$PROFILE/mcp-oauth-gateway"

  start_moto
  seed_cognito
  start_everything
  DEMO_PORT=$(free_port)
  start "demo tools" "$LOCAL/bench-demo.log" env DEMO_TOOLS_BIND="127.0.0.1:$DEMO_PORT" \
    "$ROOT/target/$PROFILE/demo-tools"
  wait_http "http://127.0.0.1:$DEMO_PORT/stats" 30 "$LOCAL/bench-demo.log"
  TABLE=mcp-gateway-bench
  target/debug/gatewayctl --table "$TABLE" table create
  DEMO_TOOLS_URL="http://127.0.0.1:$DEMO_PORT" target/debug/gatewayctl --table "$TABLE" \
    import "$ROOT/config/demo-org.yaml"
  TOKEN=$("$VENV/bin/python" scripts/cognito.py token --user alice --config "$COGNITO_CONFIG")
  read -r POOL CLIENT JWKS < <("$VENV/bin/python" -c '
import json, sys
c = json.load(open(sys.argv[1]))
print(c["userPoolId"], c["clientId"], c["jwksUrl"])' "$COGNITO_CONFIG")
  # What every gateway here gets: Cognito (moto) as the issuer, moto's DynamoDB as the
  # policy and tool source, info logs as in production.
  export GATEWAY_COGNITO_USER_POOL_ID="$POOL" GATEWAY_COGNITO_CLIENT_IDS="$CLIENT" \
    GATEWAY_COGNITO_JWKS_URL="$JWKS" GATEWAY_POLICY_TABLE="$TABLE" RUST_LOG=info
  # A configured identity key, as in production: loading it takes a fraction of a
  # millisecond, generating an ephemeral one (no key configured) 40-60 ms of start-up.
  export GATEWAY_IDENTITY_KEY_FILE="$LOCAL/bench-identity-key.pem"
  rm -f "$GATEWAY_IDENTITY_KEY_FILE"

  # The cold-start runs' second configuration: the policies and the one tool in a file.
  cat > "$OUT/cold-catalog.yaml" <<EOF
policies:
  - {group: engineering, allow: [echo]}
tools:
  - name: echo
    inputSchema: {type: object, properties: {text: {type: string}}, required: [text]}
    target: {kind: http, url: "http://127.0.0.1:$DEMO_PORT/echo"}
EOF

  # start_gateway NAME PORT [VAR=VALUE...]: a release gateway; sets GW_PID.
  start_gateway() {
    local name=$1 port=$2
    shift 2
    start "gateway ($name)" "$LOCAL/bench-gw-$name.log" env GATEWAY_BIND="127.0.0.1:$port" "$@" "$GW"
    wait_http "http://127.0.0.1:$port/health" 30 "$LOCAL/bench-gw-$name.log"
    GW_PID=${PIDS[-1]}
  }
fi

if part load; then
  MAIN_PORT=$(free_port) REFRESH_PORT=$(free_port) JWKS_PORT=$(free_port)
  start_gateway main "$MAIN_PORT"
  MAIN_PID=$GW_PID
  start_gateway refresh "$REFRESH_PORT" GATEWAY_POLICY_REFRESH_SECS=1 GATEWAY_POLICY_MAX_STALENESS_SECS=5 \
    RUST_LOG=info,gateway_core::policy=debug
  REFRESH_PID=$GW_PID
  # The shortest key-set age the gateway accepts; the A/B runs take longer than that, so
  # the variant's first requests find the keys old and refetch them in the background.
  start_gateway jwks "$JWKS_PORT" GATEWAY_JWKS_MAX_AGE_SECS=60
  JWKS_PID=$GW_PID
  JWKS_START=$(date +%s)
  say "Load runs (wrk; about $(( ${BENCH_SECS:-5} * ${BENCH_ROUNDS:-2} * 2 * 9 / 60 + 1 )) min)"
  "$VENV/bin/python" benches/load/run.py --gateway "http://127.0.0.1:$MAIN_PORT" \
    --gateway-pid "$MAIN_PID" --demo "http://127.0.0.1:$DEMO_PORT" \
    --everything "$EVERYTHING_MCP_URL" --token "$TOKEN" \
    --variant "policy_refresh_1s=http://127.0.0.1:$REFRESH_PORT=$REFRESH_PID" \
    --variant "jwks_refetch=http://127.0.0.1:$JWKS_PORT=$JWKS_PID" \
    --secs "${BENCH_SECS:-5}" --rounds "${BENCH_ROUNDS:-2}" --out "$OUT/load.json"
  (( $(date +%s) - JWKS_START > 60 )) || say "warning: the JWKS variant ran before its keys aged"
  echo "JWKS loads by the jwks gateway: $(grep -c 'JWKS loaded' "$LOCAL/bench-gw-jwks.log")" \
    | tee "$OUT/jwks-loads.txt"
  echo "policy loads by the refresh gateway: $(grep -c 'tool policies loaded' "$LOCAL/bench-gw-refresh.log" || true)" \
    | tee -a "$OUT/jwks-loads.txt"
fi

if part cold; then
  say "Cold start: spawn to first authorized tools/call answer, median of 20"
  "$VENV/bin/python" benches/load/cold.py --binary "$GW" --token "$TOKEN" --runs 20 \
    --out "$OUT/cold.json"
  # The same with the policies and the one tool in a file (written above): no DynamoDB
  # read and no upstream MCP server to list at start-up, which shows what those cost.
  env -u GATEWAY_POLICY_TABLE GATEWAY_CATALOG_FILE="$OUT/cold-catalog.yaml" \
    "$VENV/bin/python" benches/load/cold.py --binary "$GW" --token "$TOKEN" --runs 20 \
    --label "file catalog, no upstream" --out "$OUT/cold-file.json"
fi

if part watch; then
  say "Cold start under cargo lambda watch's runtime API: spawn to first answer, median of 20"
  # Watch serves only the runtime and invoke APIs (--only-lambda-apis): it does not build or
  # start the function, so each run spawns the same release binary as a Lambda function and
  # the first request goes through watch's function URL. Bounded: watch is stopped on exit.
  WATCH_BENCH_PORT=$(free_port)
  start "cargo lambda watch (runtime APIs only)" "$LOCAL/bench-watch.log" \
    cargo lambda watch --only-lambda-apis -A 127.0.0.1 -P "$WATCH_BENCH_PORT" --disable-cors
  for _ in $(seq 60); do
    grep -q "starting Runtime server" "$LOCAL/bench-watch.log" 2>/dev/null && break
    kill -0 "${PIDS[-1]}" 2>/dev/null || { tail -n 20 "$LOCAL/bench-watch.log" >&2; die "watch exited"; }
    sleep 1
  done
  # Watch names the function "_" when it does not start it.
  for catalog in table file; do
    if [ "$catalog" = table ]; then
      extra=() label="under watch, DynamoDB" out="$OUT/cold-watch.json"
    else
      extra=(-u GATEWAY_POLICY_TABLE GATEWAY_CATALOG_FILE="$OUT/cold-catalog.yaml")
      label="under watch, file catalog" out="$OUT/cold-watch-file.json"
    fi
    env "${extra[@]}" "$VENV/bin/python" benches/load/cold.py --binary "$GW" --token "$TOKEN" \
      --runs 20 --label "$label" --out "$out" \
      --runtime-api "http://127.0.0.1:$WATCH_BENCH_PORT/.rt" \
      --invoke-url "http://127.0.0.1:$WATCH_BENCH_PORT/lambda-url/_/mcp"
  done
fi

if part size; then
  say "Size: cargo lambda build --release --arm64"
  cargo lambda build --release --arm64 --bin mcp-oauth-gateway
  BIN="$ROOT/target/lambda/mcp-oauth-gateway/bootstrap"
  rm -f "$OUT/bootstrap.zip"
  (cd "$(dirname "$BIN")" && "$VENV/bin/python" -c '
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.write("bootstrap")' "$OUT/bootstrap.zip")
  printf '{"bootstrap_bytes": %d, "zip_bytes": %d}\n' "$(stat -c %s "$BIN")" \
    "$(stat -c %s "$OUT/bootstrap.zip")" | tee "$OUT/size.json"
fi
say "Results in ${OUT#"$ROOT"/}/"
