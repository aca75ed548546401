#!/usr/bin/env bash
# test_calibrate.sh: `hearth router calibrate` with the bundled demo model on
# labelled prompts made from the held-out arithmetic (expected answer) and
# the out-of-domain questions (not acceptable locally): the chosen
# threshold separates them (local accuracy >= 95%, cloud share <= 55%), the
# JSON table is monotone, --max-cloud-share is honoured, a hybrid policy
# does not make it ask the cloud, and a malformed
# file is a clear error.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_SOURCE_DIR:?}"
work=$(mktemp -d /tmp/hearth-calib-XXXXXX)
trap 'rm -rf "$work"' EXIT
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL
fail() { echo "FAIL: $*"; exit 1; }
python3 - "$HEARTH_SOURCE_DIR/tests/demo" >"$work/labels.jsonl" <<'PY'
import json, sys
d = sys.argv[1]
for l in open(d + "/arith_heldout.tsv"):
    q, a = l.rstrip("\n").split("\t")
    print(json.dumps({"prompt": q, "expected": "= " + a + "."}))
for l in open(d + "/ood_questions.txt"):
    if l.strip():
        print(json.dumps({"prompt": l.strip(), "acceptable": False}))
PY
# a hybrid policy with a cloud configured: calibration still asks only the
# local model (the cloud's port is closed; nothing may be tried or recorded)
HEARTH_POLICY=hybrid HEARTH_CLOUD_URL=http://127.0.0.1:9/v1 HEARTH_CLOUD_MODEL=x \
    "$HEARTH_BIN" router calibrate -f "$work/labels.jsonl" | tee "$work/out"
grep -q "^confidence_threshold = " "$work/out" || fail "no threshold chosen"
[ "$("$HEARTH_BIN" audit --json)" = "[]" ] || fail "calibration went to the cloud: $("$HEARTH_BIN" audit --json)"
"$HEARTH_BIN" router calibrate -f "$work/labels.jsonl" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
t = r["confidence_threshold"]
rows = r["table"]
assert r["n"] == 80, r["n"]
assert t is not None and 0.05 < t < 0.95, t
shares = [x["cloud_share"] for x in rows]
assert shares == sorted(shares), "cloud share must grow with the threshold"
chosen = [x for x in rows if abs(x["threshold"] - t) < 1e-9][0]
assert chosen["local_accuracy"] >= 0.95 and chosen["cloud_share"] <= 0.55, chosen
print("chosen", t, chosen)
' || fail "--json table"
out=$("$HEARTH_BIN" router calibrate -f "$work/labels.jsonl" --max-cloud-share 0.2 --json)
echo "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
t = r["confidence_threshold"]
row = [x for x in r["table"] if abs(x["threshold"] - t) < 1e-9][0]
assert row["cloud_share"] <= 0.2, row
' || fail "--max-cloud-share"
echo '{"prompt": "What is 2+2?"}' >"$work/bad.jsonl"
if "$HEARTH_BIN" router calibrate -f "$work/bad.jsonl" 2>"$work/err"; then fail "bad file accepted"; fi
grep -q "bad.jsonl:1: want" "$work/err" || fail "bad file message: $(cat "$work/err")"
echo ok
