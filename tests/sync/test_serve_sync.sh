#!/usr/bin/env bash
# test_serve_sync.sh: `hearth serve --sync-every 1` syncs in the background:
# with the sync server down it reports offline and waits longer each time
# (1s, 2s, ...) while /health keeps answering; once the sync server is up,
# a task written on this device reaches a second device without anyone
# running `hearth sync` here.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}"
command -v curl >/dev/null || { echo "SKIP: no curl"; exit 77; }
"$HEARTH_BIN" sync-server --help >/dev/null 2>&1 || { echo "SKIP: no hearth sync-server"; exit 77; }
work=$(mktemp -d /tmp/hearth-serve-sync-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy HEARTH_POLICY_SYNC HEARTH_MODEL
export HEARTH_CONFIG="$work/no-config" HEARTH_SYNC_KDF=fast HEARTH_SYNC_PASSPHRASE=pass-for-serve
db="$work/server.db"
SYNC_PORT=0 # sync-server's; PORT is hearth serve's (tests/lib/serve.sh)
start_server() {
    "$HEARTH_BIN" sync-server --db "sqlite:$db" --port "$SYNC_PORT" >"$work/server.out" 2>&1 &
    SERVER=$!
    pids+=($SERVER)
    sync_server_url "$SERVER" "$work/server.out"
    SYNC_PORT=${URL##*:}
}
A="$work/a" B="$work/b"
start_server
TOKEN=$("$HEARTH_BIN" sync-server --db "sqlite:$db" token bob)
for h in "$A" "$B"; do
    HEARTH_HOME="$h" "$HEARTH_BIN" sync pair --server "$URL" --token "$TOKEN" >/dev/null
    HEARTH_HOME="$h" "$HEARTH_BIN" sync enable tasks >/dev/null
done
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
HEARTH_HOME="$A" "$HEARTH_BIN" tasks add synced in the background >/dev/null

model="$work/tiny.gguf"
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny --type Q8_0 --n-ctx 256 --seed 3 -o "$model" >/dev/null
: >"$work/serve.out" # before the loop reads it: the job's redirection may come late
HEARTH_HOME="$A" "$HEARTH_BIN" serve --port 0 -m "$model" -c 256 --sync-every 1 >"$work/serve.out" 2>"$work/serve.err" &
SERVE=$!
pids+=($SERVE)
serve_port "$SERVE" "$work/serve.out" "$work/serve.err"
HP=$PORT
# backoff: offline twice, the second wait longer than the first
for _ in $(seq 300); do grep -q 'next try in 2s' "$work/serve.err" && break; sleep 0.1; done
grep -q 'sync: offline: .*next try in 1s' "$work/serve.err" || { cat "$work/serve.err"; fail "no offline report"; }
grep -q 'next try in 2s' "$work/serve.err" || { cat "$work/serve.err"; fail "no backoff"; }
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/health")
[ "$code" = 200 ] || fail "/health answered $code while sync was offline"

start_server
got=0
for _ in $(seq 600); do
    HEARTH_HOME="$B" "$HEARTH_BIN" sync >/dev/null 2>&1 || true
    if HEARTH_HOME="$B" "$HEARTH_BIN" tasks list | grep -q 'synced in the background'; then got=1; break; fi
    sleep 0.1
done
[ "$got" = 1 ] || { cat "$work/serve.err"; fail "the background sync never pushed the task"; }
# B can pull the task before A's serve has read the push's reply and
# printed its report: wait for the report too
for _ in $(seq 100); do grep -q 'sync: synced: pushed 1' "$work/serve.err" && break; sleep 0.1; done
grep -q 'sync: synced: pushed 1' "$work/serve.err" || { cat "$work/serve.err"; fail "no synced report"; }
kill -TERM "$SERVE"
wait "$SERVE" || fail "serve did not stop cleanly"
echo PASS
