/*
 * test_logprob.c: token log-probabilities (engine/logprob.c): against a
 * naive double-precision softmax on random logits (with impossible tokens
 * and ties), the top list sorted and complete, and the on_logprob hook of
 * hearth_generate and of the batch scheduler on stories260K: one report per
 * sampled token (EOG included), greedy tokens are the top choice, and both
 * paths report the same numbers.
 */
#include "test.h"

#include "hearth.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ull;
static double unif(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static void check_against_naive(const float *l, int32_t n, int32_t token, int32_t n_top) {
    hearth_token_logprob lp;
    hearth_logprob_compute(l, n, token, n_top, &lp);
    double mx = -INFINITY, sum = 0;
    for (int32_t i = 0; i < n; i++)
        if (isfinite(l[i]) && l[i] > mx) mx = l[i];
    for (int32_t i = 0; i < n; i++)
        if (isfinite(l[i])) sum += exp(l[i] - mx);
    double want = isfinite(l[token]) ? l[token] - mx - log(sum) : -INFINITY;
    CHECKF(fabs(lp.logprob - want) <= 1e-4 + 1e-5 * fabs(want) || (isinf(want) && isinf(lp.logprob)),
           "logprob %f want %f", lp.logprob, want);
    int32_t expect_top = n_top < 2 ? 2 : n_top > HEARTH_MAX_TOP_LOGPROBS ? HEARTH_MAX_TOP_LOGPROBS : n_top;
    int32_t finite = 0;
    for (int32_t i = 0; i < n; i++) finite += isfinite(l[i]) != 0;
    if (expect_top > finite) expect_top = finite;
    CHECK_EQ_INT(lp.n_top, expect_top);
    double psum = 0;
    for (int32_t k = 0; k < lp.n_top; k++) {
        if (k) CHECK(lp.top_logprobs[k] <= lp.top_logprobs[k - 1]);
        int32_t id = lp.top_ids[k];
        REQUIRE(id >= 0 && id < n);
        CHECK(fabs(lp.top_logprobs[k] - (l[id] - mx - log(sum))) < 1e-4);
        psum += exp(lp.top_logprobs[k]);
    }
    CHECK(psum <= 1.0 + 1e-4);
    /* nothing outside the list beats its last entry */
    if (lp.n_top)
        for (int32_t i = 0; i < n; i++) {
            bool in = false;
            for (int32_t k = 0; k < lp.n_top; k++) in |= lp.top_ids[k] == i;
            if (!in && isfinite(l[i])) CHECK(l[i] - mx - log(sum) <= lp.top_logprobs[lp.n_top - 1] + 1e-6);
        }
}

typedef struct {
    int n;
    int32_t tok[256];
    float lp[256];
    int top_is_tok;
} lp_sink;

static void on_lp(void *u, const hearth_token_logprob *lp) {
    lp_sink *s = u;
    if (s->n < 256) {
        s->tok[s->n] = lp->token;
        s->lp[s->n] = lp->logprob;
        s->n++;
    }
    s->top_is_tok += lp->n_top >= 2 && lp->top_ids[0] == lp->token;
}

int main(void) {
    static float l[5000];
    int32_t sizes[] = {1, 2, 3, 7, 100, 5000};
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        int32_t n = sizes[si];
        for (int rep = 0; rep < 20; rep++) {
            for (int32_t i = 0; i < n; i++) {
                double u = unif();
                l[i] = u < 0.05 ? -INFINITY : u < 0.1 ? 3.0f : (float)(unif() * 40 - 20);
            }
            if (rep == 0) l[0] = NAN;
            check_against_naive(l, n, (int32_t)(unif() * n), rep % 25);
        }
    }
    /* all impossible: nothing reported, no NaN */
    for (int i = 0; i < 10; i++) l[i] = -INFINITY;
    hearth_token_logprob lp;
    hearth_logprob_compute(l, 10, 3, 5, &lp);
    CHECK_EQ_INT(lp.n_top, 0);
    CHECK(isinf(lp.logprob) && lp.logprob < 0);

    const char *path = HEARTH_SHARED_DIR "/testdata/models/stories260K.gguf";
    hearth_error e = {0};
    hearth_model *m;
    REQUIRE(hearth_model_open(path, NULL, &m, &e) == HEARTH_OK);
    const hearth_tokenizer *tok = hearth_model_tokenizer(m);
    int32_t *prompt;
    size_t np;
    REQUIRE(hearth_tokenize(tok, "Once upon a time", 16, true, false, &prompt, &np, &e) == HEARTH_OK);
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = 256;
    cp.n_threads = 1;
    hearth_ctx *c;
    REQUIRE(hearth_ctx_new(m, &cp, &c, &e) == HEARTH_OK);
    static lp_sink direct, batched;
    hearth_gen_params gp = hearth_gen_default_params();
    gp.sampling.temp = 0;
    gp.max_tokens = 60;
    gp.on_logprob = on_lp;
    gp.logprob_user = &direct;
    gp.n_top_logprobs = 5;
    hearth_gen_result r;
    REQUIRE(hearth_generate(c, prompt, (int32_t)np, &gp, NULL, NULL, &r, &e) == HEARTH_OK);
    CHECK_EQ_INT(direct.n, r.n_gen);
    CHECK_EQ_INT(direct.top_is_tok, r.n_gen);
    double mean = 0;
    for (int i = 0; i < direct.n; i++) {
        CHECK(direct.lp[i] <= 0 && direct.lp[i] > -50);
        mean += direct.lp[i];
    }
    printf("stories260K greedy: %d tokens, mean logprob %.3f\n", direct.n, mean / direct.n);

    hearth_sched *s;
    hearth_ctx_params sp = cp;
    sp.n_seq = 2;
    REQUIRE(hearth_sched_new(m, &sp, &s, &e) == HEARTH_OK);
    gp.logprob_user = &batched;
    REQUIRE(hearth_sched_generate(s, prompt, (int32_t)np, &gp, NULL, NULL, &r, &e) == HEARTH_OK);
    CHECK_EQ_INT(batched.n, direct.n);
    for (int i = 0; i < direct.n && i < batched.n; i++) {
        CHECK_EQ_INT(batched.tok[i], direct.tok[i]);
        CHECKF(fabs(batched.lp[i] - direct.lp[i]) < 1e-3, "token %d: %f vs %f", i, batched.lp[i],
               direct.lp[i]);
    }
    hearth_sched_free(s);
    hearth_free(prompt);
    hearth_ctx_free(c);
    hearth_model_free(m);
    return test_done();
}
