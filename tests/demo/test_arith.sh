#!/usr/bin/env bash
# test_arith.sh: the bundled demo model, through `hearth run` with no -m (so
# the default model path is what is tested), answers held-out arithmetic
# questions (phrasings that are not in its training corpus) with greedy
# decoding; at least 90% must contain the right number. Prints the accuracy.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_SOURCE_DIR:?}"
questions="$HEARTH_SOURCE_DIR/tests/demo/arith_heldout.tsv"
[ -f "$HEARTH_SOURCE_DIR/models/hearth-demo.gguf" ] || { echo "FAIL: no bundled model"; exit 1; }
work=$(mktemp -d /tmp/hearth-arith-XXXXXX)
trap 'rm -rf "$work"' EXIT
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config" HEARTH_TEMP=0
unset HEARTH_MODEL
total=0
right=0
while IFS=$'\t' read -r q want; do
    [ -n "$q" ] || continue
    total=$((total + 1))
    got=$("$HEARTH_BIN" run --session "arith-$total" "$q" 2>"$work/err") || {
        echo "FAIL: hearth run failed on '$q': $(cat "$work/err")"
        exit 1
    }
    # The answer is the number after '=' ("14 - 11 = 3."): a check for the
    # number anywhere would count "3 + 1 = 4" as an answer of 3.
    answer=$(printf '%s\n' "$got" | sed -n 's/.*= *\(-\{0,1\}[0-9][0-9]*\).*/\1/p' | head -n 1)
    if [ "$answer" = "$want" ]; then
        right=$((right + 1))
    else
        echo "wrong: '$q' -> '$got' (want $want)"
    fi
done <"$questions"
echo "accuracy: $right/$total"
[ "$total" -ge 40 ] || { echo "FAIL: only $total questions"; exit 1; }
[ $((right * 10)) -ge $((total * 9)) ] || { echo "FAIL: below 90%"; exit 1; }
echo ok
