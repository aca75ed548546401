#!/usr/bin/env bash
# test_cli_escape.sh: text in the store that is not hearth's own (session
# names and messages, e.g. from a cross-site POST; task titles, statuses and
# tags; the store's path from $HEARTH_HOME) never reaches the terminal as
# control characters in the human output of `hearth history`, `history
# --sessions`, `tasks list` and `storage`: ESC, BEL, CR, DEL, C1 controls
# (U+009B) and bytes that are not UTF-8 (a lone 0x9B) are shown as escapes.
# Escaping is always on for the text format (the output is checked through
# a pipe, and through a pty with `script` when util-linux has it); --json
# stays valid JSON that keeps the exact text.
set -u
: "${HEARTH_BIN:?HEARTH_BIN must name the hearth binary}"
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI missing (make deps)" >&2; exit 77; }
command -v python3 >/dev/null || { echo "python3 missing (make deps)" >&2; exit 77; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hearth-escape-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# the home itself has an escape sequence in its name (storage prints it)
export HEARTH_HOME="$WORK/home"$'\e]0;owned\a'
DB="$HEARTH_HOME/hearth.db"
H() { "$HEARTH_BIN" "$@"; }

fails=0
checks=0
ok() { # ok DESCRIPTION CONDITION...
    local what=$1; shift
    checks=$((checks + 1))
    if ! "$@"; then echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}
has() { grep -qF -- "$2" <<<"$1"; }
eq() { [ "$1" = "$2" ] || { echo "  got '$1', expected '$2'" >&2; return 1; }; }
# clean FILE: no byte a terminal acts on, other than newline and tab: no C0
# control, DEL, 0x9B (8-bit CSI) or C2 9B (U+009B, CSI in UTF-8)
clean() {
    python3 - "$1" <<'PY'
import sys
b = open(sys.argv[1], 'rb').read()
bad = [i for i, c in enumerate(b) if (c < 0x20 and c not in (9, 10)) or c == 0x7f]
bad += [i for i in range(len(b) - 1) if b[i] == 0xc2 and 0x80 <= b[i + 1] <= 0x9f]
try:
    b.decode('utf-8')
except UnicodeDecodeError as e:
    bad.append(e.start)
if bad:
    print('raw control bytes at %s: %r' % (bad[:5], b[max(0, bad[0] - 10):bad[0] + 10]), file=sys.stderr)
    sys.exit(1)
PY
}

H tasks add --tag $'x\e[31mred' --tag $'bell\a' -- $'evil\e[2J\e[Htitle\rfake' >/dev/null
ok "task with control characters added" test -f "$DB"
# A session and messages as a cross-site POST would leave them (the name
# and content bytes go straight into the store).
sqlite3 "$DB" "INSERT INTO sessions(name, created_ms, updated_ms)
                 VALUES ('sess' || char(27) || '[2J' || char(7) || char(13) || 'x' || char(127), 1, 1);
               INSERT INTO messages(session_id, role, content, created_ms) VALUES
                 (1, 'user', 'hi' || char(27) || ']0;pwned' || char(7) || ' there' || char(13) || 'over', 1),
                 (1, 'assistant', 'line1' || char(10) || char(9) || 'line2 ' || char(155) || '31m csi'
                                   || ' ' || CAST(x'9b' AS TEXT) || ' raw', 2);
               UPDATE tasks SET status = 'open' || char(27) || '[5m';"
name=$(sqlite3 "$DB" "SELECT name FROM sessions")

H history --session "$name" >"$WORK/history.txt"; ok "history exits 0" test $? = 0
ok "history: no raw control bytes" clean "$WORK/history.txt"
out=$(cat "$WORK/history.txt")
ok "history shows ESC as \\x1b" has "$out" 'hi\x1b]0;pwned\x07 there\rover'
ok "history keeps newlines and tabs in messages" has "$out" $'assistant: line1\n\tline2'
ok "history shows U+009B as \\u009b" has "$out" 'line2 \u009b31m csi'
ok "history shows a lone 0x9B byte as \\x9b" has "$out" '\x9b raw'

# Valid UTF-8 passes unchanged, long text included (written in slices that
# must not split a character); overlong forms and surrogates are not UTF-8.
sqlite3 "$DB" "INSERT INTO sessions(name, created_ms, updated_ms) VALUES ('long', 3, 3);
               INSERT INTO messages(session_id, role, content, created_ms) VALUES
                 (2, 'user', replace(hex(zeroblob(333)), '00', 'é') || '🔥 ok', 3),
                 (2, 'user', 'a' || CAST(x'c080' AS TEXT) || 'b' || CAST(x'eda080' AS TEXT) || 'c', 4);"
want="user: $(printf 'é%.0s' $(seq 1 333))🔥 ok"
H history --session long >"$WORK/long.txt"
ok "long UTF-8 text unchanged" eq "$(head -1 "$WORK/long.txt")" "$want"
ok "overlong and surrogate bytes escaped" eq "$(sed -n 2p "$WORK/long.txt")" 'user: a\xc0\x80b\xed\xa0\x80c'

H history --sessions >"$WORK/sessions.txt"; ok "--sessions exits 0" test $? = 0
ok "--sessions: no raw control bytes" clean "$WORK/sessions.txt"
ok "--sessions shows the name escaped" has "$(cat "$WORK/sessions.txt")" 'sess\x1b[2J\x07\rx\x7f'

H tasks list >"$WORK/tasks.txt"; ok "tasks list exits 0" test $? = 0
ok "tasks list: no raw control bytes" clean "$WORK/tasks.txt"
out=$(cat "$WORK/tasks.txt")
ok "tasks list shows the title escaped" has "$out" 'evil\x1b[2J\x1b[Htitle\rfake'
ok "tasks list shows tags escaped" has "$out" '#x\x1b[31mred #bell\x07'
ok "tasks list shows the status escaped" has "$out" 'open\x1b[5m'

H storage >"$WORK/storage.txt"; ok "storage exits 0" test $? = 0
ok "storage: no raw control bytes" clean "$WORK/storage.txt"
ok "storage shows the path escaped" has "$(cat "$WORK/storage.txt")" 'home\x1b]0;owned\x07/hearth.db'

# --json keeps the exact text, as valid JSON
H history --session "$name" --json >"$WORK/history.json"
ok "history --json is valid and exact" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
assert m[0]["content"] == "hi\x1b]0;pwned\x07 there\rover", m[0]
assert m[1]["content"].endswith("csi \ufffd raw"), m[1]
' "$WORK/history.json"
H history --sessions --json >"$WORK/sessions.json"
ok "--sessions --json is valid and exact" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert "sess\x1b[2J\x07\rx\x7f" in [x["name"] for x in s], s
' "$WORK/sessions.json"
H tasks list --json >"$WORK/tasks.json"
ok "tasks list --json is valid and exact" python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))[0]
assert t["title"] == "evil\x1b[2J\x1b[Htitle\rfake" and t["tags"] == ["x\x1b[31mred", "bell\x07"], t
' "$WORK/tasks.json"
ok "--json output has no raw control bytes" clean "$WORK/tasks.json"

# The same on a terminal (a pty from util-linux's script), when available.
if script --version >/dev/null 2>&1; then
    # script runs its command with $SHELL, or /bin/sh (dash) when SHELL is
    # unset, as under CI: dash has no $'...' quoting, which printf %q uses for
    # the session name's control bytes, so the command goes in a bash script
    { echo '#!/bin/bash'; printf '%q ' "$HEARTH_BIN" history --session "$name"; } >"$WORK/pty-cmd.sh"
    chmod +x "$WORK/pty-cmd.sh"
    script -qec "$WORK/pty-cmd.sh" /dev/null >"$WORK/pty.txt" </dev/null
    # the pty turns \n into \r\n: drop those CRs, keep every other byte
    python3 -c 'import sys; d = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n"); open(sys.argv[1], "wb").write(d)' "$WORK/pty.txt"
    ok "history on a pty: no raw control bytes" clean "$WORK/pty.txt"
    ok "history on a pty: escaped" has "$(cat "$WORK/pty.txt")" 'hi\x1b]0;pwned\x07'
else
    echo "script (util-linux) missing: pty check skipped" >&2
fi

echo "$checks checks, $fails failures" >&2
[ "$fails" -eq 0 ]
