/*
 * test_spec.c: speculative decoding (hearth_spec) changes nothing but speed.
 *  - Greedy: the tokens, text, finish reason and the sequence's length equal
 *    plain decoding's, for a draft model and for prompt lookup and both,
 *    over many prompts, on a llama-family and a gemma3 model, with
 *    repetition penalties (the sampler's history rolls back with the
 *    drafts), stop strings, max_tokens and a context that fills up; a
 *    second turn on the same sequence continues as plain decoding does (the
 *    KV cache kept exactly what it should).
 *  - Sampling: the distribution of the second generated token (the first
 *    one verification decides) matches the target's exact distribution
 *    under its sampler chain (top-k, penalties, temperature), chi-square
 *    test over thousands of draws, for an unrelated draft model, a close
 *    one (the target's weights in Q4_0) and lookup; the same test fails
 *    with a deliberately wrong rejection rule (redrawing from p instead of
 *    the residual). The rule alone is tested the same way on fixed
 *    distributions: a draft distribution and lookup's point masses.
 *  - Errors: a draft with another vocabulary is refused clearly.
 * With HEARTH_TEST_SPEC=sched only the scheduler's part runs (speculation
 * per slot, 3 client threads), as make test's ThreadSanitizer pass does.
 */
#include "genutil.h"
#include "test.h"

#include "engine/spec_int.h"
#include "hearth.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_IDS = 256 };

/* Under the sanitizers (a -O0 build several times slower) the loops are cut
 * to a quarter; the checks stay the same (the wrong rule's chi-square still
 * sits far above the critical value at a quarter of the draws). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SLOW_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SLOW_BUILD 1
#endif
#endif
/* HEARTH_TEST_QUICK (make test's arm64 runs under qemu, ~50x slower):
 * an eighth of the loops; no chi-square over a model (the rule's own
 * distribution test still runs), no demo pair, one scheduler pair. */
static bool quick(void) {
    const char *q = getenv("HEARTH_TEST_QUICK");
    return q && *q && strcmp(q, "0");
}
static int scaled(int n) {
#ifdef SLOW_BUILD
    n /= 4;
#endif
    if (quick()) n /= 8;
    return n > 1 ? n : 1;
}

typedef struct {
    int32_t ids[MAX_IDS];
    int n_ids;
    char text[4096];
    size_t len;
} sink;

static int on_tok(void *u, int32_t t, const char *txt, size_t len) {
    sink *s = u;
    if (t >= 0 && s->n_ids < MAX_IDS) s->ids[s->n_ids++] = t;
    if (s->len + len < sizeof s->text) {
        memcpy(s->text + s->len, txt, len);
        s->len += len;
        s->text[s->len] = 0;
    }
    return 0;
}

static hearth_model *open_model(const char *path) {
    hearth_model *m = NULL;
    hearth_error e = {0};
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = 2;
    REQUIRE(path && hearth_model_open(path, &mp, &m, &e) == HEARTH_OK);
    return m;
}

static hearth_ctx *new_ctx(const hearth_model *m, int32_t n_ctx) {
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = n_ctx;
    cp.n_threads = 2;
    hearth_ctx *c = NULL;
    hearth_error e = {0};
    REQUIRE(hearth_ctx_new(m, &cp, &c, &e) == HEARTH_OK);
    return c;
}

static hearth_spec *new_spec(const hearth_model *target, const hearth_model *draft, bool lookup,
                             int32_t n_max, bool adaptive) {
    hearth_spec_params sp = hearth_spec_default_params();
    sp.draft = draft;
    sp.lookup = lookup;
    sp.n_draft_max = n_max;
    sp.adaptive = adaptive;
    sp.lookup_ngram_min = 1;
    sp.n_threads = 2;
    hearth_spec *s = NULL;
    hearth_error e = {0};
    CHECKF(hearth_spec_new(target, &sp, &s, &e) == HEARTH_OK, "%s", e.msg);
    REQUIRE(s);
    return s;
}

static hearth_gen_result gen(hearth_ctx *c, bool clear, const int32_t *prompt, int32_t n,
                             const hearth_gen_params *gp, sink *s) {
    hearth_error e = {0};
    if (clear) REQUIRE(hearth_ctx_seq_clear(c, -1, &e) == HEARTH_OK);
    memset(s, 0, sizeof *s);
    hearth_gen_result r;
    hearth_status st = hearth_generate(c, prompt, n, gp, on_tok, s, &r, &e);
    CHECKF(st == HEARTH_OK, "generate: %s", e.msg);
    return r;
}

/* Totals over a test's speculative runs. */
static int64_t tot_drafted, tot_accepted;

/* Plain and speculative generation of prompt agree exactly; then a second
 * turn on the same sequence does too. */
static void same_as_plain(hearth_ctx *cp, hearth_ctx *cs, hearth_spec *spec, const int32_t *prompt,
                          int32_t n, hearth_gen_params gp, const char *what) {
    static sink a, b;
    hearth_gen_result ra = gen(cp, true, prompt, n, &gp, &a);
    gp.spec = spec;
    hearth_gen_result rb = gen(cs, true, prompt, n, &gp, &b);
    if (getenv("SPEC_DEBUG")) fprintf(stderr, "%s: gen %d drafted %d accepted %d steps %d\n", what, rb.n_gen, rb.n_drafted, rb.n_accepted, rb.n_spec_steps);
    tot_drafted += rb.n_drafted;
    tot_accepted += rb.n_accepted;
    CHECKF(a.n_ids == b.n_ids && !memcmp(a.ids, b.ids, (size_t)a.n_ids * sizeof *a.ids),
           "%s: %d tokens plain, %d speculative (first differing at %d)", what, a.n_ids, b.n_ids,
           ({
               int k = 0;
               while (k < a.n_ids && k < b.n_ids && a.ids[k] == b.ids[k]) k++;
               k;
           }));
    CHECKF(a.len == b.len && !memcmp(a.text, b.text, a.len), "%s: text '%s' vs '%s'", what, a.text,
           b.text);
    CHECK_EQ_INT(ra.finish, rb.finish);
    CHECK_EQ_INT(ra.n_gen, rb.n_gen);
    CHECK_EQ_INT(hearth_ctx_seq_len(cp, 0), hearth_ctx_seq_len(cs, 0));
    CHECK(rb.n_accepted <= rb.n_drafted);
    /* a second turn continues from what the sequence holds */
    if (ra.finish == HEARTH_FINISH_LENGTH && hearth_ctx_seq_len(cp, 0) + n + 20 < hearth_ctx_seq_capacity(cp)) {
        gp.spec = NULL;
        gen(cp, false, prompt, n, &gp, &a);
        gp.spec = spec;
        rb = gen(cs, false, prompt, n, &gp, &b);
        tot_drafted += rb.n_drafted;
        tot_accepted += rb.n_accepted;
        CHECKF(a.n_ids == b.n_ids && !memcmp(a.ids, b.ids, (size_t)a.n_ids * sizeof *a.ids),
               "%s, second turn: differs", what);
        CHECK_EQ_INT(hearth_ctx_seq_len(cp, 0), hearth_ctx_seq_len(cs, 0));
    }
}

/* Prompts of token ids: random ones, and ones that repeat a phrase (what
 * lookup drafts from). */
static int32_t make_prompt(uint64_t *rng, int32_t n_vocab, int kind, int32_t *out) {
    int32_t n = 0;
    int32_t span = n_vocab > 300 ? 300 : n_vocab;
    if (kind == 0) {
        int32_t len = 4 + (int32_t)(*rng % 12);
        for (int32_t i = 0; i < len; i++) {
            *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
            out[n++] = (int32_t)((*rng >> 33) % (uint64_t)span);
        }
    } else {
        int32_t phrase[6];
        for (int i = 0; i < 6; i++) {
            *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
            phrase[i] = (int32_t)((*rng >> 33) % (uint64_t)span);
        }
        for (int r = 0; r < 3; r++)
            for (int i = 0; i < 6; i++) out[n++] = phrase[i];
        out[n++] = phrase[0];
    }
    return n;
}

static void greedy_suite(const char *target_path, const char *draft_path, int n_prompts,
                         const char *name) {
    hearth_model *t = open_model(target_path), *d = open_model(draft_path);
    int32_t nv = hearth_model_n_vocab(t);
    hearth_ctx *cp = new_ctx(t, 256), *cs = new_ctx(t, 256);
    hearth_spec *sd = new_spec(t, d, false, 6, true);
    hearth_spec *sl = new_spec(t, NULL, true, 8, false);
    hearth_spec *sb = new_spec(t, d, true, 5, false);
    hearth_spec *self = new_spec(t, t, false, 4, false); /* the target drafting for itself */
    uint64_t rng = 12345;
    tot_drafted = tot_accepted = 0;
    for (int i = 0; i < n_prompts; i++) {
        int32_t prompt[64];
        int32_t n = make_prompt(&rng, nv, i % 2, prompt);
        hearth_gen_params gp = hearth_gen_default_params();
        gp.sampling.temp = 0;
        gp.max_tokens = 24 + i % 9;
        if (i % 3 == 1) {
            gp.sampling.repeat_penalty = 1.5f;
            gp.sampling.repeat_last_n = 16;
        }
        if (i % 5 == 2) {
            gp.sampling.frequency_penalty = 0.4f;
            gp.sampling.presence_penalty = 0.3f;
        }
        char what[128];
        snprintf(what, sizeof what, "%s prompt %d draft model", name, i);
        same_as_plain(cp, cs, sd, prompt, n, gp, what);
        snprintf(what, sizeof what, "%s prompt %d lookup", name, i);
        same_as_plain(cp, cs, sl, prompt, n, gp, what);
        snprintf(what, sizeof what, "%s prompt %d both", name, i);
        same_as_plain(cp, cs, sb, prompt, n, gp, what);
        snprintf(what, sizeof what, "%s prompt %d self-draft", name, i);
        same_as_plain(cp, cs, self, prompt, n, gp, what);
    }
    fprintf(stderr, "%s: greedy over %d prompts x 4 sources: drafted %lld, accepted %lld\n", name,
            n_prompts, (long long)tot_drafted, (long long)tot_accepted);
    CHECK(tot_drafted > 10 * n_prompts);
    CHECK(tot_accepted > 2 * n_prompts);
    if (n_prompts >= 3) CHECK(tot_accepted < tot_drafted); /* rejections were exercised too */

    /* stop strings and a context that fills up (capacity inside a step) */
    int32_t prompt[64];
    int32_t n = make_prompt(&rng, nv, 1, prompt);
    static sink a;
    hearth_gen_params gp = hearth_gen_default_params();
    gp.sampling.temp = 0;
    gp.max_tokens = 40;
    gen(cp, true, prompt, n, &gp, &a);
    if (a.len > 6) {
        char stop[4];
        memcpy(stop, a.text + a.len / 2, 3);
        stop[3] = 0;
        const char *stops[] = {stop};
        gp.stop = stops;
        gp.n_stop = 1;
        same_as_plain(cp, cs, sb, prompt, n, gp, "stop string");
        same_as_plain(cp, cs, self, prompt, n, gp, "stop string, self-draft");
        gp.stop = NULL;
        gp.n_stop = 0;
    }
    for (int32_t room = 1; room <= 9; room += 4) {
        hearth_ctx *sp = new_ctx(t, n + room), *ss = new_ctx(t, n + room);
        gp.max_tokens = 0;
        char what[64];
        snprintf(what, sizeof what, "context of prompt + %d", room);
        same_as_plain(sp, ss, self, prompt, n, gp, what);
        same_as_plain(sp, ss, sl, prompt, n, gp, what);
        hearth_ctx_free(sp);
        hearth_ctx_free(ss);
    }
    hearth_spec_free(sd);
    hearth_spec_free(sl);
    hearth_spec_free(sb);
    hearth_spec_free(self);
    hearth_ctx_free(cp);
    hearth_ctx_free(cs);
    hearth_model_free(d);
    hearth_model_free(t);
}

/* Upper tail of the chi-square distribution with df degrees of freedom
 * (Wilson-Hilferty): the critical value for a tail probability given as a
 * standard normal quantile z. */
static double chi2_critical(int df, double z) {
    double a = 2.0 / (9.0 * df);
    double c = 1 - a + z * sqrt(a);
    return df * c * c * c;
}

typedef struct {
    int32_t second;
    int n;
} second_sink;

/* The log-probability callback sees every sampled token, EOG too. */
static void on_second(void *u, const hearth_token_logprob *lp) {
    second_sink *s = u;
    if (s->n++ == 1) s->second = lp->token;
}

/* The target's exact distribution of the second token: sum over the first
 * token t1 of p(t1) p(t2 | t1), both under the sampler chain. */
static void exact_second(const hearth_model *t, const int32_t *prompt, int32_t n, int32_t h0,
                         const hearth_sampler_params *sp, double *out, int32_t nv) {
    hearth_ctx *c = new_ctx(t, 128);
    hearth_error e = {0};
    hearth_sampler *s;
    REQUIRE(hearth_sampler_new(sp, nv, &s, &e) == HEARTH_OK);
    float *l0 = malloc((size_t)nv * sizeof *l0);
    REQUIRE(l0);
    REQUIRE(hearth_ctx_eval(c, 0, prompt, n, &e) == HEARTH_OK);
    memcpy(l0, hearth_ctx_logits(c, -1), (size_t)nv * sizeof *l0);
    for (int32_t i = 0; i < nv; i++) out[i] = 0;
    for (int32_t i = h0; i < n; i++) hearth_sampler_accept(s, prompt[i]);
    const sampler_prob *d1;
    int32_t n1;
    double tot1;
    sampler_dist(s, l0, &d1, &n1, &tot1);
    sampler_prob first[64];
    REQUIRE(n1 <= 64);
    memcpy(first, d1, (size_t)n1 * sizeof *d1);
    for (int32_t j = 0; j < n1; j++) {
        REQUIRE(hearth_ctx_seq_truncate(c, 0, n, &e) == HEARTH_OK);
        REQUIRE(hearth_ctx_eval(c, 0, &first[j].id, 1, &e) == HEARTH_OK);
        hearth_sampler_reset(s);
        for (int32_t i = h0; i < n; i++) hearth_sampler_accept(s, prompt[i]);
        hearth_sampler_accept(s, first[j].id);
        const sampler_prob *d2;
        int32_t n2;
        double tot2;
        sampler_dist(s, hearth_ctx_logits(c, -1), &d2, &n2, &tot2);
        for (int32_t k = 0; k < n2; k++) out[d2[k].id] += first[j].w / tot1 * d2[k].w / tot2;
    }
    free(l0);
    hearth_sampler_free(s);
    hearth_ctx_free(c);
}

/* Chi-square statistic of counts against probabilities, cells with an
 * expectation under 5 pooled; *df its degrees of freedom. */
static double chi2(const int *counts, const double *p, int32_t nv, int draws, int *df) {
    double stat = 0, pool_o = 0, pool_e = 0;
    int cells = 0;
    for (int32_t i = 0; i < nv; i++) {
        double ex = p[i] * draws;
        if (ex == 0 && counts[i]) stat = INFINITY; /* a token the target never picks */
        if (ex < 5) {
            pool_o += counts[i];
            pool_e += ex;
            continue;
        }
        stat += (counts[i] - ex) * (counts[i] - ex) / ex;
        cells++;
    }
    if (pool_e >= 5) {
        stat += (pool_o - pool_e) * (pool_o - pool_e) / pool_e;
        cells++;
    }
    *df = cells - 1;
    return stat;
}

/* Runs `draws` speculative generations and returns the chi-square of the
 * second token against the exact distribution; *passed: under the 1e-4
 * critical value (z = 3.72). */
static double sampling_run(const hearth_model *t, hearth_spec *spec, const int32_t *prompt, int32_t n,
                           const hearth_sampler_params *sp, const double *exact, int draws, bool *passed,
                           int64_t *drafted, int64_t *accepted) {
    int32_t nv = hearth_model_n_vocab(t);
    hearth_ctx *c = new_ctx(t, 128);
    int *counts = calloc((size_t)nv, sizeof *counts);
    REQUIRE(counts);
    *drafted = *accepted = 0;
    hearth_error e = {0};
    /* the prompt but its last token is evaluated once; each draw truncates
     * back to it and generates from the last token (so the sampler's
     * history is that one token: exact_second's h0 = n - 1) */
    hearth_spec_reset(spec);
    {
        /* through hearth_generate with the spec, so that it knows the
         * sequence's tokens (its history) as a chat's earlier turns; the
         * one token sampled is not kept in the sequence */
        hearth_gen_params gp = hearth_gen_default_params();
        gp.max_tokens = 1;
        gp.spec = spec;
        REQUIRE(hearth_generate(c, prompt, n - 1, &gp, NULL, NULL, NULL, &e) == HEARTH_OK);
        REQUIRE(hearth_ctx_seq_len(c, 0) == n - 1);
    }
    for (int i = 0; i < draws; i++) {
        hearth_gen_params gp = hearth_gen_default_params();
        gp.sampling = *sp;
        gp.sampling.seed = 1000 + (uint64_t)i;
        gp.max_tokens = 5;
        gp.spec = spec;
        second_sink s = {-1, 0};
        gp.on_logprob = on_second;
        gp.logprob_user = &s;
        REQUIRE(hearth_ctx_seq_truncate(c, 0, n - 1, &e) == HEARTH_OK);
        hearth_gen_result r;
        REQUIRE(hearth_generate(c, prompt + n - 1, 1, &gp, NULL, NULL, &r, &e) == HEARTH_OK);
        *drafted += r.n_drafted;
        *accepted += r.n_accepted;
        if (s.second >= 0) counts[s.second]++;
    }
    int df;
    double x = chi2(counts, exact, nv, draws, &df);
    if (getenv("SPEC_DEBUG"))
        for (int32_t i = 0; i < nv; i++)
            if (counts[i] || exact[i] > 0.001) fprintf(stderr, "    token %d: %d draws, expected %.1f\n", i, counts[i], exact[i] * draws);
    *passed = df >= 1 && x < chi2_critical(df, 3.72);
    fprintf(stderr, "  chi-square %.1f, df %d, critical(1e-4) %.1f; drafted %lld, accepted %lld\n", x, df,
            chi2_critical(df > 0 ? df : 1, 3.72), (long long)*drafted, (long long)*accepted);
    free(counts);
    hearth_ctx_free(c);
    return x;
}

/* One sampling case: the exact distribution, then draws with the right
 * rule (must pass) and, if must_catch, with the wrong one (must fail). */
static void sampling_case(const hearth_model *t, hearth_spec *spec, const int32_t *prompt, int32_t n,
                          const hearth_sampler_params *sp, int draws, bool must_catch,
                          const char *name) {
    int32_t nv = hearth_model_n_vocab(t);
    double *exact = calloc((size_t)nv, sizeof *exact);
    REQUIRE(exact);
    exact_second(t, prompt, n, n - 1, sp, exact, nv);
    int64_t dr, ac;
    bool ok;
    fprintf(stderr, "sampling, %s (%d draws):\n", name, draws);
    sampling_run(t, spec, prompt, n, sp, exact, draws, &ok, &dr, &ac);
    CHECKF(ok, "%s: the second token's distribution differs from the target's", name);
    CHECKF(dr > 0, "%s: drafted %lld in %d draws", name, (long long)dr, draws);
    CHECKF(ac < dr, "%s: accepted %lld of %lld", name, (long long)ac, (long long)dr);
    if (must_catch) CHECKF(ac > dr / 10, "%s: accepted %lld of %lld", name, (long long)ac, (long long)dr);
    fprintf(stderr, "sampling, %s, wrong rejection rule:\n", name);
    spec_verifier_of(spec)->wrong_rule = true;
    sampling_run(t, spec, prompt, n, sp, exact, draws, &ok, &dr, &ac);
    spec_verifier_of(spec)->wrong_rule = false;
    if (must_catch) CHECKF(!ok, "%s: the wrong rule passed the distribution test: it cannot tell", name);
    free(exact);
}

static void sampling_suite(const char *target_path, const char *draft_path,
                           const char *close_draft_path) {
    hearth_sampler_params sp = hearth_sampler_default_params();
    sp.temp = 1.0f;
    sp.top_k = 6;
    sp.top_p = 1.0f;
    sp.min_p = 0.0f;
    sp.repeat_penalty = 1.3f; /* the chain includes penalties (history: the last prompt token) */

    /* random models: unrelated drafts, mostly rejected */
    hearth_model *t = open_model(target_path), *d = open_model(draft_path);
    int32_t prompt[64] = {10, 17, 24, 31, 38, 45, 52, 59};
    hearth_spec *sd = new_spec(t, d, false, 3, false);
    sampling_case(t, sd, prompt, 8, &sp, scaled(3000), false, "random draft model");
    hearth_spec_free(sd);
    hearth_model_free(d);
    hearth_model_free(t);

    /* a draft close to the target (its own weights in Q4_0): drafts often
     * accepted, and rejections where the two differ */
    t = open_model(target_path);
    d = open_model(close_draft_path);
    sd = new_spec(t, d, false, 3, false);
    sampling_case(t, sd, prompt, 8, &sp, scaled(3000), true, "quantized self-draft");
    hearth_spec_free(sd);
    hearth_spec *sl = new_spec(t, NULL, true, 3, false);
    int32_t rep[64];
    for (int i = 0; i < 24; i++) rep[i] = prompt[i % 8];
    sampling_case(t, sl, rep, 24, &sp, scaled(3000), false, "lookup");
    hearth_spec_free(sl);
    hearth_model_free(d);
    hearth_model_free(t);
}

/* ---- the rule alone, on fixed distributions (no model) ---- */

enum { RV = 8 };
static const float rule_logits[RV] = {2.0f, 1.5f, 1.0f, 0.5f, 0.0f, -0.5f, -1.0f, -3.0f};

static const float *rule_row(void *u, int32_t i) {
    (void)u;
    (void)i;
    return rule_logits;
}

static bool rule_emit(void *u, int32_t t, const float *l) {
    (void)l;
    *(int32_t *)u = t;
    return false; /* the first token is the one under test */
}

/* Draws the first token of a step n times, the draft drawn from q (or the
 * point mass on `point` when q is NULL); chi-square against softmax(rule_logits). */
static double rule_run(const double *q, int32_t point, bool wrong, int n, int *df) {
    hearth_sampler_params sp = hearth_sampler_default_params();
    sp.temp = 1.0f;
    sp.top_k = 0;
    sp.top_p = 1.0f;
    sp.min_p = 0.0f;
    sp.seed = 7;
    hearth_sampler *smp;
    hearth_error e = {0};
    REQUIRE(hearth_sampler_new(&sp, RV, &smp, &e) == HEARTH_OK);
    spec_verifier v;
    REQUIRE(spec_verifier_init(&v, RV, &e) == HEARTH_OK);
    v.wrong_rule = wrong;
    spec_draft d = {0};
    sampler_prob qd[RV];
    d.q = qd;
    d.n = 1;
    d.q_off[0] = 0;
    d.q_off[1] = q ? RV : 0;
    d.q_tot[0] = 1;
    for (int32_t i = 0; i < RV; i++) qd[i] = (sampler_prob){i, q ? q[i] : 0};
    uint64_t rng = 99;
    int counts[RV] = {0};
    for (int k = 0; k < n; k++) {
        int32_t x = point;
        if (q) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double)(rng >> 11) * 0x1.0p-53, acc = 0;
            x = RV - 1;
            for (int32_t i = 0; i < RV; i++)
                if (u < (acc += q[i])) {
                    x = i;
                    break;
                }
        }
        d.tok[0] = x;
        int32_t out = -1, n_emitted;
        spec_verify(&v, smp, &d, rule_row, NULL, rule_emit, &out, &n_emitted);
        REQUIRE(out >= 0 && out < RV && n_emitted == 1);
        counts[out]++;
    }
    double p[RV], z = 0;
    for (int32_t i = 0; i < RV; i++) z += p[i] = exp(rule_logits[i]);
    for (int32_t i = 0; i < RV; i++) p[i] /= z;
    d.q = NULL; /* not owned */
    spec_verifier_free(&v);
    hearth_sampler_free(smp);
    return chi2(counts, p, RV, n, df);
}

static void rule_suite(void) {
    /* a draft that puts its mass elsewhere than the target */
    const double q[RV] = {0.05, 0.05, 0.1, 0.1, 0.2, 0.3, 0.1, 0.1};
    int df;
    double x = rule_run(q, 0, false, scaled(40000), &df);
    fprintf(stderr, "rule, draft distribution: chi-square %.1f, df %d, critical %.1f\n", x, df,
            chi2_critical(df, 3.72));
    CHECK(x < chi2_critical(df, 3.72));
    x = rule_run(q, 0, true, scaled(40000), &df);
    fprintf(stderr, "rule, draft distribution, wrong rule: chi-square %.1f\n", x);
    CHECK(x > chi2_critical(df, 3.72));
    /* point masses (lookup): on a likely token and on an unlikely one */
    for (int32_t pt = 0; pt < RV; pt += 5) {
        x = rule_run(NULL, pt, false, scaled(40000), &df);
        fprintf(stderr, "rule, point mass on %d: chi-square %.1f\n", pt, x);
        CHECK(x < chi2_critical(df, 3.72));
        x = rule_run(NULL, pt, true, scaled(40000), &df);
        fprintf(stderr, "rule, point mass on %d, wrong rule: chi-square %.1f\n", pt, x);
        CHECK(x > chi2_critical(df, 3.72));
    }
}

/* ---- the scheduler: speculation per slot, with continuous batching ---- */

enum { SCHED_PROMPTS = 9, SCHED_THREADS = 3 };

typedef struct {
    hearth_sched *sched;
    const int32_t (*prompts)[64];
    const int32_t *lens;
    int first;
    sink out[SCHED_PROMPTS];
    hearth_gen_result res[SCHED_PROMPTS];
    hearth_status st[SCHED_PROMPTS];
} sched_work;

static void *sched_worker(void *arg) {
    sched_work *w = arg;
    for (int i = w->first; i < SCHED_PROMPTS; i += SCHED_THREADS) {
        hearth_gen_params gp = hearth_gen_default_params();
        gp.sampling.temp = 0;
        gp.max_tokens = 20 + i;
        if (i % 3 == 1) gp.sampling.repeat_penalty = 1.4f;
        hearth_error e = {0};
        memset(&w->out[i], 0, sizeof w->out[i]);
        w->st[i] = hearth_sched_generate(w->sched, w->prompts[i], w->lens[i], &gp, on_tok, &w->out[i],
                                         &w->res[i], &e);
    }
    return NULL;
}

static void sched_suite(const char *target_path, const char *draft_path) {
    hearth_model *t = open_model(target_path), *d = open_model(draft_path);
    int32_t nv = hearth_model_n_vocab(t);
    static int32_t prompts[SCHED_PROMPTS][64];
    int32_t lens[SCHED_PROMPTS];
    uint64_t rng = 777;
    for (int i = 0; i < SCHED_PROMPTS; i++) lens[i] = make_prompt(&rng, nv, i % 2, prompts[i]);
    /* what plain decoding says */
    static sink want[SCHED_PROMPTS];
    hearth_ctx *c = new_ctx(t, 256);
    for (int i = 0; i < SCHED_PROMPTS; i++) {
        hearth_gen_params gp = hearth_gen_default_params();
        gp.sampling.temp = 0;
        gp.max_tokens = 20 + i;
        if (i % 3 == 1) gp.sampling.repeat_penalty = 1.4f;
        gen(c, true, prompts[i], lens[i], &gp, &want[i]);
    }
    hearth_ctx_free(c);
    for (int mode = 0; mode < 2; mode++) {
        hearth_ctx_params cp = hearth_ctx_default_params();
        cp.n_ctx = 3 * 256;
        cp.n_seq = 3;
        cp.n_threads = 2;
        hearth_sched *sc = NULL;
        hearth_error e = {0};
        REQUIRE(hearth_sched_new(t, &cp, &sc, &e) == HEARTH_OK);
        hearth_spec_params sp = hearth_spec_default_params();
        sp.draft = mode == 0 ? d : NULL;
        sp.lookup = mode == 1;
        sp.lookup_ngram_min = 1;
        sp.adaptive = false;
        sp.n_draft_max = 4;
        CHECKF(hearth_sched_enable_spec(sc, &sp, &e) == HEARTH_OK, "%s", e.msg);
        static sched_work w[SCHED_THREADS];
        pthread_t th[SCHED_THREADS];
        for (int k = 0; k < SCHED_THREADS; k++) {
            w[k].sched = sc;
            w[k].prompts = (const int32_t(*)[64])prompts;
            w[k].lens = lens;
            w[k].first = k;
            REQUIRE(pthread_create(&th[k], NULL, sched_worker, &w[k]) == 0);
        }
        for (int k = 0; k < SCHED_THREADS; k++) pthread_join(th[k], NULL);
        int64_t dr = 0, ac = 0;
        for (int i = 0; i < SCHED_PROMPTS; i++) {
            sched_work *wk = &w[i % SCHED_THREADS];
            CHECK_EQ_INT(wk->st[i], HEARTH_OK);
            const sink *got = &wk->out[i];
            CHECKF(got->n_ids == want[i].n_ids &&
                       !memcmp(got->ids, want[i].ids, (size_t)got->n_ids * sizeof *got->ids),
                   "scheduler (%s) prompt %d: %d tokens vs %d plain", mode ? "lookup" : "draft", i,
                   got->n_ids, want[i].n_ids);
            dr += wk->res[i].n_drafted;
            ac += wk->res[i].n_accepted;
        }
        fprintf(stderr, "scheduler, %s: drafted %lld, accepted %lld\n", mode ? "lookup" : "draft model",
                (long long)dr, (long long)ac);
        CHECK(dr > 0);
        CHECK_EQ_INT(hearth_sched_enable_spec(sc, &sp, &e), HEARTH_E_STATE); /* only once */
        hearth_sched_free(sc);
    }
    hearth_model_free(d);
    hearth_model_free(t);
}

static void errors(const char *a_path, const char *other_vocab_path) {
    hearth_model *a = open_model(a_path), *b = open_model(other_vocab_path);
    hearth_spec_params sp = hearth_spec_default_params();
    sp.draft = b;
    hearth_spec *s = NULL;
    hearth_error e = {0};
    CHECK_EQ_INT(hearth_spec_new(a, &sp, &s, &e), HEARTH_E_UNSUPPORTED);
    CHECKF(strstr(e.msg, "vocabulary differs"), "%s", e.msg);
    CHECK(s == NULL);
    sp.draft = NULL;
    CHECK_EQ_INT(hearth_spec_new(a, &sp, &s, &e), HEARTH_E_ARG); /* no source */
    sp.lookup = true;
    sp.n_draft_max = 0;
    CHECK_EQ_INT(hearth_spec_new(a, &sp, &s, &e), HEARTH_E_ARG);
    hearth_model_free(b);
    hearth_model_free(a);
}

int main(void) {
    const char *llama = genmodel("target.gguf", "--arch llama --type F16 --seed 1");
    const char *llama_d = genmodel("draft.gguf", "--arch llama --type F16 --seed 2 --n-embd 32 --n-head 2 --n-head-kv 1 --n-ff 64");
    const char *gemma = genmodel("gemma.gguf", "--arch gemma3 --preset gemma3-tiny --type F16 --seed 3");
    const char *gemma_d = genmodel("gemma_d.gguf", "--arch gemma3 --preset gemma3-tiny --type F16 --seed 4 --n-layer 2");
    const char *other = genmodel("other.gguf", "--arch llama --type F16 --n-vocab 400");
    REQUIRE(llama && llama_d && gemma && gemma_d && other);
    /* HEARTH_TEST_SPEC=sched: only the scheduler's part, where the threads
     * are (make test's ThreadSanitizer pass: the whole test takes minutes
     * there) */
    const char *only = getenv("HEARTH_TEST_SPEC");
    if (only && !strcmp(only, "sched")) {
        sched_suite(gemma, gemma_d);
        sched_suite(llama, llama);
        tmpdir_cleanup();
        return test_done();
    }
    greedy_suite(llama, llama_d, scaled(24), "llama");
    greedy_suite(gemma, gemma_d, scaled(12), "gemma3");
    /* the trained pair: real text, high acceptance */
    if (!quick())
        greedy_suite(HEARTH_SOURCE_DIR "/models/hearth-demo-256.gguf",
                     HEARTH_SOURCE_DIR "/models/hearth-demo.gguf", scaled(8), "demo pair");
    const char *llama_q = genmodel("target_q4.gguf", "--arch llama --type Q4_0 --seed 1");
    REQUIRE(llama_q);
    rule_suite();
    sched_suite(gemma, gemma_d);
    if (!quick()) sched_suite(llama, llama);
    if (!quick()) sampling_suite(llama, llama_d, llama_q);
    errors(llama, other);
    tmpdir_cleanup();
    return test_done();
}
