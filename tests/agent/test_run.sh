#!/bin/bash
# test_run.sh: `hearth run` in chat mode (through the agent): the answer is
# printed, the exchange kept in the session (history grows by two messages
# per run), the same greedy question in another session comes from the
# response cache, settings come from flags > HEARTH_* > config file, and
# --raw still reaches the engine's plain continuation.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}"
tmp=$(mktemp -d /tmp/hearth-run-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export HEARTH_HOME="$tmp/home" HEARTH_CONFIG="$tmp/config"
unset HEARTH_MODEL HEARTH_MAX_CONTEXT HEARTH_THREADS HEARTH_SYSTEM_PROMPT HEARTH_TEMP || true
"$HEARTH_GENMODEL" -q --arch llama --preset tiny --type F32 -o "$tmp/tiny.gguf"

# The model and sampling come from the config file.
printf 'model = %s\ntemp = 0\nmax_tokens = 6\nthreads = 1\n' "$tmp/tiny.gguf" > "$HEARTH_CONFIG"

j1=$("$HEARTH_BIN" run --json --session a "What is 2+2?")
echo "$j1"
grep -q '"source":"local"' <<<"$j1"
grep -q '"session":"a"' <<<"$j1"
"$HEARTH_BIN" run --session a "And 3+3?" > "$tmp/out2"
j3=$("$HEARTH_BIN" run --json --session b "What is 2+2?")
echo "$j3"
grep -q '"source":"cache"' <<<"$j3"
grep -q '"decoded_tokens":0' <<<"$j3"
# Same content both times.
[ "$(sed 's/.*"content":\("[^"]*"\).*/\1/' <<<"$j1")" = "$(sed 's/.*"content":\("[^"]*"\).*/\1/' <<<"$j3")" ]

hist=$(printf '/history\n' | "$HEARTH_BIN" chat --session a)
echo "$hist"
[ "$(grep -c '^user: ' <<<"$hist")" = 2 ]
[ "$(grep -c '^assistant: ' <<<"$hist")" = 2 ]

# An environment variable beats the file, a flag beats both: a bad value
# is reported with where it came from.
if HEARTH_TEMP=hot "$HEARTH_BIN" run --session c "x" 2> "$tmp/err"; then exit 1; fi
grep -q "temp.*hot.*env" "$tmp/err"
if HEARTH_TEMP=0 "$HEARTH_BIN" run --temp warm --session c "x" 2> "$tmp/err"; then exit 1; fi
grep -q "temp.*warm.*flag" "$tmp/err"

# Prompt from stdin.
echo "From stdin" | "$HEARTH_BIN" run --session d > /dev/null
printf '/history\n' | "$HEARTH_BIN" chat --session d | grep -qx "user: From stdin"

# --raw is the engine's plain continuation, untouched by the agent.
"$HEARTH_BIN" run --raw -m "$tmp/tiny.gguf" -n 4 --temp 0 -p "Once" > /dev/null
echo ok
