#!/usr/bin/env bash
# Self-test of tests/idp/oidc_provider.mjs: start it on a free loopback port, get a JWT access
# token for client-alice, print its decoded header and payload, check the claims, rotate the
# signing key, check JWKS hit counting and the jwks-down switch, then stop it.
#   bash tests/idp/smoke.sh
set -euo pipefail
source "$(dirname "$0")/../../scripts/common.sh"
trap stop_all EXIT
trap 'exit 130' INT TERM
cd "$ROOT"

setup_node
RESOURCE=http://127.0.0.1:1/mcp
start_oidc "$RESOURCE"
ISS=$OIDC_ISSUER
ADMIN=$ISS/__admin
JWKS=$(curl -fsS "$ISS/.well-known/openid-configuration" | python3 -c 'import json,sys; print(json.load(sys.stdin)["jwks_uri"])')

# token CLIENT SECRET [SCOPE]: the access token from a client_credentials grant for $RESOURCE.
token() {
  curl -fsS "$ISS/token" -d grant_type=client_credentials -d "client_id=$1" -d "client_secret=$2" \
    --data-urlencode "resource=$RESOURCE" --data-urlencode "scope=${3:-mcp:tools mcp:admin}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
decode() { node tests/idp/decode_jwt.mjs "$1" --jwks "$JWKS"; }
# check JSON PYTHON-EXPR: evaluates EXPR with `d` bound to the decoded JSON, fails if false.
check() {
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert eval(sys.argv[2]), sys.argv[2]' "$1" "$2" ||
    die "check failed: $2"
}
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

say "issuer $ISS, jwks_uri $JWKS"
[ "$JWKS" = "$ISS/jwks" ] || die "unexpected jwks_uri $JWKS"

say "client-alice token (client_credentials, resource=$RESOURCE)"
curl -fsS -X POST "$ADMIN/reset-stats" >/dev/null
T1=$(token client-alice alice-secret)
D1=$(decode "$T1")
echo "$D1"
check "$D1" 'd["header"]["typ"] == "at+jwt" and d["header"]["alg"] == "RS256" and d["header"]["kid"]'
check "$D1" 'd["signature"] == "valid" and d["key"]["bits"] == 2048'
check "$D1" 'd["payload"]["aud"] == "'"$RESOURCE"'" and d["payload"]["iss"] == "'"$ISS"'"'
check "$D1" 'd["payload"]["sub"] == "client-alice" and d["payload"]["client_id"] == "client-alice"'
check "$D1" 'd["payload"]["scope"] == "mcp:tools mcp:admin" and d["payload"]["exp"] > d["payload"]["iat"] and d["payload"]["jti"]'
check "$D1" 'd["payload"]["groups"] == ["engineering", "admins"] and d["payload"]["realm_access"] == {"roles": ["tools-user"]}'
check "$D1" 'd["payload"]["username"] == "alice" and d["payload"]["email"] == "alice@example.com"'
KID1=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["header"]["kid"])' "$D1")

say "other clients"
D=$(decode "$(token client-bob bob-secret mcp:tools)")
check "$D" 'd["payload"]["groups"] == ["finance"] and d["payload"]["username"] == "bob" and d["payload"]["scope"] == "mcp:tools"'
D=$(decode "$(token client-nogroups nogroups-secret)")
check "$D" '"groups" not in d["payload"] and "realm_access" not in d["payload"]'
D=$(decode "$(token client-scp scp-secret mcp:tools)")
check "$D" 'd["payload"]["scp"] == ["mcp:tools"] and "scope" not in d["payload"]'
B=$(curl -fsS -u client-basic:basic-secret "$ISS/token" -d grant_type=client_credentials \
  --data-urlencode "resource=$RESOURCE" -d scope=mcp:tools)
check "$B" 'd["token_type"] == "Bearer"'
echo "client-bob, client-nogroups, client-scp (scp array, no scope), client-basic: ok"

say "an unknown resource is refused"
R=$(curl -sS "$ISS/token" -d grant_type=client_credentials -d client_id=client-alice -d client_secret=alice-secret \
  --data-urlencode resource=http://127.0.0.1:2/mcp -d scope=mcp:tools)
check "$R" 'd["error"] == "invalid_target"'
curl -fsS "$ADMIN/resources" --data-urlencode resource=http://127.0.0.1:2/mcp >/dev/null
R=$(curl -sS "$ISS/token" -d grant_type=client_credentials -d client_id=client-alice -d client_secret=alice-secret \
  --data-urlencode resource=http://127.0.0.1:2/mcp -d scope=mcp:tools)
check "$R" '"access_token" in d'
echo "invalid_target until added through /__admin/resources: ok"

say "JWKS hit counting"
S=$(curl -fsS "$ADMIN/stats")
echo "$S"
check "$S" 'd["jwksHits"] == 4'   # one per decode above
curl -fsS -X POST "$ADMIN/reset-stats" >/dev/null
curl -fsS -o /dev/null "$JWKS"
curl -fsS -o /dev/null "$JWKS"
S=$(curl -fsS "$ADMIN/stats")
check "$S" 'd["jwksHits"] == 2'
echo "$S"

say "rotate"
curl -fsS -X POST "$ADMIN/rotate"
echo
T2=$(token client-alice alice-secret)
D2=$(decode "$T2")
python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])["header"]))' "$D2"
KID2=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["header"]["kid"])' "$D2")
[ "$KID1" != "$KID2" ] || die "kid did not change on rotate"
KIDS=$(curl -fsS "$JWKS" | python3 -c 'import json,sys; print(" ".join(k["kid"] for k in json.load(sys.stdin)["keys"]))')
[ "$KIDS" = "$KID2" ] || die "JWKS should serve only $KID2, serves: $KIDS"
if node tests/idp/decode_jwt.mjs "$T1" --jwks "$JWKS" >/dev/null 2>&1; then die "old token still verifies"; fi
echo "kid $KID1 -> $KID2; JWKS serves only $KIDS; the pre-rotation token no longer finds its key"

say "jwks-down / jwks-up"
curl -fsS -X POST "$ADMIN/jwks-down" >/dev/null
[ "$(status "$JWKS")" = 503 ] || die "jwks_uri should answer 503 while down"
[ "$(status "$ISS/.well-known/openid-configuration")" = 200 ] || die "discovery should stay up"
curl -fsS -X POST "$ADMIN/jwks-up" >/dev/null
[ "$(status "$JWKS")" = 200 ] || die "jwks_uri should answer 200 again"
echo "503 while down, 200 after up: ok"

say "stop"
PID=${PIDS[-1]}
stop_all
if kill -0 "$PID" 2>/dev/null; then die "provider still running"; fi
grep -q 'SIGTERM: stopping' "$LOCAL/oidc.log" || die "no clean SIGTERM shutdown in the log"
echo "stopped on SIGTERM"
echo "oidc-provider smoke test passed"
