/*
 * encoder.h: encoder models (the "bert" architecture, arch_bert.c): a whole
 * sentence in, one pooled, L2-normalized vector out. No KV cache, no
 * logits: hearth_ctx_embed calls this for such models, and decoding them is
 * refused.
 */
#ifndef HEARTH_MODEL_ENCODER_H
#define HEARTH_MODEL_ENCODER_H

#include "model/model_int.h"
#include "util/threadpool.h"

/* Embeds tokens[0..n) (1 <= n <= n_ctx_train, ids checked here) into out
 * (n_embd floats), pooled as the file says and normalized. Threads of pool
 * share the products. Any thread; one call per pool at a time. */
hearth_status hearth_encoder_embed(const hearth_model *m, hearth_threadpool *pool,
                                   const int32_t *tokens, int32_t n, float *out, hearth_error *err);

/* Frees what hearth_arch_bert_load allocated besides the model's vectors.
 * NULL is a no-op. */
void hearth_bert_free(struct hearth_bert *b);

#endif
