#!/usr/bin/env bash
# test_large_rows.sh: rows too big to fit 5,000 (or 2,000) to a request
# still sync. 3,000 tasks with 6,000-byte notes are about 25 MB sealed, over
# the 8 MiB body limit per request both ways: the device cuts its pushes by
# bytes, the server cuts its pull pages by bytes, and one sync on each side
# moves everything, byte for byte. (Before, the whole push was refused with
# 413 and sync was stuck; pull pages over 8 MiB were refused by the device.)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
: "${HEARTH_BIN:?}"
command -v sqlite3 >/dev/null || { echo "SKIP: no sqlite3"; exit 77; }
"$HEARTH_BIN" sync-server --help >/dev/null 2>&1 || { echo "SKIP: no hearth sync-server"; exit 77; }
TOOL="${HEARTH_BUILD_DIR:-$(dirname "$HEARTH_BIN")}/hearth-sync-device"
[ -x "$TOOL" ] || { echo "SKIP: no $TOOL"; exit 77; }
work=$(mktemp -d /tmp/hearth-sync-large-XXXXXX)
SERVER=
cleanup() {
    if [ -n "$SERVER" ]; then kill -9 "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; fi || true
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy HEARTH_POLICY_SYNC
export HEARTH_CONFIG="$work/no-config" HEARTH_SYNC_KDF=fast HEARTH_SYNC_PASSPHRASE='large pass'
N=3000

"$HEARTH_BIN" sync-server --db "sqlite:$work/server.db" --port 0 >"$work/server.out" 2>&1 &
SERVER=$!
sync_server_url "$SERVER" "$work/server.out"
TOKEN=$("$HEARTH_BIN" sync-server --db "sqlite:$work/server.db" token bob | tail -1 | awk '{print $NF}')
field() { /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

for d in a b; do
    HEARTH_HOME="$work/$d" "$HEARTH_BIN" sync pair --server "$URL" --token "$TOKEN" --name "$d" >/dev/null
    HEARTH_HOME="$work/$d" "$HEARTH_BIN" sync enable tasks >/dev/null
done
HEARTH_HOME="$work/a" "$TOOL" bulk --device 1 --n "$N" >/dev/null
sqlite3 "$work/a/hearth.db" "UPDATE tasks SET notes = hex(randomblob(3000))"
digest() { sqlite3 "$1" "SELECT gid || ':' || notes FROM tasks ORDER BY gid" | sha256sum | cut -d' ' -f1; }
j=$(HEARTH_HOME="$work/a" "$HEARTH_BIN" sync --json | tail -1) || fail "the push failed: $j"
[ "$(field "$j" pushed)" = "$N" ] || fail "one sync pushed $(field "$j" pushed) of $N: $j"
j=$(HEARTH_HOME="$work/b" "$HEARTH_BIN" sync --json | tail -1) || fail "the pull failed: $j"
[ "$(field "$j" pulled)" = "$N" ] || fail "one sync pulled $(field "$j" pulled) of $N: $j"
[ "$(digest "$work/a/hearth.db")" = "$(digest "$work/b/hearth.db")" ] || fail "the notes differ between the devices"
n=$(sqlite3 "$work/b/hearth.db" "SELECT count(*) FROM tasks WHERE length(notes) = 6000")
[ "$n" = "$N" ] || fail "the second device holds $n of $N tasks with their notes"
echo "PASS: $N tasks of 6,000-byte notes pushed and pulled in one sync each"
