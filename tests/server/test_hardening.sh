#!/usr/bin/env bash
# test_hardening.sh: the defects of issue 10, attacked on a real `hearth
# serve` on 127.0.0.1 (attacks.py does the attacking):
#  - an empty answer (the demo model's first token completes the stop string)
#    is a clean 200 with "text": "", not uninitialised heap bytes;
#  - DNS rebinding (a foreign Host) and cross-site requests (a foreign Origin,
#    JSON or text/plain) are refused; allowed origins get CORS and preflights;
#    `curl -d` keeps working; the flags, HEARTH_* variables and the config file
#    all set the lists; '*' without an API key refuses to start;
#  - an abandoned embeddings request stops between inputs;
#  - slowloris (600 half-open connections trickling bytes) does not keep
#    /health from answering;
#  - a store that cannot be opened does not show its path to clients.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}" "${HEARTH_SOURCE_DIR:?}"
here="$HEARTH_SOURCE_DIR/tests/server"
work=$(mktemp -d /tmp/hearth-harden-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_API_KEY HEARTH_SECURITY_LOG HEARTH_ALLOW_HOST HEARTH_CORS_ORIGIN \
    HEARTH_MAX_CLIENT_CONNS HEARTH_REQUEST_TIMEOUT

# start_server NAME MODEL ARGS...: starts hearth serve, sets PORT and PID;
# WAIT=0 returns once it listens (not waiting for the model).
start_server() {
    local name=$1 model=$2; shift 2
    "$HEARTH_BIN" serve --port 0 -m "$model" "$@" >"$work/$name.out" 2>"$work/$name.err" &
    PID=$!
    pids+=("$PID")
    serve_port "$PID" "$work/$name.out" "$work/$name.err" "$name"
    [ "${WAIT:-1}" = 0 ] && return 0
    serve_healthy "$work/$name.err" "$name"
}
stop_server() {
    kill -TERM "$PID"
    wait "$PID" || fail "server exited with an error: $(cat "$work/$1.err")"
}

demo="$HEARTH_SOURCE_DIR/models/hearth-demo.gguf"
[ -f "$demo" ] || { echo "no demo model"; exit 77; }

# ---- 2. an empty answer ------------------------------------------------------
start_server demo "$demo" --allow-host rebind.allowed.example --cors-origin https://app.example
base="http://127.0.0.1:$PORT"
python3 "$here/attacks.py" empty "$PORT" hearth-demo || fail "empty answer"
body=$(curl -s "$base/v1/completions" -d '{"prompt":"Hello","max_tokens":8,"temperature":0,"stop":["!"],"model":"hearth-demo"}')
echo "$body" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["choices"][0]["text"] == "", d' \
    || fail "empty completion: $body"

# ---- 3. Host and Origin --------------------------------------------------------
python3 "$here/attacks.py" origin "$PORT" hearth-demo https://app.example "$HEARTH_BIN" || fail "Host/Origin"
# curl -d sends a form content type and no Origin: it keeps working.
code=$(curl -s -o "$work/d.json" -w '%{http_code}' "$base/v1/chat/completions" \
    -d '{"model":"hearth-demo","max_tokens":2,"messages":[{"role":"user","content":"hi"}]}')
[ "$code" = 200 ] || fail "curl -d: $code $(cat "$work/d.json")"
# So does a request naming localhost.
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://localhost:$PORT/v1/models")" = 200 ] \
    || fail "http://localhost refused"
stop_server demo

# '*' without an API key: a clear error, no server.
if "$HEARTH_BIN" serve --port 0 -m "$demo" --cors-origin '*' >"$work/star.out" 2>"$work/star.err"; then
    fail "--cors-origin '*' without a key started"
fi
grep -q "API key" "$work/star.err" || fail "--cors-origin '*' error: $(cat "$work/star.err")"
grep -q listening "$work/star.out" && fail "--cors-origin '*' listened"
HEARTH_CORS_ORIGIN='*' "$HEARTH_BIN" serve --port 0 -m "$demo" >/dev/null 2>"$work/star2.err" \
    && fail "HEARTH_CORS_ORIGIN='*' without a key started"
# A bad origin is refused at start, naming it.
"$HEARTH_BIN" serve --port 0 -m "$demo" --cors-origin app.example >/dev/null 2>"$work/bad.err" \
    && fail "bad CORS origin accepted"
grep -q "app.example" "$work/bad.err" || fail "bad origin error: $(cat "$work/bad.err")"

# '*' with a key; lists from the environment and from the config file.
printf 'allow_host = cfg.example\ncors_origin = https://cfg.example\n' >"$work/config"
HEARTH_CONFIG="$work/config" HEARTH_ALLOW_HOST="env1.example, env2.example" \
    start_server lists "$demo" --api-key k3y --cors-origin '*'
base="http://127.0.0.1:$PORT"
auth=(-H 'Authorization: Bearer k3y')
for h in env1.example env2.example:$PORT; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -H "Host: $h" "$base/v1/models")" = 200 ] \
        || fail "HEARTH_ALLOW_HOST: $h refused"
done
# The environment overrides the file (settings order), so cfg.example is not allowed.
[ "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -H "Host: cfg.example" "$base/v1/models")" = 403 ] \
    || fail "config file's allow_host used over HEARTH_ALLOW_HOST"
hdrs=$(curl -s -D - -o /dev/null "${auth[@]}" -H 'Origin: https://any.example' "$base/v1/models")
grep -qi '^access-control-allow-origin: https://any.example' <<<"$hdrs" || fail "'*': $hdrs"
hdrs=$(curl -s -D - -o /dev/null -X OPTIONS -H 'Origin: https://any.example' \
    -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: authorization' \
    "$base/v1/chat/completions")
grep -q '^HTTP/1.1 204' <<<"$hdrs" || fail "'*' preflight: $hdrs"
grep -qi '^access-control-allow-headers:.*Authorization' <<<"$hdrs" || fail "'*' preflight: $hdrs"
# The key is still needed behind '*'.
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Origin: https://any.example' "$base/v1/models")" = 401 ] \
    || fail "'*' without the key"
stop_server lists
HEARTH_CONFIG="$work/config" start_server cfg "$demo"
base="http://127.0.0.1:$PORT"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: cfg.example" "$base/v1/models")" = 200 ] \
    || fail "config file's allow_host"
hdrs=$(curl -s -D - -o /dev/null -H 'Origin: https://cfg.example' "$base/v1/models")
grep -qi '^access-control-allow-origin: https://cfg.example' <<<"$hdrs" || fail "config cors_origin: $hdrs"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Origin: https://other.example' "$base/v1/models")" = 403 ] \
    || fail "config: other origin allowed"
stop_server cfg

# ---- 13. no file paths in error bodies ---------------------------------------------
# The store's directory cannot be made (a file is in the way): loading fails.
touch "$work/blocker"
HEARTH_HOME="$work/blocker/home" WAIT=0 start_server badstore "$demo"
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 600); do
    grep -q '"error"' <<<"$(curl -s "$base/health")" && break
    sleep 0.1
done
grep -q '"error"' <<<"$(curl -s "$base/health")" || fail "bad store: load did not fail"
for path in /v1/models /v1/chat/completions /v1/embeddings; do
    data=(-d '{"model":"hearth-demo","input":"x","messages":[{"role":"user","content":"x"}]}')
    [ "$path" = /v1/models ] && data=()
    curl -s "$base$path" "${data[@]}" >"$work/bs.json"
    grep -q model_not_ready "$work/bs.json" || fail "bad store $path: $(cat "$work/bs.json")"
    grep -q "$work\|/tmp/\|blocker" "$work/bs.json" && fail "bad store $path shows a path: $(cat "$work/bs.json")"
done
grep -q "$work/blocker/home" "$work/badstore.err" || fail "bad store: the path is not in the log: $(cat "$work/badstore.err")"
stop_server badstore

# ---- 6. an abandoned embeddings request -------------------------------------------
# A model slow enough that 2000 inputs take minutes.
slow="$work/slow.gguf"
"$HEARTH_GENMODEL" --arch llama --preset small --type Q8_0 --n-ctx 2048 --seed 5 -o "$slow" >/dev/null
start_server slow "$slow" --slots 1 -c 512
python3 "$here/attacks.py" abandon "$PORT" slow || fail "abandoned embeddings"
stop_server slow

# ---- 7. slowloris ---------------------------------------------------------------------
start_server loris "$demo" --request-timeout 5
python3 "$here/attacks.py" slowloris "$PORT" || fail "slowloris"
[ "$(curl -s --max-time 15 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")" = 200 ] \
    || fail "after slowloris"
stop_server loris
echo "ok"
