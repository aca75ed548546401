/*
 * constrain.h: grammar-constrained token choice for hearth_generate and the
 * scheduler (constrain.c). One gcons per generation; it owns the parse
 * state and the scratch buffers, and borrows the grammar and tokenizer.
 */
#ifndef HEARTH_ENGINE_CONSTRAIN_H
#define HEARTH_ENGINE_CONSTRAIN_H

#include "engine/grammar_int.h"
#include "hearth.h"
#include "tokenizer/vtrie.h"

typedef struct {
    const hearth_grammar *g; /* NULL: unconstrained (every call is a plain sample) */
    const hearth_tokenizer *tok;
    const hearth_vtrie *trie;
    int32_t n_vocab;
    gmatch gm;
    bool active;             /* the grammar applies (no trigger, or it appeared) */
    const char *trigger;
    size_t trig_len;
    char *tail;              /* the last trig_len - 1 bytes before the trigger */
    size_t tail_len;
    char *scratch;           /* tail + one piece */
    size_t scratch_cap;
    float *masked;           /* (n_vocab) logits with disallowed tokens at -inf */
    int32_t *allowed;        /* (n_vocab) */
    uint8_t *abits;          /* (n_vocab) 0 between calls */
    int64_t n_fast, n_full;  /* picks by the first sample / by the full mask */
} gcons;

typedef enum {
    GC_TOKEN = 0, /* *out is the token to take */
    GC_DONE,      /* the text is complete and nothing may follow: end (as EOG) */
    GC_DEAD,      /* no token of the vocabulary can continue the text */
} gcons_pick_result;

/* Prepares constrained decoding for p->grammar / p->grammar_trigger (no
 * grammar: c->g stays NULL and nothing is allocated). tok: the model's
 * tokenizer (required with a grammar: HEARTH_E_UNSUPPORTED without).
 * Errors: HEARTH_E_NOMEM. One thread per gcons. */
hearth_status gcons_init(gcons *c, const hearth_gen_params *p, const hearth_tokenizer *tok,
                         int32_t n_vocab, hearth_error *err);
void gcons_free(gcons *c);
/* Chooses the next token from logits (n_vocab, not modified) with smp:
 * first a plain sample; if the grammar refuses it, a sample from the logits
 * with every refused token at -inf (the mask goes in before the sampler's
 * truncation). Before the trigger, a token is refused only if it completes
 * the trigger and what follows the trigger in it does not suit the grammar. */
gcons_pick_result gcons_pick(gcons *c, hearth_sampler *smp, const float *logits, int32_t *out);
/* Records that token was taken (after gcons_pick chose it). */
void gcons_accept(gcons *c, int32_t token);

#endif
