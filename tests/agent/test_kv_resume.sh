#!/bin/bash
# test_kv_resume.sh: saved session states (src/agent/kv_cache.c) through
# `hearth run` in separate processes: the second turn of a session restores
# the first turn's keys and values from HEARTH_HOME/kv and evaluates only the
# new tokens, with the same greedy answer as a run with the states off;
# a damaged state is rejected (a warning, the history evaluated, the file
# removed), and so is a file whose token ids were damaged; an incognito turn saves nothing; chat's /reset removes the
# session's states and only its; a session saved with a Q8_0 cache
# (-ctk/-ctv q8_0) resumes with the same types, and a turn with the default
# F16 cache refuses its state with a warning naming the types and answers.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}"
tmp=$(mktemp -d /tmp/hearth-kv-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export HEARTH_HOME="$tmp/home" HEARTH_CONFIG="$tmp/config"
unset HEARTH_MODEL HEARTH_MAX_CONTEXT HEARTH_THREADS HEARTH_SYSTEM_PROMPT HEARTH_TEMP \
    HEARTH_KV_CACHE_MB || true
"$HEARTH_GENMODEL" -q --arch llama --preset tiny --type F32 -o "$tmp/tiny.gguf"
# no response cache: every answer comes from the model
printf 'model = %s\ntemp = 0\nmax_tokens = 6\nthreads = 1\ncache = 0\n' "$tmp/tiny.gguf" \
    > "$HEARTH_CONFIG"

field() { /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, d))' "$1" "$2"; }
kvfiles() { find "$HEARTH_HOME/kv" -name '*.kv' 2>/dev/null | wc -l; }

j1=$("$HEARTH_BIN" run --json --session s "What is the capital of France?")
echo "turn 1: $j1"
[ "$(field "$j1" restored_tokens)" = 0 ]
[ "$(kvfiles)" = 1 ]
p1=$(field "$j1" "usage['prompt_tokens']")

j2=$("$HEARTH_BIN" run --json --session s "And of Italy?" 2> "$tmp/err2")
echo "turn 2: $j2"
cat "$tmp/err2"
p2=$(field "$j2" "usage['prompt_tokens']")
cached=$(field "$j2" "usage['prompt_tokens_details']['cached_tokens']")
restored=$(field "$j2" restored_tokens)
decoded=$(field "$j2" decoded_tokens)
done2=$(field "$j2" "usage['completion_tokens']")
# the whole first prompt (and more: the answer) came from the saved state
[ "$restored" -ge "$p1" ]
[ "$cached" = "$restored" ]
[ "$decoded" = $((p2 - cached + done2)) ]
# and only the new user turn was evaluated: its text plus the template's
# few tokens around it (the first answer and its closing tokens were
# evaluated as the template renders them right after turn 1)
nu=$("$HEARTH_BIN" tokenize -m "$tmp/tiny.gguf" --ids "And of Italy?" | wc -w)
echo "evaluated $((p2 - cached)) of $p2 prompt tokens; the new text is $nu"
[ $((p2 - cached)) -le $((nu + 18)) ]
[ "$(kvfiles)" = 1 ] # the new state replaced the old one

# the same two turns with the states off: the same answer, all evaluated
o1=$(HEARTH_KV_CACHE_MB=0 "$HEARTH_BIN" run --json --session off "What is the capital of France?")
o2=$(HEARTH_KV_CACHE_MB=0 "$HEARTH_BIN" run --json --session off "And of Italy?")
echo "off: $o2"
[ "$(field "$o2" restored_tokens)" = 0 ]
[ "$(field "$o2" "usage['prompt_tokens_details']['cached_tokens']")" = 0 ]
[ "$(field "$o2" content)" = "$(field "$j2" content)" ]
[ "$(field "$o1" content)" = "$(field "$j1" content)" ]
[ "$(kvfiles)" = 1 ]

# a damaged state: a warning, the history evaluated, the same answer, and
# the file replaced by a good one
f=$(find "$HEARTH_HOME/kv" -name '*.kv')
size=$(stat -c %s "$f")
truncate -s $((size - 5)) "$f"
j3=$("$HEARTH_BIN" run --json --session s "And of Spain?" 2> "$tmp/err3")
cat "$tmp/err3"
grep -q "kv cache: not restored" "$tmp/err3"
[ "$(field "$j3" restored_tokens)" = 0 ]
o3=$(HEARTH_KV_CACHE_MB=0 "$HEARTH_BIN" run --json --session off "And of Spain?")
[ "$(field "$o3" content)" = "$(field "$j3" content)" ]
[ "$(kvfiles)" = 1 ]
[ ! -e "$f" ]
j4=$("$HEARTH_BIN" run --json --session s "Thanks." 2> /dev/null)
[ "$(field "$j4" restored_tokens)" -gt 0 ]
# a damaged token id in a file's head: the file does not match its name's
# hash and is not used (its rows would stand for other tokens)
f=$(find "$HEARTH_HOME/kv" -name '*.kv')
printf '\x01' | dd of="$f" bs=1 seek=80 conv=notrunc status=none
jd=$("$HEARTH_BIN" run --json --session s "Bye." 2> /dev/null)
[ "$(field "$jd" restored_tokens)" = 0 ]
[ ! -e "$f" ] && [ "$(kvfiles)" = 1 ]

# incognito: restores, saves nothing
before=$(find "$HEARTH_HOME/kv" -name '*.kv' -printf '%f %s\n')
"$HEARTH_BIN" run --json --incognito --session s "Secret." > /dev/null
[ "$(find "$HEARTH_HOME/kv" -name '*.kv' -printf '%f %s\n')" = "$before" ]

# a second session, then /reset of the first: only the first's state goes
"$HEARTH_BIN" run --session t "Hello." > /dev/null
[ "$(kvfiles)" = 2 ]
printf '/reset\n/quit\n' | "$HEARTH_BIN" chat --session s > /dev/null
[ "$(kvfiles)" = 1 ]
j5=$("$HEARTH_BIN" run --json --session t "Again." 2> /dev/null)
[ "$(field "$j5" restored_tokens)" -gt 0 ]
# hearth storage counts them
sj=$("$HEARTH_BIN" storage --json)
[ "$(field "$sj" session_states_bytes)" -gt 0 ]
[ "$(field "$sj" session_states_bound_bytes)" = $((1024 << 20)) ]
# and no temporary file is left behind
[ -z "$(find "$HEARTH_HOME/kv" -name '*.tmp')" ]

# a quantized cache (head size 64: tiny256)
"$HEARTH_GENMODEL" -q --arch llama --preset tiny256 --type Q8_0 -o "$tmp/hd64.gguf"
q=(run --json -m "$tmp/hd64.gguf" --session q)
"$HEARTH_BIN" "${q[@]}" -ctk q8_0 -ctv q8_0 "What is the capital of France?" > /dev/null
jq2=$("$HEARTH_BIN" "${q[@]}" -ctk q8_0 -ctv q8_0 "And of Italy?" 2> "$tmp/errq2")
cat "$tmp/errq2"
[ "$(field "$jq2" restored_tokens)" -gt 0 ]
jq3=$("$HEARTH_BIN" "${q[@]}" "And of Spain?" 2> "$tmp/errq3")
cat "$tmp/errq3"
grep -q "KV cache types Q8_0/Q8_0 (keys/values), the context uses F16/F16" "$tmp/errq3"
[ "$(field "$jq3" restored_tokens)" = 0 ]
[ -n "$(field "$jq3" content)" ]
echo "ok"
