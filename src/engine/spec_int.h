/*
 * spec_int.h: speculative decoding's parts (spec.c: the draft sources and
 * the controller; spec_verify.c: the lossless acceptance rule), used by the
 * generation loop (generate.c) and the scheduler (sched.c).
 *
 * One step: the controller picks a source and a draft length k from the
 * measured acceptance and costs; the source drafts k tokens after the
 * sequence's tokens so far; the target decodes [last, d_0 .. d_k-1] in one
 * batch; spec_verify walks the k + 1 logit rows in order, accepting drafts
 * and ending with one token of the target's own (a redraw after a rejection,
 * or the token after the last accepted draft); the caller truncates the
 * target's KV cache past what was kept and reports the step to the
 * controller.
 */
#ifndef HEARTH_ENGINE_SPEC_INT_H
#define HEARTH_ENGINE_SPEC_INT_H

#include "engine/sampler_int.h"
#include "hearth.h"

#define SPEC_MAX_DRAFT 64

typedef enum { SPEC_SRC_NONE = 0, SPEC_SRC_LOOKUP, SPEC_SRC_MODEL } spec_src;

/* Drafted tokens and the distribution each was drawn from. */
typedef struct {
    int32_t n;
    spec_src src;
    int32_t tok[SPEC_MAX_DRAFT];
    /* q[q_off[i] .. q_off[i+1]): token i's distribution, weights summing
     * to q_tot[i]; an empty range is a point mass on tok[i] (lookup, a
     * greedy draft). */
    sampler_prob *q;
    size_t q_cap;
    int32_t q_off[SPEC_MAX_DRAFT + 1];
    double q_tot[SPEC_MAX_DRAFT];
} spec_draft;

void spec_draft_free(spec_draft *d);

/* The verifier's scratch for a vocabulary of n_vocab tokens. */
typedef struct {
    int32_t n_vocab;
    double *qd;       /* (n_vocab) a draft distribution, dense; 0 between calls */
    sampler_prob *rw; /* (n_vocab) residual weights */
    /* Tests only: after a rejection draw from p itself instead of the
     * residual (a plausible mistake that biases the output toward the
     * draft's rejected tokens' complement; the distribution test must
     * catch it). */
    bool wrong_rule;
} spec_verifier;

hearth_status spec_verifier_init(spec_verifier *v, int32_t n_vocab, hearth_error *err);
void spec_verifier_free(spec_verifier *v);

/* Called for each token the step produces, in order, after smp has
 * accepted it; logits: the target's row it was chosen from. Return false
 * to end the step (generation ends). */
typedef bool (*spec_emit_fn)(void *user, int32_t token, const float *logits);
/* Row i (0..d->n) of the verification batch's logits. */
typedef const float *(*spec_row_fn)(void *user, int32_t i);

/* Walks rows 0..d->n: row i decides draft i (accept, or reject and redraw
 * from the residual, ending the step); row d->n, reached when every draft
 * was accepted, gives one more token. Returns the drafts accepted;
 * *n_emitted: tokens passed to emit (accepted drafts + the final token,
 * fewer when emit ended the step). */
int32_t spec_verify(spec_verifier *v, hearth_sampler *smp, const spec_draft *d, spec_row_fn row,
                    void *row_user, spec_emit_fn emit, void *emit_user, int32_t *n_emitted);

/* ---- the hearth_spec object (spec.c) ---- */

/* Starts a generation on (c, seq) with prompt appended to a sequence that
 * held len0 positions: syncs the token history (kept when the same context
 * and sequence continue, else forgotten) and makes the draft sampler for
 * sp's parameters. */
hearth_status spec_begin(hearth_spec *s, const hearth_ctx *c, int32_t seq, int32_t len0,
                         const int32_t *prompt, int32_t n_prompt, const hearth_sampler_params *sp,
                         hearth_error *err);
/* Brings the draft model's context to the history (the prompt) now, as
 * part of prompt processing, rather than at the first draft; no-op without
 * a draft model. */
hearth_status spec_prefill(hearth_spec *s, hearth_error *err);
/* Records a token the target produced (the history drafts continue). */
void spec_push(hearth_spec *s, int32_t token);
/* Drafts up to limit tokens (limit <= 0: none) after the history, choosing
 * source and length; d->n == 0: decode plainly this step. *draft_ms: time
 * spent drafting. */
hearth_status spec_make_draft(hearth_spec *s, int32_t limit, spec_draft *d, double *draft_ms,
                              hearth_error *err);
/* Reports a step: the draft, how many the target accepted, and how long
 * drafting and the target's decode took (ms). */
void spec_observe(hearth_spec *s, const spec_draft *d, int32_t n_accepted, double draft_ms,
                  double decode_ms);
/* The draft buffer and verifier scratch owned by s, for the loop. */
spec_draft *spec_draft_buf(hearth_spec *s);
spec_verifier *spec_verifier_of(hearth_spec *s);

#endif
