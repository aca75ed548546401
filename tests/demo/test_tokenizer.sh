#!/bin/bash
# test_tokenizer.sh: hearth's tokenizer gives exactly the ids the demo model was
# trained with. tokenizer_expect.tsv (text<TAB>ids, written by the Python tokenizer in
# tools/demo-model/eval.py) is checked line by line through `hearth tokenize --ids
# --no-bos`, and the ChatML prompt in its "# chat" line through --special.
set -u
model="$HEARTH_SOURCE_DIR/models/hearth-demo.gguf"
tsv="$HEARTH_SOURCE_DIR/tests/demo/tokenizer_expect.tsv"
fail=0 n=0
while IFS=$'\t' read -r text ids; do
    case "$text" in '#'*) continue ;; esac
    n=$((n + 1))
    got=$("$HEARTH_BIN" tokenize -m "$model" --ids --no-bos -- "$text") || { echo "FAIL: tokenize [$text] exited $?"; fail=1; continue; }
    if [ "$got" != "$ids" ]; then
        echo "FAIL: [$text]: want '$ids', got '$got'"
        fail=1
    fi
done < "$tsv"
want=$(sed -n 's/^# chat\t//p' "$tsv")
got=$(printf '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n' |
      "$HEARTH_BIN" tokenize -m "$model" --ids --no-bos --special -f -)
if [ -z "$want" ] || [ "$got" != "$want" ]; then
    echo "FAIL: ChatML prompt: want '$want', got '$got'"
    fail=1
fi
echo "$n strings and the ChatML prompt checked"
exit $fail
