#!/usr/bin/env bash
# test_spec_cli.sh: hearth run --draft / --lookup (raw and through the agent)
# print the same tokens as without, report the speculative figures in --json
# and -v, and refuse a draft with another vocabulary clearly.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_SOURCE_DIR:?}" "${HEARTH_GENMODEL:?}"
work=$(mktemp -d /tmp/hearth-speccli-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL
t="$HEARTH_SOURCE_DIR/models/hearth-demo-256.gguf"
d="$HEARTH_SOURCE_DIR/models/hearth-demo.gguf"
P=$'<|im_start|>user\nWhat is hearth?<|im_end|>\n<|im_start|>assistant\n'
ids() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ids"])'; }
plain=$("$HEARTH_BIN" run --raw -m "$t" --temp 0 -n 48 -t 2 --json -p "$P" | ids)
for flags in "--draft $d" "--lookup" "--draft $d --lookup --draft-max 4"; do
    # shellcheck disable=SC2086
    out=$("$HEARTH_BIN" run --raw -m "$t" --temp 0 -n 48 -t 2 --json $flags -p "$P")
    got=$(printf '%s' "$out" | ids)
    [ "$got" = "$plain" ] || fail "$flags: $got vs plain $plain"
    printf '%s' "$out" | python3 -c 'import json,sys; s=json.load(sys.stdin)["speculative"]; assert s["accepted"] <= s["drafted"], s' \
        || fail "$flags: no speculative figures: $out"
done
# through the agent: the answer equals the plain one, -v reports the figures
a=$("$HEARTH_BIN" run -m "$t" --temp 0 --no-cache "What is 6 * 7?")
b=$("$HEARTH_BIN" run -m "$t" --temp 0 --no-cache --draft "$d" -v "What is 6 * 7?" 2>"$work/err")
[ "$a" = "$b" ] || fail "agent answer '$b' vs plain '$a'"
grep -q "speculative: drafted" "$work/err" || fail "-v: $(cat "$work/err")"
"$HEARTH_BIN" run -m "$t" --temp 0 --no-cache --lookup --json "What is 6 * 7?" | grep -q '"speculative":{' \
    || fail "agent --json has no speculative figures"
# a draft of another vocabulary
"$HEARTH_GENMODEL" --arch llama --type F16 -q -o "$work/other.gguf"
if "$HEARTH_BIN" run --raw -m "$t" --draft "$work/other.gguf" -p hi 2>"$work/err2"; then
    fail "a mismatched draft was accepted"
fi
grep -q "vocabulary differs" "$work/err2" || fail "mismatched draft: $(cat "$work/err2")"
echo ok
