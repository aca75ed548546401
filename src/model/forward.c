/*
 * forward.c: the decoder forward pass (RMSNorm, RoPE, grouped-query causal
 * attention over the KV cache, gated feed-forward, tied or separate output)
 * for a batch of tokens that may belong to several sequences.
 *
 * The block is made of parts that architectures choose between through
 * hearth_hparams and the optional tensors of hearth_layer (model_int.h),
 * never by testing the architecture: embedding scale, biases on q/k/v,
 * RMSNorm of each q and k head, RoPE pairing and one of two frequency sets
 * per layer, full or sliding-window attention per layer, the attention
 * scale, norms after attention and feed-forward (before their residual
 * add), the gate activation, and final logit soft-capping. Fused tensors are
 * split into row ranges at load, so this file never sees them.
 *
 * Matrix products run straight from the mapped weights through the kernels
 * of kernels/dot.h: activations are quantized once per step into the format
 * each weight type wants, then gemv (one token) or gemm (a batch) over row
 * chunks that the pool's threads take from a shared counter, so a thread
 * that was descheduled does not hold the others up. Biases and residual adds
 * are fused into the chunk that produced the rows.
 *
 * Attention runs in units taken from a shared counter too (attn_plan):
 * consecutive prefill tokens of one sequence are gathered into blocks of up
 * to 64 query rows per KV head, so each key and value row is converted and
 * read once per block; a lone token's KV head (decode) is split over
 * positions when there are too few units for the threads, each piece with
 * its rows' score maxima and exp-sums, merged after (flash-decoding). Every
 * kernel call covers at most 256 positions, so the scores scratch does not
 * grow with the context.
 *
 * Buffer shapes are given as (rows, columns), row-major; a "row" is one
 * token unless said otherwise.
 */
#include "model/forward.h"

#include "kernels/fp16.h"
#include "kernels/types.h"
#include "model/attn.h"
#include "util/alloc.h"
#include "util/error.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

struct hearth_fwd_buf {
    int32_t n_batch, cap, nth;
    float *x;     /* (n_batch, n_embd) residual stream */
    float *xn;    /* (n_batch, n_embd) normed */
    float *q;     /* (n_batch, q_dim) */
    float *k, *v; /* (n_batch, kv_dim) */
    float *att;   /* (n_batch, q_dim) attention output */
    float *gate;  /* (n_batch, n_ff) */
    float *up;    /* (n_batch, n_ff) */
    float *tmp;   /* (n_batch, max(n_embd, ...)) product before a residual add */
    float *cs[HEARTH_ROPE_SETS];       /* (n_batch, n_rot) cos, sin interleaved per pair */
    float *inv_freq[HEARTH_ROPE_SETS]; /* (n_rot/2) */
    uint8_t *act[3]; /* (n_batch, act_row) quantized activations */
    size_t act_row;  /* bytes per quantized row, enough for any matrix */
    /* attention (attn_step): tiles, per-thread scratch, units of work */
    int32_t a_chunk, a_rows, a_rows_cap, a_split_min;
    float *scores;   /* (nth, a_rows_cap, a_chunk) attention weights of one piece */
    float *rowbuf;   /* (nth, 2*head_dim) a K/V row converted to float */
    float *ascr;     /* (nth, ascr_n) gathered queries, outputs, maxima/sums */
    size_t ascr_n;
    float *part;     /* (n_slots, group*hd + 2*group) decode split pieces */
    int32_t n_slots;
    struct attn_unit *units; /* (n_batch * n_head_kv + n_slots) */
    float *lx;       /* (n_batch, n_embd) rows that want logits, normed */
    hearth_attn_fn attn; /* chosen for this CPU once per context */
    hearth_from_float_fn store_f16; /* F16 keys and values into the cache */
    hearth_fwd_observer observe; /* optional (hearth_fwd_buf_set_observer) */
    void *observe_ud;
};

/* One unit of attention work: tokens [t0, t0+nt) of one sequence (their
 * positions consecutive) against KV head h; with slot >= 0 (nt == 1) only
 * positions [p0, p1) of the token's range, into partial slot `slot`. */
typedef struct attn_unit {
    int32_t t0, nt, h, p0, p1, slot;
} attn_unit;

/* ATTN_UNITS: the fewest units a step's attention should have before lone
 * tokens are split; fixed, not taken from the thread count, so that the
 * result of a step does not depend on how many threads ran it. */
enum { ATTN_CHUNK = 256, ATTN_ROWS = 64, ATTN_SPLIT_MIN = 128, ATTN_UNITS = 32 };

void hearth_fwd_buf_set_attn_tiles(hearth_fwd_buf *b, int32_t chunk, int32_t rows, int32_t split_min) {
    if (chunk > 0) b->a_chunk = chunk < ATTN_CHUNK ? chunk : ATTN_CHUNK; /* scores hold ATTN_CHUNK */
    if (rows > 0) b->a_rows = rows < b->a_rows_cap ? rows : b->a_rows_cap;
    if (split_min > 0) b->a_split_min = split_min;
}

void hearth_fwd_buf_set_observer(hearth_fwd_buf *b, hearth_fwd_observer fn, void *ud) {
    b->observe = fn;
    b->observe_ud = ud;
}

/* ---- KV cache --------------------------------------------------------------- */

static bool kv_type_ok(hearth_type t, bool is_v) {
    return t == HEARTH_TYPE_F16 || t == HEARTH_TYPE_F32 || t == HEARTH_TYPE_Q8_0 ||
           (is_v && t == HEARTH_TYPE_Q4_0);
}

hearth_status hearth_kv_init(hearth_kv_cache *kv, const hearth_hparams *hp, hearth_type type_k,
                             hearth_type type_v, int32_t n_seq, int32_t cap, hearth_error *err) {
    memset(kv, 0, sizeof *kv);
    for (int w = 0; w < 2; w++) {
        hearth_type t = w ? type_v : type_k;
        const char *name = hearth_type_name((int)t) ? hearth_type_name((int)t) : "?";
        if (!kv_type_ok(t, w))
            return HEARTH_FAIL(err, HEARTH_E_ARG, "KV cache: %s type %s not supported (%s)",
                               w ? "value" : "key", name, w ? "f16, f32, q8_0 or q4_0" : "f16, f32 or q8_0");
        /* blocks of 32 must not straddle heads: a head is read on its own */
        if (t != HEARTH_TYPE_F16 && t != HEARTH_TYPE_F32 && hp->head_dim % 32)
            return HEARTH_FAIL(err, HEARTH_E_ARG,
                               "KV cache: %s type %s needs a head size that is a multiple of 32; this "
                               "model's is %d (use f16)", w ? "value" : "key", name, hp->head_dim);
    }
    kv->type_k = type_k;
    kv->type_v = type_v;
    kv->n_layer = hp->n_layer;
    kv->n_seq = n_seq;
    kv->cap = cap;
    kv->kv_dim = hp->n_head_kv * hp->head_dim;
    kv->k_row = hearth_attn_bytes(type_k, (size_t)kv->kv_dim);
    kv->v_row = hearth_attn_bytes(type_v, (size_t)kv->kv_dim);
    size_t n, nk, nv;
    if (__builtin_mul_overflow((size_t)hp->n_layer * (size_t)n_seq, (size_t)cap, &n) ||
        __builtin_mul_overflow(n, kv->k_row, &nk) || __builtin_mul_overflow(n, kv->v_row, &nv))
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "KV cache size overflows");
    kv->k = hearth_malloc(nk);
    kv->v = hearth_malloc(nv);
    kv->len = hearth_calloc((size_t)n_seq, sizeof *kv->len);
    if (!kv->k || !kv->v || !kv->len) {
        hearth_kv_free(kv);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "KV cache: cannot allocate %zu + %zu bytes", nk, nv);
    }
    return HEARTH_OK;
}

void hearth_kv_free(hearth_kv_cache *kv) {
    hearth_free(kv->k);
    hearth_free(kv->v);
    hearth_free(kv->len);
    memset(kv, 0, sizeof *kv);
}

/* ---- scratch ----------------------------------------------------------------- */

static size_t max_act_row(const hearth_mat *w, size_t cur) {
    size_t r = w->k->act_row_size(w->n);
    return r > cur ? r : cur;
}

hearth_status hearth_fwd_buf_new(const hearth_model *m, int32_t n_batch, int32_t cap, int nth,
                                 hearth_fwd_buf **out, hearth_error *err) {
    *out = NULL;
    const hearth_hparams *hp = &m->hp;
    hearth_fwd_buf *b = hearth_calloc(1, sizeof *b);
    if (!b) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "forward buffers: out of memory");
    b->n_batch = n_batch;
    b->cap = cap;
    b->nth = nth;
    size_t nb = (size_t)n_batch, d = (size_t)hp->n_embd, qd = (size_t)hp->n_head * hp->head_dim,
           kvd = (size_t)hp->n_head_kv * hp->head_dim, ff = (size_t)hp->n_ff;
    size_t wide = d > qd ? d : qd;
    size_t act = max_act_row(&m->output, 0);
    for (int il = 0; il < hp->n_layer; il++) {
        const hearth_layer *L = &m->layers[il];
        act = max_act_row(&L->wq, act);
        act = max_act_row(&L->wk, act);
        act = max_act_row(&L->wv, act);
        act = max_act_row(&L->wo, act);
        act = max_act_row(&L->w_gate, act);
        act = max_act_row(&L->w_up, act);
        act = max_act_row(&L->w_down, act);
    }
    act = (act + 63) & ~(size_t)63;
    b->act_row = act;
    size_t group = (size_t)(hp->n_head / hp->n_head_kv);
    b->x = hearth_malloc(nb * d * sizeof(float));
    b->xn = hearth_malloc(nb * d * sizeof(float));
    b->q = hearth_malloc(nb * qd * sizeof(float));
    b->k = hearth_malloc(nb * kvd * sizeof(float));
    b->v = hearth_malloc(nb * kvd * sizeof(float));
    b->att = hearth_malloc(nb * qd * sizeof(float));
    b->gate = hearth_malloc(nb * ff * sizeof(float));
    b->up = hearth_malloc(nb * ff * sizeof(float));
    b->tmp = hearth_malloc(nb * wide * sizeof(float));
    for (int r = 0; r < hp->n_rope_sets; r++) {
        b->cs[r] = hearth_malloc(nb * (size_t)hp->n_rot * sizeof(float));
        b->inv_freq[r] = hearth_malloc((size_t)hp->n_rot / 2 * sizeof(float) + sizeof(float));
    }
    /* a block of prefill tokens: whole groups of query rows, at least one */
    size_t hd = (size_t)hp->head_dim;
    size_t rows = group > ATTN_ROWS ? group : ATTN_ROWS / group * group;
    b->a_chunk = ATTN_CHUNK;
    b->a_rows = b->a_rows_cap = (int32_t)rows;
    b->a_split_min = ATTN_SPLIT_MIN;
    b->n_slots = 2 * ATTN_UNITS;
    /* queries, outputs, maxima/sums of the block; a piece's output and
     * maxima/sums (hearth_attn_chunked's tmp); one token's extra range */
    b->ascr_n = rows * hd * 2 + rows * 2 + (rows * hd + rows * 2) + (group * hd + group * 2);
    b->scores = hearth_malloc((size_t)nth * rows * ATTN_CHUNK * sizeof(float));
    b->rowbuf = hearth_malloc((size_t)nth * 2 * hd * sizeof(float));
    b->ascr = hearth_malloc((size_t)nth * b->ascr_n * sizeof(float));
    b->part = hearth_malloc((size_t)b->n_slots * (group * hd + group * 2) * sizeof(float));
    b->units = hearth_malloc(((size_t)n_batch * (size_t)hp->n_head_kv + (size_t)b->n_slots) *
                             sizeof *b->units);
    b->lx = hearth_malloc(nb * d * sizeof(float));
    bool ok = b->x && b->xn && b->q && b->k && b->v && b->att && b->gate && b->up && b->tmp &&
              b->scores && b->rowbuf && b->ascr && b->part && b->units && b->lx;
    for (int r = 0; r < hp->n_rope_sets; r++) ok = ok && b->cs[r] && b->inv_freq[r];
    for (int i = 0; i < 3 && ok; i++) ok = (b->act[i] = hearth_malloc(nb * act)) != NULL;
    if (!ok) {
        hearth_fwd_buf_free(b);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "forward buffers for a batch of %d: out of memory",
                           n_batch);
    }
    b->attn = hearth_attn_pick(hp->head_dim);
    b->store_f16 = hearth_f16_store_pick();
    /* Per-frequency divisors: Llama 3.x's rope_freqs, or LongRoPE's long
     * factors when this context is longer than the original one. */
    const float *div = m->rope_freqs;
    if (m->rope_long) div = cap > hp->n_ctx_orig ? m->rope_long : m->rope_short;
    for (int r = 0; r < hp->n_rope_sets; r++)
        for (int i = 0; i < hp->n_rot / 2; i++) {
            double f = pow((double)hp->rope_base[r], -2.0 * i / hp->n_rot) * hp->rope_scale[r];
            if (div) f /= div[i];
            b->inv_freq[r][i] = (float)f;
        }
    *out = b;
    return HEARTH_OK;
}

void hearth_fwd_buf_free(hearth_fwd_buf *b) {
    if (!b) return;
    float *fs[] = {b->x,   b->xn,     b->q,         b->k,         b->v,      b->att,
                   b->gate, b->up,    b->tmp,       b->cs[0],     b->cs[1],  b->inv_freq[0],
                   b->inv_freq[1], b->scores, b->rowbuf, b->ascr, b->part, b->lx};
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++) hearth_free(fs[i]);
    for (int i = 0; i < 3; i++) hearth_free(b->act[i]);
    hearth_free(b->units);
    hearth_free(b);
}

/* ---- row-parallel helpers ---------------------------------------------------------- */

static void rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps) {
    double ss = 0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float s = (float)(1.0 / sqrt(ss / (double)n + eps));
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * s * w[i];
}

/* ---- matrix products ------------------------------------------------------------------ */

typedef struct {
    const hearth_mat *w;
    float *out;           /* (ncols, w->nrows) */
    const float *bias;    /* (w->nrows) or NULL */
    float *residual;      /* (ncols, w->nrows): += out rows, or NULL */
    const uint8_t *act;   /* (ncols, act_row) quantized input */
} mm_item;

typedef struct {
    int n_items;
    mm_item it[3];
    int64_t ncols;
    size_t act_stride;
    int64_t row_chunk, col_tile;
    int64_t n_tasks;
    int64_t tasks_before[4]; /* prefix sums of each item's task count */
    atomic_llong next;
} mm_job;

/* Columns (tokens) per tile: keeps a tile of quantized activations in L2
 * while the weight rows stream past. */
enum { COL_TILE = 64 };

/* Multiply-adds below which a step runs on the calling thread alone. */
enum { SMALL_WORK = 1 << 17 };
/* Elements below which a row-wise step (norm, quantize, RoPE, SwiGLU) runs on
 * the calling thread alone: one token's rows are never worth a dispatch. */
enum { SMALL_ROWS = 1 << 14 };

static void mm_task(void *arg, int ith, int nth) {
    (void)ith;
    (void)nth;
    mm_job *j = arg;
    for (;;) {
        int64_t t = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (t >= j->n_tasks) return;
        int ii = 0;
        while (t >= j->tasks_before[ii + 1]) ii++;
        const mm_item *it = &j->it[ii];
        const hearth_mat *w = it->w;
        int64_t local = t - j->tasks_before[ii];
        int64_t n_row_chunks = (w->nrows + j->row_chunk - 1) / j->row_chunk;
        int64_t ct = local / n_row_chunks, rc = local % n_row_chunks;
        int64_t r0 = rc * j->row_chunk, r1 = r0 + j->row_chunk < w->nrows ? r0 + j->row_chunk : w->nrows;
        int64_t c0 = ct * j->col_tile, c1 = c0 + j->col_tile < j->ncols ? c0 + j->col_tile : j->ncols;
        const uint8_t *wrow = (const uint8_t *)w->data + (size_t)r0 * w->row_size;
        int64_t nrows = w->nrows;
        float *out = it->out + c0 * nrows + r0;
        if (c1 - c0 == 1)
            w->k->gemv(w->n, r1 - r0, out, wrow, w->row_size, it->act + (size_t)c0 * j->act_stride);
        else
            w->k->gemm(w->n, r1 - r0, c1 - c0, out, nrows, wrow, w->row_size,
                       it->act + (size_t)c0 * j->act_stride, j->act_stride);
        for (int64_t c = c0; c < c1; c++) {
            float *o = it->out + c * nrows;
            if (it->bias)
                for (int64_t r = r0; r < r1; r++) o[r] += it->bias[r];
            if (it->residual) {
                float *x = it->residual + c * nrows;
                for (int64_t r = r0; r < r1; r++) x[r] += o[r];
            }
        }
    }
}

/* Every weight matrix product of the forward pass goes through here. */
static void mm_run(hearth_threadpool *pool, mm_job *j) {
    j->col_tile = j->ncols < COL_TILE ? j->ncols : COL_TILE;
    /* gemv: about 16 chunks per thread (a shared counter costs a cache-line
     * transfer per chunk, so not thousands; uneven thread speed on a busy
     * machine still evens out); gemm: small row chunks under a column tile */
    if (j->ncols == 1) {
        int64_t rows = 0;
        for (int i = 0; i < j->n_items; i++) rows += j->it[i].w->nrows;
        int64_t c = rows / ((int64_t)hearth_threadpool_size(pool) * 16);
        j->row_chunk = c < 32 ? 32 : (c + 15) & ~(int64_t)15;
    } else {
        j->row_chunk = 64; /* each gemm call re-arranges its activation columns: amortize over 64 rows */
    }
    j->tasks_before[0] = 0;
    for (int i = 0; i < j->n_items; i++) {
        int64_t rows = (j->it[i].w->nrows + j->row_chunk - 1) / j->row_chunk;
        int64_t cols = (j->ncols + j->col_tile - 1) / j->col_tile;
        j->tasks_before[i + 1] = j->tasks_before[i] + rows * cols;
    }
    j->n_tasks = j->tasks_before[j->n_items];
    atomic_init(&j->next, 0);
    /* Small products cost less than waking the other threads. */
    int64_t macs = 0;
    for (int i = 0; i < j->n_items; i++) macs += j->it[i].w->nrows * j->it[i].w->n * j->ncols;
    if (macs < SMALL_WORK) mm_task(j, 0, 1);
    else hearth_threadpool_run(pool, mm_task, j);
}

/* ---- the per-step job: one struct, several phases ----------------------------------- */

typedef struct {
    const hearth_model *m;
    hearth_kv_cache *kv;
    hearth_fwd_buf *b;
    int32_t n;
    const int32_t *tokens, *pos, *seq;
    int il;
    /* quantization phase: rows of src (n_src cols) into the act buffers of
     * up to 3 matrices (deduplicated by quantize function) */
    const float *qsrc;
    int64_t qn;
    const hearth_mat *qw[3];
    int n_qw;
    const float *norm_w; /* if set, qsrc is first normed into xn */
    int32_t n_units;     /* attention: b->units[0..n_units) (attn_plan) */
    atomic_llong next;
} step;

/* Which act buffer matrix i of the phase uses: the first matrix with the
 * same quantize function. */
static int act_slot(const step *s, int i) {
    for (int k = 0; k < i; k++)
        if (s->qw[k]->k->quantize_act == s->qw[i]->k->quantize_act) return k;
    return i;
}

static void quant_task(void *arg, int ith, int nth) {
    (void)ith;
    (void)nth;
    step *s = arg;
    hearth_fwd_buf *b = s->b;
    for (int64_t r; (r = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed)) < s->n;) {
        const float *src = s->qsrc + r * s->qn;
        if (s->norm_w) {
            float *y = b->xn + r * s->qn;
            rmsnorm(y, src, s->norm_w, s->qn, s->m->hp.rms_eps);
            src = y;
        }
        for (int i = 0; i < s->n_qw; i++)
            if (act_slot(s, i) == i)
                s->qw[i]->k->quantize_act(src, b->act[i] + (size_t)r * b->act_row, s->qn);
    }
}

/* The observer hook: matrices qw[0..n_qw) are about to multiply the float
 * rows x (s->n of them). */
static void observe(const step *s, const float *x) {
    if (s->b->observe)
        for (int i = 0; i < s->n_qw; i++) s->b->observe(s->b->observe_ud, s->qw[i], x, s->n);
}

static void quantize_rows(hearth_threadpool *pool, step *s, const float *src, int64_t n_cols,
                          const float *norm_w, const hearth_mat *w0, const hearth_mat *w1,
                          const hearth_mat *w2) {
    s->qsrc = src;
    s->qn = n_cols;
    s->norm_w = norm_w;
    s->qw[0] = w0;
    s->qw[1] = w1;
    s->qw[2] = w2;
    s->n_qw = w2 ? 3 : w1 ? 2 : 1;
    atomic_store_explicit(&s->next, 0, memory_order_relaxed);
    if ((int64_t)s->n * n_cols < SMALL_ROWS) quant_task(s, 0, 1);
    else hearth_threadpool_run(pool, quant_task, s);
    observe(s, norm_w ? s->b->xn : src);
}

static mm_item item(const step *s, int slot_of, const hearth_mat *w, float *out, const float *bias,
                    float *residual) {
    mm_item it = {.w = w, .out = out, .bias = bias, .residual = residual,
                  .act = s->b->act[act_slot(s, slot_of)]};
    return it;
}

/* One position's n keys or values into the cache in type t (the
 * reference quantizers, and an F16 conversion with the reference's bytes:
 * the cache's bytes do not depend on the CPU). */
static void store_row(uint8_t *dst, hearth_type t, const float *x, int n, hearth_from_float_fn f16) {
    switch (t) {
    case HEARTH_TYPE_F32: memcpy(dst, x, (size_t)n * sizeof(float)); break;
    case HEARTH_TYPE_Q8_0: hearth_q8_0_from_float_ref(x, dst, n); break;
    case HEARTH_TYPE_Q4_0: hearth_q4_0_from_float_ref(x, dst, n); break;
    default: f16(x, dst, n);
    }
}

/* RoPE on q and k of each token, then k and v into the cache. */
static void rope_store_task(void *arg, int ith, int nth) {
    step *s = arg;
    const hearth_hparams *hp = &s->m->hp;
    hearth_fwd_buf *b = s->b;
    hearth_kv_cache *kv = s->kv;
    (void)ith;
    (void)nth;
    const hearth_layer *L = &s->m->layers[s->il];
    int hd = hp->head_dim, half = hp->n_rot / 2, kvd = kv->kv_dim;
    for (int64_t t; (t = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed)) < s->n;) {
        const float *cs = b->cs[L->rope_set] + t * hp->n_rot;
        for (int which = 0; which < 2; which++) {
            float *base = which == 0 ? b->q + t * hp->n_head * hd : b->k + t * kvd;
            int nh = which == 0 ? hp->n_head : hp->n_head_kv;
            const float *hnorm = which == 0 ? L->q_norm : L->k_norm;
            for (int h = 0; h < nh; h++) {
                float *x = base + h * hd;
                if (hnorm) rmsnorm(x, x, hnorm, hd, hp->rms_eps);
                for (int i = 0; i < half; i++) {
                    int i0 = hp->rope_type == HEARTH_ROPE_NEOX ? i : 2 * i;
                    int i1 = hp->rope_type == HEARTH_ROPE_NEOX ? i + half : 2 * i + 1;
                    float c = cs[2 * i], sn = cs[2 * i + 1];
                    float a = x[i0], bb = x[i1];
                    x[i0] = a * c - bb * sn;
                    x[i1] = a * sn + bb * c;
                }
            }
        }
        size_t at = ((size_t)s->il * kv->n_seq + (size_t)s->seq[t]) * kv->cap + (size_t)s->pos[t];
        store_row((uint8_t *)kv->k + at * kv->k_row, kv->type_k, b->k + t * kvd, kvd, b->store_f16);
        store_row((uint8_t *)kv->v + at * kv->v_row, kv->type_v, b->v + t * kvd, kvd, b->store_f16);
    }
}

/* ---- attention ------------------------------------------------------------------ */

/* Positions token t attends in this layer: [range_lo, pos[t] + 1); a
 * sliding window starts n_swa - 1 positions back. */
static inline int32_t range_lo(const step *s, int64_t t) {
    int32_t n_swa = s->m->layers[s->il].n_swa;
    return n_swa && s->pos[t] >= n_swa ? s->pos[t] + 1 - n_swa : 0;
}

/* Points a->k and a->v at position p of KV head h in token t's sequence. */
static inline void kv_at(const step *s, hearth_attn_args *a, int64_t t, int h, int32_t p) {
    const hearth_kv_cache *kv = s->kv;
    size_t at = ((size_t)s->il * kv->n_seq + (size_t)s->seq[t]) * kv->cap + (size_t)p;
    size_t head = (size_t)h * (size_t)a->hd;
    a->k = (const uint8_t *)kv->k + at * kv->k_row + hearth_attn_bytes(kv->type_k, head);
    a->v = (const uint8_t *)kv->v + at * kv->v_row + hearth_attn_bytes(kv->type_v, head);
}

/* The units of this layer's attention: tokens of one sequence in blocks of
 * up to a_rows query rows (their queries read each key and value once), one
 * unit per block and KV head; then, when that is too few units to keep the
 * threads busy (fewer than ATTN_UNITS; decode: n_head_kv units),
 * single-token units split over positions into pieces of at least
 * a_split_min, each into its own partial slot (merged by
 * attn_merge_splits). Returns the unit count. */
static int32_t attn_plan(const step *s) {
    hearth_fwd_buf *b = s->b;
    const hearth_hparams *hp = &s->m->hp;
    int group = hp->n_head / hp->n_head_kv;
    int32_t per_block = b->a_rows / group > 1 ? b->a_rows / group : 1, nu = 0;
    attn_unit *u = b->units;
    for (int32_t t = 0; t < s->n;) {
        int32_t nt = 1;
        while (nt < per_block && t + nt < s->n && s->seq[t + nt] == s->seq[t] &&
               s->pos[t + nt] == s->pos[t + nt - 1] + 1)
            nt++;
        for (int h = 0; h < hp->n_head_kv; h++) u[nu++] = (attn_unit){t, nt, h, 0, 0, -1};
        t += nt;
    }
    int32_t target = ATTN_UNITS; /* <= n_slots / 2 */
    if (nu >= target) return nu;
    /* the units move to the end of the array; the pieces, written from the
     * start, stay behind the unit being read: they add at most n_slots */
    int32_t n_in = nu;
    attn_unit *in = b->units + (size_t)b->n_batch * hp->n_head_kv + b->n_slots - n_in;
    memcpy(in, u, (size_t)n_in * sizeof *u);
    int32_t want = (target + n_in - 1) / n_in, slots = 0;
    nu = 0;
    for (int32_t i = 0; i < n_in; i++) {
        attn_unit x = in[i];
        int32_t lo = range_lo(s, x.t0), len = s->pos[x.t0] + 1 - lo;
        int32_t pieces = len / b->a_split_min < want ? len / b->a_split_min : want;
        if (x.nt != 1 || pieces < 2 || slots + pieces > b->n_slots) {
            u[nu++] = x;
            continue;
        }
        for (int32_t k = 0; k < pieces; k++) {
            int32_t p0 = lo + (int32_t)((int64_t)len * k / pieces);
            int32_t p1 = lo + (int32_t)((int64_t)len * (k + 1) / pieces);
            u[nu++] = (attn_unit){x.t0, 1, x.h, p0, p1, slots++};
        }
    }
    return nu;
}

/* Task: units taken from a shared counter. A single token's unit (or split
 * piece) is the group of query heads of one KV head over its positions; a
 * block gathers its tokens' query rows, attends over the positions every
 * token of the block sees in one pass, then each token over what only it
 * sees (the causal triangle at the end, a sliding window's start), merged. */
static void attn_task(void *arg, int ith, int nth) {
    (void)nth;
    step *s = arg;
    const hearth_hparams *hp = &s->m->hp;
    hearth_fwd_buf *b = s->b;
    size_t hd = (size_t)hp->head_dim, group = (size_t)(hp->n_head / hp->n_head_kv);
    size_t rows = (size_t)b->a_rows_cap, qrow = (size_t)hp->n_head * hd, gsz = group * hd;
    float *qb = b->ascr + (size_t)ith * b->ascr_n; /* (rows, hd) gathered queries */
    float *ob = qb + rows * hd;                    /* (rows, hd) their outputs */
    float *mlb = ob + rows * hd;                   /* (rows, 2) maxima and sums */
    float *tmp = mlb + rows * 2;                   /* hearth_attn_chunked's */
    float *ex = tmp + rows * hd + rows * 2;        /* (group, hd) + (group, 2): one token's extra */
    float *exml = ex + gsz;
    hearth_attn_args a = {.kv_stride = (size_t)s->kv->kv_dim, .type_k = s->kv->type_k,
                          .type_v = s->kv->type_v, .hd = (int)hd,
                          .scale = hp->attn_scale,
                          .scores = b->scores + (size_t)ith * rows * ATTN_CHUNK,
                          .score_stride = (size_t)b->a_chunk,
                          .rowbuf = b->rowbuf + (size_t)ith * 2 * hd};
    int32_t chunk = b->a_chunk;
    for (;;) {
        int64_t task = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed);
        if (task >= s->n_units) return;
        const attn_unit *u = &b->units[task];
        int64_t t0 = u->t0;
        int h = u->h;
        size_t head_off = (size_t)h * gsz;
        if (u->nt == 1) {
            int32_t lo = u->slot >= 0 ? u->p0 : range_lo(s, t0);
            int32_t hi = u->slot >= 0 ? u->p1 : s->pos[t0] + 1;
            a.group = (int)group;
            a.q = b->q + (size_t)t0 * qrow + head_off;
            kv_at(s, &a, t0, h, lo);
            a.np = hi - lo;
            if (u->slot >= 0) {
                a.out = b->part + (size_t)u->slot * (gsz + 2 * group);
                a.ml = a.out + gsz;
            } else {
                a.out = b->att + (size_t)t0 * qrow + head_off;
                a.ml = NULL;
            }
            hearth_attn_chunked(b->attn, &a, chunk, tmp, mlb);
            continue;
        }
        int32_t nt = u->nt;
        for (int32_t i = 0; i < nt; i++)
            memcpy(qb + (size_t)i * gsz, b->q + (size_t)(t0 + i) * qrow + head_off, gsz * sizeof(float));
        /* range starts never decrease along the block and ends grow by one:
         * every token sees [L, H) */
        int32_t L = range_lo(s, t0 + nt - 1), H = s->pos[t0] + 1;
        if (L >= H) { /* windows shorter than the block: token by token */
            for (int32_t i = 0; i < nt; i++) {
                int32_t lo = range_lo(s, t0 + i);
                a.group = (int)group;
                a.q = qb + (size_t)i * gsz;
                a.out = b->att + (size_t)(t0 + i) * qrow + head_off;
                a.ml = NULL;
                kv_at(s, &a, t0, h, lo);
                a.np = s->pos[t0 + i] + 1 - lo;
                hearth_attn_chunked(b->attn, &a, chunk, tmp, mlb);
            }
            continue;
        }
        a.group = (int)(nt * group);
        a.q = qb;
        a.out = ob;
        a.ml = mlb;
        kv_at(s, &a, t0, h, L);
        a.np = H - L;
        hearth_attn_chunked(b->attn, &a, chunk, tmp, NULL);
        a.group = (int)group;
        a.out = ex;
        a.ml = exml;
        for (int32_t i = 0; i < nt; i++) {
            int32_t lo = range_lo(s, t0 + i), hi = s->pos[t0 + i] + 1;
            a.q = qb + (size_t)i * gsz;
            float *oi = ob + (size_t)i * gsz, *mli = mlb + (size_t)i * 2 * group;
            if (lo < L) {
                kv_at(s, &a, t0, h, lo);
                a.np = L - lo;
                hearth_attn_chunked(b->attn, &a, chunk, tmp, NULL);
                hearth_attn_merge((int)group, (int)hd, oi, mli, ex, exml);
            }
            if (H < hi) {
                kv_at(s, &a, t0, h, H);
                a.np = hi - H;
                hearth_attn_chunked(b->attn, &a, chunk, tmp, NULL);
                hearth_attn_merge((int)group, (int)hd, oi, mli, ex, exml);
            }
            memcpy(b->att + (size_t)(t0 + i) * qrow + head_off, oi, gsz * sizeof(float));
        }
    }
}

/* The split pieces of each (token, head), consecutive units, merged in
 * order into the attention output. */
static void attn_merge_splits(const step *s) {
    hearth_fwd_buf *b = s->b;
    const hearth_hparams *hp = &s->m->hp;
    size_t hd = (size_t)hp->head_dim, group = (size_t)(hp->n_head / hp->n_head_kv), gsz = group * hd;
    size_t slot_n = gsz + 2 * group;
    for (int32_t i = 0; i < s->n_units;) {
        const attn_unit *u = &b->units[i];
        if (u->slot < 0) {
            i++;
            continue;
        }
        float *p0 = b->part + (size_t)u->slot * slot_n;
        int32_t j = i + 1;
        for (; j < s->n_units && b->units[j].slot >= 0 && b->units[j].t0 == u->t0 && b->units[j].h == u->h; j++) {
            const float *pj = b->part + (size_t)b->units[j].slot * slot_n;
            hearth_attn_merge((int)group, (int)hd, p0, p0 + gsz, pj, pj + gsz);
        }
        memcpy(b->att + (size_t)u->t0 * hp->n_head * hd + (size_t)u->h * gsz, p0, gsz * sizeof(float));
        i = j;
    }
}

static inline float silu(float x) { return x / (1.0f + expf(-x)); }

/* GELU, tanh approximation (Gemma's gelu_pytorch_tanh) */
static inline float gelu_tanh(float x) {
    return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

static void swiglu_task(void *arg, int ith, int nth) {
    (void)ith;
    (void)nth;
    step *s = arg;
    hearth_fwd_buf *b = s->b;
    int64_t ff = s->m->hp.n_ff;
    for (int64_t r; (r = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed)) < s->n;) {
        float *g = b->gate + r * ff;
        const float *u = b->up + r * ff;
        if (s->m->hp.act == HEARTH_ACT_GELU_TANH)
            for (int64_t i = 0; i < ff; i++) g[i] = gelu_tanh(g[i]) * u[i];
        else
            for (int64_t i = 0; i < ff; i++) g[i] = silu(g[i]) * u[i];
        s->qw[0]->k->quantize_act(g, b->act[0] + (size_t)r * b->act_row, ff);
    }
}

/* x += rmsnorm(tmp) * norm_w, row by row (a post-norm before the residual
 * add). */
static void post_norm_task(void *arg, int ith, int nth) {
    (void)ith;
    (void)nth;
    step *s = arg;
    hearth_fwd_buf *b = s->b;
    int64_t d = s->m->hp.n_embd;
    for (int64_t r; (r = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed)) < s->n;) {
        float *y = b->tmp + r * d, *x = b->x + r * d;
        rmsnorm(y, y, s->norm_w, d, s->m->hp.rms_eps);
        for (int64_t i = 0; i < d; i++) x[i] += y[i];
    }
}

static void run_or_inline(hearth_threadpool *pool, step *s, hearth_task_fn fn, int64_t width) {
    atomic_store_explicit(&s->next, 0, memory_order_relaxed);
    if ((int64_t)s->n * width < SMALL_ROWS) fn(s, 0, 1);
    else hearth_threadpool_run(pool, fn, s);
}

void hearth_forward(const hearth_model *m, hearth_kv_cache *kv, hearth_threadpool *pool,
                    hearth_fwd_buf *b, int32_t n, const int32_t *tokens, const int32_t *pos,
                    const int32_t *seq, const int8_t *want, float *logits, float *hidden) {
    const hearth_hparams *hp = &m->hp;
    int64_t d = hp->n_embd, qd = (int64_t)hp->n_head * hp->head_dim;
    step s = {.m = m, .kv = kv, .b = b, .n = n, .tokens = tokens, .pos = pos, .seq = seq};

    /* embeddings: one row of token_embd each, dequantized (and scaled) */
    const hearth_type_traits *tr = hearth_type_traits_get(m->tok_embd.type);
    for (int32_t t = 0; t < n; t++) {
        float *x = b->x + t * d;
        tr->to_float((const uint8_t *)m->tok_embd.data + (size_t)tokens[t] * m->tok_embd.row_size,
                     x, d);
        if (hp->embd_scale != 1.0f)
            for (int64_t i = 0; i < d; i++) x[i] *= hp->embd_scale;
    }
    /* RoPE angles depend only on the position: once per step and set, not
     * per layer */
    for (int r = 0; r < hp->n_rope_sets; r++)
        for (int32_t t = 0; t < n; t++)
            for (int i = 0; i < hp->n_rot / 2; i++) {
                float th = (float)pos[t] * b->inv_freq[r][i];
                b->cs[r][t * hp->n_rot + 2 * i] = cosf(th) * hp->rope_mscale;
                b->cs[r][t * hp->n_rot + 2 * i + 1] = sinf(th) * hp->rope_mscale;
            }

    int64_t attn_work = 0; /* multiply-adds of one layer's attention */
    for (int32_t t = 0; t < n; t++) attn_work += 2 * (int64_t)(pos[t] + 1) * qd;
    for (int il = 0; il < hp->n_layer; il++) {
        const hearth_layer *L = &m->layers[il];
        s.il = il;
        /* attention */
        quantize_rows(pool, &s, b->x, d, L->attn_norm, &L->wq, &L->wk, &L->wv);
        mm_job j = {.n_items = 3, .ncols = n, .act_stride = b->act_row};
        j.it[0] = item(&s, 0, &L->wq, b->q, L->bq, NULL);
        j.it[1] = item(&s, 1, &L->wk, b->k, L->bk, NULL);
        j.it[2] = item(&s, 2, &L->wv, b->v, L->bv, NULL);
        mm_run(pool, &j);
        run_or_inline(pool, &s, rope_store_task, qd);
        s.n_units = attn_plan(&s);
        atomic_init(&s.next, 0);
        if (attn_work < SMALL_WORK) attn_task(&s, 0, 1);
        else hearth_threadpool_run(pool, attn_task, &s);
        attn_merge_splits(&s);
        quantize_rows(pool, &s, b->att, qd, NULL, &L->wo, NULL, NULL);
        mm_job jo = {.n_items = 1, .ncols = n, .act_stride = b->act_row};
        jo.it[0] = item(&s, 0, &L->wo, b->tmp, NULL, L->post_attn_norm ? NULL : b->x);
        mm_run(pool, &jo);
        if (L->post_attn_norm) {
            s.norm_w = L->post_attn_norm;
            run_or_inline(pool, &s, post_norm_task, d);
        }
        /* feed-forward */
        quantize_rows(pool, &s, b->x, d, L->ffn_norm, &L->w_gate, &L->w_up, NULL);
        mm_job jf = {.n_items = 2, .ncols = n, .act_stride = b->act_row};
        jf.it[0] = item(&s, 0, &L->w_gate, b->gate, NULL, NULL);
        jf.it[1] = item(&s, 1, &L->w_up, b->up, NULL, NULL);
        mm_run(pool, &jf);
        s.qw[0] = &L->w_down;
        s.n_qw = 1;
        run_or_inline(pool, &s, swiglu_task, hp->n_ff);
        observe(&s, b->gate);
        mm_job jd = {.n_items = 1, .ncols = n, .act_stride = b->act_row};
        jd.it[0] = item(&s, 0, &L->w_down, b->tmp, NULL, L->post_ffn_norm ? NULL : b->x);
        mm_run(pool, &jd);
        if (L->post_ffn_norm) {
            s.norm_w = L->post_ffn_norm;
            run_or_inline(pool, &s, post_norm_task, d);
        }
    }
    for (int32_t t = 0; t < n; t++) {
        int32_t sq = seq[t];
        if (pos[t] + 1 > kv->len[sq]) kv->len[sq] = pos[t] + 1;
    }

    /* final norm: all rows for hidden states, only the wanted rows for logits */
    if (hidden)
        for (int32_t t = 0; t < n; t++)
            rmsnorm(hidden + t * d, b->x + t * d, m->output_norm, d, hp->rms_eps);
    if (!logits) return;
    int32_t nl = 0;
    for (int32_t t = 0; t < n; t++) {
        if (want ? !want[t] : t != n - 1) continue;
        rmsnorm(b->lx + nl * d, b->x + t * d, m->output_norm, d, hp->rms_eps);
        nl++;
    }
    if (!nl) return;
    s.n = nl;
    quantize_rows(pool, &s, b->lx, d, NULL, &m->output, NULL, NULL);
    mm_job jl = {.n_items = 1, .ncols = nl, .act_stride = b->act_row};
    jl.it[0] = item(&s, 0, &m->output, logits, NULL, NULL);
    mm_run(pool, &jl);
    if (hp->final_softcap > 0) {
        float c = hp->final_softcap;
        for (int64_t i = 0; i < (int64_t)nl * hp->n_vocab; i++) logits[i] = c * tanhf(logits[i] / c);
    }
}
