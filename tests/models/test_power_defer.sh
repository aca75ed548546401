#!/usr/bin/env bash
# test_power_defer.sh: the battery policy applied, not only reported. On a
# fake /sys tree (HEARTH_SYSFS_ROOT) discharging at 10%:
#  - `hearth run` with two installed variants of one shape (Q8_0 the
#    default, Q4_0) answers with the smaller one and says so on stderr and
#    in --json; on AC, with battery_pick = off, or with an explicit -m PATH
#    it keeps the model asked for; `hearth status` names the pick;
#  - `hearth serve --sync-every 1` on a paired device does not sync (a
#    second device never sees the task, serve logs "postponed" once) until
#    the fake tree says AC online, then it syncs.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}"
command -v curl >/dev/null || { echo "SKIP: no curl"; exit 77; }
"$HEARTH_BIN" sync-server --help >/dev/null 2>&1 || { echo "SKIP: no hearth sync-server"; exit 77; }
TMP=$(mktemp -d /tmp/hearth-power-defer-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy HEARTH_POLICY_SYNC HEARTH_MODEL \
    HEARTH_BATTERY_POLICY HEARTH_BATTERY_LOW_PERCENT HEARTH_BATTERY_THREADS HEARTH_BATTERY_PICK HEARTH_THREADS
export HEARTH_CONFIG=$TMP/config HEARTH_SYSFS_ROOT=$TMP/sys HEARTH_SYNC_KDF=fast HEARTH_SYNC_PASSPHRASE=pass-for-power
: > "$HEARTH_CONFIG"
H() { "$HEARTH_BIN" "$@"; }
PY=/usr/bin/python3
J() { $PY -c "import json,sys; o=json.load(sys.stdin); print(json.dumps($1))"; }

ps=$TMP/sys/class/power_supply
mkdir -p "$ps/AC" "$ps/BAT0"
echo Mains > "$ps/AC/type"; echo Battery > "$ps/BAT0/type"
on_battery() { echo 0 > "$ps/AC/online"; echo Discharging > "$ps/BAT0/status"; echo 10 > "$ps/BAT0/capacity"; }
on_ac() { echo 1 > "$ps/AC/online"; echo Charging > "$ps/BAT0/status"; }
on_battery

# ---- run: the smaller installed variant on low battery --------------------
export HEARTH_HOME=$TMP/run
q8=$TMP/tiny-q8.gguf q4=$TMP/tiny-q4.gguf
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny --type Q8_0 --n-ctx 256 --seed 3 -o "$q8" >/dev/null
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny --type Q4_0 --n-ctx 256 --seed 3 -o "$q4" >/dev/null
H models add "$q8" --name tiny:q8 --default >/dev/null
H models add "$q4" --name tiny:q4 >/dev/null
R() { H run -c 256 -n 2 --local-only "$@"; }

out=$(R --json -p hi 2>"$TMP/e") || fail "run on battery: $(cat "$TMP/e")"
grep -q "^hearth run: using tiny:q4 instead of tiny:q8: on battery at 10%, below battery_low_percent 20" "$TMP/e" \
    || fail "no swap line: $(cat "$TMP/e")"
[ "$(grep -c 'instead of' "$TMP/e")" = 1 ] || fail "more than one swap line: $(cat "$TMP/e")"
[ "$(J '[o["battery_pick"]["model"], o["battery_pick"]["instead_of"]]' <<<"$out")" = '["tiny:q4", "tiny:q8"]' ] \
    || fail "run --json battery_pick: $out"
R -m tiny:q8 -p hi >/dev/null 2>"$TMP/e" || fail "run -m NAME: $(cat "$TMP/e")"
grep -q "using tiny:q4 instead of tiny:q8" "$TMP/e" || fail "-m NAME not swapped: $(cat "$TMP/e")"
[ "$(H status --json | J 'o["model"]["battery_pick"]')" = '"tiny:q4"' ] || fail "status battery_pick: $(H status --json)"
H status | grep -q "^battery    run, chat and serve load tiny:q4 instead" || fail "status text: $(H status)"
ok "run on battery at 10% answers with the Q4_0 variant"

out=$(R --json -m "$q8" -p hi 2>"$TMP/e") || fail "run -m PATH: $(cat "$TMP/e")"
grep -q "instead of" "$TMP/e" && fail "an explicit -m PATH was swapped: $(cat "$TMP/e")"
[ "$(J '"battery_pick" in o' <<<"$out")" = false ] || fail "-m PATH json: $out"
out=$(HEARTH_BATTERY_PICK=off R --json -p hi 2>"$TMP/e") || fail "battery_pick off: $(cat "$TMP/e")"
grep -q "instead of" "$TMP/e" && fail "swapped with battery_pick = off"
[ "$(J '"battery_pick" in o' <<<"$out")" = false ] || fail "battery_pick off json: $out"
set +e
HEARTH_BATTERY_PICK=maybe R -p hi >/dev/null 2>"$TMP/e"; rc=$?
set -e
[ $rc = 1 ] && grep -q battery_pick "$TMP/e" || fail "bad battery_pick accepted ($rc): $(cat "$TMP/e")"
[ "$(HEARTH_BATTERY_PICK=off H status --json | J '[o["in_force"]["prefer_smaller_model"], o["model"]["battery_pick"]]')" \
    = '[false, null]' ] || fail "status with battery_pick off"
on_ac
out=$(R --json -p hi 2>"$TMP/e") || fail "run on AC: $(cat "$TMP/e")"
grep -q "instead of" "$TMP/e" && fail "swapped on AC: $(cat "$TMP/e")"
[ "$(J '"battery_pick" in o' <<<"$out")" = false ] || fail "AC json: $out"
ok "no swap for -m PATH, with battery_pick = off, or on AC"

# ---- serve --sync-every: no sync on battery, sync once on AC ---------------
on_battery
db=$TMP/server.db
"$HEARTH_BIN" sync-server --db "sqlite:$db" --port 0 >"$TMP/server.out" 2>&1 &
pids+=($!)
sync_server_url "${pids[-1]}" "$TMP/server.out"
TOKEN=$(H sync-server --db "sqlite:$db" token carol)
A=$TMP/a B=$TMP/b
for h in "$A" "$B"; do
    HEARTH_HOME="$h" H sync pair --server "$URL" --token "$TOKEN" >/dev/null
    HEARTH_HOME="$h" H sync enable tasks >/dev/null
done
HEARTH_HOME="$A" H tasks add written on battery >/dev/null
HEARTH_HOME="$A" "$HEARTH_BIN" serve --port 0 -m "$q8" -c 256 --sync-every 1 >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVE=$!
pids+=($SERVE)
serve_port "$SERVE" "$TMP/serve.out" "$TMP/serve.err"
HP=$PORT
for _ in $(seq 300); do grep -q 'sync postponed' "$TMP/serve.err" && break; sleep 0.1; done
grep -q 'hearth serve: sync postponed: on battery' "$TMP/serve.err" || fail "no postponed line: $(cat "$TMP/serve.err")"
# several periods of --sync-every 1 on battery: nothing may reach the server
sleep 3
HEARTH_HOME="$B" H sync >/dev/null 2>&1 || true
HEARTH_HOME="$B" H tasks list | grep -q 'written on battery' && fail "synced on battery: $(cat "$TMP/serve.err")"
grep -q 'sync: synced' "$TMP/serve.err" && fail "serve synced on battery: $(cat "$TMP/serve.err")"
[ "$(grep -c 'sync postponed' "$TMP/serve.err")" = 1 ] || fail "postponed logged more than once: $(cat "$TMP/serve.err")"
ok "serve --sync-every 1 on battery: no sync, one log line"

on_ac
got=0
for _ in $(seq 600); do
    HEARTH_HOME="$B" H sync >/dev/null 2>&1 || true
    if HEARTH_HOME="$B" H tasks list | grep -q 'written on battery'; then got=1; break; fi
    sleep 0.1
done
[ "$got" = 1 ] || fail "no sync after AC came back: $(cat "$TMP/serve.err")"
grep -q 'hearth serve: sync resumed' "$TMP/serve.err" || fail "no resumed line: $(cat "$TMP/serve.err")"
grep -q 'sync: synced: pushed 1' "$TMP/serve.err" || fail "no synced report: $(cat "$TMP/serve.err")"
kill -TERM "$SERVE"
wait "$SERVE" || fail "serve did not stop cleanly"
ok "serve syncs once on AC"
echo PASS
