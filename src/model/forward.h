/*
 * forward.h: the decoder forward pass over a batch of tokens, shared by every
 * architecture (the architecture table only changes what is loaded and how
 * RoPE pairs dimensions), and the KV cache it reads and appends to.
 */
#ifndef HEARTH_MODEL_FORWARD_H
#define HEARTH_MODEL_FORWARD_H

#include "model/model_int.h"
#include "util/threadpool.h"

/* KV cache: for each layer and sequence slot, cap rows of kv_dim keys in
 * type_k (F32, F16 or Q8_0) and as many values in type_v (F32, F16, Q8_0
 * or Q4_0); a row of a block type is kv_dim / 32 blocks, each head's
 * head_dim values whole blocks of it. Sequence s holds positions [0, len[s])
 * densely. */
typedef struct {
    hearth_type type_k, type_v;
    int32_t n_layer, n_seq, cap, kv_dim;
    size_t k_row, v_row; /* bytes of one position's keys, values */
    void *k, *v;  /* (n_layer, n_seq, cap, k_row or v_row bytes) */
    int32_t *len; /* (n_seq) */
} hearth_kv_cache;

/* Allocates the cache. HEARTH_E_ARG for a type it does not hold, or a block
 * type with head_dim not a multiple of 32; HEARTH_E_NOMEM. */
hearth_status hearth_kv_init(hearth_kv_cache *kv, const hearth_hparams *hp, hearth_type type_k,
                             hearth_type type_v, int32_t n_seq, int32_t cap, hearth_error *err);
void hearth_kv_free(hearth_kv_cache *kv);

/* Scratch for batches of up to n_batch tokens (owned by a context). */
typedef struct hearth_fwd_buf hearth_fwd_buf;

/* OUT: *out owns the buffers (hearth_fwd_buf_free). */
hearth_status hearth_fwd_buf_new(const hearth_model *m, int32_t n_batch, int32_t cap, int nth,
                                 hearth_fwd_buf **out, hearth_error *err);
void hearth_fwd_buf_free(hearth_fwd_buf *b);

/* Optional observer of the matrix products (hearth imatrix): called on the
 * forward pass's thread with each weight matrix and the n rows of w->n float
 * activations it is about to multiply (after any norm), for every product
 * of a layer and the output. fn NULL turns it off. */
typedef void (*hearth_fwd_observer)(void *ud, const hearth_mat *w, const float *x, int32_t n);
void hearth_fwd_buf_set_observer(hearth_fwd_buf *b, hearth_fwd_observer fn, void *ud);

/* Attention tiling (defaults: 256, 64, 128): positions per piece of one
 * kernel call (bounds the scores scratch), most query rows a block of
 * prefill tokens gathers (tokens of one sequence sharing each key and value
 * read), and fewest positions a decode split piece gets (flash-decoding: a
 * token's head split over threads). Each <= 0 keeps its value; rows is cut
 * to what the buffers were made for. Results agree with any tiling up to
 * rounding; tests set odd sizes to reach every boundary. */
void hearth_fwd_buf_set_attn_tiles(hearth_fwd_buf *b, int32_t chunk, int32_t rows, int32_t split_min);

/* One batch through the model. Caller has checked: 1 <= n <= n_batch, token
 * ids in range, seq[i] in range, pos[i] == the next free position of seq[i]
 * in batch order, and room in the cache. Appends keys/values, updates
 * kv->len. For each i with want[i] (want NULL: only i = n-1) writes n_vocab
 * logits to logits + k*n_vocab, k counting the wanted tokens in order. If
 * hidden is non-NULL, it receives (n, n_embd) final normed hidden states.
 * Cannot fail. */
void hearth_forward(const hearth_model *m, hearth_kv_cache *kv, hearth_threadpool *pool,
                    hearth_fwd_buf *b, int32_t n, const int32_t *tokens, const int32_t *pos,
                    const int32_t *seq, const int8_t *want, float *logits, float *hidden);

#endif
