#!/usr/bin/env bash
# test_empty_prompt.sh: an empty prompt is refused with a clear message and
# a non-zero exit, before anything is stored: `hearth run ""`, `-p ""`, empty
# stdin, whitespace-only arguments or stdin, and `hearth run --raw -p ""`.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}"
work=$(mktemp -d /tmp/hearth-empty-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL || true
"$HEARTH_GENMODEL" -q --arch llama --preset tiny --type F32 -o "$work/tiny.gguf"
m=(-m "$work/tiny.gguf" -n 3 --temp 0)

refused() { # DESCRIPTION: the last command ($rc, $work/err) was refused
    [ "$rc" -ne 0 ] || fail "$1: exit status 0"
    grep -q 'prompt is empty' "$work/err" || fail "$1: message: $(cat "$work/err")"
}
rc=0; "$HEARTH_BIN" run "${m[@]}" "" >"$work/out" 2>"$work/err" || rc=$?; refused 'run ""'
rc=0; "$HEARTH_BIN" run "${m[@]}" -p "" >"$work/out" 2>"$work/err" || rc=$?; refused 'run -p ""'
rc=0; "$HEARTH_BIN" run "${m[@]}" " " "	" >"$work/out" 2>"$work/err" || rc=$?; refused 'run " "'
rc=0; "$HEARTH_BIN" run "${m[@]}" </dev/null >"$work/out" 2>"$work/err" || rc=$?; refused 'empty stdin'
rc=0; printf '  \n\n' | "$HEARTH_BIN" run "${m[@]}" >"$work/out" 2>"$work/err" || rc=$?; refused 'blank stdin'
rc=0; "$HEARTH_BIN" run --raw "${m[@]}" -p "" >"$work/out" 2>"$work/err" || rc=$?; refused 'run --raw -p ""'
[ ! -s "$work/out" ] || fail "an empty prompt was answered: $(cat "$work/out")"

# Nothing was stored: no session has a message.
"$HEARTH_BIN" history --sessions --json >"$work/sessions.json" 2>/dev/null || echo '[]' >"$work/sessions.json"
/usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert all(x.get("messages", 0) == 0 for x in s) and len(s) == 0, s
' "$work/sessions.json" || fail "something was stored: $(cat "$work/sessions.json")"

# A real prompt still works (and is stored).
"$HEARTH_BIN" run "${m[@]}" "hi" >/dev/null
"$HEARTH_BIN" history --json | grep -q '"content": *"hi"' || fail "a real prompt was not stored"
echo ok
