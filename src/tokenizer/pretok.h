/*
 * pretok.h: pre-tokenizers, the regex splits that "gpt2" (byte-level BPE)
 * tokenizers apply before BPE, written by hand. Each pre-tokenizer is a
 * sequence of stages; a stage splits every piece from the stage before into
 * its regex matches and the text between them (both kept, in order), exactly
 * as a Hugging Face Split(pattern, behavior="isolated") does. Regexes are
 * matched with their own semantics (ordered alternation, greedy quantifiers
 * with backtracking, lookahead and "$" at the end of the piece).
 *
 * Code points come from hearth_utf8_decode: invalid bytes are units of their
 * own that belong to no class (so they fall in [^\s\p{L}\p{N}]).
 */
#ifndef HEARTH_TOKENIZER_PRETOK_H
#define HEARTH_TOKENIZER_PRETOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    HEARTH_PRE_GPT2,           /* GPT-2 regex */
    HEARTH_PRE_LLAMA3,         /* Llama 3 regex (digits in runs of up to 3) */
    HEARTH_PRE_QWEN2,          /* Llama 3 regex with single digits */
    HEARTH_PRE_DEEPSEEK_LLM,   /* DeepSeek LLM stage sequence */
    HEARTH_PRE_DEEPSEEK_CODER, /* DeepSeek Coder stage sequence */
    HEARTH_PRE_FALCON,         /* punctuation runs, GPT-2 regex, digit triples */
    HEARTH_PRE_STARCODER,      /* single digits, then the GPT-2 regex */
    HEARTH_PRE_COUNT
} hearth_pre_kind;

/* Finds a tokenizer.ggml.pre name (aliases included, e.g. "llama-bpe" and
 * "llama3"). Returns false for an unknown name. Any thread. */
bool hearth_pre_find(const char *name, hearth_pre_kind *out);

/* Whether BPE should take a whole piece that is itself in the vocabulary
 * without merging (Llama 3's ignore_merges). */
bool hearth_pre_ignore_merges(hearth_pre_kind kind);

/* Splits cps[0..n) (n < 2^32). OUT: ends[0..*n_pieces) are the piece ends,
 * increasing, the last one n; no piece is empty. ends and tmp must each have
 * room for n entries. Any thread. */
void hearth_pre_split(hearth_pre_kind kind, const uint32_t *cps, uint32_t n, uint32_t *ends,
                      uint32_t *tmp, uint32_t *n_pieces);

#endif
