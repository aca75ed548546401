/*
 * test_quantize.c: hearth quantize's library side (src/quant/quantize.c,
 * mix.c, the _quantize_imp kernels).
 *  - every output type: an F32 model quantized (--pure) and reloaded holds,
 *    tensor for tensor, exactly the reference quantizer's bytes of the
 *    source rows, and dequantizes to within the type's error bound;
 *  - the mix rules give llama.cpp's types per tensor (Q4_K_M, Q4_K_S,
 *    Q5_K_M, Q3_K_M, Q2_K, Q6_K, Q8_0 on 8 layers; fallback on short rows);
 *  - general.file_type / general.quantization_version are written;
 *  - on a synthetic case, an importance vector lowers the importance-weighted
 *    error of every weighted type, and imp NULL is byte-identical to the
 *    reference quantizer;
 *  - a Q4_K source (not a float/Q8_0 input) is refused naming the tensor.
 */
#include "genutil.h"
#include "kernels/quants.h"
#include "kernels/types.h"
#include "quant/quantize.h"
#include "test.h"

#include <stdint.h>

static uint64_t rng = 88172645463325252ULL;
static float frand(void) { /* xorshift, uniform [-1, 1) */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / 8388608.0) - 1.0);
}

static const struct {
    const char *name;
    hearth_type t;
    double max_rel; /* rms error / rms value, random normal-ish rows */
} types[] = {
    {"F16", HEARTH_TYPE_F16, 0.001},  {"BF16", HEARTH_TYPE_BF16, 0.005}, {"Q8_0", HEARTH_TYPE_Q8_0, 0.01},
    {"Q5_1", HEARTH_TYPE_Q5_1, 0.05}, {"Q5_0", HEARTH_TYPE_Q5_0, 0.06},  {"Q4_1", HEARTH_TYPE_Q4_1, 0.1},
    {"Q4_0", HEARTH_TYPE_Q4_0, 0.15}, {"Q6_K", HEARTH_TYPE_Q6_K, 0.03},  {"Q5_K", HEARTH_TYPE_Q5_K, 0.06},
    {"Q4_K", HEARTH_TYPE_Q4_K, 0.12}, {"Q3_K", HEARTH_TYPE_Q3_K, 0.25},  {"Q2_K", HEARTH_TYPE_Q2_K, 0.45},
};

/* Rows of tensor t as floats (owned). */
static float *rows_of(const hearth_gguf_tensor *t, int64_t *n) {
    *n = t->ne[0] * t->ne[1];
    float *x = malloc((size_t)*n * sizeof *x);
    hearth_type_traits_get(t->type)->to_float(t->data, x, *n);
    return x;
}

static void test_every_type(void) {
    const char *src = genmodel("f32.gguf", "--arch llama --preset tiny256 --n-layer 1 --n-ff 512 --n-vocab 300 --type F32");
    REQUIRE(src);
    hearth_error e = {0};
    hearth_gguf *g;
    REQUIRE(!hearth_gguf_open(src, &g, &e));
    char out[4096];
    snprintf(out, sizeof out, "%s/q.gguf", tmpdir_path());
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        hearth_quant_params p = hearth_quant_default_params();
        p.mix = hearth_qmix_find(types[k].name);
        p.pure = true;
        p.n_threads = 2;
        hearth_quant_job *j;
        REQUIRE(!hearth_quant_job_run(src, &p, &j, &e));
        REQUIRE(!hearth_quant_job_write(j, out, &e));
        hearth_quant_job_free(j);
        hearth_gguf *q;
        REQUIRE(!hearth_gguf_open(out, &q, &e));
        uint32_t ft = 99, qv = 0;
        CHECK(!hearth_gguf_get_u32(q, "general.file_type", &ft, &e) && ft == p.mix->ftype);
        CHECK(!hearth_gguf_get_u32(q, "general.quantization_version", &qv, &e) && qv == 2);
        int n_checked = 0;
        for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
            const hearth_gguf_tensor *ts = hearth_gguf_tensor_at(g, i);
            const hearth_gguf_tensor *tq = hearth_gguf_find_tensor(q, ts->name);
            REQUIRE(tq);
            if (ts->n_dims < 2) {
                CHECK(tq->type == ts->type && tq->nbytes == ts->nbytes &&
                      !memcmp(tq->data, ts->data, ts->nbytes));
                continue;
            }
            CHECKF(tq->type == types[k].t, "%s: %s is %s", types[k].name, ts->name,
                   hearth_type_name(tq->type));
            int64_t n;
            float *x = rows_of(ts, &n);
            /* the bytes are the reference quantizer's, row by row */
            size_t rs = hearth_type_row_size(types[k].t, ts->ne[0]);
            uint8_t *ref = malloc(rs * (size_t)ts->ne[1]);
            for (int64_t r = 0; r < ts->ne[1]; r++)
                hearth_type_traits_get(types[k].t)->from_float_ref(x + r * ts->ne[0], ref + (size_t)r * rs,
                                                                    ts->ne[0]);
            CHECKF(tq->nbytes == rs * (size_t)ts->ne[1] && !memcmp(tq->data, ref, tq->nbytes),
                   "%s: %s differs from the reference quantization", types[k].name, ts->name);
            /* and dequantize (the reference to_float) close to the source */
            int64_t nq;
            float *y = rows_of(tq, &nq);
            double e2 = 0, r2 = 0;
            for (int64_t i2 = 0; i2 < n; i2++) {
                e2 += (double)(y[i2] - x[i2]) * (y[i2] - x[i2]);
                r2 += (double)x[i2] * x[i2];
            }
            CHECKF(sqrt(e2 / r2) <= types[k].max_rel, "%s %s: rel rms %g", types[k].name, ts->name,
                   sqrt(e2 / r2));
            free(x);
            free(y);
            free(ref);
            n_checked++;
        }
        CHECK(n_checked == 9); /* embd, 7 block matrices, output */
        hearth_gguf_free(q);
    }
    hearth_gguf_free(g);
}

static hearth_type pick(const char *mix, int64_t n_layer, int64_t gqa, hearth_qclass c, int64_t il,
                        int64_t ne0) {
    hearth_qrules r = hearth_qrules_default(hearth_qmix_find(mix), n_layer);
    r.n_gqa = gqa;
    return hearth_qrules_pick(&r, c, il, ne0, NULL);
}

static void test_mix_rules(void) {
    /* use_more_bits over 8 layers: 0, 3, 6, 7 (first and last eighth, every third between) */
    const int more[8] = {1, 0, 0, 1, 0, 0, 1, 1};
    for (int il = 0; il < 8; il++) {
        hearth_type hi = more[il] ? HEARTH_TYPE_Q6_K : HEARTH_TYPE_Q4_K;
        CHECK_EQ_INT(pick("Q4_K_M", 8, 1, HEARTH_QCLASS_ATTN_V, il, 256), hi);
        CHECK_EQ_INT(pick("Q4_K_M", 8, 1, HEARTH_QCLASS_FFN_DOWN, il, 768), hi);
        CHECK_EQ_INT(pick("Q4_K_M", 8, 1, HEARTH_QCLASS_ATTN_Q, il, 256), HEARTH_TYPE_Q4_K);
        CHECK_EQ_INT(pick("Q4_K_M", 8, 1, HEARTH_QCLASS_FFN_UP, il, 256), HEARTH_TYPE_Q4_K);
        CHECK_EQ_INT(pick("Q5_K_M", 8, 1, HEARTH_QCLASS_ATTN_V, il, 256),
                     more[il] ? HEARTH_TYPE_Q6_K : HEARTH_TYPE_Q5_K);
        CHECK_EQ_INT(pick("Q4_K_S", 8, 1, HEARTH_QCLASS_ATTN_V, il, 256),
                     il < 4 ? HEARTH_TYPE_Q5_K : HEARTH_TYPE_Q4_K);
        CHECK_EQ_INT(pick("Q4_K_S", 8, 1, HEARTH_QCLASS_FFN_DOWN, il, 256),
                     il < 1 ? HEARTH_TYPE_Q5_K : HEARTH_TYPE_Q4_K);
        CHECK_EQ_INT(pick("Q5_K_S", 8, 1, HEARTH_QCLASS_ATTN_V, il, 256), HEARTH_TYPE_Q5_K);
        CHECK_EQ_INT(pick("Q3_K_M", 8, 1, HEARTH_QCLASS_ATTN_V, il, 256),
                     il < 2 ? HEARTH_TYPE_Q5_K : HEARTH_TYPE_Q4_K);
        CHECK_EQ_INT(pick("Q3_K_M", 8, 1, HEARTH_QCLASS_FFN_DOWN, il, 256), HEARTH_TYPE_Q4_K);
        CHECK_EQ_INT(pick("Q3_K_M", 8, 1, HEARTH_QCLASS_ATTN_OUT, il, 256), HEARTH_TYPE_Q4_K);
        CHECK_EQ_INT(pick("Q3_K_M", 8, 1, HEARTH_QCLASS_ATTN_K, il, 256), HEARTH_TYPE_Q3_K);
        CHECK_EQ_INT(pick("Q2_K", 8, 1, HEARTH_QCLASS_ATTN_V, il, 256), HEARTH_TYPE_Q3_K);
        CHECK_EQ_INT(pick("Q2_K", 8, 4, HEARTH_QCLASS_ATTN_V, il, 256), HEARTH_TYPE_Q4_K);
        CHECK_EQ_INT(pick("Q2_K", 8, 1, HEARTH_QCLASS_FFN_DOWN, il, 256), HEARTH_TYPE_Q3_K);
        CHECK_EQ_INT(pick("Q2_K", 8, 1, HEARTH_QCLASS_ATTN_OUT, il, 256), HEARTH_TYPE_Q3_K);
        CHECK_EQ_INT(pick("Q2_K", 8, 1, HEARTH_QCLASS_FFN_GATE, il, 256), HEARTH_TYPE_Q2_K);
        CHECK_EQ_INT(pick("Q6_K", 8, 1, HEARTH_QCLASS_ATTN_V, il, 256), HEARTH_TYPE_Q6_K);
        CHECK_EQ_INT(pick("Q8_0", 8, 1, HEARTH_QCLASS_FFN_DOWN, il, 256), HEARTH_TYPE_Q8_0);
    }
    /* Q3_K_M on 32 layers: ffn_down Q5_K for the first 32/16 = 2 */
    CHECK_EQ_INT(pick("Q3_K_M", 32, 1, HEARTH_QCLASS_FFN_DOWN, 1, 256), HEARTH_TYPE_Q5_K);
    CHECK_EQ_INT(pick("Q3_K_M", 32, 1, HEARTH_QCLASS_FFN_DOWN, 2, 256), HEARTH_TYPE_Q4_K);
    /* output: Q6_K (Q8_0 on rows not a multiple of 256; Q8_0 mix keeps Q8_0) */
    CHECK_EQ_INT(pick("Q4_K_M", 8, 1, HEARTH_QCLASS_OUTPUT, -1, 256), HEARTH_TYPE_Q6_K);
    CHECK_EQ_INT(pick("Q4_0", 8, 1, HEARTH_QCLASS_OUTPUT, -1, 256), HEARTH_TYPE_Q6_K);
    CHECK_EQ_INT(pick("Q4_0", 8, 1, HEARTH_QCLASS_OUTPUT, -1, 896), HEARTH_TYPE_Q8_0);
    CHECK_EQ_INT(pick("Q8_0", 8, 1, HEARTH_QCLASS_OUTPUT, -1, 256), HEARTH_TYPE_Q8_0);
    /* untied embeddings keep the base type; tied ones are the output */
    CHECK_EQ_INT(pick("Q4_K_M", 8, 1, HEARTH_QCLASS_EMBD, -1, 256), HEARTH_TYPE_Q4_K);
    hearth_qrules r = hearth_qrules_default(hearth_qmix_find("Q4_K_M"), 8);
    r.tied = true;
    CHECK_EQ_INT(hearth_qrules_pick(&r, HEARTH_QCLASS_EMBD, -1, 256, NULL), HEARTH_TYPE_Q6_K);
    /* fallback on rows of 896 (not a multiple of 256) */
    bool fb = false;
    r.tied = false;
    CHECK_EQ_INT(hearth_qrules_pick(&r, HEARTH_QCLASS_ATTN_Q, 0, 896, &fb), HEARTH_TYPE_Q5_0);
    CHECK(fb);
    CHECK_EQ_INT(pick("Q3_K_M", 8, 1, HEARTH_QCLASS_ATTN_K, 3, 896), HEARTH_TYPE_Q4_0);
    /* names */
    int64_t il;
    CHECK_EQ_INT(hearth_qclass_of("blk.12.ffn_down.weight", &il), HEARTH_QCLASS_FFN_DOWN);
    CHECK_EQ_INT(il, 12);
    CHECK_EQ_INT(hearth_qclass_of("blk.x.ffn_down.weight", &il), HEARTH_QCLASS_COUNT);
    CHECK_EQ_INT(hearth_qclass_of("blk.1.attn_norm.weight", &il), HEARTH_QCLASS_COUNT);
    CHECK_EQ_INT(hearth_qclass_of("output.weight", &il), HEARTH_QCLASS_OUTPUT);
}

/* The job on a real file applies those rules tensor by tensor. */
static void test_mix_job(void) {
    const char *src = genmodel("mix.gguf", "--arch llama --preset tiny256 --n-layer 8 --n-ff 256 --n-vocab 300 --type F16");
    REQUIRE(src);
    hearth_error e = {0};
    hearth_quant_params p = hearth_quant_default_params();
    p.mix = hearth_qmix_find("Q4_K_M");
    hearth_quant_job *j;
    REQUIRE(!hearth_quant_job_run(src, &p, &j, &e));
    const int more[8] = {1, 0, 0, 1, 0, 0, 1, 1};
    char name[64];
    for (int il = 0; il < 8; il++) {
        snprintf(name, sizeof name, "blk.%d.attn_v.weight", il);
        CHECK_EQ_INT(hearth_quant_job_tensor_type(j, name), more[il] ? HEARTH_TYPE_Q6_K : HEARTH_TYPE_Q4_K);
        snprintf(name, sizeof name, "blk.%d.ffn_down.weight", il);
        CHECK_EQ_INT(hearth_quant_job_tensor_type(j, name), more[il] ? HEARTH_TYPE_Q6_K : HEARTH_TYPE_Q4_K);
        snprintf(name, sizeof name, "blk.%d.attn_q.weight", il);
        CHECK_EQ_INT(hearth_quant_job_tensor_type(j, name), HEARTH_TYPE_Q4_K);
        snprintf(name, sizeof name, "blk.%d.attn_norm.weight", il);
        CHECK_EQ_INT(hearth_quant_job_tensor_type(j, name), HEARTH_TYPE_F32);
    }
    CHECK_EQ_INT(hearth_quant_job_tensor_type(j, "output.weight"), HEARTH_TYPE_Q6_K);
    CHECK_EQ_INT(hearth_quant_job_tensor_type(j, "token_embd.weight"), HEARTH_TYPE_Q4_K);
    hearth_quant_job_free(j);

    /* a K-quant source is refused, naming the tensor */
    const char *k = genmodel("k.gguf", "--arch llama --preset tiny256 --n-layer 1 --type Q4_K");
    REQUIRE(k);
    p.mix = hearth_qmix_find("Q4_0");
    CHECK(hearth_quant_job_run(k, &p, &j, &e) == HEARTH_E_UNSUPPORTED);
    CHECKF(strstr(e.msg, "weight") && strstr(e.msg, "Q4_K"), "%s", e.msg);
}

/* sum imp[col] * (x - q)^2 over the rows. */
static double weighted_err(hearth_type t, const float *x, int64_t nrows, int64_t ne0, const float *imp,
                           const float *use) {
    size_t rs = hearth_type_row_size(t, ne0);
    uint8_t *q = malloc(rs * (size_t)nrows);
    float *y = malloc((size_t)ne0 * sizeof *y);
    hearth_error e = {0};
    REQUIRE(!hearth_quant_rows(t, x, q, nrows, ne0, use, &e));
    double s = 0;
    for (int64_t r = 0; r < nrows; r++) {
        hearth_type_traits_get(t)->to_float(q + (size_t)r * rs, y, ne0);
        for (int64_t i = 0; i < ne0; i++) s += imp[i] * (double)(x[r * ne0 + i] - y[i]) * (x[r * ne0 + i] - y[i]);
    }
    free(q);
    free(y);
    return s;
}

static void test_imatrix_lowers_error(void) {
    enum { NE0 = 512, NR = 64 };
    float *x = malloc(sizeof(float) * NE0 * NR), imp[NE0];
    for (int i = 0; i < NE0 * NR; i++) x[i] = frand() + 0.3f * frand() * frand();
    /* a few columns matter 100 times more (as outlier channels of a real
     * model's activations) */
    for (int i = 0; i < NE0; i++) imp[i] = (i % 37 == 0 || i % 53 == 0) ? 100.f : 1.f;
    const hearth_type wt[] = {HEARTH_TYPE_Q4_0, HEARTH_TYPE_Q4_1, HEARTH_TYPE_Q5_0, HEARTH_TYPE_Q5_1,
                              HEARTH_TYPE_Q2_K, HEARTH_TYPE_Q3_K, HEARTH_TYPE_Q4_K, HEARTH_TYPE_Q5_K,
                              HEARTH_TYPE_Q6_K};
    for (size_t k = 0; k < sizeof wt / sizeof wt[0]; k++) {
        double plain = weighted_err(wt[k], x, NR, NE0, imp, NULL);
        double with = weighted_err(wt[k], x, NR, NE0, imp, imp);
        CHECKF(with < 0.9 * plain, "%s: weighted error %g with the imatrix, %g without",
               hearth_type_name(wt[k]), with, plain);
        /* imp NULL is the reference quantizer, byte for byte */
        size_t rs = hearth_type_row_size(wt[k], NE0);
        uint8_t *a = malloc(rs), *b = malloc(rs);
        hearth_error e = {0};
        REQUIRE(!hearth_quant_rows(wt[k], x, a, 1, NE0, NULL, &e));
        hearth_type_traits_get(wt[k])->from_float_ref(x, b, NE0);
        CHECK(!memcmp(a, b, rs));
        free(a);
        free(b);
    }
    /* uniform importance: no worse than the reference (within 5%) */
    float one[NE0];
    for (int i = 0; i < NE0; i++) one[i] = 1.f;
    for (size_t k = 0; k < sizeof wt / sizeof wt[0]; k++) {
        double plain = weighted_err(wt[k], x, NR, NE0, one, NULL);
        double with = weighted_err(wt[k], x, NR, NE0, one, one);
        CHECKF(with < 1.05 * plain, "%s: uniform imatrix error %g vs %g", hearth_type_name(wt[k]), with,
               plain);
    }
    free(x);
}

int main(void) {
    test_mix_rules();
    test_imatrix_lowers_error();
    test_every_type();
    test_mix_job();
    tmpdir_cleanup();
    return test_done();
}
