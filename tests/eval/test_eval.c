/*
 * test_eval.c: the evaluation module (src/eval/eval.c) on generator models,
 * against answers known in advance and a direct double-precision
 * computation written out here:
 *  - a model against itself (one handle, and the same file opened twice):
 *    KLD exactly 0 at every percentile, top-1 exactly 1, ratio exactly 1;
 *  - two different models (another seed; the same weights in Q4_0): KLD > 0,
 *    and every figure (both perplexities, ratio, mean KLD, median, p99, max,
 *    top-1) equal to the direct computation from the logits of
 *    hearth_ctx_decode, with the windows, BOS substitution and scored half
 *    of llama-perplexity;
 *  - the single-model path equals the base figures of the pair;
 *  - models with different vocabularies are refused with HEARTH_E_ARG and a
 *    message that says so; too few tokens for one window is HEARTH_E_ARG;
 *  - a failed window (bad token id) leaves the totals unchanged.
 */
#include "genutil.h"
#include "test.h"

#include "hearth.h"

#include <math.h>
#include <stdlib.h>

enum { NCTX = 32, NWIN = 3 };

typedef struct {
    double nll[2], kld_mean, kld_median, kld_p99, kld_max, top1;
    int64_t n;
} direct;

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* log-softmax of l (n floats) into out, in long double for the reference */
static void log_softmax(const float *l, int32_t n, long double *out) {
    long double mx = l[0], z = 0;
    for (int32_t k = 1; k < n; k++)
        if (l[k] > mx) mx = l[k];
    for (int32_t k = 0; k < n; k++) z += expl((long double)l[k] - mx);
    for (int32_t k = 0; k < n; k++) out[k] = (long double)l[k] - mx - logl(z);
}

static int32_t argmax(const float *l, int32_t n) {
    int32_t a = 0;
    for (int32_t k = 1; k < n; k++)
        if (l[k] > l[a]) a = k;
    return a;
}

/* The figures computed straight from decode's logits. */
static direct compute_direct(hearth_model *a, hearth_model *b, const int32_t *toks) {
    direct d = {0};
    int32_t nv = hearth_model_n_vocab(a);
    const hearth_tokenizer *tok = hearth_model_tokenizer(a);
    int32_t bos = hearth_tokenizer_add_bos(tok) ? hearth_token_bos(tok) : -1;
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = NCTX;
    cp.n_threads = 2;
    hearth_ctx *ca = NULL, *cb = NULL;
    REQUIRE(hearth_ctx_new(a, &cp, &ca, NULL) == HEARTH_OK);
    REQUIRE(hearth_ctx_new(b, &cp, &cb, NULL) == HEARTH_OK);
    long double *pa = malloc(sizeof(long double) * (size_t)nv);
    long double *pb = malloc(sizeof(long double) * (size_t)nv);
    double *klds = malloc(sizeof(double) * NWIN * NCTX);
    long double s[2] = {0, 0}, sk = 0;
    int64_t agree = 0;
    int8_t want[NCTX] = {0};
    for (int j = NCTX / 2; j < NCTX - 1; j++) want[j] = 1;
    for (int w = 0; w < NWIN; w++) {
        int32_t win[NCTX];
        memcpy(win, toks + w * NCTX, sizeof win);
        if (bos >= 0) win[0] = bos;
        hearth_batch bt = {.n_tokens = NCTX, .tokens = win, .logits = want};
        hearth_ctx_seq_clear(ca, -1, NULL);
        hearth_ctx_seq_clear(cb, -1, NULL);
        REQUIRE(hearth_ctx_decode(ca, &bt, NULL) == HEARTH_OK);
        REQUIRE(hearth_ctx_decode(cb, &bt, NULL) == HEARTH_OK);
        for (int j = NCTX / 2; j < NCTX - 1; j++) {
            const float *la = hearth_ctx_logits(ca, j), *lb = hearth_ctx_logits(cb, j);
            log_softmax(la, nv, pa);
            log_softmax(lb, nv, pb);
            int32_t next = toks[w * NCTX + j + 1];
            s[0] -= pa[next];
            s[1] -= pb[next];
            long double kl = 0;
            for (int32_t k = 0; k < nv; k++) kl += expl(pa[k]) * (pa[k] - pb[k]);
            klds[d.n++] = (double)kl;
            sk += kl;
            agree += argmax(la, nv) == argmax(lb, nv);
        }
    }
    d.nll[0] = (double)(s[0] / d.n);
    d.nll[1] = (double)(s[1] / d.n);
    d.kld_mean = (double)(sk / d.n);
    d.top1 = (double)agree / (double)d.n;
    qsort(klds, (size_t)d.n, sizeof *klds, cmp_d);
    size_t n = (size_t)d.n;
    d.kld_median = n % 2 ? klds[n / 2] : 0.5 * (klds[n / 2 - 1] + klds[n / 2]);
    double r = 0.99 * (double)(n - 1);
    size_t i = (size_t)r;
    d.kld_p99 = klds[i] + (r - (double)i) * (klds[i + 1] - klds[i]);
    d.kld_max = klds[n - 1];
    free(pa);
    free(pb);
    free(klds);
    hearth_ctx_free(ca);
    hearth_ctx_free(cb);
    return d;
}

static bool close_to(double got, double want, double rtol) {
    double err = fabs(got - want);
    return err <= 1e-12 + rtol * fabs(want);
}

static void check_same(hearth_model *a, hearth_model *b, const int32_t *toks, size_t n) {
    hearth_eval_params p = hearth_eval_default_params();
    p.n_ctx = NCTX;
    p.n_threads = 2;
    hearth_eval_result r;
    hearth_error e = {0};
    REQUIRE(hearth_eval_tokens(a, b, toks, n, &p, &r, &e) == HEARTH_OK);
    CHECK(r.has_test);
    CHECK_EQ_INT(r.n_chunks, NWIN);
    CHECK_EQ_INT(r.n_scored, NWIN * (NCTX - 1 - NCTX / 2));
    CHECKF(r.kld_mean == 0 && r.kld_max == 0 && r.kld_p99 == 0 && r.kld_median == 0,
           "kld mean %g max %g", r.kld_mean, r.kld_max);
    CHECKF(r.top1 == 1.0, "top1 %g", r.top1);
    CHECKF(r.ppl_ratio == 1.0, "ratio %.17g", r.ppl_ratio);
    CHECK(r.base.ppl == r.test.ppl);
    CHECK(r.base.ppl > 1);
}

int main(void) {
    const char *fa = genmodel("a.gguf", "--arch llama --preset tiny --type F16 --seed 11");
    const char *fb = genmodel("b.gguf", "--arch llama --preset tiny --type F16 --seed 12");
    const char *fq = genmodel("q.gguf", "--arch llama --preset tiny --type Q4_0 --seed 11");
    const char *fv = genmodel("v.gguf", "--arch llama --preset tiny --type F16 --n-vocab 300 --seed 11");
    REQUIRE(fa && fb && fq && fv);
    hearth_model *a, *a2, *b, *q, *v;
    hearth_error e = {0};
    REQUIRE(hearth_model_open(fa, NULL, &a, &e) == HEARTH_OK);
    REQUIRE(hearth_model_open(fa, NULL, &a2, &e) == HEARTH_OK);
    REQUIRE(hearth_model_open(fb, NULL, &b, &e) == HEARTH_OK);
    REQUIRE(hearth_model_open(fq, NULL, &q, &e) == HEARTH_OK);
    REQUIRE(hearth_model_open(fv, NULL, &v, &e) == HEARTH_OK);
    int32_t nv = hearth_model_n_vocab(a);
    size_t n = NWIN * NCTX + 7; /* a partial last window is left out */
    int32_t *toks = malloc(n * sizeof *toks);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        toks[i] = (int32_t)(x % (uint64_t)nv);
    }

    check_same(a, a, toks, n);
    check_same(a, a2, toks, n);

    hearth_eval_params p = hearth_eval_default_params();
    p.n_ctx = NCTX;
    p.n_threads = 2;
    hearth_model *tests[2] = {b, q};
    for (int t = 0; t < 2; t++) {
        hearth_eval_result r;
        REQUIRE(hearth_eval_tokens(a, tests[t], toks, n, &p, &r, &e) == HEARTH_OK);
        direct d = compute_direct(a, tests[t], toks);
        fprintf(stderr,
                "%s vs a: ppl %.4f / %.4f ratio %.4f +/- %.4f kld %.6f (median %.6f p99 %.6f max %.6f) "
                "top1 %.4f; direct kld %.6f\n",
                t ? "q4_0" : "b", r.base.ppl, r.test.ppl, r.ppl_ratio, r.ppl_ratio_err, r.kld_mean,
                r.kld_median, r.kld_p99, r.kld_max, r.top1, d.kld_mean);
        CHECK(r.kld_mean > 0 && r.kld_max >= r.kld_p99 && r.kld_p99 >= r.kld_median);
        CHECK(r.kld_median > 0);
        CHECK_EQ_INT(r.n_scored, d.n);
        CHECKF(close_to(r.base.nll, d.nll[0], 1e-9), "%.12g vs %.12g", r.base.nll, d.nll[0]);
        CHECKF(close_to(r.test.nll, d.nll[1], 1e-9), "%.12g vs %.12g", r.test.nll, d.nll[1]);
        CHECK(close_to(r.base.ppl, exp(d.nll[0]), 1e-9));
        CHECK(close_to(r.ppl_ratio, exp(d.nll[1] - d.nll[0]), 1e-9));
        CHECKF(close_to(r.kld_mean, d.kld_mean, 1e-6), "%.12g vs %.12g", r.kld_mean, d.kld_mean);
        CHECK(close_to(r.kld_median, d.kld_median, 1e-6));
        CHECK(close_to(r.kld_p99, d.kld_p99, 1e-6));
        CHECK(close_to(r.kld_max, d.kld_max, 1e-6));
        CHECKF(r.top1 == d.top1, "%g vs %g", r.top1, d.top1);
        CHECK(r.kld_err > 0 && r.ppl_ratio_err > 0);
        CHECK(r.top1 >= 0 && r.top1 <= 1);

        /* the single-model path gives the base's figures */
        hearth_eval_result s;
        REQUIRE(hearth_eval_tokens(a, NULL, toks, n, &p, &s, &e) == HEARTH_OK);
        CHECK(!s.has_test);
        CHECK(s.base.nll == r.base.nll && s.base.ppl_err == r.base.ppl_err);
        CHECK(s.kld_mean == 0 && s.top1 == 0);
    }
    {
        /* a Q4_0 copy of a's weights is closer to a than another model is */
        hearth_eval_result rb, rq;
        REQUIRE(hearth_eval_tokens(a, b, toks, n, &p, &rb, &e) == HEARTH_OK);
        REQUIRE(hearth_eval_tokens(a, q, toks, n, &p, &rq, &e) == HEARTH_OK);
        CHECKF(rq.kld_mean < rb.kld_mean, "q4_0 %g, other %g", rq.kld_mean, rb.kld_mean);
    }

    /* different vocabularies */
    hearth_eval *ev = NULL;
    CHECK(hearth_eval_new(a, v, &p, &ev, &e) == HEARTH_E_ARG);
    CHECK(ev == NULL);
    CHECKF(strstr(e.msg, "vocabularies differ") != NULL, "%s", e.msg);
    fprintf(stderr, "vocab error: %s\n", e.msg);
    hearth_eval_result r;
    CHECK(hearth_eval_tokens(a, b, toks, NCTX - 1, &p, &r, &e) == HEARTH_E_ARG);
    CHECKF(strstr(e.msg, "fewer than one window") != NULL, "%s", e.msg);

    /* a failed window changes nothing */
    REQUIRE(hearth_eval_new(a, b, &p, &ev, &e) == HEARTH_OK);
    REQUIRE(hearth_eval_window(ev, toks, &e) == HEARTH_OK);
    hearth_eval_result r1, r2;
    REQUIRE(hearth_eval_get(ev, &r1, &e) == HEARTH_OK);
    int32_t bad[NCTX];
    memcpy(bad, toks + NCTX, sizeof bad);
    bad[NCTX - 1] = nv;
    CHECK(hearth_eval_window(ev, bad, &e) == HEARTH_E_ARG);
    REQUIRE(hearth_eval_get(ev, &r2, &e) == HEARTH_OK);
    CHECK(r2.n_scored == r1.n_scored && r2.kld_mean == r1.kld_mean && r2.n_chunks == 1);
    hearth_eval_free(ev);
    hearth_eval_free(NULL);

    free(toks);
    hearth_model_free(a);
    hearth_model_free(a2);
    hearth_model_free(b);
    hearth_model_free(q);
    hearth_model_free(v);
    tmpdir_cleanup();
    return test_done();
}
