#!/usr/bin/env bash
# test_serve.sh: a real `hearth serve` on 127.0.0.1 (free port), driven by the
# official OpenAI Node.js client (chat streamed and not, completions,
# embeddings, models), curl (health, metrics, auth, errors, context overflow,
# queue limit, client disconnect, graceful stop) and a few hundred malformed
# requests (bad_requests.py).
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}" "${HEARTH_SOURCE_DIR:?}"
here="$HEARTH_SOURCE_DIR/tests/server"
work=$(mktemp -d /tmp/hearth-serve-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_API_KEY HEARTH_SECURITY_LOG

# The official client, from the npm registry, once.
if [ ! -d "$here/node/node_modules/openai" ]; then
    (cd "$here/node" && npm ci --no-audit --no-fund --silent) || fail "npm ci"
fi

model="$work/tiny-chat.gguf"
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny --type Q8_0 --n-ctx 4096 --seed 3 -o "$model" >/dev/null
id=tiny-chat

# start_server NAME ARGS...: starts hearth serve, sets PORT and PID.
start_server() {
    local name=$1; shift
    "$HEARTH_BIN" serve --port 0 -m "$model" "$@" >"$work/$name.out" 2>"$work/$name.err" &
    PID=$!
    pids+=("$PID")
    serve_port "$PID" "$work/$name.out" "$work/$name.err" "$name"
    serve_healthy "$work/$name.err" "$name"
}

start_server main -c 512 --slots 4
base="http://127.0.0.1:$PORT"
curl -s "$base/health" | grep -q '"status": *"ok"' || fail "/health"

# The official OpenAI client.
node "$here/node/client.mjs" "$base/v1" || fail "OpenAI client checks"

# Metrics after real traffic.
metrics=$(curl -s "$base/metrics")
grep -q '^hearth_requests_total{endpoint="/v1/chat/completions",status="200"} [1-9]' <<<"$metrics" || fail "metrics: chat requests"
grep -q '^hearth_completion_tokens_total [1-9]' <<<"$metrics" || fail "metrics: completion tokens"
grep -q '^hearth_time_to_first_token_seconds_count [1-9]' <<<"$metrics" || fail "metrics: ttft histogram"
grep -q '^hearth_token_latency_seconds_bucket{le="+Inf"} [1-9]' <<<"$metrics" || fail "metrics: per-token histogram"
grep -q '^hearth_answers_total{source="local"} [1-9]' <<<"$metrics" || fail "metrics: answers by source"

# The same greedy chat twice: the second is answered from the cache.
req='{"model":"'$id'","messages":[{"role":"user","content":"Say hello."}],"max_tokens":6,"temperature":0}'
a1=$(curl -s "$base/v1/chat/completions" -d "$req")
a2=$(curl -s "$base/v1/chat/completions" -d "$req")
grep -q '"hearth_source": *"cache"' <<<"$a2" || fail "second identical request not from the cache: $a2"
[ "$(echo "$a1" | sed 's/.*"content": *"\([^"]*\)".*/\1/')" = "$(echo "$a2" | sed 's/.*"content": *"\([^"]*\)".*/\1/')" ] || fail "cached answer differs"
# (Through a variable: with pipefail, grep -q exiting early can fail the writer.)
metrics=$(curl -s "$base/metrics")
grep -q '^hearth_cache_hits_total [1-9]' <<<"$metrics" || fail "metrics: cache hits"

# A session keeps the conversation in the store.
for q in "First question" "Second question"; do
    curl -s "$base/v1/chat/completions" -d '{"model":"'$id'","session":"web","max_tokens":4,"temperature":0,"messages":[{"role":"user","content":"'"$q"'"}]}' | grep -q chat.completion || fail "session request"
done
n=$("$HEARTH_BIN" history --session web --json | grep -o '"role"' | wc -l)
[ "$n" -ge 4 ] || fail "session history has $n messages, want 4"

# A prompt that does not fit the context: 400, never a truncated answer.
long=$(python3 -c 'print(" ".join(["word"] * 3000))')
code=$(curl -s -o "$work/long.json" -w '%{http_code}' "$base/v1/completions" -d '{"model":"'$id'","prompt":"'"$long"'","max_tokens":4}')
[ "$code" = 400 ] || fail "oversized prompt: $code $(cat "$work/long.json")"
grep -q context_length_exceeded "$work/long.json" || fail "oversized prompt: $(cat "$work/long.json")"
code=$(curl -s -o "$work/long2.json" -w '%{http_code}' "$base/v1/chat/completions" -d '{"model":"'$id'","messages":[{"role":"user","content":"'"$long"'"}],"max_tokens":4}')
[ "$code" = 400 ] || fail "oversized chat prompt: $code $(cat "$work/long2.json")"

# Several hundred malformed requests; the server survives and still answers.
python3 "$here/bad_requests.py" "$PORT" "$id" || fail "malformed requests"
kill -0 "$PID" || fail "server died"

# Graceful stop on SIGTERM.
kill -TERM "$PID"
for _ in $(seq 1 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID" 2>/dev/null && fail "server did not stop on SIGTERM"
wait "$PID" || fail "server exited with an error after SIGTERM: $(cat "$work/main.err")"

# Authentication, the security log, the queue limit and client disconnects.
# A model slow enough (thousands of tokens take seconds) that a client can
# hang up while its answer is still being generated.
slow="$work/slow.gguf"
"$HEARTH_GENMODEL" --arch llama --preset small --type Q8_0 --n-ctx 8192 --seed 5 -o "$slow" >/dev/null
model=$slow
id=slow
export HEARTH_SECURITY_LOG=1
start_server auth --api-key s3cret-key --max-queue 1 --slots 1 -c 8192
base="http://127.0.0.1:$PORT"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/models")" = 401 ] || fail "no key accepted"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' "$base/v1/models")" = 401 ] || fail "wrong key accepted"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret-key' "$base/v1/models")" = 200 ] || fail "right key refused"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health")" = 200 ] || fail "health needs no key"
curl -s -H 'Authorization: Bearer wrong' "$base/v1/chat/completions" -d '{"secret-content":"TOPSECRET"}' >/dev/null
grep -q 'status=401 reason="invalid_api_key"' "$HEARTH_HOME/security.log" || fail "security log: $(cat "$HEARTH_HOME/security.log")"
grep -q 'TOPSECRET\|s3cret\|wrong' "$HEARTH_HOME/security.log" && fail "security log holds request content"
python3 - "$PORT" "$id" <<'PY' || fail "queue limit / disconnect"
import http.client, json, socket, sys, time
port, model = int(sys.argv[1]), sys.argv[2]
hdr = "Authorization: Bearer s3cret-key\r\n"
body = json.dumps({"model": model, "stream": True, "max_tokens": 8000, "temperature": 0,
                   "messages": [{"role": "user", "content": "Tell me a long story."}]}).encode()
# A long streamed answer that we stop reading after its first chunk.
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n" + hdr.encode() +
          b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
first = s.recv(4096)
assert first.startswith(b"HTTP/1.1 200"), first[:100]
# The queue holds one request: a second one now is refused with 429.
c = http.client.HTTPConnection("127.0.0.1", port)
c.request("POST", "/v1/chat/completions", body=body, headers={"Authorization": "Bearer s3cret-key"})
r = c.getresponse()
doc = json.loads(r.read())
assert r.status == 429, (r.status, doc)
assert doc["error"]["code"] == "queue_full", doc
# Hang up mid-stream: the generation stops (counted as a disconnect) and the
# slot is free again.
s.close()
def metric(name):
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", "/metrics", headers={"Authorization": "Bearer s3cret-key"})
    text = c.getresponse().read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0
for _ in range(600):
    if metric('hearth_errors_total{kind="client_disconnected"}') >= 1:
        break
    time.sleep(0.1)
else:
    raise SystemExit("the disconnected stream was not stopped")
gen = metric("hearth_completion_tokens_total")
time.sleep(0.5)
c = http.client.HTTPConnection("127.0.0.1", port)
c.request("POST", "/v1/chat/completions", body=json.dumps({"model": model, "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]}), headers={"Authorization": "Bearer s3cret-key"})
r = c.getresponse()
assert r.status == 200, (r.status, r.read())
PY
kill -INT "$PID"
wait "$PID" || fail "server exited with an error after SIGINT"
echo "ok"
