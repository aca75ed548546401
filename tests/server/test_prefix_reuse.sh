#!/usr/bin/env bash
# test_prefix_reuse.sh: the scheduler's slots keep a conversation between
# requests. Two real `hearth serve` on 127.0.0.1 (free ports) of one model;
# the official OpenAI client (node/reuse.mjs) checks that a conversation's
# next turn reports usage.prompt_tokens_details.cached_tokens > 0 on the
# server that saw the previous turn and answers as the other does without
# them; curl checks /metrics' counter and the ollama API's
# prompt_eval_cached_count.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}" "${HEARTH_SOURCE_DIR:?}"
here="$HEARTH_SOURCE_DIR/tests/server"
work=$(mktemp -d /tmp/hearth-reuse-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
export HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_API_KEY HEARTH_SECURITY_LOG

if [ ! -d "$here/node/node_modules/openai" ]; then
    (cd "$here/node" && npm ci --no-audit --no-fund --silent) || fail "npm ci"
fi

model="$work/tiny-chat.gguf"
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny --type Q8_0 --n-ctx 4096 --seed 3 -o "$model" >/dev/null

# start_server NAME ARGS...: starts hearth serve (its own HEARTH_HOME), sets PORT.
start_server() {
    local name=$1; shift
    mkdir -p "$work/$name"
    HEARTH_HOME="$work/$name" "$HEARTH_BIN" serve --port 0 -m "$model" "$@" \
        >"$work/$name.out" 2>"$work/$name.err" &
    local pid=$!
    pids+=("$pid")
    serve_port "$pid" "$work/$name.out" "$work/$name.err" "$name"
    serve_healthy "$work/$name.err" "$name"
}

start_server a -c 1024 --slots 2
a="http://127.0.0.1:$PORT"
start_server b -c 1024 --slots 2
b="http://127.0.0.1:$PORT"

node "$here/node/reuse.mjs" "$a/v1" "$b/v1" || fail "OpenAI client checks"

metrics=$(curl -s "$a/metrics")
grep -q '^hearth_prompt_cached_tokens_total [1-9]' <<<"$metrics" || fail "metrics: cached prompt tokens"

# The ollama API: the whole prompt in prompt_eval_count, the reused part in
# prompt_eval_cached_count.
req() { printf '{"model":"tiny-chat","stream":false,"options":{"temperature":0,"num_predict":4},"messages":[{"role":"user","content":"Count to three."}%s]}' "$1"; }
r1=$(curl -s "$a/api/chat" -d "$(req '')")
ans=$(/usr/bin/python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])["message"]["content"]))' "$r1")
r2=$(curl -s "$a/api/chat" -d "$(req ',{"role":"assistant","content":'"$ans"'},{"role":"user","content":"Go on."}')")
/usr/bin/python3 - "$r2" <<'PY' || fail "ollama: prompt_eval_cached_count: $r2"
import json, sys
r = json.loads(sys.argv[1])
assert 0 < r["prompt_eval_cached_count"] < r["prompt_eval_count"], r
PY
echo "prefix reuse: ok"
