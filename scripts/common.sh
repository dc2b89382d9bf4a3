# Shared by scripts/dev.sh and scripts/test.sh: install what the project needs into the
# repo (a Python venv, node_modules), find free loopback ports, start services in their
# own process groups and stop every one of them on exit.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
LOCAL="$ROOT/.local"
mkdir -p "$LOCAL"
export PATH="$VENV/bin:$PATH"
export SAM_CLI_TELEMETRY=0
# Emulated AWS: dummy credentials, never a real account.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1

# Each step's heading carries the time since the script started (where a run spends it).
say() { printf '\n==> [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The venv is rebuilt only when requirements-dev.txt changes.
setup_python() {
  local want have
  want=$(sha256sum "$ROOT/requirements-dev.txt" | cut -d' ' -f1)
  have=$(cat "$VENV/.requirements.sha256" 2>/dev/null || true)
  if [ "$want" != "$have" ]; then
    say "Installing Python tools into .venv (cargo-lambda, moto, cfn-lint, sam, mcp)"
    command -v python3 >/dev/null || die "python3 (3.11) is required"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements-dev.txt"
    echo "$want" > "$VENV/.requirements.sha256"
  fi
}

# node_modules is reinstalled only when package-lock.json changes.
setup_node() {
  local want have
  want=$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)
  have=$(cat "$ROOT/node_modules/.lock.sha256" 2>/dev/null || true)
  if [ "$want" != "$have" ]; then
    say "Installing Node packages into node_modules (MCP TypeScript SDK)"
    command -v npm >/dev/null || die "Node.js 20 and npm are required"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$ROOT/node_modules/.lock.sha256"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

PIDS=()
# start NAME LOGFILE CMD...: runs CMD in its own process group, output to LOGFILE.
start() {
  local name=$1 log=$2
  shift 2
  setsid "$@" >"$log" 2>&1 &
  PIDS+=("$!")
  say "Started $name (pid $!, log ${log#"$ROOT"/})"
}

# background FUNCTION [ARGS...]: runs FUNCTION in a process group of its own, among PIDS,
# so that stop_all ends it and what it started if the script stops first; sets BG_PID.
background() {
  set -m
  "$@" &
  BG_PID=$!
  set +m
  PIDS+=("$BG_PID")
}

# join WHAT PID: waits for a `background` job; dies naming WHAT when it failed.
join() {
  local what=$1 pid=$2 kept=() p
  wait "$pid" || die "$what failed"
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
  PIDS=("${kept[@]}")
}

stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  PIDS=()
}

# wait_http URL SECONDS LOG: until URL answers 2xx; fails (showing LOG) on time-out or
# when the service last started has died.
wait_http() {
  local url=$1 secs=$2 log=$3 pid=${PIDS[-1]:-}
  for _ in $(seq "$secs"); do
    if curl -fsS -m 5 -o /dev/null "$url" 2>/dev/null; then return 0; fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$log" >&2 || true
      die "the service behind $url exited"
    fi
    sleep 1
  done
  tail -n 40 "$log" >&2 || true
  die "$url did not answer within ${secs}s"
}

start_moto() {
  MOTO_PORT=${MOTO_PORT:-$(free_port)}
  start moto "$LOCAL/moto.log" moto_server -H 127.0.0.1 -p "$MOTO_PORT"
  wait_http "http://127.0.0.1:$MOTO_PORT/moto-api/" 60 "$LOCAL/moto.log"
  export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
}

# seed_cognito: after start_moto, the dev user pool, app clients, groups and users
# (scripts/cognito.py seed); its ids, issuer, JWKS URL and passwords go to $COGNITO_CONFIG.
seed_cognito() {
  [ -n "${AWS_ENDPOINT_URL:-}" ] || die "seed_cognito needs start_moto first"
  "$VENV/bin/python" "$ROOT/scripts/cognito.py" seed --out "$LOCAL/cognito.json"
  export COGNITO_CONFIG="$LOCAL/cognito.json"
}

# start_oidc [RESOURCE...]: a real OpenID Connect provider (tests/idp/oidc_provider.mjs, npm
# oidc-provider; needs setup_node) on a free port. It issues JWT access tokens for those
# resource URLs (client_credentials grant); more can be added at runtime through its
# /__admin/resources. Exports OIDC_ISSUER (http://127.0.0.1:PORT, no trailing slash).
start_oidc() {
  OIDC_PORT=${OIDC_PORT:-$(free_port)}
  local args=() r
  for r in "$@"; do args+=(--resource "$r"); done
  start "OIDC provider" "$LOCAL/oidc.log" \
    node "$ROOT/tests/idp/oidc_provider.mjs" --port "$OIDC_PORT" "${args[@]}"
  wait_http "http://127.0.0.1:$OIDC_PORT/.well-known/openid-configuration" 30 "$LOCAL/oidc.log"
  export OIDC_ISSUER="http://127.0.0.1:$OIDC_PORT"
}

# start_everything: the MCP project's reference server (@modelcontextprotocol/server-everything,
# from node_modules; needs setup_node) in streamableHttp mode on a free port, bound to
# 127.0.0.1 by tests/clients/loopback_only.mjs (it has no host setting of its own). The
# demo organisation federates its tools; exports EVERYTHING_MCP_URL.
start_everything() {
  EVERYTHING_PORT=${EVERYTHING_PORT:-$(free_port)}
  start "MCP server-everything" "$LOCAL/everything.log" env PORT="$EVERYTHING_PORT" \
    node --import "$ROOT/tests/clients/loopback_only.mjs" \
      "$ROOT/node_modules/@modelcontextprotocol/server-everything/dist/index.js" streamableHttp
  local pid=${PIDS[-1]} code
  for _ in $(seq 60); do
    # Any HTTP answer will do (it answers a GET without a session with 400).
    code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$EVERYTHING_PORT/mcp" || true)
    [ "$code" != "000" ] && break
    kill -0 "$pid" 2>/dev/null || { tail -n 40 "$LOCAL/everything.log" >&2; die "server-everything exited"; }
    sleep 1
  done
  [ "$code" != "000" ] || die "server-everything did not answer on port $EVERYTHING_PORT"
  export EVERYTHING_MCP_URL="http://127.0.0.1:$EVERYTHING_PORT/mcp"
}

# gateway_auth_env PORT: WATCH_ENV for a gateway under `cargo lambda watch` on PORT that
# trusts the seeded Cognito pool (JWKS served by moto) and the local OIDC provider, with its
# canonical URL and metadata URL as watch serves them, and its authorization-server façade
# in front of the OIDC provider (issuer $base, found by clients through
# $base/.well-known/openid-configuration; relay client mcp-gateway-relay), so MCP clients can
# sign in with a browser. The façade's state key is shared by watch's instances: it is read
# from moto's Secrets Manager (needs start_moto), as a deployment reads it.
gateway_auth_env() {
  local base="http://127.0.0.1:$1/lambda-url/mcp-oauth-gateway"
  local pool client jwks
  read -r pool client jwks < <("$VENV/bin/python" -c '
import json, sys
c = json.load(open(sys.argv[1]))
print(c["userPoolId"], c["clientId"], c["jwksUrl"])' "$COGNITO_CONFIG")
  [ -s "$LOCAL/facade-state.key" ] || (umask 077 && "$VENV/bin/python" -c \
    'import base64, os; print(base64.b64encode(os.urandom(32)).decode())' > "$LOCAL/facade-state.key")
  # The state key lives in (moto's) Secrets Manager, as in a deployment: the gateway reads it
  # at start-up by ARN and never has it in its environment.
  local state_arn
  state_arn=$("$VENV/bin/python" -c '
import sys, boto3
sm = boto3.client("secretsmanager", endpoint_url=sys.argv[1])
name, key = "mcp-gateway-dev/facade-state-key", open(sys.argv[2]).read().strip()
try:
    print(sm.create_secret(Name=name, SecretString=key)["ARN"])
except sm.exceptions.ResourceExistsException:
    sm.put_secret_value(SecretId=name, SecretString=key)
    print(sm.describe_secret(SecretId=name)["ARN"])' "$AWS_ENDPOINT_URL" "$LOCAL/facade-state.key")
  WATCH_ENV+=(
    --env-var "GATEWAY_FACADE_ISSUER=$OIDC_ISSUER"
    --env-var "GATEWAY_FACADE_URL=$base"
    --env-var "GATEWAY_FACADE_CLIENT_ID=mcp-gateway-relay"
    --env-var "GATEWAY_FACADE_STATE_SECRET_ARN=$state_arn"
    --env-var "GATEWAY_SCOPES_SUPPORTED=mcp:tools"
    --env-var "GATEWAY_RESOURCE_URL=$base/mcp"
    --env-var "GATEWAY_RESOURCE_METADATA_URL=$base/.well-known/oauth-protected-resource/mcp"
    --env-var "GATEWAY_COGNITO_USER_POOL_ID=$pool"
    --env-var "GATEWAY_COGNITO_CLIENT_IDS=$client"
    --env-var "GATEWAY_COGNITO_JWKS_URL=$jwks"
    --env-var "GATEWAY_OIDC_ISSUER=$OIDC_ISSUER"
    --env-var "GATEWAY_IDENTITY_KEY_FILE=$LOCAL/identity-key.pem"
    # The demo tools verify the gateway's statement of who called with its published keys.
    --env-var "DEMO_GATEWAY_ISSUER=$base/mcp"
    --env-var "DEMO_GATEWAY_JWKS_URL=$base/.well-known/jwks.json"
    --env-var "DEMO_TOOLS_AUDIENCE=http://127.0.0.1:$1/lambda-url/demo-tools"
  )
}

# seed_policies PORT: after start_moto and start_everything, creates the gateway's
# configuration table in moto's DynamoDB ($MCP_WATCH_POLICY_TABLE, default mcp-gateway-dev,
# exported for tests) and fills it with `gatewayctl import config/demo-org.yaml` (groups
# engineering, finance, admins; the demo tools at their URLs under `cargo lambda watch` on
# PORT; the upstream MCP server at $EVERYTHING_MCP_URL). Needs target/debug/gatewayctl.
# The gateway then reads policies and tools from that table. `cargo lambda watch` hands its
# functions only what --env-var names, so the table, moto's endpoint, the region and the
# dummy credentials go into WATCH_ENV. GATEWAY_POLICY_TABLE itself is not exported, so other
# processes keep their own. Also creates the audit table (mcp-gateway-dev-audit; exported as
# MCP_WATCH_AUDIT_TABLE) that the gateway under watch writes its audit records to, and the
# KMS key that signs their heads (MCP_WATCH_AUDIT_KMS_KEY).
seed_policies() {
  [ -n "${AWS_ENDPOINT_URL:-}" ] || die "seed_policies needs start_moto first"
  [ -n "${EVERYTHING_MCP_URL:-}" ] || die "seed_policies needs start_everything first"
  local ctl="$ROOT/target/debug/gatewayctl" table=${MCP_WATCH_POLICY_TABLE:-mcp-gateway-dev}
  [ -x "$ctl" ] || die "$ctl is not built (cargo build --bin gatewayctl)"
  say "Seeding DynamoDB table $table from config/demo-org.yaml (gatewayctl import)"
  "$ctl" --table "$table" table create
  DEMO_TOOLS_URL="http://127.0.0.1:$1/lambda-url/demo-tools" \
    "$ctl" --table "$table" import "$ROOT/config/demo-org.yaml"
  "$ctl" audit --audit-table "$table-audit" table create
  # The KMS HMAC key that signs the audit chains' heads (exported as MCP_WATCH_AUDIT_KMS_KEY).
  local head_key
  head_key=$("$VENV/bin/python" -c 'import boto3; print(boto3.client("kms").create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"])')
  WATCH_ENV+=(
    --env-var "GATEWAY_AUDIT_TABLE=$table-audit"
    --env-var "GATEWAY_AUDIT_KMS_KEY_ID=$head_key"
    --env-var "GATEWAY_POLICY_TABLE=$table"
    --env-var "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
    --env-var "AWS_REGION=$AWS_REGION"
    --env-var "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID"
    --env-var "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
    --env-var "AWS_SESSION_TOKEN=$AWS_SESSION_TOKEN"
  )
  export MCP_WATCH_POLICY_TABLE=$table MCP_WATCH_AUDIT_TABLE=$table-audit
  export MCP_WATCH_AUDIT_KMS_KEY=$head_key
}

# start_watch PORT: every function under `cargo lambda watch` on 127.0.0.1 only. Watch
# also serves the Lambda Invoke API on the same address, so the gateway reaches Lambda
# targets (the demo-lambda function) through AWS_ENDPOINT_URL_LAMBDA; tests get that base
# URL as MCP_WATCH_INVOKE_URL. Four instances per function: a demo tool called by the
# gateway fetches the gateway's keys while that gateway instance is still busy with the call,
# and several clients (tests in parallel, or an assistant beside the Inspector) may be
# calling at once.
start_watch() {
  WATCH_PORT=$1
  WATCH_BASE="http://127.0.0.1:$WATCH_PORT/lambda-url"
  start "cargo lambda watch" "$LOCAL/watch.log" \
    cargo lambda watch -A 127.0.0.1 -P "$WATCH_PORT" --disable-cors --concurrency 4 "${BUILD_FEATURES[@]}" "${WATCH_FLAGS[@]}" \
      --env-var "DEMO_TOOLS_URL=$WATCH_BASE/demo-tools" \
      --env-var "AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:$WATCH_PORT" \
      --env-var "RUST_LOG=${RUST_LOG:-info}" "${WATCH_ENV[@]}"
  # The first request starts the function; that may include a build.
  wait_http "$WATCH_BASE/mcp-oauth-gateway/health" 600 "$LOCAL/watch.log"
  export MCP_WATCH_URL="$WATCH_BASE/mcp-oauth-gateway/mcp"
  export MCP_WATCH_INVOKE_URL="http://127.0.0.1:$WATCH_PORT"
}
WATCH_FLAGS=()
# The cargo features of every build `make test` and `make dev` run, watch's included
# (Cargo.toml's `shared-test-build` says why): one build of the dependencies serves all.
BUILD_FEATURES=(--features shared-test-build)
# Extra `--env-var NAME=VALUE` pairs for the functions (cargo lambda refuses empty values).
WATCH_ENV=()
