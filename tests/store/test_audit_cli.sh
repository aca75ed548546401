#!/usr/bin/env bash
# test_audit_cli.sh: `hearth audit` over a real store: the list, --json (parsed
# by Python), --since (a date and an age), --last, --explain in words and as
# JSON, an unknown id, and control characters in a record printed escaped.
# Records are written with the sqlite3 tool, as the router would write them.
set -euo pipefail
: "${HEARTH_BIN:?}"
command -v sqlite3 >/dev/null || { echo "SKIP: no sqlite3"; exit 77; }
work=$(mktemp -d /tmp/hearth-audit-XXXXXX)
trap 'rm -rf "$work"' EXIT
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
fail() { echo "FAIL: $*"; exit 1; }

out=$("$HEARTH_BIN" audit) || fail "audit on a new store"
[ "$out" = "no outbound requests" ] || fail "empty log: '$out'"
db="$HEARTH_HOME/hearth.db"
now=$(($(date +%s) * 1000))
sqlite3 "$db" "INSERT INTO audit (time_ms, kind, session, category, decision, reason, host,
  bytes_out, bytes_in, redactions, confidence, latency_ms, outcome)
  VALUES (1700000000000, 'cloud', 'default', 'general', 'sent',
  'confidence 0.05 < threshold 0.50; general: allow', 'api.example.com', 321, 654,
  '{\"EMAIL\":2,\"PHONE\":1}', 0.05, 12.5, 'ok');
  INSERT INTO audit (time_ms, kind, session, category, decision, reason)
  VALUES ($now, 'cloud', 'evil' || char(27) || '[2J', 'health', 'blocked', 'health: never');"

out=$("$HEARTH_BIN" audit)
echo "$out"
[ "$(echo "$out" | wc -l)" -eq 3 ] || fail "list has not 2 records"
echo "$out" | grep -q "api.example.com .* 321 .* 654  2 EMAIL, 1 PHONE" || fail "list row 1"

"$HEARTH_BIN" audit --json | python3 -c '
import json, sys
v = json.load(sys.stdin)
assert len(v) == 2, v
a, b = v
assert a["host"] == "api.example.com" and a["bytes_out"] == 321 and a["bytes_in"] == 654, a
assert a["redactions"] == {"EMAIL": 2, "PHONE": 1}, a
assert abs(a["confidence"] - 0.05) < 1e-9 and a["content"] is None, a
assert b["host"] is None and b["decision"] == "blocked" and b["session"] == "evil\x1b[2J", b
' || fail "--json"

n=$("$HEARTH_BIN" audit --since 2024-01-01 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 1 ] || fail "--since date kept $n"
n=$("$HEARTH_BIN" audit --since 1h --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 1 ] || fail "--since 1h kept $n"
n=$("$HEARTH_BIN" audit --since 2023-11-14T00:00Z --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 2 ] || fail "--since datetime without seconds kept $n"
n=$("$HEARTH_BIN" audit --since 2023-11-14T00:00:00Z --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 2 ] || fail "--since datetime kept $n"
n=$("$HEARTH_BIN" audit --last 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
[ "$n" = 2 ] || fail "--last 1 gave id $n"
for bad in yesterday 2026-12-01T08:00junk 2026-1-01 2026-12-01T25:00 7x; do
    if "$HEARTH_BIN" audit --since "$bad" >/dev/null 2>"$work/err"; then fail "bad --since '$bad' accepted"; fi
done
grep -q "neither a date" "$work/err" || fail "bad --since message: $(cat "$work/err")"

out=$("$HEARTH_BIN" audit --explain 1)
echo "$out"
echo "$out" | grep -q "confidence: 0.05" || fail "explain: confidence"
echo "$out" | grep -q "because:  confidence 0.05 < threshold 0.50; general: allow" || fail "explain: reason"
echo "$out" | grep -q "sent to:  api.example.com (321 bytes out, 654 bytes in, 12.5 ms)" || fail "explain: host"
out=$("$HEARTH_BIN" audit --explain 2)
echo "$out" | grep -q "nothing left the device" || fail "explain 2: nowhere"
if printf '%s' "$out" | grep -q $'\x1b'; then fail "raw ESC printed"; fi
echo "$out" | grep -qF 'evil\x1b[2J' || fail "escaped session name"
if "$HEARTH_BIN" audit --explain 99 2>"$work/err"; then fail "unknown id accepted"; fi
grep -q "no audit record with id 99" "$work/err" || fail "unknown id message: $(cat "$work/err")"
"$HEARTH_BIN" audit --explain 1 --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["id"] == 1' || fail "explain --json"

# a record with bytes that are not UTF-8 still gives valid JSON
sqlite3 "$db" "INSERT INTO audit (time_ms, kind, category, decision, reason, outcome)
  VALUES ($now + 1, 'cloud', 'general', 'sent', 'r', CAST(X'6F6BFF' AS TEXT));"
"$HEARTH_BIN" audit --json | python3 -c '
import json, sys
v = json.load(sys.stdin)
assert v[-1]["outcome"] == "ok\ufffd", v[-1]
' || fail "invalid UTF-8 in a record"
echo ok
