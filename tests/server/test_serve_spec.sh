#!/usr/bin/env bash
# test_serve_spec.sh: `hearth serve --draft MODEL` and `--lookup` (speculative
# decoding per slot, with continuous batching) answer exactly what a plain
# server answers at temperature 0, for concurrent requests; the answers'
# timings carry draft_n / draft_n_accepted and /metrics the totals.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
: "${HEARTH_BIN:?}" "${HEARTH_SOURCE_DIR:?}"
work=$(mktemp -d /tmp/hearth-spec-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_API_KEY HEARTH_SECURITY_LOG
target="$HEARTH_SOURCE_DIR/models/hearth-demo-256.gguf"
draft="$HEARTH_SOURCE_DIR/models/hearth-demo.gguf"

# start NAME ARGS...: a server on a free port; sets $base
start() {
    local name=$1
    shift
    mkdir -p "$work/$name"
    HEARTH_HOME="$work/$name" "$HEARTH_BIN" serve --port 0 -m "$target" -c 512 --slots 3 "$@" \
        >"$work/$name.out" 2>"$work/$name.err" &
    pids+=($!)
    serve_port "${pids[-1]}" "$work/$name.out" "$work/$name.err" "serve $name"
    serve_healthy "$work/$name.err" "serve $name"
    base="http://127.0.0.1:$PORT"
}

questions=("What is 2+2?" "What is 17 + 25?" "What is 9 * 8?" "Repeat after me: the quick brown fox jumps over the lazy dog"
           "What is 100 - 37?" "What is 6 * 7?")

# ask BASE DIR: every question at once (continuous batching), answers in DIR
ask() {
    local b=$1 dir=$2 i=0 cp=()
    mkdir -p "$dir"
    for q in "${questions[@]}"; do
        curl -s "$b/v1/chat/completions" -d "{\"model\":\"hearth-demo-256\",\"temperature\":0,\"max_tokens\":40,\"messages\":[{\"role\":\"user\",\"content\":\"$q\"}]}" \
            >"$dir/$i.json" &
        cp+=($!)
        i=$((i + 1))
    done
    wait "${cp[@]}" # (not the servers)
}

content() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["choices"][0]["message"]["content"])' "$1"; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["timings"][sys.argv[2]])' "$1" "$2"; }

start plain
ask "$base" "$work/a_plain"
for mode in draft lookup; do
    if [ $mode = draft ]; then start $mode --draft "$draft"; else start $mode --lookup; fi
    ask "$base" "$work/a_$mode"
    drafted=0
    for i in $(seq 0 $((${#questions[@]} - 1))); do
        a=$(content "$work/a_plain/$i.json") || fail "plain answer $i: $(cat "$work/a_plain/$i.json")"
        b=$(content "$work/a_$mode/$i.json") || fail "$mode answer $i: $(cat "$work/a_$mode/$i.json")"
        [ "$a" = "$b" ] || fail "$mode: question $i answered '$b', plain '$a'"
        n=$(field "$work/a_$mode/$i.json" draft_n)
        k=$(field "$work/a_$mode/$i.json" draft_n_accepted)
        [ "$k" -le "$n" ] || fail "$mode: accepted $k of $n"
        drafted=$((drafted + n))
    done
    [ "$drafted" -gt 0 ] || fail "$mode: nothing drafted"
    m=$(curl -s "$base/metrics")
    echo "$m" | grep -q "^hearth_spec_drafted_tokens_total $drafted\$" \
        || fail "$mode: /metrics: $(echo "$m" | grep spec)"
    echo "$mode: drafted $drafted, answers equal plain"
done
# a draft with another vocabulary: the model is not served, the error says why
other="$work/other.gguf"
"${HEARTH_GENMODEL:?}" --arch llama --type F16 -q -o "$other"
HEARTH_HOME="$work/bad" "$HEARTH_BIN" serve --port 0 -m "$target" --draft "$other" >"$work/bad.out" 2>"$work/bad.err" &
pids+=($!)
for _ in $(seq 1 300); do
    grep -q "vocabulary differs" "$work/bad.err" && break
    sleep 0.1
done
grep -q "vocabulary differs" "$work/bad.err" || fail "mismatched draft: $(cat "$work/bad.err")"
echo ok
