# test_serve_update.sh: `hearth serve --update-every HOURS`: a served
# registry model is switched to the new version its signed channel names,
# between requests: clients asking all the time (four in parallel, temperature
# 0) each get either the old model's whole answer or the new one's, never a
# request that fails or mixes them, and after the switch only the new one's.
# With policy_update = never, or on battery (battery_policy, a fake sysfs),
# the background check sends nothing.
source "$(dirname "$0")/lib.sh"
# on AC (a fake power supply tree; the battery policy postpones updates on battery)
ps=$TMP/sys/class/power_supply
mkdir -p "$ps/AC" "$ps/BAT0"
echo Mains > "$ps/AC/type"; echo 1 > "$ps/AC/online"
echo Battery > "$ps/BAT0/type"; echo Charging > "$ps/BAT0/status"; echo 90 > "$ps/BAT0/capacity"
export HEARTH_SYSFS_ROOT=$TMP/sys

gen v1 1; gen v2 2
V2=$(sha "$WWW/v2.gguf")
start_server
H pull -q "$URL/v1.gguf" --name tiny --channel "$URL/tiny.json" >/dev/null
H models use tiny >/dev/null
manifest tiny 1 v1.gguf

start_serve() { # extra config lines in $1
    printf '%s\n' "$1" > "$HEARTH_CONFIG"
    : > "$TMP/serve.out"
    "$HEARTH_BIN" serve --port 0 --update-every 0.0003 >"$TMP/serve.out" 2>"$TMP/serve.err" &
    SERVE_PID=$!
    for _ in $(seq 200); do grep -q listening "$TMP/serve.out" && break; sleep 0.05; done
    SPORT=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$TMP/serve.out")
    [ -n "$SPORT" ] || { cat "$TMP/serve.err"; fail "serve did not start"; }
    for _ in $(seq 200); do curl -fsS "http://127.0.0.1:$SPORT/health" >/dev/null 2>&1 && break; sleep 0.05; done
}
ask() {
    curl -fsS "http://127.0.0.1:$SPORT/v1/completions" -H 'Content-Type: application/json' \
        -d '{"model": "tiny:latest", "prompt": "Once upon a time", "max_tokens": 48, "temperature": 0}' |
        python3 -c "import json,sys; print(json.dumps(json.load(sys.stdin)['choices'][0]['text']))"
}

start_serve ""
A1=$(ask) || fail "first request"
sleep 1.5   # at least one check while the channel still names v1 (up to date)
manifest tiny 2 v2.gguf
for c in 1 2 3 4; do
    ( for _ in $(seq 400); do
          ask >> "$TMP/answers.$c" || { echo FAILED >> "$TMP/answers.$c"; }
          # after the switch, three more answers each
          if grep -q "switched to tiny:latest" "$TMP/serve.err"; then
              echo >> "$TMP/after.$c"
              [ "$(wc -l < "$TMP/after.$c")" -ge 3 ] && break
          fi
      done ) &
done
wait_clients() { for j in $(jobs -p); do [ "$j" = "$SERVE_PID" ] || [ "$j" = "$SERVER_PID" ] || wait "$j"; done; }
wait_clients
cat "$TMP/serve.err"
grep -q "switched to tiny:latest version 2" "$TMP/serve.err" || fail "no switch"
A2=$(ask) || fail "request after the switch"
[ "$A1" != "$A2" ] || fail "v1 and v2 answer alike; the test can not tell them apart"
cat "$TMP"/answers.* > "$TMP/all"
total=$(wc -l < "$TMP/all")
grep -q FAILED "$TMP/all" && fail "a request failed during the switch"
n1=$(grep -cxF "$A1" "$TMP/all" || true)
n2=$(grep -cxF "$A2" "$TMP/all" || true)
[ $((n1 + n2)) = "$total" ] || fail "$((total - n1 - n2)) of $total answers are neither the old nor the new model's"
[ "$n2" -ge 1 ] || fail "no answer from the new model"
[ "$(active tiny)" = "$V2" ] || fail "registry not on v2"
ok "switch under load: $total answers, $n1 old, $n2 new, none failed or mixed"
kill "$SERVE_PID"; wait "$SERVE_PID" || true

# policy_update = never: the background check is blocked and audited, nothing sent
manifest tiny 1 v1.gguf
curl -fsS "$URL/_reset" >/dev/null
start_serve "policy_update = never"
sleep 2.5
kill "$SERVE_PID"; wait "$SERVE_PID" || true
[ "$(served /tiny.json requests)" = 0 ] || { cat "$TMP/serve.err"; curl -s "$URL/_stats"; fail "policy_update = never: the channel was asked"; }
grep -q "blocked by the privacy policy" "$TMP/serve.err" || { cat "$TMP/serve.err"; fail "no blocked message"; }
H audit --json | grep -q '"kind":"update".*"decision":"blocked"\|"decision":"blocked".*"kind":"update"' || fail "no blocked update in the audit log"
ok "policy_update = never: background checks send nothing and are audited"

# on battery: postponed, nothing sent
echo 0 > "$ps/AC/online"; echo Discharging > "$ps/BAT0/status"; echo 60 > "$ps/BAT0/capacity"
manifest tiny 1 v1.gguf
curl -fsS "$URL/_reset" >/dev/null
start_serve ""
sleep 2.5
grep -q "postponed: on battery" "$TMP/serve.err" || { cat "$TMP/serve.err"; fail "no postponed message"; }
[ "$(served /tiny.json requests)" = 0 ] || fail "on battery: the channel was asked"
# two intervals on battery, one line (not one per check)
[ "$(grep -c 'postponed' "$TMP/serve.err")" = 1 ] || { cat "$TMP/serve.err"; fail "postponed logged at every check"; }
# AC again: the check runs (and says it resumed once)
echo 1 > "$ps/AC/online"; echo Charging > "$ps/BAT0/status"
for _ in $(seq 300); do [ "$(served /tiny.json requests)" != 0 ] && break; sleep 0.1; done
[ "$(served /tiny.json requests)" != 0 ] || { cat "$TMP/serve.err"; fail "no check after AC came back"; }
kill "$SERVE_PID"; wait "$SERVE_PID" || true
[ "$(grep -c 'update check resumed' "$TMP/serve.err")" = 1 ] || { cat "$TMP/serve.err"; fail "no resumed line"; }
ok "on battery (battery_policy on): background checks wait for AC, then run"
