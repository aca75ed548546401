/*
 * test_generate.c: hearth_generate on stories260K (a real model, so the text
 * is real text): streamed text equals the detokenized ids, seeded runs
 * repeat, stop strings cut the text (even across tokens) and never reach the
 * callback, cancellation, max_tokens, a clean stop at the end of the
 * context, and a prompt that does not fit is an error before any callback.
 */
#include "genutil.h"
#include "test.h"

#include "hearth.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char text[8192];
    size_t len;
    int32_t ids[512];
    int n_ids, calls, cancel_at, flushes;
} sink;

static int on_tok(void *u, int32_t t, const char *txt, size_t len) {
    sink *s = u;
    s->calls++;
    if (t >= 0 && s->n_ids < 512) s->ids[s->n_ids++] = t;
    if (t < 0) s->flushes++;
    if (s->len + len < sizeof s->text) {
        memcpy(s->text + s->len, txt, len);
        s->len += len;
        s->text[s->len] = 0;
    }
    return s->cancel_at && s->calls >= s->cancel_at;
}

static hearth_gen_result gen(hearth_ctx *c, const int32_t *prompt, int32_t n, hearth_gen_params *gp,
                             sink *s, hearth_status want) {
    hearth_gen_result r;
    hearth_error e = {0};
    REQUIRE(hearth_ctx_seq_clear(c, -1, &e) == HEARTH_OK);
    memset(s->text, 0, 8);
    s->len = 0;
    s->n_ids = s->calls = s->flushes = 0;
    hearth_status st = hearth_generate(c, prompt, n, gp, on_tok, s, &r, &e);
    CHECKF(st == want, "status %d (%s), want %d", st, e.msg, want);
    return r;
}

int main(void) {
    const char *path = HEARTH_SHARED_DIR "/testdata/models/stories260K.gguf";
    hearth_error e = {0};
    hearth_model *m;
    REQUIRE(hearth_model_open(path, NULL, &m, &e) == HEARTH_OK);
    const hearth_tokenizer *tok = hearth_model_tokenizer(m);
    REQUIRE(tok);
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = 128;
    cp.n_threads = 2;
    hearth_ctx *c;
    REQUIRE(hearth_ctx_new(m, &cp, &c, &e) == HEARTH_OK);
    int32_t *prompt;
    size_t np;
    const char *ptext = "Once upon a time";
    REQUIRE(hearth_tokenize(tok, ptext, strlen(ptext), true, false, &prompt, &np, &e) == HEARTH_OK);
    REQUIRE(np > 0 && np < 40);

    /* greedy, max_tokens: text == detokenize(ids) */
    static sink s1, s2;
    hearth_gen_params gp = hearth_gen_default_params();
    gp.sampling.temp = 0;
    gp.max_tokens = 40;
    hearth_gen_result r = gen(c, prompt, (int32_t)np, &gp, &s1, HEARTH_OK);
    if (r.finish == HEARTH_FINISH_LENGTH) CHECK_EQ_INT(r.n_gen, 40);
    CHECK_EQ_INT(r.n_prompt, (int32_t)np);
    CHECK_EQ_INT(hearth_ctx_seq_len(c, 0), (int32_t)np + r.n_gen - 1);
    char *dt;
    size_t dl;
    REQUIRE(hearth_detokenize(tok, s1.ids, (size_t)s1.n_ids, false, &dt, &dl, &e) == HEARTH_OK);
    CHECKF(dl == s1.len && !memcmp(dt, s1.text, dl), "streamed '%s' vs detokenized '%s'", s1.text, dt);
    hearth_free(dt);
    REQUIRE(s1.len > 12);

    /* seeded sampling repeats */
    gp.sampling = hearth_sampler_default_params();
    gp.sampling.seed = 99;
    gp.sampling.temp = 1.5f;
    gen(c, prompt, (int32_t)np, &gp, &s1, HEARTH_OK);
    gen(c, prompt, (int32_t)np, &gp, &s2, HEARTH_OK);
    CHECK(s1.n_ids == s2.n_ids && !memcmp(s1.ids, s2.ids, (size_t)s1.n_ids * sizeof(int32_t)));

    /* stop strings: one that spans tokens ("girl named" is several), one
     * that never comes */
    gp.sampling.temp = 0;
    gen(c, prompt, (int32_t)np, &gp, &s1, HEARTH_OK);
    CHECKF(strstr(s1.text, ", there was a little girl named Lily.") == s1.text, "%s", s1.text);
    const char *stop = "rl nam";
    const char *stops[] = {"\x01never", stop};
    gp.stop = stops;
    gp.n_stop = 2;
    r = gen(c, prompt, (int32_t)np, &gp, &s2, HEARTH_OK);
    CHECK_EQ_INT(r.finish, HEARTH_FINISH_STOP);
    const char *first = strstr(s1.text, stop);
    REQUIRE(first);
    CHECKF(s2.len == (size_t)(first - s1.text) && !memcmp(s2.text, s1.text, s2.len),
           "stopped text '%s' (stop '%s' in '%s')", s2.text, stop, s1.text);
    CHECK(strstr(s2.text, stop) == NULL);
    gp.stop = NULL;
    gp.n_stop = 0;

    /* cancellation at the 3rd callback */
    s2.cancel_at = 3;
    r = gen(c, prompt, (int32_t)np, &gp, &s2, HEARTH_OK);
    CHECK_EQ_INT(r.finish, HEARTH_FINISH_CANCELLED);
    CHECK_EQ_INT(s2.calls, 3);
    CHECK_EQ_INT(s2.flushes, 0);
    s2.cancel_at = 0;

    /* the end of the context: a clean stop */
    hearth_ctx *small;
    cp.n_ctx = (int32_t)np + 6;
    REQUIRE(hearth_ctx_new(m, &cp, &small, &e) == HEARTH_OK);
    gp.max_tokens = 0;
    r = gen(small, prompt, (int32_t)np, &gp, &s2, HEARTH_OK);
    if (r.finish != HEARTH_FINISH_EOG) {
        CHECK_EQ_INT(r.finish, HEARTH_FINISH_CTX);
        CHECK_EQ_INT(r.n_gen, 7);
        CHECK_EQ_INT(hearth_ctx_seq_len(small, 0), (int32_t)np + 6);
    }
    /* a prompt that does not fit: error, no callback */
    cp.n_ctx = (int32_t)np - 1;
    hearth_ctx *tiny;
    REQUIRE(hearth_ctx_new(m, &cp, &tiny, &e) == HEARTH_OK);
    gen(tiny, prompt, (int32_t)np, &gp, &s2, HEARTH_E_LIMIT);
    CHECK_EQ_INT(s2.calls, 0);
    hearth_ctx_free(tiny);
    hearth_ctx_free(small);

    hearth_free(prompt);
    hearth_ctx_free(c);
    hearth_model_free(m);
    tmpdir_cleanup();
    return test_done();
}
