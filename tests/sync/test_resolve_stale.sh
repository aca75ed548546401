#!/usr/bin/env bash
# test_resolve_stale.sh: resolving a manual conflict after later pulls never
# brings back a server version that a newer one replaced (soak seed 1107).
# Three devices (A, B, C: three HEARTH_HOME directories) against a real
# `hearth sync-server` (SQLite) on 127.0.0.1, one settings key, rule manual:
#  1. B's conflict (b against A's a) waits; C overwrites a with c (having
#     seen it); B pulls c: the pending conflict shows c as its server side,
#     and --keep server keeps c everywhere (pushing nothing), not a;
#  2. the same, then --keep local: b everywhere, c in the conflict record;
#  3. A deletes the key while B sets it (update of a deleted row: B's value
#     is kept and pushed), C overwrites B's value with c; B pulls c, then
#     --keep server keeps c (the server's current side), not the delete;
#  4. --keep local while C writes d that B has not pulled: B's next sync
#     meets d as a new pending conflict (d stays, b is recorded), nothing
#     is overwritten unseen;
#  5. B deletes the key while A updates it (delete of an updated row: A's
#     value stays), C overwrites it with c; B pulls c, then --keep server
#     keeps c, not A's older value;
#  6. B writes the key again while its conflict waits and pushes it; --keep
#     server then keeps B's newer write (the server's current side), not A's.
# Every scenario ends with identical dumps on the three devices.
set -uo pipefail
: "${HEARTH_BIN:?}"
TOOL=${HEARTH_BUILD_DIR:-$(dirname "$HEARTH_BIN")}/hearth-sync-device
[ -x "$TOOL" ] || { echo "SKIP: no $TOOL"; exit 77; }
"$HEARTH_BIN" sync-server --help >/dev/null 2>&1 || { echo "SKIP: no hearth sync-server"; exit 77; }
work=$(mktemp -d /tmp/hearth-resolve-stale-XXXXXX)
srv=
cleanup() {
    [ -n "$srv" ] && kill "$srv" 2>/dev/null
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy HEARTH_POLICY_SYNC
export HEARTH_CONFIG="$work/no-config" HEARTH_SYNC_KDF=fast HEARTH_SYNC_PASSPHRASE=x
failed=0
fail() { echo "FAIL [$scen]: $*"; failed=1; }

# A fresh server and three paired devices with settings on, rule manual.
setup() {
    scen=$1
    dir=$work/$scen
    mkdir -p "$dir"
    [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
    "$HEARTH_BIN" sync-server --db "sqlite:$dir/srv.db" --port 0 >"$dir/srv.out" 2>&1 &
    srv=$!
    for _ in $(seq 100); do grep -q listening "$dir/srv.out" && break; sleep 0.1; done
    port=$(grep -o '[0-9]*$' "$dir/srv.out" | head -1)
    tok=$("$HEARTH_BIN" sync-server --db "sqlite:$dir/srv.db" token u)
    for d in a b c; do
        HEARTH_HOME=$dir/$d "$HEARTH_BIN" sync pair --server "http://127.0.0.1:$port" --token "$tok" >/dev/null &&
            HEARTH_HOME=$dir/$d "$HEARTH_BIN" sync enable settings >/dev/null &&
            HEARTH_HOME=$dir/$d "$HEARTH_BIN" sync rule settings manual >/dev/null ||
            { echo "FAIL [$scen]: pairing device $d"; exit 1; }
    done
}
# setk DEV DEVNO WID [set|unset]: the tool's seed 1 picks the key j.k0; the
# value is v-d<DEVNO>-w<WID>
setk() {
    HEARTH_HOME=$dir/$1 "$TOOL" op --device "$2" --wid "$3" --seed 1 --log "$dir/$1.log" \
        --kind "setting_${4:-set}" >/dev/null || fail "op on $1"
}
s() { HEARTH_HOME=$dir/$1 "$HEARTH_BIN" sync >/dev/null 2>&1 || fail "sync on $1"; }
h() { local d=$1; shift; HEARTH_HOME=$dir/$d "$HEARTH_BIN" "$@"; }
# the one pending conflict's id on device b
pending_id() { h b sync conflicts --json | /usr/bin/python3 -c 'import json,sys; c=json.load(sys.stdin); print(c[0]["id"] if len(c)==1 else "")'; }
pending_server() { h b sync conflicts --json | /usr/bin/python3 -c 'import json,sys; c=json.load(sys.stdin); print(json.dumps(c[0]["server"]) if c else "")'; }
# converged KEY VALUE: every device dumps the same, with j.k0 = VALUE ("" : absent)
converged() {
    s b; s a; s c; s b
    local da db dc
    da=$(h a sync dump --json); db=$(h b sync dump --json); dc=$(h c sync dump --json)
    [ "$da" = "$db" ] && [ "$db" = "$dc" ] || fail "dumps differ: a $da b $db c $dc"
    if [ -n "$1" ]; then
        [[ $da == *"\"value\":\"$1\""* ]] || fail "j.k0 is not $1: $da"
    else
        [[ $da == *j.k0* ]] && fail "j.k0 should be gone: $da"
    fi
    echo "[$scen] final: $da"
}
recorded() { # recorded VALUE: some conflict record on some device holds it
    local all
    all=$(for d in a b c; do h $d sync conflicts --all --json; done)
    [[ $all == *"$1"* ]]
}

# 1. --keep server after the server moved on
setup keep-server
setk a 0 1; s a
setk b 1 2; s b
[ -n "$(pending_id)" ] || fail "no pending conflict on b"
s c; setk c 2 3; s c
s b
[[ $(pending_server) == *v-d2-w3* ]] || fail "the pending conflict's server side is not c: $(pending_server)"
h b sync resolve "$(pending_id)" --keep server >/dev/null || fail "resolve"
out=$(h b sync --json)
[[ $out =~ \"pushed\":\ *0[,}] ]] || fail "--keep server of the current side pushed something: $out"
converged v-d2-w3

# 2. --keep local after the server moved on: b wins, c stays on record
setup keep-local
setk a 0 1; s a
setk b 1 2; s b
s c; setk c 2 3; s c
s b
h b sync resolve "$(pending_id)" --keep local >/dev/null || fail "resolve"
converged v-d1-w2
recorded v-d2-w3 || fail "c (v-d2-w3) was overwritten and is in no conflict record"

# 3. update of a deleted row, then the server moved on: --keep server keeps c
setup deleted
setk a 0 1; s a
s b
setk a 0 2 unset; s a
setk b 1 3; s b
[ -n "$(pending_id)" ] || fail "no pending conflict on b"
s c; setk c 2 4; s c
s b
h b sync resolve "$(pending_id)" --keep server >/dev/null || fail "resolve"
converged v-d2-w4

# 4. --keep local against a newer write b has not pulled: a new conflict
setup newer
setk a 0 1; s a
setk b 1 2; s b
h b sync resolve "$(pending_id)" --keep local >/dev/null || fail "resolve"
s c; setk c 2 3; s c
s b
[ -n "$(pending_id)" ] || fail "b's kept value met c's newer write without a pending conflict"
converged v-d2-w3
recorded v-d1-w2 || fail "b (v-d1-w2) is in no conflict record"

# 5. delete of an updated row, then the server moved on: --keep server keeps c
setup delete-of-updated
setk a 0 1; s a
s b
setk b 1 2 unset
setk a 0 3; s a
s b
[ -n "$(pending_id)" ] || fail "no pending conflict on b"
s c; setk c 2 4; s c
s b
h b sync resolve "$(pending_id)" --keep server >/dev/null || fail "resolve"
converged v-d2-w4

# 6. b writes again while its conflict waits (manual: b holds a's value),
#    and pushes it; --keep server later keeps that newer write, which is
#    what the server holds, instead of bringing a's value back (Jepsen seed
#    4258: dev0's later write was reverted by the resolve at heal)
setup newer-local
setk a 0 1; s a
setk b 1 2; s b
[ -n "$(pending_id)" ] || fail "no pending conflict on b"
setk b 1 3; s b
h b sync resolve "$(pending_id)" --keep server >/dev/null || fail "resolve"
converged v-d1-w3

[ $failed = 0 ] && echo "ok" || exit 1
