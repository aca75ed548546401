/*
 * test_attn_tiles.c: the forward pass's attention tiling (forward.c:
 * hearth_fwd_buf_set_attn_tiles) does not change results beyond rounding.
 * One generated model, one prompt, logits of every position and of decode
 * steps after it, under a plain tiling (one token per unit, pieces of 256
 * positions, no decode split) and under odd ones: pieces of 1, 7 and 37
 * positions, blocks of 3, 5 and 13 prefill tokens, decode split into pieces
 * of 5 or more positions (boundaries at len * k / pieces). Models: qwen2
 * with 4 query heads per KV head and a 700-token prompt (long: many pieces,
 * several blocks, a causal triangle in each), and gemma3-tiny (window 4 in
 * 5 of 6 layers) with blocks shorter and longer than the window, so that
 * both the block's front extras and the token-by-token path run.
 * Two checks per tiling, each relative to the largest value of its row,
 * max differences printed: the first layer's attention output (its inputs
 * are the same under every tiling, so this is the tiling's own rounding:
 * 2e-5, 3x the measured) and the logits (2e-3, 4x the measured: these
 * random models' attention scores are large, so the softmax of later
 * layers turns a 1e-6 change of their input into 1e-4 of their output; a
 * wrong range or a lost piece moves logits by O(1)).
 * Then the same with a quantized cache (Q8_0 keys and values on gemma3,
 * Q8_0 keys and Q4_0 values on a qwen2 with heads of 32): layer 0's cache
 * bytes do not depend on the tiling, so its attention has the same bound;
 * the later layers' keys differ by the rounding before they are quantized,
 * which can cross a Q8_0 step, and the random gemma3 amplifies that to
 * 8.8e-3 of its logits (bound 3e-2).
 */
#include "genutil.h"
#include "test.h"

#include "model/forward.h"
#include "model/model_int.h"
#include "util/alloc.h"
#include "util/threadpool.h"

#include <math.h>
#include <string.h>

/* The observer keeps the input rows of the first layer's wo, the
 * attention output, in order: prefill rows, then one per step. */
typedef struct {
    const hearth_mat *wo;
    float *rows; /* (n + steps, q_dim) */
    int32_t n;
} att_log;

static void observe_att(void *ud, const hearth_mat *w, const float *x, int32_t n) {
    att_log *l = ud;
    if (w != l->wo) return;
    memcpy(l->rows + (size_t)l->n * w->n, x, (size_t)n * w->n * sizeof(float));
    l->n += n;
}

typedef struct {
    int32_t chunk, rows_tok, split_min; /* rows_tok: prefill tokens per block */
} tiling;

/* the KV cache types of run() */
static hearth_type g_tk = HEARTH_TYPE_F16, g_tv = HEARTH_TYPE_F16;

/* Prefill of n tokens (logits of all) then `steps` single-token decodes
 * (logits of each) under tiling t; out: (n + steps, n_vocab), att: (n +
 * steps, q_dim) the first layer's attention output. */
static void run(const hearth_model *m, hearth_threadpool *pool, const int32_t *toks, int32_t n,
                int32_t steps, tiling t, float *out, float *att) {
    const hearth_hparams *hp = &m->hp;
    hearth_error e = {0};
    hearth_kv_cache kv;
    hearth_fwd_buf *b = NULL;
    int32_t cap = n + steps;
    REQUIRE(hearth_kv_init(&kv, hp, g_tk, g_tv, 1, cap, &e) == HEARTH_OK);
    REQUIRE(hearth_fwd_buf_new(m, n, cap, hearth_threadpool_size(pool), &b, &e) == HEARTH_OK);
    int group = hp->n_head / hp->n_head_kv;
    hearth_fwd_buf_set_attn_tiles(b, t.chunk, t.rows_tok * group, t.split_min);
    att_log log = {.wo = &m->layers[0].wo, .rows = att};
    hearth_fwd_buf_set_observer(b, observe_att, &log);
    int32_t *pos = hearth_malloc((size_t)cap * sizeof *pos), *seq = hearth_calloc((size_t)cap, sizeof *seq);
    int8_t *want = hearth_malloc((size_t)n);
    REQUIRE(pos && seq && want);
    for (int32_t i = 0; i < cap; i++) pos[i] = i;
    for (int32_t i = 0; i < n; i++) want[i] = 1;
    hearth_forward(m, &kv, pool, b, n, toks, pos, seq, want, out, NULL);
    for (int32_t s = 0; s < steps; s++)
        hearth_forward(m, &kv, pool, b, 1, toks + n + s, pos + n + s, seq, NULL,
                       out + (size_t)(n + s) * hp->n_vocab, NULL);
    CHECK_EQ_INT(log.n, cap);
    hearth_free(pos);
    hearth_free(seq);
    hearth_free(want);
    hearth_fwd_buf_free(b);
    hearth_kv_free(&kv);
}

static double worst_all, worst_att_all;

/* max over rows of max|a-b| / max|b|, rows of width w */
static double rows_diff(const float *a, const float *b, int32_t r0, int32_t r1, size_t w) {
    double worst = 0;
    for (int32_t r = r0; r < r1; r++) {
        double ma, mr;
        logit_diff(a + (size_t)r * w, b + (size_t)r * w, w, &ma, &mr);
        double d = ma / (mr > 1e-6 ? mr : 1e-6);
        worst = d > worst ? d : worst;
    }
    return worst;
}

static void check_model(const char *name, const char *args, int32_t n, int32_t steps,
                        const tiling *tl, int n_tl, double tol_att, double tol) {
    const char *path = genmodel(name, args);
    REQUIRE(path);
    hearth_model_params mp = hearth_model_default_params();
    hearth_model *m = NULL;
    hearth_error e = {0};
    REQUIRE(hearth_model_open(path, &mp, &m, &e) == HEARTH_OK);
    hearth_threadpool *pool = NULL;
    REQUIRE(hearth_threadpool_new(2, &pool, &e) == HEARTH_OK);
    int32_t nv = m->hp.n_vocab, tot = n + steps;
    int32_t *toks = hearth_malloc((size_t)tot * sizeof *toks);
    float *ref = hearth_malloc((size_t)tot * nv * sizeof(float));
    float *got = hearth_malloc((size_t)tot * nv * sizeof(float));
    size_t qd = (size_t)m->hp.n_head * m->hp.head_dim;
    float *att_ref = hearth_malloc((size_t)tot * qd * sizeof(float));
    float *att = hearth_malloc((size_t)tot * qd * sizeof(float));
    REQUIRE(toks && ref && got && att_ref && att);
    uint32_t x = 7;
    for (int32_t i = 0; i < tot; i++) toks[i] = (int32_t)((x = x * 1664525u + 1013904223u) >> 8) % nv;
    run(m, pool, toks, n, steps, (tiling){256, 1, 1 << 30}, ref, att_ref);
    for (int k = 0; k < n_tl; k++) {
        run(m, pool, toks, n, steps, tl[k], got, att);
        double att_pre = rows_diff(att, att_ref, 0, n, qd), att_step = rows_diff(att, att_ref, n, tot, qd);
        double worst_pre = rows_diff(got, ref, 0, n, (size_t)nv);
        double worst_step = rows_diff(got, ref, n, tot, (size_t)nv);
        fprintf(stderr, "%s: pieces of %d, blocks of %d tokens, split >= %d: layer-0 attention "
                        "prefill %.2e, steps %.2e; logits prefill %.2e, steps %.2e\n",
                name, tl[k].chunk, tl[k].rows_tok, tl[k].split_min, att_pre, att_step, worst_pre,
                worst_step);
        CHECKF(att_pre <= tol_att, "%s layer-0 attention, prefill, tiling %d: %.3e", name, k, att_pre);
        CHECKF(att_step <= tol_att, "%s layer-0 attention, steps, tiling %d: %.3e", name, k, att_step);
        CHECKF(worst_pre <= tol, "%s prefill, tiling %d: %.3e", name, k, worst_pre);
        CHECKF(worst_step <= tol, "%s steps, tiling %d: %.3e", name, k, worst_step);
        worst_all = fmax(worst_all, fmax(worst_pre, worst_step));
        worst_att_all = fmax(worst_att_all, fmax(att_pre, att_step));
    }
    hearth_free(att_ref);
    hearth_free(att);
    hearth_free(toks);
    hearth_free(ref);
    hearth_free(got);
    hearth_threadpool_free(pool);
    hearth_model_free(m);
}

int main(void) {
    const tiling long_tl[] = {{37, 1, 1 << 30}, {7, 3, 5}, {256, 13, 5}, {37, 5, 97}, {1, 2, 1 << 30}};
    check_model("qwen2-g4.gguf",
                "--arch qwen2 --n-embd 128 --n-layer 2 --n-head 8 --n-head-kv 2 --n-ff 256 "
                "--n-vocab 320 --n-ctx 1024 --type F32",
                700, 4, long_tl, 5, 2e-5, 2e-3);
    const tiling swa_tl[] = {{3, 3, 2}, {2, 5, 2}, {37, 13, 3}, {1, 2, 1 << 30}};
    check_model("gemma3.gguf", "--arch gemma3 --preset gemma3-tiny --type F32", 100, 4, swa_tl, 4, 2e-5, 2e-3);
    g_tk = g_tv = HEARTH_TYPE_Q8_0;
    check_model("gemma3-q8_0-cache", "--arch gemma3 --preset gemma3-tiny --type F32", 100, 4, swa_tl, 4, 2e-5,
                3e-2);
    g_tv = HEARTH_TYPE_Q4_0;
    check_model("qwen2-hd32-q8_0-q4_0-cache",
                "--arch qwen2 --n-embd 128 --n-layer 2 --n-head 4 --n-head-kv 2 --n-ff 256 "
                "--n-vocab 320 --n-ctx 1024 --type F32",
                300, 4, long_tl, 5, 2e-5, 3e-2);
    fprintf(stderr, "attention tilings vs the plain one: max difference %.2e (layer-0 attention), "
                    "%.2e (logits) of the row's largest value\n", worst_att_all, worst_all);
    tmpdir_cleanup();
    return test_done();
}
