#!/usr/bin/env bash
# `make dev`: the gateway on a local stack, on 127.0.0.1 only — moto's server (Cognito and
# DynamoDB emulation; Cognito seeded with dev users, DynamoDB with the demo organisation's
# policies and tools through `gatewayctl import`), a local OpenID Connect provider fronted by
# the gateway's authorization-server façade (browser sign-in), and both functions under
# `cargo lambda watch`, which rebuilds on every source change. Ctrl-C stops
# everything this started.
set -euo pipefail
source "$(dirname "$0")/common.sh"
trap stop_all EXIT
trap 'exit 130' INT TERM

setup_python
setup_node
say "Building gatewayctl"
(cd "$ROOT" && cargo build "${BUILD_FEATURES[@]}" --bin gatewayctl)
start_moto
seed_cognito
start_everything
WATCH_PORT=${WATCH_PORT:-9000}
seed_policies "$WATCH_PORT"
# For `make ctl` and other terminals: moto's endpoint, dummy credentials, the table.
cat > "$LOCAL/dev.env" <<ENV
export AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL AWS_REGION=$AWS_REGION
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export GATEWAY_POLICY_TABLE=$MCP_WATCH_POLICY_TABLE GATEWAY_AUDIT_TABLE=$MCP_WATCH_AUDIT_TABLE
export GATEWAY_AUDIT_KMS_KEY_ID=$MCP_WATCH_AUDIT_KMS_KEY
ENV
start_oidc "http://127.0.0.1:$WATCH_PORT/lambda-url/mcp-oauth-gateway/mcp"
gateway_auth_env "$WATCH_PORT"
start_watch "$WATCH_PORT"

cat <<TXT

  mcp-oauth-gateway is up (cargo lambda watch, hot reload on save).

  MCP endpoint   $MCP_WATCH_URL
  Health         $WATCH_BASE/mcp-oauth-gateway/health
  Demo tools     $WATCH_BASE/demo-tools/{echo,calculate,current_time,sleep}
  Upstream MCP   $EVERYTHING_MCP_URL (server-everything; its tools are everything___*)
  Demo Lambda    function demo-lambda (echo, whoami, fail, sleep) through the Invoke API at
                 $MCP_WATCH_INVOKE_URL (the gateway's AWS_ENDPOINT_URL_LAMBDA); catalog
                 target {kind: lambda, function: demo-lambda, contract: native}
  Emulated AWS   $AWS_ENDPOINT_URL  (moto: Cognito + DynamoDB)
  Cognito        pool mcp-gateway-dev, users alice (engineering, admins), bob (finance),
                 carol (no group)  (.local/cognito.json)
  Policies       DynamoDB table $MCP_WATCH_POLICY_TABLE, from config/demo-org.yaml:
                 alice sees echo, calculate, current_time, sleep, everything___*;
                 bob calculate, current_time;
                 carol current_time
  OIDC provider  $OIDC_ISSUER  (test clients client-alice, client-bob, ...)
  OAuth façade   $WATCH_BASE/mcp-oauth-gateway  (fronts the OIDC provider: clients register
                 and sign in with a browser, approving each client on the gateway's
                 consent page first; any password, login alice or bob)
  Logs           .local/watch.log, .local/moto.log, .local/oidc.log

  Tokens:
    make token                     Cognito access token for alice (USER=bob|carol, KIND=id)
    curl -s $OIDC_ISSUER/token -d grant_type=client_credentials \\
      -d client_id=client-alice -d client_secret=alice-secret \\
      --data-urlencode resource=$MCP_WATCH_URL --data-urlencode 'scope=mcp:tools mcp:admin'

  Sign in with a browser (no token needed; the client registers and opens the login page):
    claude mcp add --transport http gateway $MCP_WATCH_URL
    npx @modelcontextprotocol/inspector --cli $MCP_WATCH_URL --transport http --method tools/list
    npx mcp-remote $MCP_WATCH_URL          (the stdio bridge Claude Desktop uses)

  Try it with a token (every /mcp request needs one):
    TOKEN=\$(make -s token)
    curl -s $MCP_WATCH_URL -H "authorization: Bearer \$TOKEN" -H 'content-type: application/json' \\
      -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}'
    node tests/clients/ts_client.mjs $MCP_WATCH_URL --header "Authorization: Bearer \$TOKEN"
    claude mcp add --transport http gateway $MCP_WATCH_URL --header "Authorization: Bearer \$TOKEN"

  Policies (gatewayctl; a change takes effect within 30 s, no restart):
    make ctl ARGS='policy list'
    make ctl ARGS='explain --groups finance --tool echo'
    source .local/dev.env               # then target/debug/gatewayctl ... directly:
    target/debug/gatewayctl export > /tmp/org.yaml   # edit, then: gatewayctl import /tmp/org.yaml

  Audit trail (every request; records also on the gateway's stdout in .local/watch.log):
    make ctl ARGS='audit query --user alice'
    make ctl ARGS='audit verify'

  Ctrl-C stops everything.
TXT
wait
