#!/usr/bin/env bash
# `make dev`: the gateway on its embedded default stack, on 127.0.0.1 only — moto's server
# (Cognito and DynamoDB emulation) and both functions under `cargo lambda watch`, which
# rebuilds on every source change. Ctrl-C stops everything this started.
set -euo pipefail
source "$(dirname "$0")/common.sh"
trap stop_all EXIT
trap 'exit 130' INT TERM

setup_python
start_moto
start_watch "${WATCH_PORT:-9000}"

cat <<TXT

  mcp-oauth-gateway is up (cargo lambda watch, hot reload on save).

  MCP endpoint   $MCP_WATCH_URL
  Health         $WATCH_BASE/mcp-oauth-gateway/health
  Demo tools     $WATCH_BASE/demo-tools/{echo,calculate,current_time}
  Emulated AWS   $AWS_ENDPOINT_URL  (moto: Cognito + DynamoDB)
  Logs           .local/watch.log, .local/moto.log

  Try it:
    curl -s $MCP_WATCH_URL -H 'content-type: application/json' \\
      -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}'
    node tests/clients/ts_client.mjs $MCP_WATCH_URL          (after: npm ci)
    claude mcp add --transport http gateway $MCP_WATCH_URL

  Ctrl-C stops everything.
TXT
wait
