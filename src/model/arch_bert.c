/*
 * arch_bert.c: the "bert" architecture (BERT, MiniLM, BGE, ... as llama.cpp's
 * converter writes them): an encoder, loaded and run here on its own, with
 * none of forward.c's decoder block.
 *
 * Forward pass for one sentence of n tokens (all positions see each other:
 * no causal mask, no KV cache):
 *   x = LayerNorm(token_embd[t] + token_types[0] + position_embd[i])
 *   per layer:
 *     a = softmax(Q K^T / sqrt(head_dim)) V per head, Q/K/V with biases
 *     x = LayerNorm(x + attn_output(a) + b)          (attn_output_norm)
 *     x = LayerNorm(x + ffn_down(GELU(ffn_up(x) + b)) + b)  (layer_output_norm)
 *   pooled = mean over tokens, or the first ([CLS]) token, or the last, as
 *   bert.pooling_type says (1 mean, 2 cls, 3 last; absent: mean)
 *   out = pooled / |pooled|
 * GELU is the exact one (erf), as BERT's "gelu" activation.
 *
 * Matrix products use the weight type's dot kernels (kernels/dot.h):
 * activations quantized once per product into the kernel's format, then
 * gemm over chunks of rows that the pool's threads take from a counter.
 * Tensor names and metadata keys are llama.cpp's; shapes are checked.
 */
#include "model/encoder.h"

#include "kernels/types.h"
#include "util/alloc.h"
#include "util/error.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    hearth_mat wq, wk, wv, wo, up, down;
    float *bq, *bk, *bv, *bo, *bup, *bdown;
    float *ln1_w, *ln1_b, *ln2_w, *ln2_b;
} bert_layer;

struct hearth_bert {
    hearth_mat type_embd, pos_embd;
    float *emb_norm_w, *emb_norm_b;
    bert_layer *layers;
    int pooling;  /* POOL_* */
    float eps;
};

enum { POOL_MEAN = 1, POOL_CLS = 2, POOL_LAST = 3 };

void hearth_bert_free(struct hearth_bert *b) {
    if (!b) return;
    hearth_free(b->layers);
    hearth_free(b);
}

bool hearth_model_is_encoder(const hearth_model *m) { return m && m->bert; }

/* "bert.<suffix>" as an integer in [lo, hi]; absent: def, or an error if
 * required. */
static hearth_status get_u(const hearth_model *m, const char *suffix, int32_t *out, bool required,
                           int32_t def, int64_t lo, int64_t hi, hearth_error *err) {
    char key[96];
    snprintf(key, sizeof key, "bert.%s", suffix);
    int64_t v;
    hearth_status st = hearth_gguf_get_int(m->gguf, key, &v, err);
    if (st == HEARTH_E_NOTFOUND) {
        hearth_error_clear(err);
        if (required) return HEARTH_FAIL(err, HEARTH_E_FORMAT, "metadata key '%s' missing", key);
        *out = def;
        return HEARTH_OK;
    }
    if (st) return st;
    if (v < lo || v > hi)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "metadata key '%s' = %lld, outside [%lld, %lld]",
                           key, (long long)v, (long long)lo, (long long)hi);
    *out = (int32_t)v;
    return HEARTH_OK;
}

static uint64_t mat_bytes(const hearth_mat *w) { return (uint64_t)w->row_size * (uint64_t)w->nrows; }

hearth_status hearth_arch_bert_load(struct hearth_model *m, hearth_error *err) {
    hearth_hparams *hp = &m->hp;
    hearth_status st;
    int32_t pooling;
    if ((st = get_u(m, "context_length", &hp->n_ctx_train, true, 0, 1, 1 << 20, err)) ||
        (st = get_u(m, "embedding_length", &hp->n_embd, true, 0, 1, 1 << 16, err)) ||
        (st = get_u(m, "block_count", &hp->n_layer, true, 0, 1, 1024, err)) ||
        (st = get_u(m, "feed_forward_length", &hp->n_ff, true, 0, 1, 1 << 20, err)) ||
        (st = get_u(m, "attention.head_count", &hp->n_head, true, 0, 1, 4096, err)) ||
        (st = get_u(m, "pooling_type", &pooling, false, POOL_MEAN, 0, 4, err)))
        return st;
    bool causal = false;
    st = hearth_gguf_get_bool(m->gguf, "bert.attention.causal", &causal, err);
    if (st && st != HEARTH_E_NOTFOUND) return st;
    hearth_error_clear(err);
    if (causal)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "metadata key 'bert.attention.causal' is true "
                           "(hearth runs bert as a bidirectional encoder)");
    if (pooling == 4)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED,
                           "metadata key 'bert.pooling_type' = 4 (rank: a reranker, not supported)");
    if (hp->n_embd % hp->n_head)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "bert: embedding_length %d is not a multiple of "
                           "head_count %d", hp->n_embd, hp->n_head);
    double eps = 1e-12;
    st = hearth_gguf_get_float(m->gguf, "bert.attention.layer_norm_epsilon", &eps, err);
    if (st && st != HEARTH_E_NOTFOUND) return st;
    hearth_error_clear(err);
    if (!(eps > 0) || eps > 1)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "metadata key 'bert.attention.layer_norm_epsilon' "
                           "= %g, must be in (0, 1]", eps);
    hp->n_head_kv = hp->n_head;
    hp->head_dim = hp->n_embd / hp->n_head;
    hp->n_rot = 0;
    hp->rms_eps = (float)eps;

    const hearth_gguf_tensor *te = hearth_gguf_find_tensor(m->gguf, "token_embd.weight");
    if (!te) return HEARTH_FAIL(err, HEARTH_E_FORMAT, "tensor 'token_embd.weight' missing");
    if (te->ne[1] < 1 || te->ne[1] > (1 << 24))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "tensor 'token_embd.weight': %lld rows",
                           (long long)te->ne[1]);
    hp->n_vocab = (int32_t)te->ne[1];
    const hearth_gguf_tensor *tt = hearth_gguf_find_tensor(m->gguf, "token_types.weight");
    int64_t n_types = tt ? tt->ne[1] : 0;
    if (n_types < 1 || n_types > 16)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "tensor 'token_types.weight' %s",
                           tt ? "has 0 or more than 16 rows" : "missing");

    struct hearth_bert *b = hearth_calloc(1, sizeof *b);
    if (!b) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "bert: out of memory");
    m->bert = b;
    b->pooling = pooling == 0 ? POOL_MEAN : pooling;
    b->eps = (float)eps;
    int64_t d = hp->n_embd, ff = hp->n_ff;
    if ((st = hearth_model_get_mat(m, &m->tok_embd, "token_embd.weight", -1, d, hp->n_vocab, true, err)) ||
        (st = hearth_model_get_mat(m, &b->type_embd, "token_types.weight", -1, d, n_types, true, err)) ||
        (st = hearth_model_get_mat(m, &b->pos_embd, "position_embd.weight", -1, d, hp->n_ctx_train, true, err)) ||
        (st = hearth_model_get_vec(m, &b->emb_norm_w, "token_embd_norm.weight", -1, d, true, err)) ||
        (st = hearth_model_get_vec(m, &b->emb_norm_b, "token_embd_norm.bias", -1, d, true, err)))
        return st;
    b->layers = hearth_calloc((size_t)hp->n_layer, sizeof *b->layers);
    if (!b->layers) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "bert: out of memory for layers");
    uint64_t wb = mat_bytes(&m->tok_embd) + mat_bytes(&b->type_embd) + mat_bytes(&b->pos_embd);
    for (int il = 0; il < hp->n_layer; il++) {
        bert_layer *L = &b->layers[il];
        if ((st = hearth_model_get_mat(m, &L->wq, "blk.%d.attn_q.weight", il, d, d, true, err)) ||
            (st = hearth_model_get_mat(m, &L->wk, "blk.%d.attn_k.weight", il, d, d, true, err)) ||
            (st = hearth_model_get_mat(m, &L->wv, "blk.%d.attn_v.weight", il, d, d, true, err)) ||
            (st = hearth_model_get_mat(m, &L->wo, "blk.%d.attn_output.weight", il, d, d, true, err)) ||
            (st = hearth_model_get_mat(m, &L->up, "blk.%d.ffn_up.weight", il, d, ff, true, err)) ||
            (st = hearth_model_get_mat(m, &L->down, "blk.%d.ffn_down.weight", il, ff, d, true, err)) ||
            (st = hearth_model_get_vec(m, &L->bq, "blk.%d.attn_q.bias", il, d, true, err)) ||
            (st = hearth_model_get_vec(m, &L->bk, "blk.%d.attn_k.bias", il, d, true, err)) ||
            (st = hearth_model_get_vec(m, &L->bv, "blk.%d.attn_v.bias", il, d, true, err)) ||
            (st = hearth_model_get_vec(m, &L->bo, "blk.%d.attn_output.bias", il, d, true, err)) ||
            (st = hearth_model_get_vec(m, &L->bup, "blk.%d.ffn_up.bias", il, ff, true, err)) ||
            (st = hearth_model_get_vec(m, &L->bdown, "blk.%d.ffn_down.bias", il, d, true, err)) ||
            (st = hearth_model_get_vec(m, &L->ln1_w, "blk.%d.attn_output_norm.weight", il, d, true, err)) ||
            (st = hearth_model_get_vec(m, &L->ln1_b, "blk.%d.attn_output_norm.bias", il, d, true, err)) ||
            (st = hearth_model_get_vec(m, &L->ln2_w, "blk.%d.layer_output_norm.weight", il, d, true, err)) ||
            (st = hearth_model_get_vec(m, &L->ln2_b, "blk.%d.layer_output_norm.bias", il, d, true, err)))
            return st;
        wb += mat_bytes(&L->wq) + mat_bytes(&L->wk) + mat_bytes(&L->wv) + mat_bytes(&L->wo) +
              mat_bytes(&L->up) + mat_bytes(&L->down);
    }
    m->weight_bytes = wb;
    m->output = m->tok_embd; /* never used: an encoder has no logits */
    return HEARTH_OK;
}

/* ---- forward ---------------------------------------------------------------- */

static void layernorm(float *x, const float *w, const float *b, int64_t n, float eps) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; i++) mean += x[i];
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++) var += ((double)x[i] - mean) * ((double)x[i] - mean);
    float s = (float)(1.0 / sqrt(var / (double)n + eps));
    for (int64_t i = 0; i < n; i++) x[i] = ((float)(x[i] - mean)) * s * w[i] + b[i];
}

typedef struct {
    const hearth_mat *w;
    const float *bias;
    float *out;        /* (n, w->nrows) */
    const uint8_t *act;
    size_t act_row;
    int32_t n;
    int64_t n_tasks, row_chunk;
    atomic_llong next;
} mm;

enum { COL_TILE = 64, ROW_CHUNK = 32 };

static void mm_task(void *arg, int ith, int nth) {
    (void)ith;
    (void)nth;
    mm *j = arg;
    const hearth_mat *w = j->w;
    int64_t n_rc = (w->nrows + j->row_chunk - 1) / j->row_chunk;
    for (int64_t t; (t = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < j->n_tasks;) {
        int64_t rc = t % n_rc, ct = t / n_rc;
        int64_t r0 = rc * j->row_chunk, r1 = r0 + j->row_chunk < w->nrows ? r0 + j->row_chunk : w->nrows;
        int64_t c0 = ct * COL_TILE, c1 = c0 + COL_TILE < j->n ? c0 + COL_TILE : j->n;
        const uint8_t *wrow = (const uint8_t *)w->data + (size_t)r0 * w->row_size;
        w->k->gemm(w->n, r1 - r0, c1 - c0, j->out + c0 * w->nrows + r0, w->nrows, wrow,
                   w->row_size, j->act + (size_t)c0 * j->act_row, j->act_row);
        if (j->bias)
            for (int64_t c = c0; c < c1; c++)
                for (int64_t r = r0; r < r1; r++) j->out[c * w->nrows + r] += j->bias[r];
    }
}

/* out (n, w->nrows) = x (n, w->n) times w's rows, plus bias. act: scratch
 * of n * act_row bytes. */
static void matmul(hearth_threadpool *pool, const hearth_mat *w, const float *bias, const float *x,
                   int32_t n, float *out, uint8_t *act, size_t act_row) {
    for (int32_t t = 0; t < n; t++) w->k->quantize_act(x + (size_t)t * w->n, act + (size_t)t * act_row, w->n);
    mm j = {.w = w, .bias = bias, .out = out, .act = act, .act_row = act_row, .n = n,
            .row_chunk = ROW_CHUNK};
    j.n_tasks = ((w->nrows + ROW_CHUNK - 1) / ROW_CHUNK) * ((n + COL_TILE - 1) / COL_TILE);
    atomic_init(&j.next, 0);
    if (w->nrows * w->n * n < (1 << 17)) mm_task(&j, 0, 1);
    else hearth_threadpool_run(pool, mm_task, &j);
}

typedef struct {
    const float *q, *k, *v; /* (n, d) each */
    float *out;             /* (n, d) */
    float *scores;          /* (nth, n) */
    int32_t n, n_head, hd, d;
    atomic_llong next;
} attn_job;

/* Task (token t, head h): softmax over all n positions. */
static void attn_task(void *arg, int ith, int nth) {
    (void)nth;
    attn_job *a = arg;
    float *sc = a->scores + (size_t)ith * (size_t)a->n;
    float scale = 1.0f / sqrtf((float)a->hd);
    int64_t total = (int64_t)a->n * a->n_head;
    for (int64_t task; (task = atomic_fetch_add_explicit(&a->next, 1, memory_order_relaxed)) < total;) {
        int32_t t = (int32_t)(task / a->n_head), h = (int32_t)(task % a->n_head);
        const float *q = a->q + (size_t)t * a->d + (size_t)h * a->hd;
        float mx = -INFINITY;
        for (int32_t s = 0; s < a->n; s++) {
            const float *k = a->k + (size_t)s * a->d + (size_t)h * a->hd;
            float dot = 0;
            for (int32_t i = 0; i < a->hd; i++) dot += q[i] * k[i];
            sc[s] = dot * scale;
            if (sc[s] > mx) mx = sc[s];
        }
        double sum = 0;
        for (int32_t s = 0; s < a->n; s++) {
            sc[s] = expf(sc[s] - mx);
            sum += sc[s];
        }
        float inv = (float)(1.0 / sum);
        float *o = a->out + (size_t)t * a->d + (size_t)h * a->hd;
        for (int32_t i = 0; i < a->hd; i++) o[i] = 0;
        for (int32_t s = 0; s < a->n; s++) {
            const float *v = a->v + (size_t)s * a->d + (size_t)h * a->hd;
            float p = sc[s] * inv;
            for (int32_t i = 0; i < a->hd; i++) o[i] += p * v[i];
        }
    }
}

static size_t act_row_of(const hearth_mat *w, size_t cur) {
    size_t r = w->k->act_row_size(w->n);
    return r > cur ? r : cur;
}

hearth_status hearth_encoder_embed(const hearth_model *m, hearth_threadpool *pool,
                                   const int32_t *tokens, int32_t n, float *out, hearth_error *err) {
    const struct hearth_bert *b = m->bert;
    const hearth_hparams *hp = &m->hp;
    if (!b) return HEARTH_FAIL(err, HEARTH_E_ARG, "encode: not an encoder model");
    if (n < 1 || n > hp->n_ctx_train)
        return HEARTH_FAIL(err, n < 1 ? HEARTH_E_ARG : HEARTH_E_LIMIT,
                           "embed: %d tokens (the model reads at most %d)", n, hp->n_ctx_train);
    for (int32_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= hp->n_vocab)
            return HEARTH_FAIL(err, HEARTH_E_ARG, "embed: token %d outside [0, %d)", tokens[i],
                               hp->n_vocab);
    size_t d = (size_t)hp->n_embd, ff = (size_t)hp->n_ff, nn = (size_t)n;
    size_t act_row = 0;
    for (int il = 0; il < hp->n_layer; il++) {
        const bert_layer *L = &b->layers[il];
        act_row = act_row_of(&L->wq, act_row);
        act_row = act_row_of(&L->wk, act_row);
        act_row = act_row_of(&L->wv, act_row);
        act_row = act_row_of(&L->wo, act_row);
        act_row = act_row_of(&L->up, act_row);
        act_row = act_row_of(&L->down, act_row);
    }
    act_row = (act_row + 63) & ~(size_t)63;
    int nth = hearth_threadpool_size(pool);
    float *x = hearth_malloc(nn * d * sizeof(float)), *q = hearth_malloc(nn * d * sizeof(float)),
          *k = hearth_malloc(nn * d * sizeof(float)), *v = hearth_malloc(nn * d * sizeof(float)),
          *att = hearth_malloc(nn * d * sizeof(float)), *h = hearth_malloc(nn * ff * sizeof(float)),
          *row = hearth_malloc(d * sizeof(float)),
          *scores = hearth_malloc((size_t)nth * nn * sizeof(float));
    uint8_t *act = hearth_malloc(nn * act_row);
    hearth_status st = HEARTH_OK;
    if (!x || !q || !k || !v || !att || !h || !row || !scores || !act) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "embed: out of memory for %d tokens", n);
        goto done;
    }
    const hearth_type_traits *te = hearth_type_traits_get(m->tok_embd.type),
                             *tt = hearth_type_traits_get(b->type_embd.type),
                             *tp = hearth_type_traits_get(b->pos_embd.type);
    for (int32_t t = 0; t < n; t++) {
        float *xr = x + (size_t)t * d;
        te->to_float((const uint8_t *)m->tok_embd.data + (size_t)tokens[t] * m->tok_embd.row_size, xr, (int64_t)d);
        tt->to_float(b->type_embd.data, row, (int64_t)d); /* token type 0: one sentence */
        for (size_t i = 0; i < d; i++) xr[i] += row[i];
        tp->to_float((const uint8_t *)b->pos_embd.data + (size_t)t * b->pos_embd.row_size, row, (int64_t)d);
        for (size_t i = 0; i < d; i++) xr[i] += row[i];
        layernorm(xr, b->emb_norm_w, b->emb_norm_b, (int64_t)d, b->eps);
    }
    for (int il = 0; il < hp->n_layer; il++) {
        const bert_layer *L = &b->layers[il];
        matmul(pool, &L->wq, L->bq, x, n, q, act, act_row);
        matmul(pool, &L->wk, L->bk, x, n, k, act, act_row);
        matmul(pool, &L->wv, L->bv, x, n, v, act, act_row);
        attn_job aj = {.q = q, .k = k, .v = v, .out = att, .scores = scores, .n = n,
                       .n_head = hp->n_head, .hd = hp->head_dim, .d = hp->n_embd};
        atomic_init(&aj.next, 0);
        if ((int64_t)n * n * hp->n_embd < (1 << 17)) attn_task(&aj, 0, 1);
        else hearth_threadpool_run(pool, attn_task, &aj);
        matmul(pool, &L->wo, L->bo, att, n, q, act, act_row);
        for (size_t i = 0; i < nn * d; i++) x[i] += q[i];
        for (int32_t t = 0; t < n; t++) layernorm(x + (size_t)t * d, L->ln1_w, L->ln1_b, (int64_t)d, b->eps);
        matmul(pool, &L->up, L->bup, x, n, h, act, act_row);
        for (size_t i = 0; i < nn * ff; i++) h[i] = 0.5f * h[i] * (1.0f + erff(h[i] * (float)M_SQRT1_2));
        matmul(pool, &L->down, L->bdown, h, n, q, act, act_row);
        for (size_t i = 0; i < nn * d; i++) x[i] += q[i];
        for (int32_t t = 0; t < n; t++) layernorm(x + (size_t)t * d, L->ln2_w, L->ln2_b, (int64_t)d, b->eps);
    }
    double ss = 0;
    for (size_t j = 0; j < d; j++) {
        double acc;
        if (b->pooling == POOL_CLS) acc = x[j];
        else if (b->pooling == POOL_LAST) acc = x[(nn - 1) * d + j];
        else {
            acc = 0;
            for (size_t t = 0; t < nn; t++) acc += x[t * d + j];
            acc /= (double)nn;
        }
        out[j] = (float)acc;
        ss += acc * acc;
    }
    float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    for (size_t j = 0; j < d; j++) out[j] *= inv;
done:
    hearth_free(x);
    hearth_free(q);
    hearth_free(k);
    hearth_free(v);
    hearth_free(att);
    hearth_free(h);
    hearth_free(row);
    hearth_free(scores);
    hearth_free(act);
    return st;
}
