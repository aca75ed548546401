#!/usr/bin/env bash
# test_cache_type.sh: the KV cache type options (-ctk/--cache-type-k,
# -ctv/--cache-type-v; settings cache_type_k, cache_type_v):
#  - hearth run --raw, run (the agent), serve (its scheduler's slots), bench
#    and perplexity accept q8_0 keys and q8_0/q4_0 values; greedy run --raw output with Q8_0 keys and values
#    equals F16's on a generated model with 64-wide heads;
#  - refused with a non-zero exit and a message naming the accepted types:
#    q4_0 keys, an unknown name, a bad setting (HEARTH_CACHE_TYPE_V=q5_0),
#    and a block type on a model whose head size is not a multiple of 32.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}"
work=$(mktemp -d /tmp/hearth-ctk-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL || true
"$HEARTH_GENMODEL" -q --arch llama --preset tiny256 --type Q8_0 --seed 3 -o "$work/m.gguf"
"$HEARTH_GENMODEL" -q --arch llama --preset tiny --type F32 -o "$work/hd16.gguf"
raw=(run --raw -m "$work/m.gguf" -p "hello there" -n 12 --temp 0 --json)

# accepted
"$HEARTH_BIN" "${raw[@]}" >"$work/f16.json"
"$HEARTH_BIN" "${raw[@]}" -ctk q8_0 -ctv q8_0 >"$work/q8.json"
"$HEARTH_BIN" "${raw[@]}" --cache-type-k Q8_0 --cache-type-v q4_0 >"$work/q4.json"
/usr/bin/python3 - "$work" <<'EOF'
import json, sys
d = sys.argv[1]
ids = {k: json.load(open(f"{d}/{k}.json"))["ids"] for k in ("f16", "q8", "q4")}
assert len(ids["f16"]) == 12, ids
assert ids["q8"] == ids["f16"], ("q8_0 differs", ids)
same = next((i for i, (a, b) in enumerate(zip(ids["q4"], ids["f16"])) if a != b), 12)
print(f"greedy ids equal to F16's: q8_0/q8_0 12 of 12, q8_0/q4_0 {same} of 12")
EOF
"$HEARTH_BIN" run -m "$work/m.gguf" -n 4 --temp 0 -ctk q8_0 -ctv q4_0 "hi" >/dev/null 2>"$work/err" ||
    fail "run (agent) with -ctk q8_0 -ctv q4_0: $(cat "$work/err")"
HEARTH_CACHE_TYPE_K=q8_0 "$HEARTH_BIN" run -m "$work/m.gguf" -n 4 --temp 0 "hi" >/dev/null 2>"$work/err" ||
    fail "run with HEARTH_CACHE_TYPE_K=q8_0: $(cat "$work/err")"
"$HEARTH_BIN" bench -m "$work/m.gguf" -p 8 -n 2 -r 1 -t 1 -ctk f16,q8_0 -ctv f16,q4_0 >"$work/bench" 2>&1 ||
    fail "bench: $(cat "$work/bench")"
grep -q 'KV cache Q8_0/Q4_0 (keys/values)' "$work/bench" || fail "bench printed: $(cat "$work/bench")"
for i in $(seq 1 40); do echo "the quick brown fox jumps over the lazy dog $i"; done >"$work/text"
"$HEARTH_BIN" perplexity -m "$work/m.gguf" -f "$work/text" -c 64 -ctk q8_0 -ctv q8_0 --kl-base "$work/m.gguf" \
    --json >"$work/ppl.json" 2>"$work/err" || fail "perplexity: $(cat "$work/err")"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["kld_mean"] > 0, d' "$work/ppl.json" ||
    fail "perplexity with a Q8_0 cache against its F16 self: no KL divergence: $(cat "$work/ppl.json")"

# serve: a chat completion through slots with a Q8_0/Q4_0 cache
"$HEARTH_BIN" serve --port 0 -m "$work/m.gguf" -c 256 --slots 2 -ctk q8_0 -ctv q4_0 >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
serve_port "$pid" "$work/serve.out" "$work/serve.err"
serve_healthy "$work/serve.err"
port=$PORT
mid=$(curl -s "http://127.0.0.1:$port/v1/models" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
code=$(curl -s -o "$work/chat.json" -w '%{http_code}' "http://127.0.0.1:$port/v1/chat/completions" \
    -H 'Content-Type: application/json' \
    -d '{"model":"'"$mid"'","messages":[{"role":"user","content":"hi"}],"max_tokens":4,"temperature":0}')
[ "$code" = 200 ] || fail "serve with a Q8_0/Q4_0 cache: HTTP $code $(cat "$work/chat.json")"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

refused() { # DESCRIPTION PATTERN: the last command ($rc, $work/err) was refused saying PATTERN
    [ "$rc" -ne 0 ] || fail "$1: exit status 0"
    grep -q -- "$2" "$work/err" || fail "$1: message: $(cat "$work/err")"
}
rc=0; "$HEARTH_BIN" "${raw[@]}" -ctk q4_0 >/dev/null 2>"$work/err" || rc=$?
refused "run --raw -ctk q4_0" "for keys: use f16, q8_0 or f32"
rc=0; "$HEARTH_BIN" "${raw[@]}" -ctv q5_1 >/dev/null 2>"$work/err" || rc=$?
refused "run --raw -ctv q5_1" "for values: use f16, q8_0, q4_0 or f32"
rc=0; "$HEARTH_BIN" run --raw -m "$work/hd16.gguf" -p "x" -n 2 -ctk q8_0 >/dev/null 2>"$work/err" || rc=$?
refused "q8_0 keys at head size 16" "multiple of 32"
rc=0; HEARTH_CACHE_TYPE_V=q5_0 "$HEARTH_BIN" run -m "$work/m.gguf" -n 2 "hi" >/dev/null 2>"$work/err" || rc=$?
refused "setting cache_type_v=q5_0" "cache_type_v"
rc=0; "$HEARTH_BIN" bench -m "$work/m.gguf" -p 8 -n 2 -r 1 -ctk f16,bogus >/dev/null 2>"$work/err" || rc=$?
refused "bench -ctk f16,bogus" "bogus"
rc=0; "$HEARTH_BIN" perplexity -m "$work/m.gguf" -f "$work/text" -ctv nope >/dev/null 2>"$work/err" || rc=$?
refused "perplexity -ctv nope" "for values"
rc=0; timeout 20 "$HEARTH_BIN" serve --port 0 -m "$work/m.gguf" -ctk q4_0 >/dev/null 2>"$work/err" || rc=$?
[ "$rc" != 124 ] || fail "serve -ctk q4_0 kept running"
refused "serve -ctk q4_0" "cache_type_k"
echo "cache type options: accepted and refused as documented"
