#!/usr/bin/env bash
# bench_depth.sh: speed at long context (issue 16's goals, as ratios from
# one run). On a generated Qwen2.5-0.5B-shaped Q4_0 model (hearth-genmodel
# --preset qwen2.5-0.5b, made once in BENCH_DIR) with THREADS (2) threads:
#  - decode: tg at depth DEPTH (4096) / tg at depth 0 (goal >= 0.8),
#  - prefill: a DEPTH-token prompt into an empty context / pp512 (goal >= 0.8),
#  - pp512 after DEPTH tokens / pp512 (llama-bench's -d figure).
# With LLAMA_CPP_DIR and/or IK_LLAMA_CPP_DIR naming a build with llama-bench
# (in it, its bin/ or its build/bin/), the same tests run there on the same
# file and threads (extra flags from LLAMA_BENCH_ARGS, e.g. "-fa 1") and
# hearth/peer ratios are printed per test. Last, BUILD/bench_depth measures
# hearth's two ratios again with the short and long tests interleaved in
# one process (medians; robust to a busy machine, where the sequential
# runs above can swing by 2x). Nothing is downloaded.
# usage: bench/bench_depth.sh [BUILD_DIR]   (env: THREADS, REPS (3), DEPTH,
#        N_GEN (64), BENCH_DIR, LLAMA_CPP_DIR, IK_LLAMA_CPP_DIR, LLAMA_BENCH_ARGS)
set -euo pipefail
build=${1:-build}
hearth=$build/hearth
gen=$build/hearth-genmodel
threads=${THREADS:-2}
reps=${REPS:-3}
depth=${DEPTH:-4096}
ngen=${N_GEN:-64}
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/hearth-bench-depth}
py=/usr/bin/python3
mkdir -p "$dir"
model=$dir/qwen2.5-0.5b-Q4_0.gguf
[ -s "$model" ] || "$gen" --preset qwen2.5-0.5b --type Q4_0 -q -o "$model"

echo "== $(basename "$model"), $threads threads, $reps reps, load: $(cut -d' ' -f1-3 /proc/loadavg)"
# hearth: pp512 and tg at depths 0 and DEPTH, then one DEPTH-token prompt
"$hearth" bench -m "$model" -p 512 -n "$ngen" -d "0,$depth" -r "$reps" -t "$threads" --json > "$dir/hearth.json"
"$hearth" bench -m "$model" -p "$depth" -n 0 -r 1 -t "$threads" --json >> "$dir/hearth.json"

# figures as "test value" lines: pp512 d0, tg64 d0, pp512 dN, tgN dN, ppN d0
"$py" - "$dir/hearth.json" > "$dir/hearth.txt" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d["n_prompt"] > 0: print("pp%d@d%d %.2f" % (d["n_prompt"], d["n_depth"], d["prompt_tps"]))
    if d["n_gen"] > 0: print("tg%d@d%d %.2f" % (d["n_gen"], d["n_depth"], d["gen_tps"]))
EOF

fig() { awk -v k="$2" '$1 == k {print $2}' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }
report() { # file, tool name
  local f=$1 name=$2
  local pp=$(fig "$f" pp512@d0) tg=$(fig "$f" tg$ngen@d0) ppd=$(fig "$f" pp512@d$depth)
  local tgd=$(fig "$f" tg$ngen@d$depth) pl=$(fig "$f" pp$depth@d0)
  printf "%-12s pp512 %8s  tg%d %7s  pp512@d%d %8s  tg%d@d%d %7s  pp%d %8s t/s\n" "$name" "$pp" "$ngen" "$tg" \
    "$depth" "$ppd" "$ngen" "$depth" "$tgd" "$depth" "$pl"
  printf "%-12s decode d%d/d0 %s (goal >= 0.8)  prefill %d/pp512 %s (goal >= 0.8)  pp512 d%d/d0 %s\n" "$name" \
    "$depth" "$(ratio "$tgd" "$tg")" "$depth" "$(ratio "$pl" "$pp")" "$depth" "$(ratio "$ppd" "$pp")"
}
report "$dir/hearth.txt" hearth

peer() { # name, dir
  local name=$1 d=$2 lb=""
  for c in "$d/llama-bench" "$d/bin/llama-bench" "$d/build/bin/llama-bench"; do
    [ -x "$c" ] && lb=$c && break
  done
  if [ -z "$lb" ]; then
    echo "note: no llama-bench under $d; skipping $name" >&2
    return
  fi
  # shellcheck disable=SC2086
  { "$lb" -m "$model" -p 512 -n "$ngen" -d "0,$depth" -r "$reps" -t "$threads" -o json ${LLAMA_BENCH_ARGS:-}
    "$lb" -m "$model" -p "$depth" -n 0 -r 1 -t "$threads" -o json ${LLAMA_BENCH_ARGS:-}
  } > "$dir/$name.json" 2> "$dir/$name.err" || { tail -5 "$dir/$name.err"; return; }
  "$py" - "$dir/$name.json" > "$dir/$name.txt" <<'EOF'
import json, sys
# llama-bench -o json: one array per run (ik_llama.cpp has no jsonl)
text = open(sys.argv[1]).read()
dec, pos, runs = json.JSONDecoder(), 0, []
while True:
    while pos < len(text) and text[pos] in " \t\r\n": pos += 1
    if pos >= len(text): break
    v, pos = dec.raw_decode(text, pos)
    runs += v
for d in runs:
    kind = "pp%d" % d["n_prompt"] if d["n_prompt"] > 0 else "tg%d" % d["n_gen"]
    print("%s@d%d %.2f" % (kind, d.get("n_depth", 0), d["avg_ts"]))
EOF
  report "$dir/$name.txt" "$name"
  printf "%-12s hearth/%s:" "" "$name"
  for k in pp512@d0 tg$ngen@d0 pp512@d$depth tg$ngen@d$depth pp$depth@d0; do
    printf "  %s %s" "$k" "$(ratio "$(fig "$dir/hearth.txt" "$k")" "$(fig "$dir/$name.txt" "$k")")"
  done
  echo
}
[ -n "${LLAMA_CPP_DIR:-}" ] && peer llama.cpp "$LLAMA_CPP_DIR"
[ -n "${IK_LLAMA_CPP_DIR:-}" ] && peer ik_llama.cpp "$IK_LLAMA_CPP_DIR"
if [ -x "$build/bench_depth" ]; then
  echo "== interleaved (bench_depth)"
  "$build/bench_depth" "$model" "$depth" "$threads" | tail -2
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
