#!/usr/bin/env bash
# test_power_status.sh: the battery policy seen from outside. `hearth status
# --json` on fake /sys trees (HEARTH_SYSFS_ROOT): AC, discharging at 50%,
# below battery_low_percent, missing tree, malformed files, the policy off
# or its settings bad; `hearth bench` reports joules per token from a fake
# RAPL tree and "energy: not available" without one; and /metrics of a
# real `hearth serve` on 127.0.0.1 (free port) exports the power gauges and
# the active model, following the fake battery as it changes.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}" "${HEARTH_SOURCE_DIR:?}"
TMP=$(mktemp -d)
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
export HEARTH_HOME=$TMP/home HEARTH_CONFIG=$TMP/config HEARTH_SYSFS_ROOT=$TMP/sys
unset HEARTH_MODEL HEARTH_THREADS HEARTH_BATTERY_POLICY HEARTH_BATTERY_LOW_PERCENT HEARTH_BATTERY_THREADS
: > "$HEARTH_CONFIG"
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
H() { "$HEARTH_BIN" "$@"; }
PY=/usr/bin/python3
ps=$TMP/sys/class/power_supply
# jq-like: field PATH of the JSON on stdin (python expression on o)
J() { $PY -c "import json,sys; o=json.load(sys.stdin); print(json.dumps($1))"; }

mkdir -p "$ps/AC" "$ps/BAT0"
echo Mains > "$ps/AC/type"; echo 1 > "$ps/AC/online"
echo Battery > "$ps/BAT0/type"; echo Charging > "$ps/BAT0/status"; echo 90 > "$ps/BAT0/capacity"
echo "threads = 4" > "$HEARTH_CONFIG"

# AC
out=$(H status --json)
[ "$(J 'o["power"]' <<<"$out")" = '{"source": "ac", "percent": 90, "battery": "BAT0", "status": "Charging"}' ] \
    || fail "ac: $out"
[ "$(J '[o["in_force"]["on_battery"], o["in_force"]["threads"], o["in_force"]["postpone_background"]]' <<<"$out")" \
    = '[false, 4, false]' ] || fail "ac in force: $out"
[ "$(J 'o["policy"]' <<<"$out")" = '{"enabled": true, "low_percent": 20, "battery_threads": 0}' ] || fail "policy: $out"
[ "$(J 'o["model"]["from"]' <<<"$out")" = '"default"' ] || fail "model: $out"
H status | grep -q "^power      ac 90% (BAT0, Charging)$" || fail "ac text: $(H status)"
ok "status on AC"

# discharging at 50%
echo 0 > "$ps/AC/online"; echo Discharging > "$ps/BAT0/status"; echo 50 > "$ps/BAT0/capacity"
out=$(H status --json)
[ "$(J '[o["power"]["source"], o["power"]["percent"]]' <<<"$out")" = '["battery", 50]' ] || fail "battery: $out"
[ "$(J '[o["in_force"][k] for k in ("on_battery","low","threads","prefer_smaller_model","postpone_background")]' <<<"$out")" \
    = '[true, false, 2, false, true]' ] || fail "battery in force: $out"
H status | grep -q "^in force   on battery: 2 threads (4 on AC), background work" || fail "battery text"
HEARTH_BATTERY_THREADS=1 H status --json | J 'o["in_force"]["threads"]' | grep -qx 1 || fail "battery_threads"
ok "status discharging at 50%"

# below the threshold (and the threshold from the config file)
echo 15 > "$ps/BAT0/capacity"
out=$(H status --json)
[ "$(J '[o["in_force"]["low"], o["in_force"]["prefer_smaller_model"]]' <<<"$out")" = '[true, true]' ] || fail "low: $out"
echo "battery_low_percent = 10" >> "$HEARTH_CONFIG"
[ "$(H status --json | J 'o["in_force"]["low"]')" = false ] || fail "battery_low_percent from the file"
H status | grep -q "smaller installed variant" && fail "not low at 15% with threshold 10"
ok "status below the threshold"

# the policy off
[ "$(HEARTH_BATTERY_POLICY=off H status --json | J '[o["policy"]["enabled"], o["in_force"]["on_battery"], o["in_force"]["threads"]]')" \
    = '[false, false, 4]' ] || fail "policy off"
set +e
HEARTH_BATTERY_POLICY=sometimes H status >/dev/null 2>"$TMP/e"; rc=$?
HEARTH_BATTERY_LOW_PERCENT=101 H status >/dev/null 2>>"$TMP/e"; rc2=$?
set -e
[ $rc = 1 ] && [ $rc2 = 1 ] || fail "bad settings accepted ($rc $rc2)"
grep -q "battery_policy" "$TMP/e" && grep -q "battery_low_percent" "$TMP/e" || fail "bad setting messages: $(cat "$TMP/e")"
ok "policy off; bad policy settings refused"

# malformed and missing
echo "lots" > "$ps/BAT0/capacity"
[ "$(H status --json | J '[o["power"]["source"], o["power"]["percent"], o["in_force"]["low"]]')" = '["battery", null, true]' ] \
    || fail "malformed capacity"
printf 'Discharging' > "$ps/BAT0/status"; printf '' > "$ps/AC/online"
[ "$(H status --json | J 'o["power"]["source"]')" = '"battery"' ] || fail "no newline / empty online"
rm -rf "$TMP/sys"
[ "$(H status --json | J '[o["power"]["source"], o["power"]["percent"], o["power"]["battery"], o["in_force"]["threads"]]')" \
    = '["unknown", null, null, 4]' ] || fail "missing tree"
H status | grep -q "^power      unknown$" || fail "missing tree text"
ok "status: malformed files, missing tree"

# bench: energy
model=$TMP/tiny.gguf
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny --type Q8_0 -q -o "$model"
H bench -m "$model" -p 0 -n 4 -r 1 > "$TMP/b.txt"
grep -q "^energy: not available$" "$TMP/b.txt" || fail "bench without RAPL: $(cat "$TMP/b.txt")"
H bench -m "$model" -p 0 -n 4 -r 1 --json | J 'o["joules_per_token"]' | grep -qx null || fail "bench json without RAPL"
mkdir -p "$TMP/sys/class/powercap/intel-rapl:0"
echo 123456789 > "$TMP/sys/class/powercap/intel-rapl:0/energy_uj"
echo 262143328850 > "$TMP/sys/class/powercap/intel-rapl:0/max_energy_range_uj"
H bench -m "$model" -p 0 -n 4 -r 1 > "$TMP/b2.txt"
grep -q "^energy: 0.000 J per generated token (RAPL, whole package)$" "$TMP/b2.txt" || fail "bench with RAPL: $(cat "$TMP/b2.txt")"
[ "$(H bench -m "$model" -p 0 -n 4 -r 1 --json | J 'o["joules_per_token"]')" = 0.0 ] || fail "bench json with RAPL"
ok "bench energy: not available / from RAPL"

# the active model: the registry's default, or a registry name in the model setting
H models add "$model" --name tiny:q8 >/dev/null
H models use tiny:q8 >/dev/null
[ "$(H status --json | J '[o["model"]["name"], o["model"]["from"], o["model"]["path"].split("/")[-1][:7]]')" \
    = '["tiny:q8", "registry", "sha256-"]' ] || fail "registry default: $(H status --json)"
H status | grep -q "^model      tiny:q8 = .*/blobs/sha256-.* from registry)$" || fail "registry default text"
[ "$(HEARTH_MODEL=tiny:q8 H status --json | J '[o["model"]["name"], o["model"]["from"]]')" = '["tiny:q8", "env"]' ] \
    || fail "model setting naming a registry model"
ok "status: the active model from the registry"

# /metrics of a real server
mkdir -p "$ps/BAT0"
echo Battery > "$ps/BAT0/type"; echo Discharging > "$ps/BAT0/status"; echo 50 > "$ps/BAT0/capacity"
# (not through H: a backgrounded function is a subshell, and $! would be it, not
# the server, which then outlived the test)
"$HEARTH_BIN" serve --port 0 -m "$model" > "$TMP/serve.out" 2> "$TMP/serve.err" &
PID=$!
serve_port "$PID" "$TMP/serve.out" "$TMP/serve.err"
m=$(curl -sf "http://127.0.0.1:$PORT/metrics") || fail "GET /metrics"
for line in 'hearth_power_source{source="battery"} 1' 'hearth_power_source{source="ac"} 0' \
    'hearth_battery_percent 50' 'hearth_battery_policy_enabled 1' 'hearth_battery_policy_active 1' \
    'hearth_battery_low 0' 'hearth_background_postponed 1' 'hearth_threads_in_force 2' \
    'hearth_model_info{model="tiny.gguf"} 1' '# TYPE hearth_battery_percent gauge'; do
    grep -qxF "$line" <<<"$m" || fail "metrics lack '$line': $(grep -E 'power|battery|threads|model_info' <<<"$m")"
done
# plugged in: the gauges follow without a restart
mkdir -p "$ps/AC"; echo Mains > "$ps/AC/type"; echo 1 > "$ps/AC/online"; echo Charging > "$ps/BAT0/status"
m=$(curl -sf "http://127.0.0.1:$PORT/metrics")
for line in 'hearth_power_source{source="ac"} 1' 'hearth_battery_policy_active 0' 'hearth_background_postponed 0' \
    'hearth_threads_in_force 4'; do
    grep -qxF "$line" <<<"$m" || fail "after plugging in, metrics lack '$line'"
done
ok "/metrics power gauges and model, following the power state"
