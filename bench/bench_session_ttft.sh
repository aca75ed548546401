#!/bin/bash
# bench_session_ttft.sh: time to first token of a new turn of a long
# session, from a fresh process, with and without the saved session states
# (HOME/kv, setting kv_cache_mb; README "Sessions resume without
# re-reading them"). Issue 16's goal: <= 50 ms for the 11th turn of a
# 10-turn conversation on the 0.5B-shaped Q4_0 model with 2 threads.
#
#   bench/bench_session_ttft.sh [BUILD_DIR]
#   env: MODEL (default: hearth-genmodel --preset qwen2.5-0.5b --type Q4_0,
#        made once in $DIR), THREADS (2), TURNS (10), ANSWER (max_tokens of
#        each answer, 24), REPS (5), DIR (/tmp/hearth-bench-ttft), NEXT (the
#        new turn's question: "And a dog?"), OFF_REPS (REPS: runs without
#        the states, which are slow), FIFO (1: run the measured processes
#        and the prefill check under SCHED_FIFO with chrt, as root, so that
#        other jobs on a shared machine do not take their CPUs; memory
#        bandwidth stays shared)
#
# A conversation of TURNS turns is made in one session, each turn its own
# `hearth run` (as a user would). Then REPS times, from a copy of that
# data directory, a new process asks turn TURNS+1 with the states on and
# with them off (HEARTH_KV_CACHE_MB=0). Printed per mode (medians):
#   ttft_ms    the agent's time from the request to the first answer token
#              (history load, template, restore, prompt evaluation)
#   process_ms wall time of the whole `hearth run -n 1` process: start,
#              model open (mmap), store, the above, one token, saving the
#              state, exit
#   evaluated  prompt tokens evaluated (the rest restored)
# Run on a quiet machine; figures are for the machine they ran on.
set -euo pipefail
build=${1:-build}
hearth=$build/hearth
gen=$build/hearth-genmodel
threads=${THREADS:-2}
turns=${TURNS:-10}
answer=${ANSWER:-24}
reps=${REPS:-5}
dir=${DIR:-/tmp/hearth-bench-ttft}
mkdir -p "$dir"
model=${MODEL:-$dir/qwen2.5-0.5b-Q4_0.gguf}
[ -s "$model" ] || "$gen" -q --preset qwen2.5-0.5b --type Q4_0 --threads "$threads" -o "$model"

export HEARTH_CONFIG=$dir/config
printf 'model = %s\ntemp = 0\nthreads = %s\ncache = 0\nsandbox = 0\n' "$model" "$threads" > "$HEARTH_CONFIG"
unset HEARTH_KV_CACHE_MB HEARTH_MODEL HEARTH_THREADS HEARTH_MAX_TOKENS || true

questions=("What is a good name for a cat?" "How long do cats usually live?"
  "What should I feed a kitten?" "How often should a cat see a vet?"
  "Why do cats purr?" "Can cats drink milk?" "How do I stop my cat scratching the sofa?"
  "Is it fine to keep a cat indoors all the time?" "How much sleep does a cat need?"
  "What toys do cats like?" "Do cats recognise their names?" "Why do cats knead blankets?")
home=$dir/home
rm -rf "$home"
for ((i = 0; i < turns; i++)); do
  HEARTH_HOME=$home "$hearth" run --session bench -n "$answer" "${questions[i % ${#questions[@]}]}" > /dev/null 2>&1
done
next=${NEXT:-"And a dog?"}

prio=(); [ "${FIFO:-0}" = 1 ] && prio=(chrt -f 10)
field() { /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, d))' "$1" "$2"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

for mode in on off; do
  : > "$dir/ttft.$mode"
  : > "$dir/proc.$mode"
  n_reps=$reps; [ "$mode" = off ] && n_reps=${OFF_REPS:-$reps}
  for ((r = 0; r < n_reps; r++)); do
    rm -rf "$dir/run"
    cp -a "$home" "$dir/run"
    kv=(); [ "$mode" = off ] && kv=(env HEARTH_KV_CACHE_MB=0)
    t0=$(date +%s%N)
    j=$(HEARTH_HOME=$dir/run "${kv[@]}" "${prio[@]}" "$hearth" run --json --session bench -n 1 "$next" 2> /dev/null)
    t1=$(date +%s%N)
    field "$j" timings[\'ttft_ms\'] >> "$dir/ttft.$mode"
    echo $(((t1 - t0) / 1000000)) >> "$dir/proc.$mode"
    last=$j
  done
  p=$(field "$last" "usage['prompt_tokens']")
  c=$(field "$last" "usage['prompt_tokens_details']['cached_tokens']")
  [ "$mode" = on ] && evaluated_on=$((p - c))
  rs=$(field "$last" "timings['restore_ms']")
  printf '%-4s prompt %5d tokens  evaluated %5d  restore %7.1f ms  ttft_ms %7.1f  process_ms %6d  (median of %d)\n' \
    "$mode" "$p" $((p - c)) "$rs" "$(median < "$dir/ttft.$mode")" "$(median < "$dir/proc.$mode")" "$n_reps"
done
du -sh "$home/kv" | awk '{print "saved state: " $1}'
# the machine's prefill speed for that many tokens right now, in a warm
# process (other load shows here too), and its decode roofline
"${prio[@]}" "$hearth" bench -m "$model" -p "$evaluated_on" -n 1 -t "$threads" 2>&1 | grep -E "pp[0-9]|roofline"
rm -rf "$dir/run"
