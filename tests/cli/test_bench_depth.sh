#!/bin/bash
# test_bench_depth.sh: hearth bench -d (llama-bench's depth) on a generated
# tiny qwen2 model: a comma list gives one JSON object per depth with its
# n_depth, the table names each depth's rows (pp8 @ d40), -d 0 is the plain
# test, a depth past -c fails with the context error, bad lists are refused.
set -u
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}"
H=$HEARTH_BIN
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny --type F16 --seed 3 -q -o "$T/m.gguf" || exit 1

"$H" bench -m "$T/m.gguf" -p 8 -n 4 -r 2 -t 2 -d 0,40,100 --json > "$T/b.json" 2> "$T/b.err"; rc=$?
check "bench -d list: exit 0" '[[ $rc -eq 0 ]]'
check "one JSON object per depth" '[[ $(grep -c "^{" "$T/b.json") -eq 3 ]]'
for d in 0 40 100; do
  check "JSON for depth $d" 'grep -q "\"n_prompt\":8,\"n_gen\":4,\"n_depth\":$d,.*\"prompt_tps\":[0-9]" "$T/b.json"'
done
check "depths in the order given" '[[ "$(sed -n "s/.*\"n_depth\":\([0-9]*\).*/\1/p" "$T/b.json" | tr "\n" " ")" == "0 40 100 " ]]'

"$H" bench -m "$T/m.gguf" -p 8 -n 4 -r 1 -t 2 -d 0,40 > "$T/b.txt" 2>&1; rc=$?
check "table: exit 0" '[[ $rc -eq 0 ]]'
check "table row pp8 (depth 0)" 'grep -Eq "\| pp8 +\| +[0-9.]+ ±" "$T/b.txt"'
check "table row tg4 (depth 0)" 'grep -Eq "\| tg4 +\| +[0-9.]+ ±" "$T/b.txt"'
check "table row pp8 @ d40" 'grep -Eq "\| pp8 @ d40 +\| +[0-9.]+ ±" "$T/b.txt"'
check "table row tg4 @ d40" 'grep -Eq "\| tg4 @ d40 +\| +[0-9.]+ ±" "$T/b.txt"'

"$H" bench -m "$T/m.gguf" -p 8 -n 0 -r 1 -t 1 --json > "$T/d0.json" 2>&1
check "no -d: depth 0" 'grep -q "\"n_depth\":0," "$T/d0.json"'

"$H" bench -m "$T/m.gguf" -p 8 -n 4 -r 1 -t 1 -d 100 -c 64 > "$T/c.out" 2>&1; rc=$?
check "depth past -c: fails with the reason" '[[ $rc -ne 0 ]] && grep -qi "depth 100" "$T/c.out"'
for bad in "" "," "1,,2" "-1" "x" "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17"; do
  "$H" bench -m "$T/m.gguf" -d "$bad" > "$T/bad.out" 2>&1; rc=$?
  check "bad -d '$bad' refused" '[[ $rc -ne 0 ]] && grep -q "bad -d" "$T/bad.out"'
done
"$H" bench --help > "$T/help.txt" 2>&1
check "--help documents -d" 'grep -q "n-depth" "$T/help.txt"'
exit $fail
