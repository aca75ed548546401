#!/usr/bin/env bash
# spec_grounded.sh (issue 15): speculative decoding on an input-grounded task,
# the case prompt lookup is for: an answer that quotes the conversation. The
# demo models cannot summarize or rewrite, so the task is the one they can
# ground: a question asked again in one conversation, after the target
# model's own first answer (made here, greedy, so the history is what this
# model says, whatever the model file). Every question of the list is used,
# also those whose second answer differs from the first.
#
# Usage: bench/spec_grounded.sh [BUILD] [TARGET] [DRAFT] [THREADS]
#   (defaults: build, models/hearth-demo-256.gguf, models/hearth-demo.gguf, 1)
# Prints bench_spec e2e's figures for --lookup and for --both DRAFT.
# SPEC_REPS repetitions (default 9; the median is reported); SPEC_PROMPTS_OUT=FILE
# keeps the prompts made (bench_spec e2e's format).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
target=${2:-$src/models/hearth-demo-256.gguf}
draft=${3:-$src/models/hearth-demo.gguf}
threads=${4:-1}
reps=${SPEC_REPS:-9}
work=$(mktemp -d /tmp/hearth-spec-grounded-XXXXXX)
trap 'rm -rf "$work"' EXIT
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"

questions=(
    "What is hearth?"
    "Where is my data stored?"
    "Does hearth send my data to the cloud?"
    "How does hearth keep my data?"
    "Hello!"
    "Who wrote Hamlet?"
    "What is 7 + 5?"
    "Can you tell me what hearth is?"
    "Is my data private?"
    "What can you do?"
)
nl=$'\n'
# escapes a prompt for bench_spec's file format: "\n" for each newline
esc() { printf '%s' "${1//$nl/\\n}"; }
: >"$work/prompts.txt"
for q in "${questions[@]}"; do
    p="<|im_start|>user${nl}${q}<|im_end|>${nl}<|im_start|>assistant${nl}"
    # the answer as the text the model printed (command substitution drops
    # only trailing newlines, which the answer ends without: <|im_end|> stops it)
    a=$("$build/hearth" run --raw -m "$target" --temp 0 -n 96 -t "$threads" -p "$p" 2>/dev/null)
    esc "$p$a<|im_end|>${nl}<|im_start|>user${nl}${q}<|im_end|>${nl}<|im_start|>assistant${nl}" >>"$work/prompts.txt"
    echo >>"$work/prompts.txt"
done
[ -z "${SPEC_PROMPTS_OUT:-}" ] || cp "$work/prompts.txt" "$SPEC_PROMPTS_OUT"
echo "input-grounded prompts: ${#questions[@]} questions, each asked again after the target's own answer"
"$build/bench_spec" e2e "$target" --lookup -t "$threads" --max-tokens 96 --reps "$reps" "$work/prompts.txt"
"$build/bench_spec" e2e "$target" --both "$draft" -t "$threads" --max-tokens 96 --reps "$reps" "$work/prompts.txt"
