#!/usr/bin/env bash
# bench_quant.sh: what quantization costs in quality on a trained model, and
# how long quantizing a 0.5B-shaped model takes.
#  1. On MODEL (default models/hearth-demo-256.gguf, the trained 256-wide demo
#     model, F16): an imatrix from models/quant-calib.txt, then for Q8_0 Q6_K
#     Q5_K_M Q4_K_M Q4_0 Q3_K_M, without and with it, `hearth quantize`'s own
#     check against the F16 source on models/quant-eval.txt: KLD mean and p99,
#     perplexity ratio, top-1 agreement, file size.
#     With LLAMA_CPP_DIR pointing at a llama.cpp build (llama-quantize in it or
#     in its bin/), the same source, type and imatrix go through llama-quantize
#     too, and both files are scored by the same evaluation (`hearth perplexity
#     --kl-base`, tokenization without special-token parsing, so its figures
#     differ slightly from quantize's own). Nothing is downloaded.
#  2. The time to quantize a generated Qwen2.5-0.5B-shaped F16 model
#     (hearth-genmodel --preset qwen2.5-0.5b) to Q4_K_M with THREADS (2).
# usage: bench/bench_quant.sh [BUILD_DIR] [MODEL]   (env: THREADS, LLAMA_CPP_DIR,
#        BENCH_DIR, SKIP_05B=1, EVAL_CHUNKS=N and IMATRIX_CHUNKS=N: at most N windows
#        of the eval / calibration text, for a busy machine)
set -euo pipefail
build=${1:-build}
src=$(cd "$(dirname "$0")/.." && pwd)
model=${2:-$src/models/hearth-demo-256.gguf}
hearth=$build/hearth
gen=$build/hearth-genmodel
threads=${THREADS:-2}
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/hearth-bench-quant}
mkdir -p "$dir"
evalf=$src/models/quant-eval.txt
ec=(); [ -n "${EVAL_CHUNKS:-}" ] && ec=(--eval-chunks "$EVAL_CHUNKS")
ic=(); [ -n "${IMATRIX_CHUNKS:-}" ] && ic=(--chunk "$IMATRIX_CHUNKS")
pc=(); [ -n "${EVAL_CHUNKS:-}" ] && pc=(--chunks "$EVAL_CHUNKS")
calib=$src/models/quant-calib.txt
lq=""
if [ -n "${LLAMA_CPP_DIR:-}" ]; then
  for c in "$LLAMA_CPP_DIR/llama-quantize" "$LLAMA_CPP_DIR/bin/llama-quantize" \
           "$LLAMA_CPP_DIR/build/bin/llama-quantize"; do
    [ -x "$c" ] && lq=$c && break
  done
  [ -n "$lq" ] || echo "note: no llama-quantize under LLAMA_CPP_DIR=$LLAMA_CPP_DIR; hearth only" >&2
fi

# figures from hearth quantize's output: kld_mean kld_p99 ppl_ratio top1
figs() {
  awk '/PPL ratio/ {r=$5} /KLD mean/ {m=$4; sub(",","",m); p=$10; sub(",","",p)}
       /top-1 agreement/ {t=$4} END {printf "%s %s %s %s\n", m, p, r, t}' "$1"
}
# figures from hearth perplexity --kl-base --json
figs_json() {
  /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
print("%.6f %.6f %.5f %.2f%%" % (d["kld_mean"], d["kld_p99"], d["ppl_ratio"], 100*d["top1"]))' "$1"
}

echo "== quality: $(basename "$model") ($(stat -c %s "$model") bytes), eval $(basename "$evalf"), $threads threads"
t0=$(date +%s.%N)
"$hearth" imatrix -m "$model" -f "$calib" -o "$dir/imatrix.dat" -t "$threads" "${ic[@]}" > "$dir/imatrix.log" 2>&1
t1=$(date +%s.%N)
echo "imatrix: $(tail -1 "$dir/imatrix.log") in $(printf %.1f "$(echo "$t1 - $t0" | bc)") s"
printf "%-7s %-8s %-7s %10s %10s %10s %9s %10s\n" tool type imatrix KLD_mean KLD_p99 PPL_ratio top-1 bytes
for t in Q8_0 Q6_K Q5_K_M Q4_K_M Q4_0 Q3_K_M; do
  for im in no yes; do
    out=$dir/hearth-$t-$im.gguf
    args=()
    [ $im = yes ] && args=(--imatrix "$dir/imatrix.dat")
    "$hearth" quantize "$model" "$out" "$t" "${args[@]}" --eval "$evalf" "${ec[@]}" -t "$threads" > "$dir/q.log" 2>&1 \
      || { cat "$dir/q.log"; exit 1; }
    read -r m p r top < <(figs "$dir/q.log")
    printf "%-7s %-8s %-7s %10s %10s %10s %9s %10s\n" hearth "$t" "$im" "$m" "$p" "$r" "$top" "$(stat -c %s "$out")"
    if [ -n "$lq" ]; then
      lout=$dir/llama-$t-$im.gguf
      largs=()
      [ $im = yes ] && largs=(--imatrix "$dir/imatrix.dat")
      "$lq" "${largs[@]}" "$model" "$lout" "$t" "$threads" > "$dir/lq.log" 2>&1 || { tail "$dir/lq.log"; exit 1; }
      for f in "$out" "$lout"; do
        "$hearth" perplexity -m "$f" --kl-base "$model" -f "$evalf" "${pc[@]}" -t "$threads" --json > "$dir/kl.json" 2>/dev/null
        tool=hearth*; [ "$f" = "$lout" ] && tool=llama*
        read -r m p r top < <(figs_json "$dir/kl.json")
        printf "%-7s %-8s %-7s %10s %10s %10s %9s %10s\n" "$tool" "$t" "$im" "$m" "$p" "$r" "$top" "$(stat -c %s "$f")"
      done
    fi
  done
done
[ -n "$lq" ] && echo "(* rows: both files scored by hearth perplexity --kl-base)"

if [ "${SKIP_05B:-0}" != 1 ]; then
  echo "== speed: Qwen2.5-0.5B-shaped F16 -> Q4_K_M, $threads threads"
  f16=$dir/qwen2.5-0.5b-F16.gguf
  [ -s "$f16" ] || "$gen" --preset qwen2.5-0.5b --type F16 -q -o "$f16"
  t0=$(date +%s.%N)
  "$hearth" quantize "$f16" "$dir/qwen2.5-0.5b-Q4_K_M.gguf" Q4_K_M --no-eval -t "$threads" > "$dir/q05.log" 2>&1
  t1=$(date +%s.%N)
  echo "$(head -1 "$dir/q05.log")"
  echo "time: $(printf %.1f "$(echo "$t1 - $t0" | bc)") s wall ($(stat -c %s "$f16") -> $(stat -c %s "$dir/qwen2.5-0.5b-Q4_K_M.gguf") bytes)"
  rm -f "$dir/qwen2.5-0.5b-Q4_K_M.gguf"
  if [ -n "$lq" ]; then
    t0=$(date +%s.%N)
    "$lq" "$f16" "$dir/llama-qwen2.5-0.5b-Q4_K_M.gguf" Q4_K_M "$threads" > "$dir/lq05.log" 2>&1 || { tail "$dir/lq05.log"; exit 1; }
    t1=$(date +%s.%N)
    echo "llama-quantize, same file and threads: $(printf %.1f "$(echo "$t1 - $t0" | bc)") s wall"
    rm -f "$dir/llama-qwen2.5-0.5b-Q4_K_M.gguf"
  fi
fi
