/*
 * test_threads.c: the engine gives the same results with 1, 3 and 8
 * threads (more threads than this machine's cores: workers are often
 * descheduled mid-run, which the thread pool must survive), on generator
 * models wide enough that the work really is split. forward.c runs a step on
 * the calling thread alone below SMALL_WORK (2^17) multiply-adds; the tiny256
 * shape (n_embd 256, 2 KV heads of 64, n_ff 512, vocab 512) has per token
 * 2^17 in the Q/K/V products, 2^18 in gate/up and 2^17 in the output, so
 * even a one-token step splits them; a 260-token prompt splits the row-wise
 * steps (SMALL_ROWS) and prefill attention, and the decode steps after it
 * (positions >= 256) split decode attention too.
 * For each model and thread count:
 *  - prefill of 260 tokens with logits for every token, then 6 decode steps;
 *  - the same prompt's first 40 tokens with n_batch 7 (split batches);
 *  - two sequences interleaved in one batch, then one step of each;
 *  - an embedding.
 * Every logit vector must equal the 1-thread one within TOL relative to its
 * largest logit; the measured maximum is printed. Measured: 0 (bit for bit:
 * every output element is computed by one call whose inputs do not depend on
 * the split) on AVX2, AVX-512 and scalar kernels. TOL allows a split that
 * only reorders float additions (test_decode measures 2.2e-7 for that).
 */
#include "genutil.h"
#include "test.h"

#include "hearth.h"

#include <math.h>
#include <stdlib.h>

enum { N_PROMPT = 260, N_STEPS = 6, N_SPLIT = 40, N_MIX = 30 };
static const double TOL = 1e-6;

/* Logit vectors (and the embedding) of one run, in a fixed order. */
typedef struct {
    float *v;
    size_t n, cap;
} rec;

static void put(rec *r, const float *x, size_t n) {
    REQUIRE(x);
    if (r->n + n > r->cap) {
        r->cap = (r->n + n) * 2;
        r->v = realloc(r->v, r->cap * sizeof(float));
        REQUIRE(r->v);
    }
    memcpy(r->v + r->n, x, n * sizeof(float));
    r->n += n;
}

static hearth_ctx *new_ctx(hearth_model *m, int nth, int32_t n_batch, int32_t n_seq) {
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = 512;
    cp.n_batch = n_batch;
    cp.n_seq = n_seq;
    cp.n_threads = nth;
    hearth_ctx *c = NULL;
    hearth_error e = {0};
    REQUIRE(hearth_ctx_new(m, &cp, &c, &e) == HEARTH_OK);
    return c;
}

static void run(hearth_model *m, int nth, rec *r) {
    hearth_error e = {0};
    int32_t nv = hearth_model_n_vocab(m), d = hearth_model_n_embd(m);
    int32_t toks[N_PROMPT];
    for (int i = 0; i < N_PROMPT; i++) toks[i] = (i * 37 + 5) % nv;
    int8_t all[N_PROMPT];
    memset(all, 1, sizeof all);

    hearth_ctx *c = new_ctx(m, nth, 512, 1);
    hearth_batch b = {.n_tokens = N_PROMPT, .tokens = toks, .logits = all};
    REQUIRE(hearth_ctx_decode(c, &b, &e) == HEARTH_OK);
    for (int i = 0; i < N_PROMPT; i++) put(r, hearth_ctx_logits(c, i), (size_t)nv);
    for (int i = 0; i < N_STEPS; i++) {
        int32_t t = (i * 53 + 11) % nv;
        REQUIRE(hearth_ctx_eval(c, 0, &t, 1, &e) == HEARTH_OK);
        put(r, hearth_ctx_logits(c, -1), (size_t)nv);
    }
    float *emb = malloc((size_t)d * sizeof(float));
    REQUIRE(emb);
    REQUIRE(hearth_ctx_embed(c, 0, toks, N_SPLIT, emb, &e) == HEARTH_OK);
    put(r, emb, (size_t)d);
    free(emb);
    hearth_ctx_free(c);

    c = new_ctx(m, nth, 7, 1);
    hearth_batch bs = {.n_tokens = N_SPLIT, .tokens = toks, .logits = all};
    REQUIRE(hearth_ctx_decode(c, &bs, &e) == HEARTH_OK);
    for (int i = 0; i < N_SPLIT; i++) put(r, hearth_ctx_logits(c, i), (size_t)nv);
    hearth_ctx_free(c);

    c = new_ctx(m, nth, 512, 2);
    int32_t mt[2 * N_MIX], ms[2 * N_MIX];
    for (int i = 0; i < N_MIX; i++) {
        mt[2 * i] = toks[i];
        ms[2 * i] = 0;
        mt[2 * i + 1] = toks[N_PROMPT - 1 - i];
        ms[2 * i + 1] = 1;
    }
    hearth_batch bm = {.n_tokens = 2 * N_MIX, .tokens = mt, .seq = ms, .logits = all};
    REQUIRE(hearth_ctx_decode(c, &bm, &e) == HEARTH_OK);
    for (int i = 0; i < 2 * N_MIX; i++) put(r, hearth_ctx_logits(c, i), (size_t)nv);
    for (int s = 0; s < 2; s++) {
        REQUIRE(hearth_ctx_eval(c, s, &toks[s + 1], 1, &e) == HEARTH_OK);
        put(r, hearth_ctx_logits(c, -1), (size_t)nv);
    }
    hearth_ctx_free(c);
}

/* Largest difference of b from a over vectors of nv values (the embedding,
 * n_embd values, is compared as one more vector), relative to each vector's
 * largest |a|. */
static double max_rel(const rec *a, const rec *b, int32_t nv, int32_t d, size_t n_before_emb) {
    if (a->n != b->n) return INFINITY;
    double worst = 0;
    for (size_t at = 0; at < a->n;) {
        size_t n = at == n_before_emb ? (size_t)d : (size_t)nv;
        double ma, mr;
        logit_diff(b->v + at, a->v + at, n, &ma, &mr);
        double rel = ma / (mr > 1e-6 ? mr : 1e-6);
        if (!(rel <= worst)) worst = rel; /* NaN sticks */
        at += n;
    }
    return worst;
}

int main(void) {
    const char *models[][2] = {
        {"q4_0", "--arch qwen2 --preset tiny256 --type Q4_0 --seed 21"},
        {"q8_0", "--arch qwen2 --preset tiny256 --type Q8_0 --seed 22"},
        {"q4_k", "--arch llama --preset tiny256 --type Q4_K --seed 23"},
        {"f16", "--arch llama --preset tiny256 --type F16 --seed 24"},
    };
    const int threads[] = {3, 8};
    for (size_t mi = 0; mi < sizeof models / sizeof models[0]; mi++) {
        char name[32];
        snprintf(name, sizeof name, "%s.gguf", models[mi][0]);
        const char *path = genmodel(name, models[mi][1]);
        REQUIRE(path);
        hearth_error e = {0};
        hearth_model *m = NULL;
        REQUIRE(hearth_model_open(path, NULL, &m, &e) == HEARTH_OK);
        int32_t nv = hearth_model_n_vocab(m), d = hearth_model_n_embd(m);
        CHECK(d >= 256); /* see the header: below that nothing splits */
        size_t n_before_emb = (size_t)(N_PROMPT + N_STEPS) * (size_t)nv;
        rec one = {0};
        run(m, 1, &one);
        for (size_t ti = 0; ti < sizeof threads / sizeof threads[0]; ti++) {
            rec r = {0};
            run(m, threads[ti], &r);
            double worst = max_rel(&one, &r, nv, d, n_before_emb);
            fprintf(stderr, "%s: %d threads vs 1: max rel diff %.2e (tol %.0e)%s\n", models[mi][0],
                    threads[ti], worst, TOL, worst == 0 ? ", bit for bit" : "");
            CHECKF(worst <= TOL, "%s, %d threads: %.3e", models[mi][0], threads[ti], worst);
            free(r.v);
        }
        free(one.v);
        hearth_model_free(m);
    }
    tmpdir_cleanup();
    return test_done();
}
