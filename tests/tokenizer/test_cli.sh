#!/usr/bin/env bash
# test_cli.sh: `hearth tokenize` and `hearth detokenize` on real vocabularies
# from the shared test data: ids, pieces, --no-bos, --special, -f, --help,
# and failures (bad id, missing model) with a non-zero exit status.
set -u
V="${HEARTH_SHARED_DIR:-../shared}/testdata/vocab"
H="${HEARTH_BIN:?HEARTH_BIN not set}"
GPT2="$V/ggml-vocab-gpt-2.gguf"
SPM="$V/ggml-vocab-llama-spm.gguf"
fails=0
check() { # name, got, want
  if [ "$2" != "$3" ]; then echo "FAIL $1: got [$2] want [$3]"; fails=$((fails+1)); else echo "ok $1"; fi
}

check "gpt2 ids" "$("$H" tokenize -m "$GPT2" --ids "Hello world")" "15496 995"
check "gpt2 no special" "$("$H" tokenize -m "$GPT2" --ids "<|endoftext|>")" "27 91 437 1659 5239 91 29"
check "gpt2 special" "$("$H" tokenize -m "$GPT2" --ids --special "a<|endoftext|>")" "64 50256"
check "gpt2 pieces" "$("$H" tokenize -m "$GPT2" "Hello world")" "$(printf ' 15496 %s\n   995 %s' "'Hello'" "' world'")"
check "spm bos" "$("$H" tokenize -m "$SPM" --ids "Hello world")" "1 15043 3186"
check "spm no-bos" "$("$H" tokenize -m "$SPM" --ids --no-bos "Hello world")" "15043 3186"
tmp=$(mktemp)
printf 'Hello world' > "$tmp"
check "file" "$("$H" tokenize -m "$SPM" --ids --no-bos -f "$tmp")" "15043 3186"
check "stdin" "$(printf 'Hello world' | "$H" tokenize -m "$SPM" --ids --no-bos -f -)" "15043 3186"
rm -f "$tmp"
check "detok spm" "$("$H" detokenize -m "$SPM" 1 15043 3186)" "Hello world"
check "detok one arg" "$("$H" detokenize -m "$GPT2" "15496 995")" "Hello world"
check "detok control hidden" "$("$H" detokenize -m "$GPT2" 64 50256)" "a"
check "detok --special" "$("$H" detokenize -m "$GPT2" --special 64 50256)" "a<|endoftext|>"
ids=$("$H" tokenize -m "$GPT2" --ids "Grüße, 世界! 🦙")
check "round trip" "$("$H" detokenize -m "$GPT2" $ids)" "Grüße, 世界! 🦙"

"$H" tokenize --help | grep -q "usage: hearth tokenize" && echo "ok help" || { echo "FAIL help"; fails=$((fails+1)); }
"$H" detokenize --help | grep -q "usage: hearth detokenize" && echo "ok help2" || { echo "FAIL help2"; fails=$((fails+1)); }
if "$H" detokenize -m "$GPT2" 99999 2>/dev/null; then echo "FAIL bad id accepted"; fails=$((fails+1)); else echo "ok bad id"; fi
if "$H" detokenize -m "$GPT2" abc 2>/dev/null; then echo "FAIL non-number accepted"; fails=$((fails+1)); else echo "ok non-number"; fi
if "$H" tokenize -m /nonexistent.gguf x 2>/dev/null; then echo "FAIL missing model"; fails=$((fails+1)); else echo "ok missing model"; fi
if "$H" tokenize -m "$GPT2" 2>/dev/null; then echo "FAIL no text"; fails=$((fails+1)); else echo "ok no text"; fi
check "bert vocabulary" "$("$H" tokenize -m "$V/ggml-vocab-bert-bge.gguf" --ids "Hello world")" "101 7592 2088 102"
echo "$fails failures"
[ "$fails" = 0 ]
