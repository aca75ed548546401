#!/usr/bin/env bash
# test_tools_run.sh: `hearth run --tools` end to end on a generated model
# (it cannot plan: the first step is forced with --tool-choice, then the
# agent goes on in auto mode): the built-in tool runs, -v shows the call and
# its result, the call and the result are stored with the conversation
# (roles tool_call and tool, same call id) before the answer; --tool-steps 1
# returns the calls unexecuted (finish tool_calls); --incognito stores
# nothing; an unknown tool name is an error.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}"
work=$(mktemp -d /tmp/hearth-tools-run-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL
m="$work/m.gguf"
"$HEARTH_GENMODEL" -q --arch qwen2 --preset tiny --type Q8_0 --n-ctx 4096 --seed 3 -o "$m"
H() { "$HEARTH_BIN" "$@"; }

H run -m "$m" --tools --tool-choice current_datetime -v -n 200 --temp 0 -s t1 \
    "what time is it?" >"$work/out" 2>"$work/err" || fail "run: $(cat "$work/err")"
grep -q '^hearth: tool current_datetime({}) -> {"utc":"20[0-9-]*T[0-9:]*Z"' "$work/err" ||
    fail "-v does not show the call: $(cat "$work/err")"
H history --session t1 --json >"$work/hist.json"
/usr/bin/python3 - "$work/hist.json" <<'PY' || fail "stored history: $(cat "$work/hist.json")"
import json, sys
msgs = json.load(open(sys.argv[1]))
if isinstance(msgs, dict):
    msgs = msgs.get("messages", msgs)
roles = [m["role"] for m in msgs]
assert roles[:3] == ["user", "tool_call", "tool"], roles
assert roles[-1] == "assistant", roles
calls = json.loads(msgs[1]["content"])
assert calls[0]["function"]["name"] == "current_datetime"
res = json.loads(msgs[2]["content"])
assert res["id"] == calls[0]["id"] and res["name"] == "current_datetime"
assert res["result"]["utc"].endswith("Z")
PY

# one model run: the calls are the answer, nothing executed
H run -m "$m" --tools --tool-choice current_datetime --tool-steps 1 --json -n 200 --temp 0 -v \
    -s t2 "time?" >"$work/j" 2>"$work/err2" || fail "run --tool-steps 1: $(cat "$work/err2")"
/usr/bin/python3 - "$work/j" <<'PY' || fail "--json: $(cat "$work/j")"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["finish_reason"] == "tool_calls", o
assert o["tool_steps"] == 1
assert o["tool_calls"][0]["function"]["name"] == "current_datetime"
assert json.loads(o["tool_calls"][0]["function"]["arguments"]) == {}
PY
grep -q '^hearth: tool ' "$work/err2" && fail "a tool ran with --tool-steps 1"

# incognito: the tool runs, nothing is kept
H run -m "$m" --tools --tool-choice current_datetime --incognito -n 200 --temp 0 -s t3 "time?" \
    >/dev/null 2>&1 || fail "incognito run"
[ "$(H history --session t3 | wc -l)" = 0 ] || fail "incognito stored messages"

if H run -m "$m" --tools --tool-choice no_such_tool -n 10 "x" >/dev/null 2>"$work/err3"; then
    fail "an unknown tool was accepted"
fi
grep -q "no_such_tool" "$work/err3" || fail "error does not name the tool: $(cat "$work/err3")"
echo "test_tools_run.sh: ok"
