/*
 * test_pad_vocab.c: a model whose token_embd/output has more rows than its
 * tokenizer has tokens (converters pad vocabularies: Qwen2.5 has 151936 rows
 * for 151665 tokens). hearth-genmodel --pad-vocab makes the pad rows' logits
 * beat every real token's; the test first shows that (the same file without
 * its tokenizer, where every row is a token, picks pad rows), then that with
 * the tokenizer no path ever produces a pad id: greedy, temperature 1 over
 * the whole distribution, top-k/top-p, penalties, and the batch scheduler all
 * finish normally with ids inside the vocabulary, and give exactly what the
 * same model without pad rows gives (the real rows are the same bytes).
 * Also: the logits have one entry per token, decode refuses a pad id, and a
 * tokenizer with more tokens than rows is refused at open.
 */
#include "genutil.h"
#include "test.h"

#include "hearth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_TOK 320 /* the tiny preset's vocabulary */
#define N_PAD 128 /* 2 * n_embd: every hidden dimension has a + and a - pad row */

typedef struct {
    int32_t ids[256];
    int n, bad;
} sink;

static int on_tok(void *u, int32_t t, const char *txt, size_t len) {
    (void)txt;
    (void)len;
    sink *s = u;
    if (t < 0) return 0; /* the final flush */
    if (t >= N_TOK) s->bad++;
    if (s->n < 256) s->ids[s->n++] = t;
    return 0;
}

typedef struct {
    const char *what;
    float temp;
    int32_t top_k;
    float top_p, min_p, repeat, freq, presence;
} sampling;

static const sampling cases[] = {
    {"greedy", 0, 0, 1, 0, 1, 0, 0},
    {"temp 1, whole distribution", 1, 0, 1, 0, 1, 0, 0},
    {"temp 1.5, top-k 40, top-p 0.95, min-p 0.05", 1.5f, 40, 0.95f, 0.05f, 1, 0, 0},
    {"greedy with penalties", 0, 0, 1, 0, 1.5f, 0.5f, 0.5f},
    {"temp 1 with penalties", 1, 0, 1, 0, 1.3f, 0.2f, 0.2f},
};

static hearth_gen_params params(const sampling *c) {
    hearth_gen_params gp = hearth_gen_default_params();
    gp.max_tokens = 48;
    gp.sampling.temp = c->temp;
    gp.sampling.top_k = c->top_k;
    gp.sampling.top_p = c->top_p;
    gp.sampling.min_p = c->min_p;
    gp.sampling.repeat_penalty = c->repeat;
    gp.sampling.frequency_penalty = c->freq;
    gp.sampling.presence_penalty = c->presence;
    gp.sampling.seed = 7;
    return gp;
}

/* Every sampling case through hearth_generate on padded and plain models and
 * through the scheduler on the padded one: all succeed, only valid ids, and
 * the three agree token for token. */
static void generate_all(const char *padded, const char *plain) {
    hearth_error e = {0};
    hearth_model *mp, *m0;
    REQUIRE(hearth_model_open(padded, NULL, &mp, &e) == HEARTH_OK);
    REQUIRE(hearth_model_open(plain, NULL, &m0, &e) == HEARTH_OK);
    const hearth_tokenizer *tok = hearth_model_tokenizer(mp);
    REQUIRE(tok);
    CHECK_EQ_INT(hearth_tokenizer_n_vocab(tok), N_TOK);
    CHECK_EQ_INT(hearth_model_n_vocab(mp), N_TOK); /* logits per token: the tokenizer's count */
    CHECK_EQ_INT(hearth_model_n_vocab(m0), N_TOK);
    CHECK(hearth_model_weight_bytes(mp) == hearth_model_weight_bytes(m0));

    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = 128;
    cp.n_threads = 2;
    hearth_ctx *cx, *c0;
    REQUIRE(hearth_ctx_new(mp, &cp, &cx, &e) == HEARTH_OK);
    REQUIRE(hearth_ctx_new(m0, &cp, &c0, &e) == HEARTH_OK);
    hearth_ctx_params sp = cp;
    sp.n_seq = 2;
    hearth_sched *sch;
    REQUIRE(hearth_sched_new(mp, &sp, &sch, &e) == HEARTH_OK);

    int32_t *prompt;
    size_t np;
    const char *text = "the quick brown fox";
    REQUIRE(hearth_tokenize(tok, text, strlen(text), true, false, &prompt, &np, &e) == HEARTH_OK);
    REQUIRE(np > 0);

    /* The logits: one per token, identical to the plain model's. */
    REQUIRE(hearth_ctx_eval(cx, 0, prompt, (int32_t)np, &e) == HEARTH_OK);
    REQUIRE(hearth_ctx_eval(c0, 0, prompt, (int32_t)np, &e) == HEARTH_OK);
    const float *lp = hearth_ctx_logits(cx, -1), *l0 = hearth_ctx_logits(c0, -1);
    REQUIRE(lp && l0);
    double dmax, rmax;
    logit_diff(lp, l0, N_TOK, &dmax, &rmax);
    printf("padded vs plain logits: max |diff| %g (max |logit| %g)\n", dmax, rmax);
    CHECK(dmax == 0);
    /* A pad id is no token: decode refuses it and leaves the context alone. */
    int32_t pad_id = N_TOK + 3;
    int32_t len = hearth_ctx_seq_len(cx, 0);
    CHECK(hearth_ctx_eval(cx, 0, &pad_id, 1, &e) == HEARTH_E_ARG);
    CHECK_EQ_INT(hearth_ctx_seq_len(cx, 0), len);

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const sampling *c = &cases[k];
        hearth_gen_params gp = params(c);
        sink sx = {0}, s0 = {0}, ss = {0};
        hearth_gen_result rx, r0, rs;
        REQUIRE(hearth_ctx_seq_clear(cx, -1, &e) == HEARTH_OK);
        REQUIRE(hearth_ctx_seq_clear(c0, -1, &e) == HEARTH_OK);
        hearth_status st = hearth_generate(cx, prompt, (int32_t)np, &gp, on_tok, &sx, &rx, &e);
        CHECKF(st == HEARTH_OK, "%s: hearth_generate on the padded model: %s", c->what, e.msg);
        hearth_status st0 = hearth_generate(c0, prompt, (int32_t)np, &gp, on_tok, &s0, &r0, &e);
        REQUIRE(st0 == HEARTH_OK);
        st = hearth_sched_generate(sch, prompt, (int32_t)np, &gp, on_tok, &ss, &rs, &e);
        CHECKF(st == HEARTH_OK, "%s: hearth_sched_generate on the padded model: %s", c->what, e.msg);
        printf("%s: %d tokens (%s), scheduler %d (%s)\n", c->what, rx.n_gen,
               hearth_finish_reason_str(rx.finish), rs.n_gen, hearth_finish_reason_str(rs.finish));
        CHECKF(sx.bad == 0 && ss.bad == 0, "%s: %d / %d ids past the vocabulary", c->what, sx.bad,
               ss.bad);
        CHECKF(rx.finish == HEARTH_FINISH_LENGTH || rx.finish == HEARTH_FINISH_EOG,
               "%s: finish %s", c->what, hearth_finish_reason_str(rx.finish));
        CHECKF(rs.finish == HEARTH_FINISH_LENGTH || rs.finish == HEARTH_FINISH_EOG,
               "%s: scheduler finish %s", c->what, hearth_finish_reason_str(rs.finish));
        CHECKF(rx.n_gen == r0.n_gen && sx.n == s0.n && !memcmp(sx.ids, s0.ids, sizeof(int32_t) * (size_t)sx.n),
               "%s: the padded model differs from the plain one", c->what);
        CHECKF(rs.n_gen == rx.n_gen && ss.n == sx.n &&
                   !memcmp(ss.ids, sx.ids, sizeof(int32_t) * (size_t)sx.n),
               "%s: the scheduler differs from hearth_generate", c->what);
    }
    hearth_free(prompt);
    hearth_sched_free(sch);
    hearth_ctx_free(cx);
    hearth_ctx_free(c0);
    hearth_model_free(mp);
    hearth_model_free(m0);
}

/* Without the tokenizer every row is a token: the pad rows win greedy, which
 * shows the file really is adversarial (a runtime that scored them would
 * sample them). */
static void pad_rows_win(const char *padded) {
    char path[512];
    snprintf(path, sizeof path, "%s/notok.gguf", tmpdir_path());
    REQUIRE(gguf_rewrite(padded, path, &(gguf_edit){.drop_prefix = "tokenizer."}) == 0);
    hearth_error e = {0};
    hearth_model *m;
    REQUIRE(hearth_model_open(path, NULL, &m, &e) == HEARTH_OK);
    CHECK_EQ_INT(hearth_model_n_vocab(m), N_TOK + N_PAD);
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = 64;
    cp.n_threads = 2;
    hearth_ctx *c;
    REQUIRE(hearth_ctx_new(m, &cp, &c, &e) == HEARTH_OK);
    int wins = 0, steps = 0;
    for (int32_t t = 1; t < 200; t += 23, steps++) {
        REQUIRE(hearth_ctx_eval(c, 0, &t, 1, &e) == HEARTH_OK);
        const float *l = hearth_ctx_logits(c, -1);
        wins += argmax_f(l, N_TOK + N_PAD) >= N_TOK;
    }
    printf("without the tokenizer, a pad row wins greedy at %d of %d steps\n", wins, steps);
    CHECK_EQ_INT(wins, steps);
    hearth_ctx_free(c);
    hearth_model_free(m);
}

/* Fewer rows than tokens: refused at open, saying so. */
static void too_few_rows(const char *plain) {
    char path[512];
    snprintf(path, sizeof path, "%s/short.gguf", tmpdir_path());
    REQUIRE(gguf_rewrite(plain, path, &(gguf_edit){.vocab_rows = N_TOK - 20}) == 0);
    hearth_error e = {0};
    hearth_model *m = (hearth_model *)1;
    CHECK(hearth_model_open(path, NULL, &m, &e) == HEARTH_E_FORMAT);
    CHECK(m == NULL);
    CHECKF(strstr(e.msg, "320 tokens") && strstr(e.msg, "300 rows"), "message: %s", e.msg);
}

int main(void) {
    static const char *const shapes[] = {
        "--arch qwen2 --type F32",             /* tied: the pad rows are in token_embd */
        "--arch llama --untied --type Q8_0",   /* untied: in output.weight (and token_embd) */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        char args[256];
        snprintf(args, sizeof args, "%s --pad-vocab %d", shapes[i], N_PAD);
        const char *padded = genmodel(i ? "pad_llama.gguf" : "pad_qwen.gguf", args);
        const char *plain = genmodel(i ? "plain_llama.gguf" : "plain_qwen.gguf", shapes[i]);
        REQUIRE(padded && plain);
        printf("== %s\n", shapes[i]);
        pad_rows_win(padded);
        generate_all(padded, plain);
        if (i == 0) too_few_rows(plain);
    }
    tmpdir_cleanup();
    return test_done();
}
