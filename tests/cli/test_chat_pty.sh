#!/usr/bin/env bash
# test_chat_pty.sh: `hearth chat` on a terminal (a pty from util-linux's
# script) edits the line with libedit: "ab", Left, Left, "X", Enter asks
# "Xab" (the arrow keys' escape sequences never reach the question), the
# line goes to HOME/chat_history (mode 0600) and Up brings it back in the
# next chat, and --incognito keeps no history file. Off a terminal, lines
# are read as they are and blank ones are not asked.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}"
script --version >/dev/null 2>&1 || { echo "script (util-linux) missing: skipped" >&2; exit 77; }
work=$(mktemp -d /tmp/hearth-chatpty-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL || true
"$HEARTH_GENMODEL" -q --arch qwen2 --preset tiny --type Q8_0 --seed 3 -o "$work/tiny.gguf"

# script runs its command with $SHELL, or /bin/sh (dash) when SHELL is unset
# (as under CI): the command goes in a bash script file.
chat_on_pty() { # HOME_DIR EXTRA_ARGS...: types $work/keys into hearth chat on a pty
    local home=$1; shift
    { echo '#!/bin/bash'; printf 'export HEARTH_HOME=%q\n' "$home"
      printf '%q ' "$HEARTH_BIN" chat -m "$work/tiny.gguf" --session s -n 3 --temp 0 -q "$@"; echo; } >"$work/cmd.sh"
    chmod +x "$work/cmd.sh"
    script -qec "$work/cmd.sh" /dev/null <"$work/keys" >"$work/pty.out" 2>&1 || true
}
users_are() { # EXPECTED_PYTHON_LIST: the user messages of session s
    "$HEARTH_BIN" history --session s --json >"$work/hist.json"
    /usr/bin/python3 - "$work/hist.json" "$1" <<'PY'
import ast, json, sys
users = [m["content"] for m in json.load(open(sys.argv[1])) if m["role"] == "user"]
want = ast.literal_eval(sys.argv[2])
if users != want:
    print("user messages", users, "want", want, file=sys.stderr)
    sys.exit(1)
PY
}

# "ab", Left, Left, "X", Enter; then /quit.
printf 'ab\033[D\033[DX\r/quit\r' >"$work/keys"
chat_on_pty "$HEARTH_HOME"
users_are "['Xab']" || fail "the line was not edited (pty output: $(od -c "$work/pty.out" | head -5))"
[ -f "$HEARTH_HOME/chat_history" ] || fail "no chat_history in HEARTH_HOME"
grep -q 'Xab' "$HEARTH_HOME/chat_history" || fail "chat_history lacks the line"
[ "$(stat -c %a "$HEARTH_HOME/chat_history")" = 600 ] || fail "chat_history is not mode 600"

# Up brings back the line from the history file of the last chat.
printf '\033[A\r/quit\r' >"$work/keys"
chat_on_pty "$HEARTH_HOME"
users_are "['Xab', 'Xab']" || fail "Up did not recall the history"

# Incognito: no history file.
printf 'hello\r/quit\r' >"$work/keys"
chat_on_pty "$work/home2" --incognito
[ ! -e "$work/home2/chat_history" ] || fail "--incognito wrote a history file"

# Off a terminal: plain lines; a blank one is not asked.
printf 'one\n   \n/quit\n' | "$HEARTH_BIN" chat -m "$work/tiny.gguf" --session p -n 2 --temp 0 -q >/dev/null
"$HEARTH_BIN" history --session p --json >"$work/p.json"
/usr/bin/python3 -c '
import json, sys
users = [m["content"] for m in json.load(open(sys.argv[1])) if m["role"] == "user"]
assert users == ["one"], users
' "$work/p.json" || fail "piped chat"
[ ! -e "$HEARTH_HOME/chat_history.tmp" ]
echo ok
