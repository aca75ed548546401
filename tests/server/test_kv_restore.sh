#!/usr/bin/env bash
# test_kv_restore.sh: a restarted `hearth serve` continues a conversation
# from its saved state (HOME/kv) instead of evaluating its history. Real
# servers on 127.0.0.1; the official OpenAI client (node/restore.mjs) sends
# two turns, the server stops, a new one on the same HEARTH_HOME answers the
# third with cached_tokens > 0 and the answer of a server that saves nothing
# (--kv-cache-mb 0); /metrics counts the restored tokens; a damaged state
# file is refused (a warning), removed, and the answer is still right; an
# incognito request leaves no file.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}" "${HEARTH_SOURCE_DIR:?}"
here="$HEARTH_SOURCE_DIR/tests/server"
work=$(mktemp -d /tmp/hearth-kvrestore-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
# the response cache off: the third turn must run the model each time
echo "cache = 0" >"$work/config"
export HEARTH_CONFIG="$work/config"
unset HEARTH_MODEL HEARTH_API_KEY HEARTH_SECURITY_LOG HEARTH_KV_CACHE_MB

if [ ! -d "$here/node/node_modules/openai" ]; then
    (cd "$here/node" && npm ci --no-audit --no-fund --silent) || fail "npm ci"
fi

model="$work/tiny-chat.gguf"
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny --type Q8_0 --n-ctx 4096 --seed 3 -o "$model" >/dev/null

# start_server HOME LOG ARGS...: starts hearth serve on HOME, sets PORT and SPID.
start_server() {
    local home=$1 log=$2; shift 2
    mkdir -p "$home"
    HEARTH_HOME="$home" "$HEARTH_BIN" serve --port 0 -m "$model" -c 1024 --slots 2 "$@" \
        >"$work/$log.out" 2>"$work/$log.err" &
    SPID=$!
    pids+=("$SPID")
    serve_port "$SPID" "$work/$log.out" "$work/$log.err" "$log"
    serve_healthy "$work/$log.err" "$log"
}
# stop_server: SIGTERM (a graceful stop: pending saves are written), then wait.
stop_server() {
    local rc=0
    kill -TERM "$SPID"
    wait "$SPID" || rc=$?
    [ "$rc" = 0 ] || fail "hearth serve exited with $rc on SIGTERM: $(tail -5 "$work"/*.err)"
}
nkv() { find "$work/home/kv" -name '*.kv' 2>/dev/null | wc -l; }

start_server "$work/ref" ref --kv-cache-mb 0
ref="http://127.0.0.1:$PORT/v1"

start_server "$work/home" a1
node "$here/node/restore.mjs" first "http://127.0.0.1:$PORT/v1" "$work/turn3.json" || fail "first turns"
stop_server
[ "$(nkv)" -ge 1 ] || fail "no saved state in HOME/kv"
[ "$(stat -c %a "$work/home/kv")" = 700 ] || fail "HOME/kv is not 0700"
for f in "$work/home/kv"/*.kv; do [ "$(stat -c %a "$f")" = 600 ] || fail "$f is not 0600"; done
[ -z "$(find "$work/ref" -name '*.kv')" ] || fail "--kv-cache-mb 0 saved a state"

# Restarted: the third turn starts from the saved state.
start_server "$work/home" a2
node "$here/node/restore.mjs" next "http://127.0.0.1:$PORT/v1" "$ref" "$work/turn3.json" 1 ||
    fail "restored turn"
metrics=$(curl -s "http://127.0.0.1:$PORT/metrics")
grep -q '^hearth_prompt_restored_tokens_total [1-9]' <<<"$metrics" || fail "metrics: restored prompt tokens"
stop_server

# Damaged states: refused with a warning, removed; the answer is the same.
for f in "$work/home/kv"/*.kv; do
    size=$(stat -c %s "$f")
    printf '\xff\xff\xff\xff' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
done
damaged=$(md5sum "$work/home/kv"/*.kv | cut -d' ' -f1 | sort)
start_server "$work/home" a3
node "$here/node/restore.mjs" next "http://127.0.0.1:$PORT/v1" "$ref" "$work/turn3.json" 0 ||
    fail "turn after a damaged state"
grep -q "kv cache: not restored" "$work/a3.err" || fail "no warning for a damaged state: $(cat "$work/a3.err")"
# the one tried is removed (the answer's own state may take its name again)
left=$(md5sum "$work/home/kv"/*.kv 2>/dev/null | cut -d' ' -f1 | sort | comm -12 - <(echo "$damaged") | wc -l)
[ "$left" -lt "$(echo "$damaged" | wc -l)" ] || fail "the damaged state was kept"

# Incognito: no file (wait for the last answer's save first).
for _ in $(seq 1 100); do [ "$(nkv)" -ge 1 ] && break; sleep 0.1; done
sleep 0.3
before=$(ls "$work/home/kv")
node "$here/node/restore.mjs" incognito "http://127.0.0.1:$PORT/v1" || fail "incognito request"
stop_server
[ "$(ls "$work/home/kv")" = "$before" ] || fail "an incognito request left a file: $(ls "$work/home/kv")"
echo "kv restore: ok"
