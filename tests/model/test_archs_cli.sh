#!/bin/bash
# test_archs_cli.sh: hearth run --raw and hearth run (chat, through the
# model's chat template) on generated tiny models of every new architecture
# (qwen3, gemma3, phi3, llama with Llama 3 scaling and template): both exit
# 0 with an answer of the asked length, the template is recognized (no
# "unrecognized" / "no chat template" warning) and wraps the prompt; --think
# takes show or hide and refuses anything else.
set -u
H="$HEARTH_BIN"
G="$HEARTH_GENMODEL"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export HEARTH_HOME="$T/home"

for p in qwen3-tiny gemma3-tiny phi3-tiny llama3-tiny; do
  "$G" --preset "$p" --type Q8_0 -q -o "$T/$p.gguf" || { echo "FAIL: genmodel $p"; fail=1; continue; }
  "$H" run --raw -m "$T/$p.gguf" -p "The old house" --temp 0 -n 6 -t 2 --json > "$T/raw.json"; rc=$?
  check "$p: run --raw" '[[ $rc -eq 0 ]] && grep -q "\"finish\":\"length\"" "$T/raw.json"'
  "$H" run -m "$T/$p.gguf" --temp 0 -n 6 -t 2 --incognito --json -v "Hello there" \
    > "$T/chat.json" 2> "$T/chat.err"; rc=$?
  check "$p: run (chat)" '[[ $rc -eq 0 ]] && grep -q "\"completion_tokens\":6" "$T/chat.json"'
  check "$p: template recognized" '! grep -qi "chat template" "$T/chat.err"'
  # "Hello there" is 2-3 tokens; the template's turn markers add more
  check "$p: prompt wrapped" 'grep -Eq "\"prompt_tokens\":([7-9]|[1-9][0-9])," "$T/chat.json"'
done
"$H" run -m "$T/qwen3-tiny.gguf" --temp 0 -n 4 -t 2 --incognito --think show "Hi" > /dev/null; rc=$?
check "--think show" '[[ $rc -eq 0 ]]'
"$H" run -m "$T/qwen3-tiny.gguf" --temp 0 -n 4 -t 2 --incognito --think maybe "Hi" 2> "$T/t.err"; rc=$?
check "--think maybe refused" '[[ $rc -ne 0 ]] && grep -q "show or hide" "$T/t.err"'
exit $fail
