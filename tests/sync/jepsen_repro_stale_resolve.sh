#!/bin/bash
# jepsen_repro_stale_resolve.sh: the history behind soak seed 1107, made by
# hand (not a ctest: it fails while the defect is there). Three devices, the
# settings rule manual:
#   A sets k = a; syncs.            B sets k = b; syncs: conflict (b vs a), waits.
#   C pulls a, sets k = c; syncs (c overwrote a, having seen it).
#   B syncs (pulls c), then resolves its conflict --keep server and syncs.
# Expected: k = c everywhere (the server's side is c by then), or c kept in a
# conflict record. Found: B pushes its stale snapshot of the server's side (a),
# the server applies it, every device ends with k = a and no record holds c.
# Exit 0 when c survives (or is recorded), 1 when it is silently gone.
set -u
build=${HEARTH_BUILD_DIR:-build}
H=$build/hearth; TOOL=$build/hearth-sync-device
dir=$(mktemp -d /tmp/hearth-stale-resolve.XXXXXX)
export HEARTH_SYNC_PASSPHRASE=x HEARTH_SYNC_KDF=fast
"$H" sync-server --db "sqlite:$dir/srv.db" --port 0 >"$dir/srv.out" 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do grep -q listening "$dir/srv.out" && break; sleep 0.1; done
port=$(grep -o '[0-9]*$' "$dir/srv.out" | head -1)
tok=$("$H" sync-server --db "sqlite:$dir/srv.db" token u)
for d in a b c; do
    HEARTH_HOME=$dir/$d "$H" sync pair --server "http://127.0.0.1:$port" --token "$tok" >/dev/null
    HEARTH_HOME=$dir/$d "$H" sync enable settings >/dev/null
    HEARTH_HOME=$dir/$d "$H" sync rule settings manual >/dev/null
done
# seed 1 picks the key j.k0 (hearth-sync-device's first draw)
setk() { HEARTH_HOME=$dir/$1 "$TOOL" op --device "$2" --wid "$3" --seed 1 --log "$dir/$1.log" --kind setting_set; }
s() { HEARTH_HOME=$dir/$1 "$H" sync >/dev/null; }
setk a 0 1; s a
setk b 1 2; s b
s c; setk c 2 3; s c
s b
HEARTH_HOME=$dir/b "$H" sync resolve 1 --keep server >/dev/null
s b; s a; s c
final=$(HEARTH_HOME=$dir/a "$H" sync dump --json)
recorded=$(for d in a b c; do HEARTH_HOME=$dir/$d "$H" sync conflicts --all --json; done)
echo "final: $final"
if echo "$final" | grep -q 'v-d2-w3' || echo "$recorded" | grep -q 'v-d2-w3'; then
    echo "ok: C's write survives or is recorded"; exit 0
fi
echo "DEFECT: C's write (v-d2-w3) is gone and no conflict record holds it"; exit 1
