#!/usr/bin/env bash
# test_cloud_live.sh: the cloud client (src/router/cloud.c) against a real
# `hearth serve` on 127.0.0.1 (free port, the bundled demo model, an API
# key, the response cache off so every request runs the model): a whole and
# a streamed greedy answer must equal what a direct curl to the same server
# gets. The C side is router_cloud's "live" mode.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
: "${HEARTH_BIN:?}" "${HEARTH_SOURCE_DIR:?}" "${HEARTH_BUILD_DIR:?}"
work=$(mktemp -d /tmp/hearth-cloud-live-XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config" HEARTH_CACHE=0
unset HEARTH_MODEL HEARTH_API_KEY HEARTH_SECURITY_LOG http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
key=sk-hearth-TEST-9f8e7d6c5b4a3210   # the key test_cloud.c sends

"$HEARTH_BIN" serve --port 0 -m "$HEARTH_SOURCE_DIR/models/hearth-demo.gguf" --api-key "$key" \
    --slots 1 >"$work/out" 2>"$work/err" &
pid=$!
serve_port "$pid" "$work/out" "$work/err"
port=$PORT
base="http://127.0.0.1:$port"
serve_healthy "$work/err"
model=$(curl -s -H "Authorization: Bearer $key" "$base/v1/models" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])') || fail "no model id"

prompt="What is 2+2?"
expect=$(curl -s -H "Authorization: Bearer $key" "$base/v1/chat/completions" \
    -d "{\"model\":\"$model\",\"messages\":[{\"role\":\"user\",\"content\":\"$prompt\"}],\"max_tokens\":24,\"temperature\":0}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["choices"][0]["message"]["content"], end="")') ||
    fail "direct curl request"
[ -n "$expect" ] || fail "the direct answer is empty"
echo "direct curl: '$expect'"

# Base URL without /v1: the client adds /v1/chat/completions.
CLOUD_URL="$base" CLOUD_MODEL="$model" CLOUD_PROMPT="$prompt" CLOUD_EXPECT="$expect" \
    timeout 300 "$HEARTH_BUILD_DIR/router_cloud" live || fail "cloud client against hearth serve"

# A wrong key: HTTP 401, and the key is in no message.
out=$(CLOUD_URL="$base/v1" CLOUD_MODEL="$model" CLOUD_PROMPT="$prompt" CLOUD_EXPECT="$expect" \
      CLOUD_BAD_KEY=1 timeout 120 "$HEARTH_BUILD_DIR/router_cloud" live 2>&1) && fail "a wrong key was accepted: $out"
echo "$out" | grep -q "HTTP 401" || fail "wrong key: $out"
kill -0 "$pid" || fail "hearth serve died"
echo ok
