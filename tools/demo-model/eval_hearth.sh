#!/bin/bash
# eval_hearth.sh: the held-out arithmetic questions through hearth's C engine.
# usage: eval_hearth.sh HEARTH_BIN MODEL.gguf QUESTIONS.tsv [sys|nosys]
# Builds the ChatML prompt by hand (with Qwen's default system message, or none),
# runs `hearth run --raw --temp 0`, and counts an answer right when the number after
# '=' equals the expected one. Prints the misses and "MODE: right/total".
set -u
bin=$1 model=$2 tsv=$3 mode=${4:-sys}
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
ok=0 n=0
while IFS=$'\t' read -r q want; do
    n=$((n + 1))
    P=""
    [ "$mode" = sys ] && P=$'<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n'
    P+=$'<|im_start|>user\n'"$q"$'<|im_end|>\n<|im_start|>assistant\n'
    out=$(HEARTH_HOME="$home" "$bin" run --raw -m "$model" --temp 0 -t 1 -n 40 -p "$P" 2>/dev/null)
    got=$(printf '%s' "$out" | sed -n 's/.*= *\(-\?[0-9]\+\).*/\1/p' | head -1)
    if [ "$got" = "$want" ]; then ok=$((ok + 1)); else echo "  miss: $q -> $out"; fi
done < "$tsv"
echo "$mode: $ok/$n"
