/*
 * ctx_int.h: the context's private state, shared by ctx.c and generate.c.
 */
#ifndef HEARTH_ENGINE_CTX_INT_H
#define HEARTH_ENGINE_CTX_INT_H

#include "hearth.h"
#include "model/forward.h"
#include "util/threadpool.h"

#include <math.h>

struct hearth_ctx {
    const hearth_model *m;
    int32_t n_ctx, n_seq, cap, n_batch;
    hearth_kv_cache kv;
    hearth_threadpool *pool;
    hearth_fwd_buf *buf;
    float *logits;       /* (logits_cap, n_vocab) */
    size_t logits_cap;
    int32_t *logit_idx;  /* (idx_cap) row in logits of batch token i, or -1 */
    size_t idx_cap;
    int32_t n_logit_idx; /* tokens of the last decode */
    int32_t last_logit;  /* row of the last token with logits, or -1 */
    int32_t *pos, *seqs; /* (n_batch) per-piece scratch */
    int8_t *want;        /* (n_batch) */
    int32_t *next_pos;   /* (n_seq) */
    hearth_ctx_timings timings;
};

/* As hearth_ctx_decode; if hidden is non-NULL it receives the final normed
 * hidden states, (n_tokens, n_embd). */
hearth_status hearth_ctx_decode_ex(hearth_ctx *c, const hearth_batch *b, float *hidden,
                                   hearth_error *err);

/* Monotonic clock in milliseconds. Any thread. */
double hearth_now_ms(void);

#endif
