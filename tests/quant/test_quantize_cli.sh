#!/bin/bash
# test_quantize_cli.sh: `hearth quantize` and `hearth imatrix` end to end on a
# generated model: the accuracy budget (over it: exit 3, the figures printed,
# no OUT and no temporary file left, an existing OUT untouched; within it:
# OUT written with hearth.quantize.* and llama.cpp's file_type /
# quantization_version, shown by hearth inspect), an imatrix measured by
# `hearth imatrix` (both formats) or by --calib and used for every matrix,
# and a damaged imatrix refused without writing OUT.
set -u
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
H=$HEARTH_BIN
"$HEARTH_GENMODEL" --arch llama --preset tiny256 --n-layer 2 --n-ff 512 --type F16 -o "$T/f16.gguf" 2>/dev/null \
  || fail "genmodel"
head -c 12000 "$HEARTH_SOURCE_DIR/models/quant-eval.txt" > "$T/eval.txt"
head -c 12000 "$HEARTH_SOURCE_DIR/models/quant-calib.txt" > "$T/calib.txt"
E=(--eval "$T/eval.txt" -c 64 --eval-chunks 4 -t 2)

# no --eval: the shipped text beside the demo model (BUILD/share/hearth, or
# PREFIX/share/hearth when installed) is the default
"$H" quantize "$T/f16.gguf" "$T/def.gguf" Q8_0 -c 64 --eval-chunks 2 -t 2 > "$T/o0" 2>&1 \
  || { cat "$T/o0"; fail "quantize with the default eval text"; }
grep -q "eval: .*quant-eval.txt" "$T/o0" || { cat "$T/o0"; fail "default eval text not named"; }

# over budget
"$H" quantize "$T/f16.gguf" "$T/out.gguf" Q4_0 "${E[@]}" --max-kld 1e-9 > "$T/o1" 2> "$T/e1"
rc=$?
[ $rc -eq 3 ] || { cat "$T/o1" "$T/e1"; fail "over budget: exit $rc, want 3"; }
grep -q "KLD mean" "$T/o1" || fail "figures not printed"
grep -q "OVER --max-kld" "$T/o1" || fail "the failed bound is not named"
grep -q "not written" "$T/e1" || fail "no 'not written' message"
[ ! -e "$T/out.gguf" ] || fail "OUT left behind"
ls "$T" | grep -q "tmp" && fail "temporary file left: $(ls "$T")"

# over budget with an existing OUT: untouched
echo keep > "$T/old.gguf"
"$H" quantize "$T/f16.gguf" "$T/old.gguf" Q2_K "${E[@]}" --max-kld 1e-9 > /dev/null 2>&1
[ $? -eq 3 ] || fail "over budget (existing OUT): exit status"
[ "$(cat "$T/old.gguf")" = keep ] || fail "existing OUT changed"

# within budget
"$H" quantize "$T/f16.gguf" "$T/out.gguf" Q4_K_M "${E[@]}" --max-kld 50 --max-loss 50 > "$T/o2" 2>&1 \
  || { cat "$T/o2"; fail "within budget: exit $?"; }
[ -s "$T/out.gguf" ] || fail "OUT not written"
"$H" inspect "$T/out.gguf" > "$T/i2" || fail "inspect"
for k in "general.file_type *= 15" "general.quantization_version *= 2" "hearth.quantize.kld_mean" \
         "hearth.quantize.kld_p99" "hearth.quantize.ppl_ratio" "hearth.quantize.top1" \
         "hearth.quantize.eval_tokens" 'hearth.quantize.imatrix *= "none"' 'hearth.quantize.max_kld'; do
  grep -Eq "$k" "$T/i2" || { cat "$T/i2"; fail "inspect lacks $k"; }
done
"$H" run -m "$T/out.gguf" --raw --temp 0 -n 4 "hello" > /dev/null 2>&1 || fail "the quantized file does not run"

# imatrix: both formats, then used for every block matrix (2 layers x 7)
"$H" imatrix -m "$T/f16.gguf" -f "$T/calib.txt" -o "$T/im.dat" -c 64 --chunk 4 -t 2 > "$T/o3" 2>&1 \
  || { cat "$T/o3"; fail "imatrix .dat"; }
grep -q "14 matrices over 4 chunks" "$T/o3" || { cat "$T/o3"; fail "imatrix summary"; }
"$H" imatrix -m "$T/f16.gguf" -f "$T/calib.txt" -o "$T/im.gguf" -c 64 --chunk 4 > /dev/null 2>&1 || fail "imatrix gguf"
[ "$(head -c 4 "$T/im.gguf")" = GGUF ] || fail "im.gguf is not GGUF"
for im in im.dat im.gguf; do
  "$H" quantize "$T/f16.gguf" "$T/q-$im.gguf" Q4_K_S --imatrix "$T/$im" --no-eval > "$T/o4" 2>&1 \
    || { cat "$T/o4"; fail "quantize --imatrix $im"; }
  grep -q "(14 with the imatrix)" "$T/o4" || { cat "$T/o4"; fail "imatrix $im not used"; }
done
cmp -s "$T/q-im.dat.gguf" "$T/q-im.gguf.gguf" || echo "note: .dat and .gguf imatrices gave different bytes (float rounding)"
"$H" quantize "$T/f16.gguf" "$T/q-cal.gguf" Q5_K_M --calib "$T/calib.txt" "${E[@]}" > "$T/o5" 2>&1 \
  || { cat "$T/o5"; fail "quantize --calib"; }
grep -q "(14 with the imatrix)" "$T/o5" || { cat "$T/o5"; fail "--calib imatrix not used"; }
"$H" inspect "$T/q-cal.gguf" | grep -q "hearth.quantize.imatrix.*calib.txt" || fail "calib name not recorded"

# a damaged imatrix: refused, no OUT
head -c 30 "$T/im.dat" > "$T/bad.dat"
"$H" quantize "$T/f16.gguf" "$T/q-bad.gguf" Q4_0 --imatrix "$T/bad.dat" --no-eval > /dev/null 2> "$T/e6"
[ $? -eq 1 ] || fail "damaged imatrix: exit status"
grep -q "imatrix" "$T/e6" || fail "damaged imatrix: message"
[ ! -e "$T/q-bad.gguf" ] || fail "damaged imatrix: OUT written"
# a K-quant input is refused
"$H" quantize "$T/out.gguf" "$T/q-k.gguf" Q4_0 --no-eval > /dev/null 2> "$T/e7"
[ $? -eq 1 ] && grep -q "F32, F16, BF16 or Q8_0" "$T/e7" || { cat "$T/e7"; fail "K-quant input"; }
echo ok
