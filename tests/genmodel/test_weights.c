/*
 * test_weights.c: the weights hearth-genmodel writes. Same arguments give the
 * same bytes (whatever the thread count), another seed other bytes; values
 * have the designed statistics (matrices mean 0, std 1/sqrt(row length),
 * twice that for attn_q/attn_k;
 * norm weights 1 +- 0.05; biases 0 +- 0.05; no two rows or tensors alike);
 * quantized files hold the same values as the F32 file of the same seed,
 * up to each type's quantization error.
 */
#include "gm_helpers.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Designed spreads; tools/genmodel/genmodel.h GM_NORM_STD, GM_BIAS_STD,
 * GM_QK_GAIN. */
#define NORM_STD 0.05
#define BIAS_STD 0.05
#define QK_GAIN 2.0

static void test_determinism(void) {
    const char *args = "--arch qwen2 --preset tiny256 --n-ff 256 --type Q4_K_M";
    REQUIRE(gm_run("%s --threads 1 -o %s", args, gm_path("d1.gguf")) == 0);
    REQUIRE(gm_run("%s --threads 3 -o %s", args, gm_path("d2.gguf")) == 0);
    REQUIRE(gm_run("%s --threads 2 --seed 1 -o %s", args, gm_path("d3.gguf")) == 0);
    REQUIRE(gm_run("%s --seed 2 -o %s", args, gm_path("d4.gguf")) == 0);
    CHECK(gm_same_bytes(gm_path("d1.gguf"), gm_path("d2.gguf")));
    CHECK(gm_same_bytes(gm_path("d1.gguf"), gm_path("d3.gguf"))); /* 1 is the default seed */
    CHECK(!gm_same_bytes(gm_path("d1.gguf"), gm_path("d4.gguf")));

    /* Another seed changes every tensor, not only some. */
    hearth_gguf *a = gm_open(gm_path("d1.gguf")), *b = gm_open(gm_path("d4.gguf"));
    CHECK_EQ_INT(hearth_gguf_n_tensors(a), hearth_gguf_n_tensors(b));
    int same = 0;
    for (int64_t i = 0; i < hearth_gguf_n_tensors(a) && i < hearth_gguf_n_tensors(b); i++) {
        const hearth_gguf_tensor *x = hearth_gguf_tensor_at(a, i), *y = hearth_gguf_tensor_at(b, i);
        if (x->nbytes == y->nbytes && !memcmp(x->data, y->data, x->nbytes)) {
            same++;
            fprintf(stderr, "tensor %s is the same for seeds 1 and 2\n", x->name);
        }
    }
    CHECK_EQ_INT(same, 0);
    hearth_gguf_free(a);
    hearth_gguf_free(b);
}

typedef struct {
    double mean, std, maxdev;
} stats;

static stats stats_of(const float *x, int64_t n) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    double m = s / (double)n, md = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = x[i] - m;
        s2 += d * d;
        if (fabs(d) > md) md = fabs(d);
    }
    return (stats){m, sqrt(s2 / (double)n), md};
}

/* Checks every tensor of an F32 model against the design. */
static void test_statistics(void) {
    REQUIRE(gm_run("--arch llama --preset tiny256 --qkv-bias --type F32 -o %s", gm_path("s.gguf")) == 0);
    hearth_gguf *g = gm_open(gm_path("s.gguf"));
    for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        int64_t n;
        float *x = gm_tensor_f32(g, t->name, &n);
        stats s = stats_of(x, n);
        bool norm = strstr(t->name, "norm") != NULL, bias = strstr(t->name, ".bias") != NULL;
        double want_mean = norm ? 1.0 : 0.0;
        bool qk = strstr(t->name, "attn_q.weight") || strstr(t->name, "attn_k.weight");
        double want_std = norm ? NORM_STD : bias ? BIAS_STD : (qk ? QK_GAIN : 1.0) / sqrt((double)t->ne[0]);
        /* Sampling error: the mean's std is want_std/sqrt(n), the std's
         * relative std about 1/sqrt(2n); allow 5 of each. */
        double tol_mean = 5 * want_std / sqrt((double)n);
        double tol_std = 5 / sqrt(2.0 * (double)n) + 0.002;
        CHECKF(fabs(s.mean - want_mean) <= tol_mean, "%s: mean %g, want %g +- %g", t->name, s.mean,
               want_mean, tol_mean);
        CHECKF(fabs(s.std / want_std - 1) <= tol_std, "%s: std %g, want %g (+-%.1f%%)", t->name,
               s.std, want_std, 100 * tol_std);
        /* The normals are bounded (Irwin-Hall of 4: 2*sqrt(3) sigma). */
        CHECKF(s.maxdev <= 3.47 * want_std, "%s: max deviation %g", t->name, s.maxdev);
        if (t->n_dims == 2) {
            /* Rows are independent streams, not copies or shifts. */
            int64_t ne0 = t->ne[0];
            CHECKF(memcmp(x, x + ne0, (size_t)ne0 * sizeof(float)) &&
                       memcmp(x + 1, x + ne0, (size_t)(ne0 - 1) * sizeof(float)),
                   "%s: rows 0 and 1 alike", t->name);
        }
        free(x);
    }
    /* Layers differ. */
    int64_t n0, n1;
    float *q0 = gm_tensor_f32(g, "blk.0.attn_q.weight", &n0), *q1 = gm_tensor_f32(g, "blk.1.attn_q.weight", &n1);
    CHECK(n0 == n1 && memcmp(q0, q1, (size_t)n0 * sizeof(float)));
    free(q0);
    free(q1);
    hearth_gguf_free(g);
}

/* A quantized file holds the F32 file's values (same seed) up to the type's
 * error; its dequantized statistics match the design too. */
static void test_quantized(void) {
    static const struct {
        const char *type;
        double max_rel_rms; /* rms(q - f32) / rms(f32) */
    } cases[] = {
        {"F16", 0.001}, {"BF16", 0.005}, {"Q8_0", 0.01}, {"Q5_1", 0.05}, {"Q4_0", 0.15},
        {"Q6_K", 0.03}, {"Q5_K", 0.06},  {"Q4_K", 0.12}, {"Q3_K", 0.25}, {"Q2_K", 0.45},
    };
    /* One layer and n_ff 256 keep the (slow, in a debug build) reference
     * K-quantizers quick. */
    const char *shape = "--arch qwen2 --preset tiny256 --n-layer 1 --n-ff 256";
    REQUIRE(gm_run("%s --type F32 -o %s", shape, gm_path("ref.gguf")) == 0);
    hearth_gguf *ref = gm_open(gm_path("ref.gguf"));
    const char *names[] = {"token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_down.weight",
                           "blk.0.attn_q.bias", "output_norm.weight"};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        REQUIRE(gm_run("%s --type %s --pure -o %s", shape, cases[c].type, gm_path("qt.gguf")) == 0);
        hearth_gguf *g = gm_open(gm_path("qt.gguf"));
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
            int64_t n, nr;
            float *x = gm_tensor_f32(g, names[k], &n), *r = gm_tensor_f32(ref, names[k], &nr);
            REQUIRE(n == nr);
            double e2 = 0, r2 = 0;
            for (int64_t i = 0; i < n; i++) {
                e2 += (double)(x[i] - r[i]) * (x[i] - r[i]);
                r2 += (double)r[i] * r[i];
            }
            double rel = sqrt(e2 / r2);
            bool f32 = hearth_gguf_find_tensor(g, names[k])->type == HEARTH_TYPE_F32;
            double lim = f32 ? 0.0 : cases[c].max_rel_rms;
            CHECKF(rel <= lim, "%s %s: relative rms error %g > %g", cases[c].type, names[k], rel, lim);
            if (!f32) {
                stats sq = stats_of(x, n), sr = stats_of(r, n);
                CHECKF(fabs(sq.std / sr.std - 1) <= 0.1, "%s %s: std %g vs %g", cases[c].type,
                       names[k], sq.std, sr.std);
            }
            free(x);
            free(r);
        }
        hearth_gguf_free(g);
    }
    hearth_gguf_free(ref);
}

int main(void) {
    gm_failures = &test_failures;
    gm_checks = &test_checks;
    test_determinism();
    test_statistics();
    test_quantized();
    gm_cleanup();
    return test_done();
}
