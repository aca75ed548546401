#!/usr/bin/env bash
# test_ollama.sh: ollama's API on a real `hearth serve` (127.0.0.1, free
# port): the official ollama JavaScript client (npm package `ollama`) lists,
# shows, chats and generates (streamed and not), embeds, and gets ollama's
# errors; curl checks the shapes the client hides (NDJSON framing, HEAD /,
# {"error": ...} bodies and status codes, the Host/Origin/key protections).
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}" "${HEARTH_SOURCE_DIR:?}"
here="$HEARTH_SOURCE_DIR/tests/server"
work=$(mktemp -d /tmp/hearth-ollama-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_API_KEY HEARTH_SECURITY_LOG HEARTH_EMBED_MODEL

command -v node >/dev/null || { echo "node not installed"; exit 77; }
if [ ! -d "$here/ollama/node_modules/ollama" ]; then
    (cd "$here/ollama" && npm ci --no-audit --no-fund --silent) || fail "npm ci"
fi

model="$work/tiny-chat.gguf"
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny --type Q8_0 --n-ctx 4096 --seed 3 -o "$model" >/dev/null
id=tiny-chat

start_server() {
    local name=$1; shift
    "$HEARTH_BIN" serve --port 0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
    PID=$!
    pids+=("$PID")
    serve_port "$PID" "$work/$name.out" "$work/$name.err" "$name"
    serve_healthy "$work/$name.err" "$name"
}

start_server main -m "$model" -c 512 --slots 2
base="http://127.0.0.1:$PORT"

node "$here/ollama/client.mjs" "$base" "$id" || fail "ollama client checks"

# status BODYFILE ARGS...: the HTTP status of a curl call, the body in BODYFILE
status() { local f=$1; shift; curl -s -o "$f" -w '%{http_code}' "$@"; }
is_error() { /usr/bin/python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert set(o)=={"error"} and isinstance(o["error"],str) and o["error"], o' "$1" \
    || fail "$2: not {\"error\": string}: $(cat "$1")"; }

# "/" and HEAD "/": apps probe them
[ "$(status "$work/b" "$base/")" = 200 ] || fail "GET /"
grep -q "hearth is running" "$work/b" || fail "GET / body"
[ "$(curl -s -o /dev/null -w '%{http_code}' -I "$base/")" = 200 ] || fail "HEAD /"
[ "$(curl -s -I "$base/" | tr -d '\r' | sed -n 's/^Content-Length: //Ip')" -gt 0 ] || fail "HEAD / length"
[ -z "$(curl -s --head "$base/api/version" -o - | sed '/^\r$/,$!d' | tail -n +2)" ] || fail "HEAD has a body"

# a streamed generate is NDJSON: one JSON object a line, the last one done
curl -s -D "$work/h" "$base/api/generate" -d "{\"model\":\"$id\",\"prompt\":\"Hi\",\"options\":{\"num_predict\":4,\"temperature\":0}}" >"$work/nd"
tr -d '\r' <"$work/h" | grep -qi '^content-type: application/x-ndjson' || fail "stream content type: $(cat "$work/h")"
/usr/bin/python3 - "$work/nd" <<'EOF' || fail "NDJSON stream: $(cat "$work/nd")"
import json, sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[-1] == "", "the stream ends with a newline"
objs = [json.loads(l) for l in lines[:-1]]
assert len(objs) == 5, len(objs)          # 4 pieces, then done
assert all(o["done"] is False and isinstance(o["response"], str) for o in objs[:-1])
last = objs[-1]
assert last["done"] is True and last["done_reason"] == "length" and last["eval_count"] == 4
for k in ("total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_duration"):
    assert isinstance(last[k], int) and last[k] >= 0, k
EOF
# "stream": false is one object
curl -s "$base/api/chat" -d "{\"model\":\"$id\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"options\":{\"num_predict\":3}}" >"$work/one"
/usr/bin/python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["done"] and o["message"]["role"]=="assistant" and o["eval_count"]==3, o' "$work/one" \
    || fail "chat stream false: $(cat "$work/one")"

# errors: ollama's shape and status codes
[ "$(status "$work/b" "$base/api/chat" -d '{not json')" = 400 ] || fail "bad JSON status"; is_error "$work/b" "bad JSON"
[ "$(status "$work/b" "$base/api/chat" -d '{"messages":[]}')" = 400 ] || fail "no model status"; is_error "$work/b" "no model"
[ "$(status "$work/b" "$base/api/generate" -d '{"model":"nope","prompt":"x"}')" = 404 ] || fail "unknown model"; is_error "$work/b" "unknown model"
grep -q "nope" "$work/b" || fail "the unknown model is named"
[ "$(status "$work/b" "$base/api/generate" -d "{\"model\":\"$id\",\"prompt\":\"x\",\"format\":{\"type\":\"object\"}}")" = 400 ] || fail "format schema"
is_error "$work/b" "format"
[ "$(status "$work/b" "$base/api/chat" -d "{\"model\":\"$id\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\"}]}")" = 400 ] || fail "tools"
[ "$(status "$work/b" "$base/api/chat" -d "{\"model\":\"$id\",\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}")" = 400 ] || fail "tool role"
[ "$(status "$work/b" "$base/api/generate" -d "{\"model\":\"$id\",\"prompt\":\"x\",\"options\":{\"top_k\":1.5}}")" = 400 ] || fail "top_k 1.5"
grep -q top_k "$work/b" || fail "top_k named"
[ "$(status "$work/b" "$base/api/generate" -d "{\"model\":\"$id\",\"prompt\":\"x\",\"keep_alive\":[1]}")" = 400 ] || fail "keep_alive type"
[ "$(status "$work/b" "$base/api/embed" -d "{\"model\":\"$id\"}")" = 400 ] || fail "embed without input"; is_error "$work/b" "embed input"
[ "$(status "$work/b" "$base/api/embed" -d "{\"model\":\"$id\",\"input\":\"x\",\"dimensions\":3}")" = 400 ] || fail "embed dimensions"
[ "$(status "$work/b" "$base/api/nothing-here")" = 404 ] || fail "unknown endpoint"; is_error "$work/b" "unknown endpoint"
[ "$(status "$work/b" -X POST "$base/api/tags")" = 405 ] || fail "POST /api/tags"; is_error "$work/b" "405"
[ "$(status "$work/b" "$base/api/pull" -d '{"model":"x"}')" = 501 ] || fail "pull"; is_error "$work/b" "pull"
[ "$(status "$work/b" -X DELETE "$base/api/delete" -d '{"model":"x"}')" = 501 ] || fail "delete"
# the OpenAI endpoints keep OpenAI's error shape
[ "$(status "$work/b" "$base/v1/chat/completions" -d '{not json')" = 400 ] || fail "v1 bad JSON"
grep -q '"message"' "$work/b" || fail "v1 error shape changed"

# the same Host and Origin protections as /v1 (DNS rebinding, other sites)
[ "$(status "$work/b" -H 'Host: evil.example' "$base/api/tags")" = 403 ] || fail "foreign Host"; is_error "$work/b" "Host"
[ "$(status "$work/b" -H 'Host: evil.example' "$base/")" = 403 ] || fail "foreign Host on /"
[ "$(status "$work/b" -H 'Origin: https://evil.example' "$base/api/chat" -d "{\"model\":\"$id\"}")" = 403 ] || fail "foreign Origin"
is_error "$work/b" "Origin"

# metrics count the ollama routes by their fixed names
metrics=$(curl -s "$base/metrics")
grep -q '^hearth_requests_total{endpoint="/api/chat",status="200"} [1-9]' <<<"$metrics" || fail "metrics /api/chat"
grep -q 'endpoint="/api/other",status="404"' <<<"$metrics" || fail "metrics /api/other"

# with an API key: /api needs it (Bearer, as ollama clients send with headers), "/" does not
kill "$PID"; wait "$PID" 2>/dev/null || true
start_server keyed -m "$model" -c 256 --slots 1 --api-key sekrit
base="http://127.0.0.1:$PORT"
[ "$(status "$work/b" "$base/api/tags")" = 401 ] || fail "no key"; is_error "$work/b" "no key"
[ "$(status "$work/b" -H 'Authorization: Bearer sekrit' "$base/api/tags")" = 200 ] || fail "with key"
[ "$(status "$work/b" "$base/")" = 200 ] || fail "/ without key"
[ "$(status "$work/b" "$base/api/version")" = 200 ] || fail "version without key"
kill "$PID"; wait "$PID" 2>/dev/null || true

# embed_model: /v1/embeddings and /api/embed use the BERT model when it is
# set (dimension = its n_embd, 32), the chat model when not (64, checked by
# the client above); either name is accepted; /api/tags lists both.
bert="$work/bert-tiny.gguf"
"$HEARTH_GENMODEL" --arch bert --preset bert-tiny --type F32 --seed 2 -q -o "$bert"
dim_of() { /usr/bin/python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); print(len(o["data"][0]["embedding"]) if "data" in o else len(o["embeddings"][0]))' "$1"; }
start_server chat -m "$model" -c 256 --slots 1
base="http://127.0.0.1:$PORT"
[ "$(status "$work/b" "$base/v1/embeddings" -d "{\"model\":\"$id\",\"input\":\"notes about cats\"}")" = 200 ] || fail "v1 embeddings (chat model)"
[ "$(dim_of "$work/b")" = 64 ] || fail "without embed_model the chat model embeds: $(dim_of "$work/b")"
kill "$PID"; wait "$PID" 2>/dev/null || true
start_server embed -m "$model" --embed-model "$bert" -c 256 --slots 1
base="http://127.0.0.1:$PORT"
[ "$(status "$work/b" "$base/v1/embeddings" -d "{\"model\":\"$id\",\"input\":\"notes about cats\"}")" = 200 ] || fail "v1 embeddings: $(cat "$work/b")"
[ "$(dim_of "$work/b")" = 32 ] || fail "v1 embeddings use the BERT model: $(dim_of "$work/b")"
[ "$(status "$work/b" "$base/v1/embeddings" -d '{"model":"bert-tiny","input":["a","b c"]}')" = 200 ] || fail "v1 embeddings by the embed model's name"
[ "$(dim_of "$work/b")" = 32 ] || fail "by name: dimension"
[ "$(status "$work/b" "$base/api/embed" -d '{"model":"bert-tiny:latest","input":"notes about cats"}')" = 200 ] || fail "api/embed: $(cat "$work/b")"
[ "$(dim_of "$work/b")" = 32 ] || fail "api/embed uses the BERT model"
[ "$(status "$work/b" "$base/api/embeddings" -d "{\"model\":\"$id\",\"prompt\":\"cats\"}")" = 200 ] || fail "api/embeddings"
/usr/bin/python3 -c 'import json,sys; assert len(json.load(open(sys.argv[1]))["embedding"]) == 32' "$work/b" || fail "api/embeddings dimension"
curl -s "$base/api/tags" >"$work/tags"
/usr/bin/python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["models"]; assert [x["name"] for x in m]==["tiny-chat:latest","bert-tiny:latest"] and m[1]["details"]["family"]=="bert", m' "$work/tags" \
    || fail "api/tags with embed_model: $(cat "$work/tags")"
# chat still goes to the chat model
[ "$(status "$work/b" "$base/api/chat" -d "{\"model\":\"$id\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"options\":{\"num_predict\":2}}")" = 200 ] || fail "chat with embed_model"
kill "$PID"; wait "$PID" 2>/dev/null || true

# a BERT model served alone embeds, and refuses to chat with a clear 400
start_server bertonly -m "$bert" -c 128 --slots 1
base="http://127.0.0.1:$PORT"
[ "$(status "$work/b" "$base/api/embed" -d '{"model":"bert-tiny","input":"x"}')" = 200 ] || fail "bert alone: embed"
[ "$(status "$work/b" "$base/api/chat" -d '{"model":"bert-tiny","messages":[{"role":"user","content":"hi"}]}')" = 400 ] || fail "bert alone: chat status $(cat "$work/b")"
grep -q "embedding model" "$work/b" || fail "bert alone: chat message: $(cat "$work/b")"
[ "$(status "$work/b" "$base/v1/chat/completions" -d '{"model":"bert-tiny","messages":[{"role":"user","content":"hi"}]}')" = 400 ] || fail "bert alone: v1 chat"
grep -q "embedding model" "$work/b" || fail "bert alone: v1 chat message"
curl -s "$base/api/show" -d '{"model":"bert-tiny"}' | grep -q '"capabilities":\["embedding"\]' || fail "show: embedding capability"
kill "$PID"; wait "$PID" 2>/dev/null || true
echo "ok"
