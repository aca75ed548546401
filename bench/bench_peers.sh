#!/usr/bin/env bash
# bench_peers.sh: issue 16's speed table as ratios from one run. For each
# weight type in TYPES (Q4_0 Q8_0 Q4_K_M F16) a generated Qwen2.5-0.5B-shaped
# model (hearth-genmodel --preset qwen2.5-0.5b, made once in BENCH_DIR) is
# measured with `hearth bench` (pp512, tg128, the bandwidth roofline) and,
# when LLAMA_CPP_DIR and/or IK_LLAMA_CPP_DIR name a build with llama-bench
# (in it, its bin/ or its build/bin/), with llama-bench on the same file and
# threads (extra flags from LLAMA_BENCH_ARGS). Peak RSS of each tool's run
# comes from /usr/bin/time. The tools alternate per type so that a change in
# the machine's load hits all of them; the load is printed before and after.
# Prints one row per type and tool, then hearth/peer ratios. Nothing is
# downloaded.
# usage: bench/bench_peers.sh [BUILD_DIR]   (env: THREADS (2), REPS (3),
#        N_PROMPT (512), N_GEN (128), TYPES, BENCH_DIR, LLAMA_CPP_DIR,
#        IK_LLAMA_CPP_DIR, LLAMA_BENCH_ARGS)
set -euo pipefail
build=${1:-build}
hearth=$build/hearth
gen=$build/hearth-genmodel
threads=${THREADS:-2}
reps=${REPS:-3}
npp=${N_PROMPT:-512}
ntg=${N_GEN:-128}
types=${TYPES:-Q4_0 Q8_0 Q4_K_M F16}
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/hearth-bench-peers}
py=/usr/bin/python3
mkdir -p "$dir"

find_bench() { # dir -> llama-bench path or nothing
  for c in "$1/llama-bench" "$1/bin/llama-bench" "$1/build/bin/llama-bench"; do
    [ -x "$c" ] && { echo "$c"; return; }
  done
}
commit_of() { # dir -> short commit of the source tree, or "?"
  local d=$1
  for up in "$d" "$d/.." "$d/../.."; do
    git -C "$up" rev-parse --short HEAD 2>/dev/null && return
  done
  echo "?"
}

# OMP_WAIT_POLICY=passive puts ggml's OpenMP threads to sleep at every
# barrier: the peers' decode (hundreds of barriers per token) ran at a third
# of its speed in an earlier run of this script, so it is not passed on.
if [ -n "${OMP_WAIT_POLICY:-}" ]; then
  echo "note: OMP_WAIT_POLICY=$OMP_WAIT_POLICY unset for the peers' runs (it slows ggml's decode)" >&2
  unset OMP_WAIT_POLICY
fi

peers=()
[ -n "${LLAMA_CPP_DIR:-}" ] && peers+=("llama.cpp=$LLAMA_CPP_DIR")
[ -n "${IK_LLAMA_CPP_DIR:-}" ] && peers+=("ik_llama.cpp=$IK_LLAMA_CPP_DIR")

echo "== $threads threads, $reps reps, pp$npp tg$ntg, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for p in "${peers[@]}"; do
  name=${p%%=*} d=${p#*=}
  lb=$(find_bench "$d")
  if [ -z "$lb" ]; then echo "note: no llama-bench under $d; skipping $name" >&2; continue; fi
  echo "   $name: $lb (commit $(commit_of "$d"))"
done

out=$dir/results.txt
: > "$out"
for t in $types; do
  model=$dir/qwen2.5-0.5b-$t.gguf
  [ -s "$model" ] || "$gen" --preset qwen2.5-0.5b --type "$t" -q -o "$model"
  # hearth
  /usr/bin/time -f "%M" -o "$dir/rss" "$hearth" bench -m "$model" -p "$npp" -n "$ntg" -r "$reps" \
    -t "$threads" --json > "$dir/hearth-$t.json"
  "$py" - "$dir/hearth-$t.json" "$(cat "$dir/rss")" "$t" >> "$out" <<'EOF'
import json, sys
d = json.loads(open(sys.argv[1]).readline())
print("%s hearth %.2f %.2f %.1f %.0f %.3f" % (sys.argv[3], d["prompt_tps"], d["gen_tps"],
      d["bandwidth_gbps"], int(sys.argv[2]) / 1024, d["roofline"]))
EOF
  for p in "${peers[@]}"; do
    name=${p%%=*} d=${p#*=}
    lb=$(find_bench "$d")
    [ -n "$lb" ] || continue
    # shellcheck disable=SC2086
    if ! /usr/bin/time -f "%M" -o "$dir/rss" "$lb" -m "$model" -p "$npp" -n "$ntg" -r "$reps" \
        -t "$threads" -o json ${LLAMA_BENCH_ARGS:-} > "$dir/$name-$t.json" 2> "$dir/$name-$t.err"; then
      echo "note: $name failed on $t:" >&2
      tail -3 "$dir/$name-$t.err" >&2
      continue
    fi
    "$py" - "$dir/$name-$t.json" "$(cat "$dir/rss")" "$t" "$name" >> "$out" <<'EOF'
import json, sys
pp = tg = 0.0
# llama-bench -o json: one array (mainline and ik_llama.cpp alike; ik has no jsonl)
for d in json.loads(open(sys.argv[1]).read()):
    if d["n_prompt"] > 0: pp = d["avg_ts"]
    else: tg = d["avg_ts"]
print("%s %s %.2f %.2f - %.0f -" % (sys.argv[3], sys.argv[4], pp, tg, int(sys.argv[2]) / 1024))
EOF
  done
done

printf "\n%-7s %-13s %10s %10s %10s %9s\n" type tool "pp$npp" "tg$ntg" roofline "RSS MB"
while read -r t tool pp tg bw rss roof; do
  r=$([ "$roof" = - ] && echo - || awk -v x="$roof" 'BEGIN { printf "%.0f%%", 100 * x }')
  printf "%-7s %-13s %10s %10s %10s %9s\n" "$t" "$tool" "$pp" "$tg" "$r" "$rss"
done < "$out"
if [ ${#peers[@]} -gt 0 ]; then
  echo
  echo "hearth / peer (>1: hearth faster; RSS: <1 hearth smaller)"
  awk '{ k = $1; v[k, $2, "pp"] = $3; v[k, $2, "tg"] = $4; v[k, $2, "rss"] = $6; tools[$2] = 1; ty[k] = 1; order[++n] = k }
    END {
      for (i = 1; i <= n; i++) { k = order[i]; if (seen[k]++) continue
        for (t in tools) { if (t == "hearth" || v[k, t, "pp"] == "") continue
          printf "%-7s vs %-13s pp %5.2f  tg %5.2f  RSS %5.2f\n", k, t, v[k, "hearth", "pp"] / v[k, t, "pp"],
            v[k, "hearth", "tg"] / v[k, t, "tg"], v[k, "hearth", "rss"] / v[k, t, "rss"] } } }' "$out"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
