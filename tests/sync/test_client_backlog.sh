#!/usr/bin/env bash
# test_client_backlog.sh: one `hearth sync` pushes a whole backlog. A device
# with 41,000 pending task changes (more than the 8 rounds x 5,000 that one
# sync used to stop at) syncs once: it reports all of them pushed, its outbox
# and dirty set are empty, and a second device pulls all of them in one sync.
# Counts work, times nothing.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
: "${HEARTH_BIN:?}"
command -v sqlite3 >/dev/null || { echo "SKIP: no sqlite3"; exit 77; }
"$HEARTH_BIN" sync-server --help >/dev/null 2>&1 || { echo "SKIP: no hearth sync-server"; exit 77; }
TOOL="${HEARTH_BUILD_DIR:-$(dirname "$HEARTH_BIN")}/hearth-sync-device"
[ -x "$TOOL" ] || { echo "SKIP: no $TOOL"; exit 77; }
work=$(mktemp -d /tmp/hearth-sync-backlog-XXXXXX)
SERVER=
cleanup() {
    if [ -n "$SERVER" ]; then kill -9 "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; fi || true
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy HEARTH_POLICY_SYNC
export HEARTH_CONFIG="$work/no-config" HEARTH_SYNC_KDF=fast HEARTH_SYNC_PASSPHRASE='backlog pass'
N=41000

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
j=$(HEARTH_HOME="$work/a" "$HEARTH_BIN" sync --json | tail -1)
[ "$(field "$j" pushed)" = "$N" ] || fail "one sync pushed $(field "$j" pushed) of $N: $j"
left=$(sqlite3 "$work/a/hearth.db" "SELECT (SELECT count(*) FROM sync_outbox) + (SELECT count(*) FROM sync_dirty)")
[ "$left" = 0 ] || fail "$left changes left in the outbox or dirty set after one sync"
j=$(HEARTH_HOME="$work/b" "$HEARTH_BIN" sync --json | tail -1)
[ "$(field "$j" pulled)" = "$N" ] || fail "one sync pulled $(field "$j" pulled) of $N: $j"
n=$(sqlite3 "$work/b/hearth.db" "SELECT count(*) FROM tasks WHERE gid IS NOT NULL")
[ "$n" = "$N" ] || fail "the second device holds $n of $N tasks"
j=$(HEARTH_HOME="$work/a" "$HEARTH_BIN" sync --json | tail -1)
[ "$(field "$j" status)" = no_changes ] || fail "a second sync moved something: $j"
echo "PASS: one sync pushed and one sync pulled $N changes"
