#!/usr/bin/env bash
# test_client.sh: the device side of sync end to end, two devices (two
# HEARTH_HOME directories) against a real `hearth sync-server` (SQLite) on a
# free 127.0.0.1 port:
#  - pairing; a wrong passphrase on a third device is a clear error and
#    keeps nothing;
#  - nothing syncs before `enable`; tasks, conversations (sessions of the
#    same name on both devices become one, messages append) and settings
#    (device-local ones never leave);
#  - offline edits on both: different fields merge silently, the same field
#    goes to the later writer (lww), manual keeps both until `resolve`;
#    delete against update; a conversation deleted on one device while the
#    other appends to it keeps the new message;
#  - the server down: offline (exit 3); back: synced with 0 conflicts;
#  - a push whose answer is lost (the server dies after its commit) is
#    applied once when retried;
#  - policy_sync = never: offline, and an audit record 'blocked'; a revoked
#    device gets a clear error;
#  - every request is in the audit log without content, and no plaintext of
#    any synced row is in the server's database.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
: "${HEARTH_BIN:?}"
command -v sqlite3 >/dev/null || { echo "SKIP: no sqlite3"; exit 77; }
"$HEARTH_BIN" sync-server --help >/dev/null 2>&1 || { echo "SKIP: no hearth sync-server"; exit 77; }
work=$(mktemp -d /tmp/hearth-sync-client-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy HEARTH_POLICY_SYNC
export HEARTH_CONFIG="$work/no-config" HEARTH_SYNC_KDF=fast HEARTH_SYNC_PASSPHRASE='correct horse battery'
# SYNC_TEST_DB / SYNC_TEST_DATA (test_client_pg.sh): another backend, and the
# directory holding its files (grepped for plaintext)
dbspec=${SYNC_TEST_DB:-sqlite:$work/server.db}
datadir=${SYNC_TEST_DATA:-$work}
db="$work/server.db"
PORT=0

# start_server [ENV=VALUE...]: (re)starts the server on PORT (a free one the first time)
start_server() {
    env "$@" "$HEARTH_BIN" sync-server --db "$dbspec" --port "$PORT" >"$work/server.out" 2>&1 &
    SERVER=$!
    pids+=($SERVER)
    sync_server_url "$SERVER" "$work/server.out"
    PORT=${URL##*:}
}
stop_server() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }

A="$work/a" B="$work/b"
ha() { HEARTH_HOME="$A" "$HEARTH_BIN" "$@"; }
hb() { HEARTH_HOME="$B" "$HEARTH_BIN" "$@"; }
sql() { sqlite3 -cmd '.timeout 5000' "$1/hearth.db" "$2"; }
# sync_json DEV: one sync, its JSON on stdout; fails the test on exit != 0
sync_json() { HEARTH_HOME="$1" "$HEARTH_BIN" sync --json || fail "sync of $1 exited $?"; }
field() { /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
same_dumps() {
    ha sync dump >"$work/dump.a"
    hb sync dump >"$work/dump.b"
    cmp -s "$work/dump.a" "$work/dump.b" || { diff "$work/dump.a" "$work/dump.b" || true; fail "dumps differ: $1"; }
}
task_gid() { sql "$1" "SELECT gid FROM tasks WHERE title = '$2'"; }

start_server
TOKEN=$("$HEARTH_BIN" sync-server --db "$dbspec" token alice)

# ---- pairing -------------------------------------------------------------
ha sync pair --server "$URL" --token "$TOKEN" --name laptop >/dev/null
hb sync pair --server "$URL" --token "$TOKEN" --name phone >/dev/null
[ "$(stat -c %a "$A/sync.key")" = 600 ] || fail "the key file is not 0600"
if HEARTH_SYNC_PASSPHRASE=wrong HEARTH_HOME="$work/c" "$HEARTH_BIN" sync pair --server "$URL" \
        --token "$TOKEN" 2>"$work/c.err"; then fail "a wrong passphrase paired"; fi
grep -q 'wrong sync passphrase' "$work/c.err" || { cat "$work/c.err"; fail "no clear wrong-passphrase message"; }
[ ! -e "$work/c/sync.key" ] || fail "a wrong passphrase left a key file"
HEARTH_HOME="$work/c" "$HEARTH_BIN" sync status --json | grep -q '"paired":false' || fail "a wrong passphrase left the device paired"
printf 'correct horse battery\n' >"$work/pass"
HEARTH_SYNC_PASSPHRASE= HEARTH_HOME="$work/d" "$HEARTH_BIN" sync pair --server "$URL" --token "$TOKEN" \
    --passphrase-file "$work/pass" >/dev/null || fail "--passphrase-file did not pair"

# ---- nothing syncs until enabled ----------------------------------------
ha tasks add buy milk >/dev/null
ha tasks add call bob >/dev/null
out=$(sync_json "$A")
[ "$(field "$out" pushed)" = 0 ] || fail "a collection that is not enabled was pushed: $out"
[ "$(field "$out" status)" = no_changes ] || fail "status: $out"
for h in "$A" "$B"; do
    for c in tasks conversations settings; do HEARTH_HOME="$h" "$HEARTH_BIN" sync enable $c >/dev/null; done
done
# a conversation of the same name on both devices, messages on both
sql "$A" "INSERT INTO sessions(name, created_ms, updated_ms) VALUES ('chat', 1, 1);
          INSERT INTO messages(session_id, role, content, created_ms) VALUES (1, 'user', 'hello from the laptop', 1000);"
sql "$B" "INSERT INTO sessions(name, created_ms, updated_ms) VALUES ('chat', 2, 2);
          INSERT INTO messages(session_id, role, content, created_ms) VALUES (1, 'user', 'hello from the phone', 2000);"
sql "$A" "INSERT INTO settings(key, value) VALUES ('theme', 'solarized-dark'), ('cloud_api_key', 'sk-SECRET-never-synced');"
out=$(sync_json "$A")
[ "$(field "$out" status)" = synced ] || fail "first sync: $out"
[ "$(field "$out" pushed)" = 5 ] || fail "expected 2 tasks + session + message + setting pushed: $out"
sync_json "$B" >/dev/null
sync_json "$A" >/dev/null
same_dumps "after the first sync"
grep -q 'hello from the phone' "$work/dump.a" || fail "the phone's message is not on the laptop"
grep -q '"sessions":\["chat"\]' "$work/dump.a" || fail "the two 'chat' sessions did not become one"
[ "$(sql "$A" "SELECT count(*) FROM messages")" = 2 ] || fail "messages did not append"
[ "$(sql "$B" "SELECT value FROM settings WHERE key = 'theme'")" = solarized-dark ] || fail "setting not synced"
[ -z "$(sql "$B" "SELECT value FROM settings WHERE key = 'cloud_api_key'")" ] || fail "a device-local setting synced"
out=$(sync_json "$B")
[ "$(field "$out" status)" = no_changes ] || fail "a quiet sync: $out"

# ---- different fields: merged silently -----------------------------------
milk=$(task_gid "$A" 'buy milk')
sql "$A" "UPDATE tasks SET title = 'buy oat milk', version = version + 1 WHERE gid = '$milk'"
hb tasks done "$(sql "$B" "SELECT id FROM tasks WHERE gid = '$milk'")" >/dev/null
sync_json "$A" >/dev/null
out=$(sync_json "$B")
[ "$(field "$out" conflicts)" = 0 ] && [ "$(field "$out" merged)" = 1 ] || fail "different fields: $out"
sync_json "$A" >/dev/null
same_dumps "after a different-field merge"
[ "$(sql "$A" "SELECT title || '/' || status FROM tasks WHERE gid = '$milk'")" = "buy oat milk/done" ] ||
    fail "different-field merge lost a field"

# ---- the same field: the later writer wins (lww, the default) ------------
bob=$(task_gid "$A" 'call bob')
sql "$A" "UPDATE tasks SET notes = 'from the laptop', version = version + 1 WHERE gid = '$bob'"
sleep 0.01
sql "$B" "UPDATE tasks SET notes = 'from the phone (later)', version = version + 1 WHERE gid = '$bob'"
sync_json "$A" >/dev/null
out=$(sync_json "$B")
[ "$(field "$out" conflicts)" = 1 ] && [ "$(field "$out" resolved)" = 1 ] || fail "same field, lww: $out"
sync_json "$A" >/dev/null
same_dumps "after lww"
[ "$(sql "$A" "SELECT notes FROM tasks WHERE gid = '$bob'")" = 'from the phone (later)' ] || fail "lww kept the earlier write"
hb sync conflicts --all --json | grep -q '"resolution":"lww-device"' || fail "the lww conflict is not recorded"
hb sync conflicts --all --json | grep -q '"severity":"high"' || fail "a lost field is not high severity"

# ---- manual: both kept until the user chooses ----------------------------
hb sync rule tasks manual >/dev/null
sql "$A" "UPDATE tasks SET title = 'call bob today', version = version + 1 WHERE gid = '$bob'"
sql "$B" "UPDATE tasks SET title = 'call bob tomorrow', version = version + 1 WHERE gid = '$bob'"
sync_json "$A" >/dev/null
out=$(hb sync --json 2>"$work/manual.err") || fail "manual sync exited $?"
[ "$(field "$out" conflicts)" = 1 ] && [ "$(field "$out" resolved)" = 0 ] || fail "manual: $out"
grep -q 'wait for you' "$work/manual.err" || fail "no hint that a conflict waits"
pending=$(hb sync conflicts --json)
id=$(/usr/bin/python3 -c 'import json,sys; c=json.loads(sys.argv[1]); assert len(c)==1, c; assert c[0]["local"]["title"]=="call bob tomorrow" and c[0]["server"]["title"]=="call bob today", c; print(c[0]["id"])' "$pending") ||
    fail "manual conflict not listed with both sides: $pending"
hb sync conflicts | grep -q 'call bob tomorrow' || fail "human conflict list lacks the local side"
hb sync resolve "$id" --keep local >/dev/null
[ "$(hb sync conflicts --json)" = '[]' ] || fail "resolved conflict still pending"
sync_json "$B" >/dev/null
sync_json "$A" >/dev/null
same_dumps "after a manual resolution"
[ "$(sql "$A" "SELECT title FROM tasks WHERE gid = '$bob'")" = 'call bob tomorrow' ] || fail "--keep local did not win"
# FIELD=VALUE
sql "$A" "UPDATE tasks SET priority = 1, version = version + 1 WHERE gid = '$bob'"
sql "$B" "UPDATE tasks SET priority = 2, version = version + 1 WHERE gid = '$bob'"
sync_json "$A" >/dev/null
sync_json "$B" >/dev/null
id=$(hb sync conflicts --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
hb sync resolve "$id" --keep priority=3 >/dev/null
sync_json "$B" >/dev/null
sync_json "$A" >/dev/null
same_dumps "after FIELD=VALUE"
[ "$(sql "$A" "SELECT priority FROM tasks WHERE gid = '$bob'")" = 3 ] || fail "--keep priority=3"
hb sync rule tasks lww >/dev/null

# ---- delete against update ----------------------------------------------
ha tasks rm "$(sql "$A" "SELECT id FROM tasks WHERE gid = '$milk'")" >/dev/null
sync_json "$A" >/dev/null
sleep 0.01
sql "$B" "UPDATE tasks SET notes = 'still needed', version = version + 1 WHERE gid = '$milk'"
out=$(sync_json "$B")
[ "$(field "$out" conflicts)" = 1 ] || fail "delete vs update not detected: $out"
hb sync conflicts --all --json | grep -q '"kind":"update_of_deleted"' || fail "kind update_of_deleted not recorded"
sync_json "$A" >/dev/null
same_dumps "after delete vs update"
[ "$(sql "$A" "SELECT notes FROM tasks WHERE gid = '$milk'")" = 'still needed' ] || fail "the later update lost to the delete"
# a plain delete propagates
hb tasks rm "$(sql "$B" "SELECT id FROM tasks WHERE gid = '$milk'")" >/dev/null
sync_json "$B" >/dev/null
sync_json "$A" >/dev/null
same_dumps "after a delete"
[ "$(sql "$A" "SELECT count(*) FROM tasks WHERE gid = '$milk'")" = 0 ] || fail "a delete did not propagate"

# ---- a conversation deleted on one device while the other appends to it ----
sid=$(sql "$A" "SELECT id FROM sessions WHERE name = 'chat'")
sql "$A" "DELETE FROM messages WHERE session_id = $sid; DELETE FROM sessions WHERE id = $sid;"
bsid=$(sql "$B" "SELECT id FROM sessions WHERE name = 'chat'")
sql "$B" "INSERT INTO messages(session_id, role, content, created_ms) VALUES ($bsid, 'user', 'appended meanwhile', 3000);"
sync_json "$A" >/dev/null
out=$(sync_json "$B")
[ "$(field "$out" conflicts)" -ge 1 ] || fail "delete of a conversation against an append not detected: $out"
sync_json "$A" >/dev/null
sync_json "$B" >/dev/null
same_dumps "after a conversation delete against an append"
grep -q 'appended meanwhile' "$work/dump.a" || fail "a message appended to a conversation deleted elsewhere was lost"
grep -q 'hello from the laptop' "$work/dump.a" && fail "the deleted conversation's old messages came back"

# ---- offline, then the connection restored -------------------------------
stop_server
ha tasks add written offline >/dev/null
set +e
ha sync --json >"$work/off.json" 2>"$work/off.err"; rc=$?
set -e
[ "$rc" = 3 ] || fail "offline sync exited $rc"
grep -q '"status":"offline"' "$work/off.json" || fail "offline status: $(cat "$work/off.json")"
grep -q 'offline' "$work/off.err" || fail "no offline message"
ha sync status --json | grep -q '"pending":[1-9]' || fail "the offline change is not pending"
start_server
out=$(sync_json "$A")
[ "$(field "$out" status)" = synced ] && [ "$(field "$out" conflicts)" = 0 ] || fail "after reconnect: $out"
sync_json "$B" >/dev/null
same_dumps "after reconnect"

# ---- a lost acknowledgement: applied once ---------------------------------
stop_server
start_server HEARTH_SYNC_SERVER_CRASH=after_commit:1
ha tasks add once only >/dev/null
set +e; ha sync --json >/dev/null 2>&1; rc=$?; set -e
[ "$rc" = 3 ] || fail "a push whose answer was lost exited $rc, expected offline"
wait "$SERVER" 2>/dev/null || true
start_server
sync_json "$A" >/dev/null
sync_json "$B" >/dev/null
[ "$(sql "$B" "SELECT count(*) FROM tasks WHERE title = 'once only'")" = 1 ] || fail "a retried change applied twice"
same_dumps "after a lost ack"

# ---- the policy keeps sync on the device -----------------------------------
set +e
HEARTH_POLICY_SYNC=never HEARTH_HOME="$A" "$HEARTH_BIN" sync --json >"$work/pol.json" 2>"$work/pol.err"; rc=$?
set -e
[ "$rc" = 3 ] || fail "policy_sync=never exited $rc"
grep -q 'policy_sync' "$work/pol.json" || fail "no policy reason: $(cat "$work/pol.json")"
[ "$(sql "$A" "SELECT count(*) FROM audit WHERE kind = 'sync' AND decision = 'blocked'")" -ge 1 ] || fail "no blocked audit record"

# ---- a revoked device: a clear error (1), not offline ---------------------
dev_d=$(HEARTH_HOME="$work/d" "$HEARTH_BIN" sync status --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["device"])')
"$HEARTH_BIN" sync-server --db "$dbspec" revoke "$dev_d" >/dev/null
set +e
HEARTH_HOME="$work/d" "$HEARTH_BIN" sync >/dev/null 2>"$work/revoked.err"; rc=$?
set -e
[ "$rc" = 1 ] || fail "a revoked device's sync exited $rc"
grep -q 'pair it again' "$work/revoked.err" || { cat "$work/revoked.err"; fail "no clear message for a revoked device"; }

# ---- audit without content; no plaintext on the server --------------------
[ "$(sql "$A" "SELECT count(*) FROM audit WHERE kind = 'sync' AND decision = 'sent' AND host = '127.0.0.1'")" -ge 5 ] ||
    fail "sync requests are not in the audit log"
[ "$(sql "$A" "SELECT count(*) FROM audit WHERE content IS NOT NULL OR reason LIKE '%milk%' OR reason LIKE '%bob%'")" = 0 ] ||
    fail "an audit record holds content"
stop_server
# the metadata the server needs is there (the grep can find what is stored) ...
dev_a=$(ha sync status --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["device"])')
grep -r -a -q "$dev_a" "$datadir" || fail "the server's files do not hold the device id: the plaintext check would prove nothing"
# ... and no content of any synced row
for t in 'oat milk' 'call bob' 'from the phone' 'hello from the' 'solarized' 'written offline' 'once only' \
         'still needed' 'appended meanwhile' '"chat"'; do
    if grep -r -a -q "$t" "$datadir" --exclude-dir=a --exclude-dir=b --exclude-dir=c --exclude-dir=d \
            --exclude='*.out' --exclude='*.json' --exclude='*.err' --exclude='dump.*' --exclude=pass; then
        fail "plaintext '$t' in the server's files"
    fi
done
echo "PASS"
