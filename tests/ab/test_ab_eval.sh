#!/usr/bin/env bash
# test_ab_eval.sh: `hearth ab eval` and `hearth perplexity --kl-base` on one
# generated model in F16, Q8_0 and Q4_0 (the same weights): the base is the
# F16 (most bits per weight); KLD is 0 for a file against itself and grows
# F16 < Q8_0 < Q4_0; ab eval's KLD of each file equals perplexity
# --kl-base's on the same windows (one module behind both); the table has
# every column and the SVG a point per file in each panel; a question/answer
# file gives accuracy; files of different vocabularies are refused with a
# message saying so.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}" "${HEARTH_SOURCE_DIR:?}"
work=$(mktemp -d /tmp/hearth-ab-eval-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
for t in F16 Q8_0 Q4_0; do
    "$HEARTH_GENMODEL" --arch llama --preset tiny --type $t --seed 9 -q -o "$work/m-$t.gguf"
done
"$HEARTH_GENMODEL" --arch llama --preset tiny --type F16 --n-vocab 300 --seed 9 -q -o "$work/v300.gguf"
text="$HEARTH_SOURCE_DIR/README.md"
H="$HEARTH_BIN"
num() { sed -n 's/.*"'"$1"'":\(-\{0,1\}[0-9.e+-]*\).*/\1/p' "$2"; }

"$H" perplexity -m "$work/m-F16.gguf" --kl-base "$work/m-F16.gguf" -f "$text" -c 64 --chunks 4 -t 2 --json >"$work/self.json"
[ "$(num kld_mean "$work/self.json")" = 0 ] || [ "$(num kld_mean "$work/self.json")" = 0.0 ] || fail "self KLD: $(cat "$work/self.json")"
grep -q '"top1":1' "$work/self.json" || fail "self top-1: $(cat "$work/self.json")"
grep -q '"ppl_ratio":1' "$work/self.json" || fail "self ratio: $(cat "$work/self.json")"
for t in Q8_0 Q4_0; do
    "$H" perplexity -m "$work/m-$t.gguf" --kl-base "$work/m-F16.gguf" -f "$text" -c 64 --chunks 4 -t 2 --json >"$work/$t.json"
done
k8=$(num kld_mean "$work/Q8_0.json") k4=$(num kld_mean "$work/Q4_0.json")
awk -v a="$k8" -v b="$k4" 'BEGIN{exit !(a > 0 && b > a)}' || fail "KLD order: Q8_0 $k8, Q4_0 $k4"
echo "ok: perplexity --kl-base KLD Q8_0 $k8 < Q4_0 $k4"
"$H" perplexity -m "$work/m-Q8_0.gguf" --kl-base "$work/m-F16.gguf" -f "$text" -c 64 --chunks 2 -t 2 >"$work/kl.txt"
for s in "Mean PPL(Q)" "Mean PPL(Q)/PPL(base)" "Mean    KLD" "99.0%   KLD" "Same top p"; do
    grep -qF "$s" "$work/kl.txt" || fail "perplexity --kl-base text lacks '$s'"
done
if "$H" perplexity -m "$work/v300.gguf" --kl-base "$work/m-F16.gguf" -f "$text" -c 64 2>"$work/err.txt" >/dev/null; then
    fail "different vocabularies accepted"
fi
grep -q "vocabularies differ" "$work/err.txt" || fail "vocab error: $(cat "$work/err.txt")"

# ab eval: same windows (-c 64 --chunks 4), the file order shuffled
"$H" ab eval -m "$work/m-Q4_0.gguf" -m "$work/m-F16.gguf" -m "$work/m-Q8_0.gguf" -f "$text" \
    -c 64 --chunks 4 -p 16 -n 4 -t 2 --json --plot "$work/plot.svg" >"$work/ab.json"
/usr/bin/python3 - "$work/ab.json" "$k8" "$k4" <<'PY' || fail "ab eval JSON: $(cat "$work/ab.json")"
import json, sys
r = json.load(open(sys.argv[1]))
v = {x["model"].rsplit("/", 1)[1]: x for x in r["variants"]}
f16, q8, q4 = v["m-F16.gguf"], v["m-Q8_0.gguf"], v["m-Q4_0.gguf"]
assert f16["base"] and not q8["base"] and not q4["base"]
assert f16["kld_mean"] == 0 and f16["top1"] == 1
assert abs(q8["kld_mean"] - float(sys.argv[2])) <= 1e-5 * float(sys.argv[2]), (q8["kld_mean"], sys.argv[2])
assert abs(q4["kld_mean"] - float(sys.argv[3])) <= 1e-5 * float(sys.argv[3]), (q4["kld_mean"], sys.argv[3])
assert f16["bpw"] == 16 and abs(q8["bpw"] - 8.5) < 1e-9 and 4.5 <= q4["bpw"] < 8.5  # Q4_0 with a few Q6_K tensors (mix rules)
assert f16["size_mb"] > q8["size_mb"] > q4["size_mb"] > 0
for x in v.values():
    assert x["rss_mb"] > 0 and x["prompt_tps"] > 0 and x["gen_tps"] > 0 and x["ppl"] > 1
    assert x["tokens_scored"] == 4 * 31
    assert "stated_by_quantize" not in x  # generated files carry no hearth.quantize.*
print("ok: ab eval figures", {k: round(x["kld_mean"], 6) for k, x in v.items()})
PY
[ "$(grep -c '<circle' "$work/plot.svg")" = 6 ] || fail "plot: $(grep -c '<circle' "$work/plot.svg") points"
grep -q '</svg>' "$work/plot.svg" || fail "plot not closed"

# a question/answer file: accuracy (a random model answers none right)
head -n 5 "$HEARTH_SOURCE_DIR/tests/demo/arith_heldout.tsv" >"$work/qa.tsv"
"$H" ab eval -m "$work/m-F16.gguf" -m "$work/m-Q4_0.gguf" -f "$work/qa.tsv" -c 32 -p 16 -n 4 -t 2 >"$work/qa.txt"
cat "$work/qa.txt"
grep -q "question/answer pairs" "$work/qa.txt" || fail "qa mode not detected"
grep -q "accuracy" "$work/qa.txt" && grep -q " 0/5 " "$work/qa.txt" || fail "qa accuracy column"
for col in "size MB" "bpw" "RSS MB" "pp tok/s" "tg tok/s" "PPL" "KLD" "top-1"; do
    grep -qF "$col" "$work/qa.txt" || fail "table lacks '$col'"
done
if "$H" ab eval -m "$work/m-F16.gguf" -m "$work/v300.gguf" -f "$text" -c 64 --chunks 1 -p 8 -n 2 2>"$work/err.txt" >/dev/null; then
    fail "ab eval: different vocabularies accepted"
fi
grep -q "vocabularies differ" "$work/err.txt" || fail "ab eval vocab error: $(cat "$work/err.txt")"
echo ok

# a file written by hearth quantize: its stated figures (what quantize
# measured at write time) appear under the table and in the JSON; the
# generated F16 (no hearth.quantize.*) shows none
head -c 6000 "$HEARTH_SOURCE_DIR/models/quant-eval.txt" >"$work/qeval.txt"
"$H" quantize "$work/m-F16.gguf" "$work/hq.gguf" Q4_0 --eval "$work/qeval.txt" -c 64 --eval-chunks 2 -t 2 \
    >"$work/hq.txt" 2>&1 || { cat "$work/hq.txt"; fail "quantize"; }
"$H" ab eval -m "$work/m-F16.gguf" -m "$work/hq.gguf" -f "$text" -c 64 --chunks 2 -p 16 -n 4 -t 2 >"$work/st.txt"
cat "$work/st.txt"
grep -q "^stated by hearth quantize at write time: hq.gguf: ppl ratio [0-9]" "$work/st.txt" || fail "no stated line"
grep -q "stated by hearth quantize.*m-F16" "$work/st.txt" && fail "stated line for a file without the keys"
"$H" ab eval -m "$work/m-F16.gguf" -m "$work/hq.gguf" -f "$text" -c 64 --chunks 2 -p 16 -n 4 -t 2 --json >"$work/st.json"
/usr/bin/python3 - "$work/st.json" "$work/hq.gguf" <<'PY' || fail "stated JSON: $(cat "$work/st.json")"
import json, sys
v = {x["model"]: x for x in json.load(open(sys.argv[1]))["variants"]}
s = v[sys.argv[2]]["stated_by_quantize"]
assert s["ppl_ratio"] > 0 and s["kld_mean"] > 0 and s["eval_tokens"] > 0 and s["eval_file"].endswith("qeval.txt"), s
assert all("stated_by_quantize" not in x for k, x in v.items() if k != sys.argv[2])
print("ok: stated", s)
PY
