/*
 * imatrix_collect.c: `hearth imatrix`'s measurement: the model runs over
 * calibration tokens in windows of n_ctx (as llama-imatrix: each window from
 * an empty context, its first token replaced by BOS when the model adds
 * one), and the forward pass's observer hook (model/forward.h) adds the
 * float activations entering each weight matrix to that matrix's entry.
 * Matrices are named by their GGUF tensor (found by data pointer). The
 * output matrix is left out, as llama-imatrix does by default (it is
 * always quantized to Q6_K or better, and its input is the last hidden
 * state, which the other entries do not need).
 */
#include "quant/imatrix.h"

#include "engine/ctx_int.h"
#include "model/model_int.h"
#include "util/alloc.h"
#include "util/error.h"

#include <string.h>

typedef struct {
    const void *data;
    const char *name;
} named;

typedef struct {
    hearth_imatrix *im;
    named *mats;
    int64_t n_mats;
    const void *skip; /* the output matrix */
    hearth_status st;
    hearth_error *err;
} collector;

static void on_matmul(void *ud, const hearth_mat *w, const float *x, int32_t n) {
    collector *c = ud;
    if (c->st || w->data == c->skip) return;
    for (int64_t i = 0; i < c->n_mats; i++) {
        if (c->mats[i].data == w->data) {
            c->st = hearth_imatrix_add(c->im, c->mats[i].name, x, n, w->n, c->err);
            return;
        }
    }
}

hearth_status hearth_imatrix_collect(const hearth_model *m, const int32_t *tokens, size_t n,
                                     int32_t n_ctx, int32_t max_chunks, int n_threads,
                                     hearth_imatrix *im,
                                     void (*progress)(void *ud, int32_t chunk, int32_t n_chunks),
                                     void *ud, hearth_error *err) {
    if (n_ctx < 2 || n < (size_t)n_ctx)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "imatrix: %zu tokens, fewer than one chunk of %d", n,
                           n_ctx);
    int64_t n_chunks = (int64_t)(n / (size_t)n_ctx);
    if (max_chunks > 0 && n_chunks > max_chunks) n_chunks = max_chunks;
    collector c = {.im = im, .skip = m->output.data, .err = err};
    int64_t nt = hearth_gguf_n_tensors(m->gguf);
    c.mats = hearth_calloc((size_t)(nt ? nt : 1), sizeof *c.mats);
    int32_t *chunk = hearth_malloc((size_t)n_ctx * sizeof *chunk);
    hearth_ctx *ctx = NULL;
    hearth_status st = HEARTH_OK;
    if (!c.mats || !chunk) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "imatrix: out of memory");
        goto out;
    }
    for (int64_t i = 0; i < nt; i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(m->gguf, i);
        if (t->n_dims >= 2 && t->data) c.mats[c.n_mats++] = (named){t->data, t->name};
    }
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = n_ctx;
    cp.n_threads = n_threads;
    if ((st = hearth_ctx_new(m, &cp, &ctx, err))) goto out;
    hearth_fwd_buf_set_observer(ctx->buf, on_matmul, &c);
    const hearth_tokenizer *tok = hearth_model_tokenizer(m);
    int32_t bos = tok ? hearth_token_bos(tok) : -1;
    bool add_bos = tok && hearth_tokenizer_add_bos(tok) && bos >= 0;
    for (int64_t ci = 0; ci < n_chunks; ci++) {
        memcpy(chunk, tokens + (size_t)ci * (size_t)n_ctx, (size_t)n_ctx * sizeof *chunk);
        if (add_bos) chunk[0] = bos;
        if ((st = hearth_ctx_seq_clear(ctx, -1, err))) goto out;
        hearth_batch b = {.n_tokens = n_ctx, .tokens = chunk};
        if ((st = hearth_ctx_decode(ctx, &b, err))) goto out;
        if ((st = c.st)) goto out;
        im->n_chunks++;
        if (progress) progress(ud, (int32_t)(ci + 1), (int32_t)n_chunks);
    }
out:
    if (ctx) hearth_fwd_buf_set_observer(ctx->buf, NULL, NULL);
    hearth_ctx_free(ctx);
    hearth_free(chunk);
    hearth_free(c.mats);
    return st;
}
