/*
 * test_alloc_fail.c: every allocation the engine makes can fail cleanly.
 * Counts the allocations of (model open, context, prompt decode, sampler,
 * generation) on stories260K, then makes the Nth one fail for a spread of N
 * covering the whole range (every N in the engine's own part, a stride in
 * the tokenizer's thousands): each run must end in HEARTH_E_NOMEM or OK,
 * never crash; ASan builds check that nothing leaks.
 */
#include "test.h"

#include "hearth.h"
#include "util/alloc.h"

static const char *PATH = HEARTH_SHARED_DIR "/testdata/models/stories260K.gguf";

/* One full use of the engine; returns the first failing status. */
static hearth_status scenario(void) {
    hearth_error e = {0};
    hearth_model *m = NULL;
    hearth_ctx *c = NULL;
    hearth_status st = hearth_model_open(PATH, NULL, &m, &e);
    if (st) return st;
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = 32;
    cp.n_threads = 2;
    if ((st = hearth_ctx_new(m, &cp, &c, &e))) goto out;
    int32_t prompt[4] = {1, 403, 407, 261};
    hearth_gen_params gp = hearth_gen_default_params();
    gp.max_tokens = 4;
    gp.sampling.seed = 1;
    st = hearth_generate(c, prompt, 4, &gp, NULL, NULL, NULL, &e);
    if (st) goto out;
    float emb[64];
    st = hearth_ctx_embed(c, 0, prompt, 4, emb, &e);
out:
    hearth_ctx_free(c);
    hearth_model_free(m);
    return st;
}

int main(void) {
    hearth_alloc_fail_after(0);
    REQUIRE(scenario() == HEARTH_OK);
    long total = hearth_alloc_fail_after(0);
    fprintf(stderr, "scenario makes %ld allocations\n", total);
    REQUIRE(total > 10);
    int runs = 0;
    for (long n = 1; n <= total; n += n < 200 ? 1 : (n < total - 200 ? 97 : 1)) {
        hearth_alloc_fail_after(n);
        hearth_status st = scenario();
        hearth_alloc_fail_after(0);
        CHECKF(st == HEARTH_OK || st == HEARTH_E_NOMEM, "fail at %ld: status %d", n, st);
        runs++;
    }
    fprintf(stderr, "%d failure points tried\n", runs);
    return test_done();
}
