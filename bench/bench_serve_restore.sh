#!/bin/bash
# bench_serve_restore.sh: time to first token of a conversation's next turn
# on a restarted `hearth serve`, with the saved states (HOME/kv; README
# "Conversations survive a restart") and without them (--kv-cache-mb 0).
#
#   bench/bench_serve_restore.sh [BUILD_DIR]
#   env: MODEL (default: hearth-genmodel --preset qwen2.5-0.5b --type Q4_0,
#        made once in $DIR), THREADS (2), TURNS (6), ANSWER (max_tokens of
#        each answer, 24), REPS (3), DIR (/tmp/hearth-bench-serve-restore)
#
# A conversation of TURNS turns goes to one server (each turn's messages
# sent again, as OpenAI clients do); the server stops (SIGTERM). Then REPS
# times, from a copy of that HOME, a new server answers turn TURNS+1 with
# max_tokens 1, once with the states and once with --kv-cache-mb 0.
# Printed per mode (medians): ttft_ms (the client's time from sending the
# request to the answer, one token: prompt evaluation, restore included),
# the server's prompt_ms, cached (restored) prompt tokens of the total.
# Run on a quiet machine; figures are for the machine they ran on.
set -euo pipefail
build=${1:-build}
hearth=$build/hearth
gen=$build/hearth-genmodel
threads=${THREADS:-2}
turns=${TURNS:-6}
answer=${ANSWER:-24}
reps=${REPS:-3}
dir=${DIR:-/tmp/hearth-bench-serve-restore}
mkdir -p "$dir"
model=${MODEL:-$dir/qwen2.5-0.5b-Q4_0.gguf}
[ -s "$model" ] || "$gen" -q --preset qwen2.5-0.5b --type Q4_0 --threads "$threads" -o "$model"
export HEARTH_CONFIG=$dir/config
printf 'temp = 0\nthreads = %s\ncache = 0\n' "$threads" > "$HEARTH_CONFIG"
unset HEARTH_KV_CACHE_MB HEARTH_MODEL HEARTH_THREADS || true
fail() { echo "bench: $*" >&2; exit 1; }
. "$(dirname "$0")/../tests/lib/serve.sh"

start() { # HOME ARGS...: sets PORT, SPID
  local home=$1; shift
  HEARTH_HOME=$home "$hearth" serve --port 0 -m "$model" -t "$threads" -c 2048 --slots 1 "$@" \
    > "$dir/out" 2> "$dir/err" &
  SPID=$!
  serve_port "$SPID" "$dir/out" "$dir/err"
  serve_healthy "$dir/err"
}
stop() { kill -TERM "$SPID"; wait "$SPID" || true; }
# chat TURN_COUNT MAX: sends the conversation's first TURN_COUNT user turns
# (answers from $dir/answers), prints "ms prompt_ms cached prompt_tokens"
# and appends the answer.
chat() {
  /usr/bin/python3 - "$PORT" "$1" "$2" "$dir/answers" "$(basename "$model" .gguf)" <<'PY'
import json, sys, time, urllib.request
port, n, mx, af, mid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
qs = ["What is a good name for a cat?", "How long do cats usually live?",
      "What should I feed a kitten?", "How often should a cat see a vet?",
      "Why do cats purr?", "Can cats drink milk?", "How do I stop my cat scratching the sofa?",
      "Is it fine to keep a cat indoors all the time?", "How much sleep does a cat need?",
      "What toys do cats like?", "Do cats recognise their names?", "Why do cats knead blankets?"]
try: answers = json.load(open(af))
except FileNotFoundError: answers = []
msgs = [{"role": "system", "content": "You are a helpful assistant."}]
for i in range(n - 1):
    msgs += [{"role": "user", "content": qs[i % len(qs)]}, {"role": "assistant", "content": answers[i]}]
msgs.append({"role": "user", "content": qs[(n - 1) % len(qs)]})
body = json.dumps({"model": mid, "messages": msgs, "max_tokens": mx, "temperature": 0}).encode()
t0 = time.perf_counter()
r = json.load(urllib.request.urlopen(urllib.request.Request(
    f"http://127.0.0.1:{port}/v1/chat/completions", body, {"Content-Type": "application/json"})))
ms = (time.perf_counter() - t0) * 1e3
if len(answers) < n: answers.append(r["choices"][0]["message"]["content"]); json.dump(answers, open(af, "w"))
u = r["usage"]
print(f'{ms:.1f} {r["timings"]["prompt_ms"]:.1f} {u["prompt_tokens_details"]["cached_tokens"]} {u["prompt_tokens"]}')
PY
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

rm -rf "$dir/home" "$dir/answers"
start "$dir/home"
for ((t = 1; t <= turns; t++)); do chat "$t" "$answer" > /dev/null; done
stop
echo "model $(basename "$model"), $threads threads, turn $((turns + 1)) after a restart (median of $reps), load: $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in saved off; do
  : > "$dir/r.$mode"
  for ((r = 0; r < reps; r++)); do
    rm -rf "$dir/run"; cp -a "$dir/home" "$dir/run"
    args=(); [ "$mode" = off ] && args=(--kv-cache-mb 0)
    start "$dir/run" "${args[@]}"
    chat $((turns + 1)) 1 >> "$dir/r.$mode"
    stop
  done
  printf '%-6s ttft_ms %8.1f  server prompt_ms %8.1f  cached %s of %s prompt tokens\n' "$mode" \
    "$(cut -d' ' -f1 "$dir/r.$mode" | median)" "$(cut -d' ' -f2 "$dir/r.$mode" | median)" \
    "$(tail -1 "$dir/r.$mode" | cut -d' ' -f3)" "$(tail -1 "$dir/r.$mode" | cut -d' ' -f4)"
done
