#!/usr/bin/env bash
# test_serve_ab.sh: a real `hearth serve` with two --variant files (the same
# generated model in F16 and Q8_0) on 127.0.0.1: answers carry
# hearth_variant, a session always gets the same variant and sessions reach
# both; POST /v1/feedback stores a rating (answering with the variant) and
# refuses bad bodies with a clear 400 and unknown ids with 404; /metrics has
# per-variant series; after the server stops, `hearth ab report` (JSON and
# text) shows both variants with the recorded counts and the rating. Bad
# --variant / --split flags are refused with a message.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}"
work=$(mktemp -d /tmp/hearth-serve-ab-XXXXXX)
PID=
cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_API_KEY HEARTH_SECURITY_LOG
py() { /usr/bin/python3 -c "$@"; }

"$HEARTH_GENMODEL" --arch qwen2 --preset tiny --type F16 --seed 7 -q -o "$work/m-f16.gguf"
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny --type Q8_0 --seed 7 -q -o "$work/m-q8.gguf"

# flag errors
for args in "--variant f16=$work/m-f16.gguf" \
            "--variant f16=$work/m-f16.gguf --variant f16=$work/m-q8.gguf" \
            "--variant bad/name=$work/m-f16.gguf --variant q8=$work/m-q8.gguf" \
            "--variant f16=$work/m-f16.gguf --variant q8=$work/m-q8.gguf --split 50" \
            "--variant f16=$work/m-f16.gguf --variant q8=$work/m-q8.gguf --split 0,0" \
            "--split 50,50"; do
    if "$HEARTH_BIN" serve --port 0 $args >"$work/bad.out" 2>"$work/bad.err"; then
        fail "serve $args started"
    fi
    grep -q "hearth serve:" "$work/bad.err" || fail "serve $args: no message"
    echo "ok: refused $args: $(head -c 160 "$work/bad.err")"
done

"$HEARTH_BIN" serve --port 0 -t 1 --slots 2 -c 256 --variant f16="$work/m-f16.gguf" \
    --variant q8="$work/m-q8.gguf" --split 50,50 >"$work/s.out" 2>"$work/s.err" &
PID=$!
serve_port "$PID" "$work/s.out" "$work/s.err"
serve_healthy "$work/s.err"
base="http://127.0.0.1:$PORT"
model=$(curl -s "$base/v1/models" | sed -n 's/.*"data":\[{"id":"\([^"]*\)".*/\1/p')
[ "$model" = m-f16 ] || fail "model id '$model'"

chat() { # chat SESSION(or -) -> response JSON
    local s=""
    [ "$1" != - ] && s="\"session\":\"$1\","
    curl -s "$base/v1/chat/completions" -H 'Content-Type: application/json' \
        -d "{\"model\":\"$model\",$s\"max_tokens\":3,\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}"
}
# (sed, not a JSON parser per answer: a python start costs half a second here)
field() { sed -n 's/.*"'"$1"'":"\([^"]*\)".*/\1/p' <<<"$2"; }

declare -A seen
ids=()
n=0
for s in s1 s2 s3 s4 s5 s6 s7 s8 - -; do
    r=$(chat "$s")
    v=$(field hearth_variant "$r")
    id=$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' <<<"$r")
    [ "$v" = f16 ] || [ "$v" = q8 ] || fail "answer without a variant: $r"
    seen[$v]=1
    ids+=("$id")
    n=$((n + 1))
    if [ "$s" != - ]; then
        r2=$(chat "$s")
        [ "$(field hearth_variant "$r2")" = "$v" ] || fail "session $s moved from $v"
        ids+=("$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' <<<"$r2")")
        n=$((n + 1))
    fi
done
[ -n "${seen[f16]:-}" ] && [ -n "${seen[q8]:-}" ] || fail "sessions reached only ${!seen[*]}"
echo "ok: $n answers, variants ${!seen[*]}, sessions stable"

fb() { curl -s -o "$work/fb.json" -w '%{http_code}' "$base/v1/feedback" -H 'Content-Type: application/json' -d "$1"; }
code=$(fb "{\"response_id\":\"${ids[0]}\",\"rating\":1}")
[ "$code" = 200 ] || fail "feedback: $code $(cat "$work/fb.json")"
want=$(field hearth_variant "$(chat s1)")
n=$((n + 1))
grep -q "\"variant\":\"$want\"" "$work/fb.json" || fail "feedback answer: $(cat "$work/fb.json")"
[ "$(fb "{\"response_id\":\"${ids[1]}\",\"rating\":true}")" = 200 ] || fail "feedback true"
[ "$(fb "{\"response_id\":\"${ids[2]}\",\"rating\":-0.5}")" = 200 ] || fail "feedback -0.5"
for body in '{"rating":1' '[]' '{"rating":1}' '{"response_id":5,"rating":1}' \
            "{\"response_id\":\"${ids[0]}\"}" "{\"response_id\":\"${ids[0]}\",\"rating\":2}" \
            "{\"response_id\":\"${ids[0]}\",\"rating\":\"good\"}" '{"response_id":"","rating":1}'; do
    code=$(fb "$body")
    [ "$code" = 400 ] || fail "feedback $body: $code"
    grep -q '"invalid_request_error"' "$work/fb.json" || fail "feedback $body: $(cat "$work/fb.json")"
    echo "ok: 400 for $body: $(cat "$work/fb.json")"
done
[ "$(fb '{"response_id":"chatcmpl-none","rating":1}')" = 404 ] || fail "unknown id not 404"

metrics=$(curl -s "$base/metrics")
for v in f16 q8; do
    grep -q "^hearth_variant_answers_total{variant=\"$v\"} [1-9]" <<<"$metrics" || fail "metrics: $v answers"
done
grep -q '^hearth_variant_feedback_total{variant="'"$want"'",rating="positive"} [1-9]' <<<"$metrics" ||
    fail "metrics: feedback"
echo "ok: feedback and metrics"

kill "$PID"
wait "$PID" || true
PID=

"$HEARTH_BIN" ab report --json >"$work/report.json"
py '
import json, sys
r = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
vs = {v["variant"]: v for v in r["variants"]}
assert set(vs) == {"f16", "q8"}, vs.keys()
assert sum(v["n"] for v in vs.values()) == n, (n, [v["n"] for v in vs.values()])
assert sum(v["rating"]["n"] for v in vs.values()) == 3
assert all(v["latency_ms"]["n"] == v["n"] for v in vs.values())
assert r["baseline"] in vs and len(r["comparisons"]) == 6
assert all(c["verdict"] in ("no difference yet", "higher", "lower") for c in r["comparisons"])
' "$work/report.json" "$n" || fail "report: $(cat "$work/report.json")"
"$HEARTH_BIN" ab report >"$work/report.txt"
cat "$work/report.txt"
grep -q "^f16 " "$work/report.txt" && grep -q "^q8 " "$work/report.txt" || fail "text report"
grep -q "no difference yet" "$work/report.txt" || fail "text report: no verdict"
echo ok
