#!/usr/bin/env bash
# test_hybrid.sh: hybrid processing end to end, with the bundled demo model
# on the device and, as the "cloud", a second real `hearth serve` (another
# model) and the fault-injecting server (tests/router/fault_server.py), all
# on 127.0.0.1:
#  - local-only (the default): a low-confidence answer stays local, no audit;
#  - hybrid: in-domain arithmetic stays local, "Who wrote Hamlet?" goes to the
#    cloud (source cloud, audit record with host and bytes);
#  - a category set to never stays local (audit "blocked"), and strace shows
#    no connect to the cloud's port; --local-only / "cloud": false /
#    --incognito never leave, and incognito stores nothing;
#  - redaction: what reaches the cloud has [EMAIL_1] instead of the address,
#    the answer shown has it back; a request whose audit record can not be
#    written does not leave;
#  - faults (refused, timeout, 500, 429, malformed, broken stream, endless,
#    too large): the local answer, marked local-degraded, within the timeout;
#  - ask: the API answers with the consent preview and sends nothing; with
#    "consent": true it sends; the CLI asks on the terminal;
#  - the API key is in no file, log or answer; /metrics counts it all.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}" "${HEARTH_SOURCE_DIR:?}"
here="$HEARTH_SOURCE_DIR/tests/router"
work=$(mktemp -d /tmp/hearth-hybrid-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset HEARTH_MODEL HEARTH_API_KEY HEARTH_SECURITY_LOG http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
for v in $(env | sed -n 's/^\(HEARTH_\(CLOUD\|POLICY\)[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
export HEARTH_CONFIG="$work/no-config" HEARTH_TEMP=0
key=sk-hearthTEST-0123456789abcdefXYZ

# start_serve NAME HOME ARGS...: sets PORT
start_serve() {
    local name=$1 home=$2; shift 2
    HEARTH_HOME="$home" "$HEARTH_BIN" serve --port 0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
    pids+=($!)
    serve_port "${pids[-1]}" "$work/$name.out" "$work/$name.err" "$name"
    serve_healthy "$work/$name.err" "$name"
}

# the cloud: a different (random-weight) model behind an API key
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny --type Q8_0 --seed 5 -o "$work/cloud.gguf" >/dev/null
start_serve cloud "$work/cloud-home" -m "$work/cloud.gguf" --api-key "$key"
cloud="http://127.0.0.1:$PORT/v1"
cloud_port=$PORT
cloud_model=$(curl -s -H "Authorization: Bearer $key" "$cloud/models" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')

# the fault server
python3 "$here/fault_server.py" --port 0 >"$work/fault.port" 2>"$work/fault.err" &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/fault.port" ] && break; sleep 0.1; done
fport=$(head -n1 "$work/fault.port")
[ -n "$fport" ] || fail "fault server did not start"

export HEARTH_HOME="$work/home"
H() { "$HEARTH_BIN" "$@"; }
json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
audit_count() { H audit --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# --- local-only (default): stays local, nothing recorded
out=$(H run --json --session s1 "Who wrote Hamlet?" 2>"$work/s1.err")
[ "$(echo "$out" | json_get 'd["source"]')" = local ] || fail "local-only: $out"
grep -q "not sent: no cloud is configured" "$work/s1.err" || fail "local-only: no reason on stderr: $(cat "$work/s1.err")"
[ "$(audit_count)" = 0 ] || fail "local-only wrote audit records"

# --- hybrid against the real second server
export HEARTH_POLICY=hybrid HEARTH_CLOUD_URL="$cloud" HEARTH_CLOUD_MODEL="$cloud_model" HEARTH_CLOUD_API_KEY="$key"
out=$(H run --json --session s2 "What is 2+2?")
[ "$(echo "$out" | json_get 'd["source"]')" = local ] || fail "arithmetic left the device: $out"
[ "$(echo "$out" | json_get 'd["content"]')" = "2 + 2 = 4." ] || fail "arithmetic answer: $out"
[ "$(audit_count)" = 0 ] || fail "a confident answer wrote an audit record"
out=$(H run --json --session s2 "Who wrote Hamlet?")
echo "cloud answer: $out"
[ "$(echo "$out" | json_get 'd["source"]')" = cloud ] || fail "not escalated: $out"
echo "$out" | json_get 'd["content"]' | grep -q "can't answer" && fail "cloud answer is the local refusal"
[ "$(echo "$out" | json_get 'd["route"]["decision"]')" = sent ] || fail "route: $out"
H audit --json | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert len(a) == 1, a
r = a[0]
assert r["decision"] == "sent" and r["host"].startswith("127.0.0.1:") and r["category"] == "general", r
assert r["bytes_out"] > 0 and r["bytes_in"] > 0 and r["latency_ms"] > 0 and r["outcome"] == "ok", r
assert r["content"] is None and r["session"] == "s2" and r["confidence"] < 0.5, r
' || fail "audit record of the cloud call"
H history --session s2 --json | python3 -c '
import json, sys
m = json.load(sys.stdin)
assert [x["role"] for x in m] == ["user", "assistant", "user", "assistant"], m
assert m[1]["source"] == "local" and m[1]["confidence"] >= 0.5, m[1]
assert m[3]["source"] == "cloud" and m[3]["confidence"] < 0.5, m[3]
assert m[0]["source"] is None and m[0]["confidence"] is None, m[0]
' || fail "history after the cloud answer"
H audit --explain 1 | grep -q "sent to:  127.0.0.1" || fail "audit --explain"

# --- a category set to never: stays local, recorded as blocked, no connect
export HEARTH_POLICY_HEALTH=never
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -qq -e trace=connect -o "$work/never.strace" "$HEARTH_BIN" run --json --session s3 \
    "Who should treat my diabetes symptoms?" >"$work/never.json"
[ "$(json_get 'd["source"]' <"$work/never.json")" = local ] || fail "health went out: $(cat "$work/never.json")"
[ "$(json_get 'd["route"]["decision"]' <"$work/never.json")" = blocked ] || fail "not blocked: $(cat "$work/never.json")"
grep -q "htons($cloud_port)" "$work/never.strace" && fail "connected to the cloud for a never category"
H audit --json | python3 -c '
import json, sys
r = json.load(sys.stdin)[-1]
assert r["decision"] == "blocked" and r["category"] == "health" and r["host"] is None, r
assert "never" in r["reason"], r
' || fail "blocked audit record"

# --- tightening by the request: --local-only, incognito
n0=$(audit_count)
out=$(H run --json --local-only --session s4 "Who wrote Hamlet?")
# (the local refusal of the local-only run above may answer from the cache)
case "$(echo "$out" | json_get 'd["source"]')" in local|cache) ;; *) fail "--local-only: $out";; esac
out=$(H run --json --incognito --no-cache --session incog "Who wrote Hamlet?")
[ "$(echo "$out" | json_get 'd["source"]')" = local ] || fail "--incognito: $out"
[ "$(audit_count)" = "$n0" ] || fail "local-only/incognito wrote audit records"
[ "$(H history --session incog --json)" = "[]" ] || fail "incognito stored messages"

# --- redaction and restore (the fault server echoes what it got)
export HEARTH_CLOUD_URL="http://127.0.0.1:$fport/echo/v1"
out=$(H run --json --session s5 "Who wrote Hamlet? Reply to alice.martin@example.com")
echo "echo answer: $out"
[ "$(echo "$out" | json_get 'd["source"]')" = cloud ] || fail "echo: $out"
echo "$out" | json_get 'd["content"]' | grep -qF "alice.martin@example.com" || fail "placeholder not restored: $out"
curl -s "http://127.0.0.1:$fport/last" | python3 -c '
import json, sys
last = json.load(sys.stdin)
body = json.dumps(last["body"])
assert "alice.martin@example.com" not in body, body
assert "[EMAIL_1]" in body, body
' || fail "the address left the device"
H audit --json | python3 -c '
import json, sys
r = json.load(sys.stdin)[-1]
assert r["redactions"] == {"EMAIL": 1}, r
' || fail "redaction counts in the audit log"

# --- no audit record, no request: a store whose audit log can not be written
HEARTH_HOME="$work/home-noaudit" "$HEARTH_BIN" run --local-only "hello" >/dev/null
sqlite3 "$work/home-noaudit/hearth.db" "DROP TABLE audit;"
before=$(curl -s "http://127.0.0.1:$fport/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("echo",0))')
out=$(HEARTH_HOME="$work/home-noaudit" "$HEARTH_BIN" run --json --no-cache "Who wrote Hamlet?" 2>"$work/noaudit.err")
[ "$(echo "$out" | json_get 'd["source"]')" = local ] || fail "sent without an audit record: $out"
grep -q "audit log could not be written" "$work/noaudit.err" || fail "no-audit reason: $(cat "$work/noaudit.err")"
after=$(curl -s "http://127.0.0.1:$fport/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("echo",0))')
[ "$before" = "$after" ] || fail "a request left although its audit record could not be written"

# --- faults: the local answer, marked local-degraded, in time
export HEARTH_CLOUD_TIMEOUT_MS=3000
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
for mode in refused hang s500 s429 s429ra malformed broken endless huge hugesse; do
    if [ $mode = refused ]; then url="http://127.0.0.1:$closed/v1"; else url="http://127.0.0.1:$fport/$mode/v1"; fi
    out=$(HEARTH_CLOUD_URL="$url" timeout 60 "$HEARTH_BIN" run --json --no-cache "Who wrote Hamlet?") ||
        fail "fault $mode: hearth run failed or hung"
    src=$(echo "$out" | json_get 'd["source"]')
    [ "$src" = local-degraded ] || fail "fault $mode: source $src: $out"
    echo "$out" | json_get 'd["content"]' | grep -q "can't answer" || fail "fault $mode: not the local answer: $out"
    echo "fault $mode: local-degraded ($(echo "$out" | json_get 'd["route"]["reason"]' | cut -c1-80))"
done
unset HEARTH_CLOUD_TIMEOUT_MS

# --- ask, through the API: a consent answer, nothing sent; then consent
export HEARTH_CLOUD_URL="http://127.0.0.1:$fport/ok/v1" HEARTH_POLICY_GENERAL=ask
start_serve local "$HEARTH_HOME" --slots 2
base="http://127.0.0.1:$PORT"
m=$(curl -s "$base/v1/models" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
before=$(curl -s "http://127.0.0.1:$fport/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("ok",0))')
req='{"model":"'"$m"'","temperature":0,"messages":[{"role":"user","content":"Who wrote Hamlet? I am Bob, bob@example.org"}]'
out=$(curl -s "$base/v1/chat/completions" -d "$req}")
echo "consent answer: $out"
echo "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = d["hearth_consent"]
assert c["needed"] is True and c["host"].startswith("127.0.0.1:"), c
assert "Who wrote Hamlet?" in c["preview"] and "[EMAIL_1]" in c["preview"], c
assert "bob@example.org" not in c["preview"], c
assert d["hearth_source"] == "local" and d["hearth_route"]["decision"] == "consent-needed", d
assert 0 <= d["hearth_confidence"] < 0.5, d
' || fail "consent answer"
after=$(curl -s "http://127.0.0.1:$fport/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("ok",0))')
[ "$before" = "$after" ] || fail "something was sent before consent"
out=$(curl -s "$base/v1/chat/completions" -d "$req"',"hearth":{"consent":true}}')
[ "$(echo "$out" | json_get 'd["hearth_source"]')" = cloud ] || fail "consent given, not sent: $out"
out=$(curl -s "$base/v1/chat/completions" -d "$req"',"stream":true,"hearth":{"consent":true}}')
echo "$out" | grep -q '"hearth_source": *"cloud"' || fail "streamed cloud answer: $out"
out=$(curl -s "$base/v1/chat/completions" -d "$req"',"hearth":{"cloud":false,"consent":true}}')
[ "$(echo "$out" | json_get 'd["hearth_source"]')" = local ] || fail "cloud:false loosened: $out"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/chat/completions" -d "$req"',"hearth":{"cloud":"yes"}}')
[ "$code" = 400 ] || fail "a bad hearth block: $code"
metrics=$(curl -s "$base/metrics")
echo "$metrics" | grep -q '^hearth_answers_total{source="cloud"} [1-9]' || fail "metrics: cloud answers"
echo "$metrics" | grep -q '^hearth_router_decisions_total{decision="consent-needed"} [1-9]' || fail "metrics: consent"
echo "$metrics" | grep -q '^hearth_egress_bytes_total{direction="out"} [1-9]' || fail "metrics: egress"
echo "$metrics" | grep -q '^hearth_redactions_total{kind="EMAIL"} [1-9]' || fail "metrics: redactions"
echo "$metrics" | grep -q '^hearth_cloud_latency_seconds_count [1-9]' || fail "metrics: cloud latency"
echo "$metrics" | grep -q '^hearth_answer_confidence_bucket{le="0.05"} [1-9]' || fail "metrics: confidence"

# --- ask on the CLI, answered on a terminal
# (script, from util-linux, gives the command a terminal to ask on)
printf 'y\n' | script -qec "'$HEARTH_BIN' run --json --no-cache --session s6 'Who wrote Hamlet?'" /dev/null >"$work/ask.out" || true
grep -q "This would be sent to 127.0.0.1" "$work/ask.out" || fail "CLI ask: no preview: $(cat "$work/ask.out")"
grep -q '"source":"cloud"' "$work/ask.out" || fail "CLI ask, yes: not sent: $(cat "$work/ask.out")"
printf 'n\n' | script -qec "'$HEARTH_BIN' run --json --no-cache --session s6 'Who wrote Hamlet?'" /dev/null >"$work/ask.out" || true
grep -q '"source":"local"' "$work/ask.out" || fail "CLI ask, no: sent anyway: $(cat "$work/ask.out")"

# --- the key is nowhere
kill -TERM "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
if grep -rqa -- "$key" "$HEARTH_HOME" "$work"/local.* "$work"/*.json 2>/dev/null; then
    fail "the API key was written somewhere: $(grep -rla -- "$key" "$HEARTH_HOME" "$work" | head)"
fi
echo ok
