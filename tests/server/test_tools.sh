#!/usr/bin/env bash
# test_tools.sh: tool calling over a real `hearth serve` on 127.0.0.1, driven
# by the official OpenAI Node.js client (tests/server/node/tools.mjs: forced
# required/named calls that parse and validate, streamed tool_calls deltas
# reassembled, the client's runTools loop and a hand-closed loop with a tool
# message, tool_choice none, bad definitions = 400) and by curl (the
# non-streamed and streamed shapes).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}" "${HEARTH_SOURCE_DIR:?}"
here="$HEARTH_SOURCE_DIR/tests/server"
work=$(mktemp -d /tmp/hearth-tools-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_API_KEY HEARTH_SECURITY_LOG
command -v node >/dev/null || { echo "node not installed"; exit 77; }
if [ ! -d "$here/node/node_modules/openai" ]; then
    (cd "$here/node" && npm ci --no-audit --no-fund --silent) || fail "npm ci"
fi

model="$work/tiny-chat.gguf"
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny --type Q8_0 --n-ctx 4096 --seed 3 -o "$model" >/dev/null
: >"$work/out" # exists before sed reads it (set -e)
"$HEARTH_BIN" serve --port 0 -m "$model" -c 2048 --slots 2 >"$work/out" 2>"$work/err" &
pid=$!
serve_port "$pid" "$work/out" "$work/err"
port=$PORT
base="http://127.0.0.1:$port"
serve_healthy "$work/err"

node "$here/node/tools.mjs" "$base/v1" || fail "OpenAI client tool checks"

# curl: the whole answer's shape, and the stream's.
tools='[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string","maxLength":10}},"required":["city"]}}}]'
body='{"model":"tiny-chat","messages":[{"role":"user","content":"Weather in Paris?"}],"tools":'"$tools"',"tool_choice":"required","temperature":0,"max_tokens":200}'
out=$(curl -s "$base/v1/chat/completions" -d "$body")
/usr/bin/python3 - "$out" <<'PY' || fail "curl answer: $out"
import json, sys
o = json.loads(sys.argv[1])
c = o["choices"][0]
assert c["finish_reason"] == "tool_calls", c
m = c["message"]
assert m["content"] is None and m["role"] == "assistant"
call = m["tool_calls"][0]
assert call["type"] == "function" and call["function"]["name"] == "get_weather"
args = json.loads(call["function"]["arguments"])
assert isinstance(args["city"], str) and len(args["city"]) <= 10
PY
sse=$(curl -sN "$base/v1/chat/completions" -d "${body%\}},\"stream\":true}")
grep -q '"tool_calls":\[{"index":0,"id":"call_' <<<"$sse" || fail "stream: no first tool_calls delta: $sse"
grep -q '"finish_reason":"tool_calls"' <<<"$sse" || fail "stream: no tool_calls finish"
tail -n 2 <<<"$sse" | grep -q '^data: \[DONE\]' || fail "stream: no [DONE]"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/chat/completions" \
    -d '{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"x","parameters":{"type":"object","properties":{"a":{"type":"string","pattern":"a+"}}}}}]}')
[ "$code" = 400 ] || fail "a schema keyword hearth cannot constrain: $code, not 400"
kill -TERM "$pid"
wait "$pid" || fail "server exited with an error"
pid=
echo "test_tools.sh: ok"
