/* test_sched.c: continuous batching (engine/sched.c). Several generations
 * running at once through the scheduler give exactly the tokens that each
 * gives alone on a plain context (greedy), also when there are fewer slots
 * than clients; stop strings, max_tokens, cancellation and an oversized
 * prompt behave as documented; a prompt with a bad token id fails alone,
 * not the generations it would share a batch with. The batched part runs
 * with 1 thread on the tiny model and with 3 and 8 threads on a tiny256 one
 * (whose products split: see engine_threads). The state hooks: the save
 * hook once per answered generation with its slot's tokens, never for a
 * no_reuse one; a restore into a new scheduler gives a fresh context's
 * tokens with n_cached and n_restored right; a damaged state evaluates all. */
#include "test.h"

#include "hearth.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define N_CLIENTS 5
#define N_GEN 24

static const hearth_model *model;

static int argmax(const float *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* The prompt of client k: a few distinct token ids. */
static int make_prompt(int k, int32_t *ids) {
    int n = 3 + k * 2;
    for (int i = 0; i < n; i++) ids[i] = (int32_t)((7 + k * 31 + i * 13) % 250 + 3);
    return n;
}

typedef struct {
    int k;
    hearth_sched *s;
    int32_t got[N_GEN + 1];
    int n_got;
    hearth_status st;
    hearth_gen_result res;
} client;

static int collect(void *user, int32_t token, const char *text, size_t len) {
    (void)text;
    (void)len;
    client *c = user;
    if (token >= 0 && c->n_got < N_GEN + 1) c->got[c->n_got++] = token;
    return 0;
}

static hearth_gen_params greedy(int max_tokens) {
    hearth_gen_params p;
    memset(&p, 0, sizeof p);
    p.max_tokens = max_tokens;
    p.sampling = hearth_sampler_default_params();
    p.sampling.temp = 0;
    p.sampling.seed = 1;
    return p;
}

static void *client_main(void *arg) {
    client *c = arg;
    int32_t prompt[32];
    int n = make_prompt(c->k, prompt);
    hearth_gen_params p = greedy(N_GEN);
    hearth_error e;
    c->st = hearth_sched_generate(c->s, prompt, n, &p, collect, c, &c->res, &e);
    if (c->st) fprintf(stderr, "client %d: %s\n", c->k, e.msg);
    return NULL;
}

typedef struct {
    char text[4096];
    size_t len;
} text_sink;

static int collect_text(void *user, int32_t token, const char *text, size_t len) {
    (void)token;
    text_sink *t = user;
    if (t->len + len < sizeof t->text) {
        memcpy(t->text + t->len, text, len);
        t->len += len;
    }
    return 0;
}

/* A stop string taken from the middle of a greedy answer ends the answer
 * right before it, and is not shown. */
static void check_stop_string(hearth_sched *s) {
    int32_t prompt[32];
    int n = make_prompt(2, prompt);
    hearth_gen_params p = greedy(N_GEN);
    hearth_error e;
    hearth_gen_result r;
    text_sink all = {0};
    REQUIRE(hearth_sched_generate(s, prompt, n, &p, collect_text, &all, &r, &e) == HEARTH_OK);
    REQUIRE(all.len >= 8);
    char stop[4] = {0};
    memcpy(stop, all.text + all.len / 2, 3);
    if (memchr(stop, 0, 3)) return; /* a NUL inside would end the C string early */
    size_t first = (size_t)((char *)memmem(all.text, all.len, stop, 3) - all.text);
    const char *stops[] = {stop};
    p.stop = stops;
    p.n_stop = 1;
    text_sink cut = {0};
    REQUIRE(hearth_sched_generate(s, prompt, n, &p, collect_text, &cut, &r, &e) == HEARTH_OK);
    CHECK_EQ_INT(r.finish, HEARTH_FINISH_STOP);
    CHECKF(cut.len == first && !memcmp(cut.text, all.text, first),
           "stopped text has %zu bytes, want the %zu before the stop string", cut.len, first);
}

static int cancel_after_3(void *user, int32_t token, const char *text, size_t len) {
    (void)text;
    (void)len;
    int *n = user;
    if (token >= 0) (*n)++;
    return *n >= 3;
}

/* A bad prompt fails alone. Client A generates; once its first token is out, client B submits a prompt
 * with a token id outside the vocabulary. B fails with HEARTH_E_ARG; A, whose
 * next token would share a batch with B's prompt, must finish normally. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool a_started, b_entering;
    int a_tokens;
} handshake;

static int a_cb(void *user, int32_t token, const char *text, size_t len) {
    (void)text;
    (void)len;
    handshake *h = user;
    if (token < 0) return 0;
    pthread_mutex_lock(&h->mu);
    if (h->a_tokens++ == 0) {
        h->a_started = true;
        pthread_cond_broadcast(&h->cv);
        while (!h->b_entering) pthread_cond_wait(&h->cv, &h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    return 0;
}

typedef struct {
    hearth_sched *s;
    const int32_t *prompt;
    int n, max_tokens;
    handshake *h;
    hearth_status st;
    hearth_gen_result r;
    hearth_error e;
} runner;

static void *run_a(void *arg) {
    runner *a = arg;
    hearth_gen_params p = greedy(a->max_tokens);
    a->st = hearth_sched_generate(a->s, a->prompt, a->n, &p, a_cb, a->h, &a->r, &a->e);
    return NULL;
}

static void check_bad_prompt_alone(const hearth_model *m) {
    /* A prompt whose greedy answer runs max_tokens without an EOG, so that A
     * is still generating when B arrives. */
    enum { A_TOKENS = 48 };
    int32_t prompt[32];
    int n = 0;
    hearth_error e;
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = 128;
    cp.n_threads = 1;
    hearth_ctx *c;
    REQUIRE(hearth_ctx_new(m, &cp, &c, &e) == HEARTH_OK);
    bool found = false;
    for (int k = 0; k < 12 && !found; k++) {
        n = make_prompt(k, prompt);
        REQUIRE(hearth_ctx_seq_clear(c, 0, &e) == HEARTH_OK);
        REQUIRE(hearth_ctx_eval(c, 0, prompt, n, &e) == HEARTH_OK);
        found = true;
        for (int t = 0; t < A_TOKENS && found; t++) {
            int32_t tok = argmax(hearth_ctx_logits(c, -1), hearth_model_n_vocab(m));
            found = !hearth_model_token_is_eog(m, tok);
            if (found && t + 1 < A_TOKENS) REQUIRE(hearth_ctx_eval(c, 0, &tok, 1, &e) == HEARTH_OK);
        }
    }
    hearth_ctx_free(c);
    REQUIRE(found);

    hearth_ctx_params sp = hearth_ctx_default_params();
    sp.n_seq = 2;
    sp.n_ctx = 256;
    sp.n_threads = 1;
    hearth_sched *s;
    REQUIRE(hearth_sched_new(m, &sp, &s, &e) == HEARTH_OK);
    handshake h = {.a_started = false};
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cv, NULL);
    runner a = {.s = s, .prompt = prompt, .n = n, .max_tokens = A_TOKENS, .h = &h};
    pthread_t ta;
    REQUIRE(pthread_create(&ta, NULL, run_a, &a) == 0);
    pthread_mutex_lock(&h.mu);
    while (!h.a_started) pthread_cond_wait(&h.cv, &h.mu);
    h.b_entering = true;
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.mu);
    int32_t bad[] = {5, 6, hearth_model_n_vocab(m) + 7, 8};
    hearth_gen_params p = greedy(8);
    hearth_gen_result r;
    hearth_status st = hearth_sched_generate(s, bad, 4, &p, NULL, NULL, &r, &e);
    CHECKF(st == HEARTH_E_ARG, "bad prompt: status %d (%s)", st, st ? e.msg : "");
    if (st) CHECKF(strstr(e.msg, "outside"), "bad prompt: '%s'", e.msg);
    pthread_join(ta, NULL);
    CHECKF(a.st == HEARTH_OK, "client A failed because of client B: %s", a.e.msg);
    CHECK_EQ_INT(a.r.finish, HEARTH_FINISH_LENGTH);
    CHECK_EQ_INT(a.r.n_gen, A_TOKENS);
    pthread_mutex_destroy(&h.mu);
    pthread_cond_destroy(&h.cv);
    hearth_sched_free(s);
}

/* The clients batched through a scheduler with nth threads give the tokens
 * each gives alone on a 1-thread context; then stop strings, cancellation,
 * an oversized prompt and max_tokens on the same scheduler. */
static void batched(const hearth_model *m, int nth) {
    hearth_error e;
    int nv = hearth_model_n_vocab(m);
    /* Reference: each prompt alone, greedy, on a one-sequence context. */
    int32_t want[N_CLIENTS][N_GEN];
    int n_want[N_CLIENTS];
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = 128;
    cp.n_threads = 1;
    hearth_ctx *c;
    REQUIRE(hearth_ctx_new(m, &cp, &c, &e) == HEARTH_OK);
    for (int k = 0; k < N_CLIENTS; k++) {
        int32_t prompt[32];
        int n = make_prompt(k, prompt);
        REQUIRE(hearth_ctx_seq_clear(c, 0, &e) == HEARTH_OK);
        REQUIRE(hearth_ctx_eval(c, 0, prompt, n, &e) == HEARTH_OK);
        n_want[k] = 0;
        for (int t = 0; t < N_GEN; t++) {
            int32_t tok = argmax(hearth_ctx_logits(c, -1), nv);
            if (hearth_model_token_is_eog(m, tok)) break;
            want[k][n_want[k]++] = tok;
            REQUIRE(hearth_ctx_eval(c, 0, &tok, 1, &e) == HEARTH_OK);
        }
    }
    hearth_ctx_free(c);
    int total = 0;
    for (int k = 0; k < N_CLIENTS; k++) total += n_want[k];
    fprintf(stderr, "%d threads: %d tokens to match over %d clients\n", nth, total, N_CLIENTS);
    CHECK(total > N_CLIENTS); /* something to compare */

    /* Batched: all clients at once, with enough slots and with too few. */
    for (int slots = N_CLIENTS; slots >= 2; slots -= 3) {
        hearth_ctx_params sp = hearth_ctx_default_params();
        sp.n_seq = slots;
        sp.n_ctx = 128 * slots;
        sp.n_threads = nth;
        hearth_sched *s;
        REQUIRE(hearth_sched_new(m, &sp, &s, &e) == HEARTH_OK);
        CHECK_EQ_INT(hearth_sched_n_slots(s), slots);
        client cl[N_CLIENTS];
        pthread_t th[N_CLIENTS];
        for (int k = 0; k < N_CLIENTS; k++) {
            memset(&cl[k], 0, sizeof cl[k]);
            cl[k].k = k;
            cl[k].s = s;
            REQUIRE(pthread_create(&th[k], NULL, client_main, &cl[k]) == 0);
        }
        for (int k = 0; k < N_CLIENTS; k++) pthread_join(th[k], NULL);
        for (int k = 0; k < N_CLIENTS; k++) {
            CHECK_EQ_INT(cl[k].st, HEARTH_OK);
            CHECKF(cl[k].n_got == n_want[k], "%d threads, slots %d client %d: %d tokens, want %d", nth,
                   slots, k, cl[k].n_got, n_want[k]);
            int same = cl[k].n_got == n_want[k];
            for (int t = 0; same && t < n_want[k]; t++) same = cl[k].got[t] == want[k][t];
            CHECKF(same, "%d threads, slots %d client %d: tokens differ from the unbatched run", nth,
                   slots, k);
            /* n_gen counts an EOG token too, as hearth_generate does */
            CHECK_EQ_INT(cl[k].res.n_gen, n_want[k] + (n_want[k] < N_GEN));
            CHECK_EQ_INT(cl[k].res.finish, n_want[k] == N_GEN ? HEARTH_FINISH_LENGTH : HEARTH_FINISH_EOG);
        }

        check_stop_string(s);

        /* Cancellation from the callback. */
        int32_t prompt[32];
        int n = make_prompt(1, prompt);
        hearth_gen_params p = greedy(N_GEN);
        int seen = 0;
        hearth_gen_result r;
        CHECK(hearth_sched_generate(s, prompt, n, &p, cancel_after_3, &seen, &r, &e) == HEARTH_OK);
        CHECK_EQ_INT(r.finish, HEARTH_FINISH_CANCELLED);
        CHECK_EQ_INT(seen, 3);

        /* A prompt longer than a slot: HEARTH_E_LIMIT, nothing generated. */
        int32_t big[200];
        for (int i = 0; i < 200; i++) big[i] = 5;
        CHECK(hearth_sched_generate(s, big, 200, &p, collect, &cl[0], &r, &e) == HEARTH_E_LIMIT);
        CHECK(strstr(e.msg, "does not fit") != NULL);

        /* max_tokens and a slot reused after all that. */
        p = greedy(2);
        client one = {.k = 0, .s = s};
        n = make_prompt(0, prompt);
        CHECK(hearth_sched_generate(s, prompt, n, &p, collect, &one, &r, &e) == HEARTH_OK);
        CHECK_EQ_INT(r.n_gen, n_want[0] < 2 ? n_want[0] : 2);
        for (int t = 0; t < one.n_got && t < n_want[0]; t++) CHECK(one.got[t] == want[0][t]);
        hearth_sched_free(s);
    }
}

/* ---- prefix reuse ---- */

/* Greedy tokens of prompt alone on a fresh one-sequence context (EOG not
 * included), up to max. */
static int plain_greedy(const hearth_model *m, const int32_t *prompt, int n, int max, int32_t *out) {
    hearth_error e;
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = 256;
    cp.n_threads = 1;
    hearth_ctx *c;
    REQUIRE(hearth_ctx_new(m, &cp, &c, &e) == HEARTH_OK);
    REQUIRE(hearth_ctx_eval(c, 0, prompt, n, &e) == HEARTH_OK);
    int k = 0;
    for (; k < max; k++) {
        int32_t tok = argmax(hearth_ctx_logits(c, -1), hearth_model_n_vocab(m));
        if (hearth_model_token_is_eog(m, tok)) break;
        out[k] = tok;
        if (k + 1 < max) REQUIRE(hearth_ctx_eval(c, 0, &tok, 1, &e) == HEARTH_OK);
    }
    hearth_ctx_free(c);
    return k;
}

enum { RU_GEN = 12, RU_MAX = 96 };

/* One request of the reuse tests: its prompt, and what came back. */
typedef struct {
    hearth_sched *s;
    int32_t prompt[RU_MAX];
    int n;
    const hearth_grammar *grammar;
    bool no_reuse;
    client out;
    hearth_status st;
} ru_job;

static void *ru_main(void *arg) {
    ru_job *j = arg;
    hearth_gen_params p = greedy(RU_GEN);
    p.grammar = j->grammar;
    p.no_reuse = j->no_reuse;
    hearth_error e;
    memset(&j->out, 0, sizeof j->out);
    j->st = hearth_sched_generate(j->s, j->prompt, j->n, &p, collect, &j->out, &j->out.res, &e);
    if (j->st) fprintf(stderr, "reuse job: %s\n", e.msg);
    return NULL;
}

/* Runs j and checks its tokens against a fresh context's (grammar jobs
 * are not compared) and its n_cached against want. */
static void ru_run(const hearth_model *m, ru_job *j, int want_cached, const char *what) {
    ru_main(j);
    CHECKF(j->st == HEARTH_OK, "%s: status %d", what, j->st);
    if (!j->grammar) {
        int32_t want[RU_GEN];
        int nw = plain_greedy(m, j->prompt, j->n, RU_GEN, want);
        bool same = j->out.n_got == nw;
        for (int t = 0; same && t < nw; t++) same = j->out.got[t] == want[t];
        CHECKF(same, "%s: %d tokens differ from a fresh context's %d", what, j->out.n_got, nw);
    }
    CHECK_EQ_INT(j->out.res.n_prompt, j->n);
    CHECKF(j->out.res.n_cached == want_cached, "%s: n_cached %d, want %d", what,
           j->out.res.n_cached, want_cached);
}

/* A prompt that continues job j's conversation: its prompt, its answer,
 * then extra tokens. */
static void ru_continue(ru_job *next, const ru_job *j, int extra, int seed) {
    next->n = 0;
    for (int i = 0; i < j->n; i++) next->prompt[next->n++] = j->prompt[i];
    for (int i = 0; i < j->out.n_got && next->n < RU_MAX - extra; i++)
        next->prompt[next->n++] = j->out.got[i];
    for (int i = 0; i < extra; i++) next->prompt[next->n++] = (int32_t)((seed * 17 + i * 29) % 240 + 5);
    next->grammar = NULL;
}

/* Tokens the slot of finished job j holds that next's prompt shares. */
static int ru_shared(const ru_job *j, const ru_job *next) {
    /* held: the prompt, then the answer's tokens but the last sampled one,
     * which is among got when max_tokens ended the answer (an EOG, or the
     * logits on which a grammar ended, are not) */
    int held = j->n + j->out.n_got - (j->out.res.finish == HEARTH_FINISH_LENGTH);
    int32_t h[2 * RU_MAX];
    int k = 0;
    for (int i = 0; i < j->n; i++) h[k++] = j->prompt[i];
    for (int i = 0; i < j->out.n_got && k < held; i++) h[k++] = j->out.got[i];
    int c = 0;
    while (c < k && c < next->n && h[c] == next->prompt[c]) c++;
    return c < next->n ? c : next->n - 1;
}

/* One slot (lookup speculation on when spec): a conversation's second turn
 * reuses the first's tokens, a prompt that is a strict prefix of what the
 * slot holds and one that differs at token 0, each giving what a fresh
 * context gives; then two slots and LRU eviction, and concurrent
 * continuations on them. */
static void prefix_reuse(const hearth_model *m, bool spec) {
    hearth_error e;
    hearth_ctx_params sp = hearth_ctx_default_params();
    sp.n_seq = 1;
    sp.n_ctx = 256;
    sp.n_threads = 1;
    hearth_sched *s;
    REQUIRE(hearth_sched_new(m, &sp, &s, &e) == HEARTH_OK);
    if (spec) {
        hearth_spec_params pp = hearth_spec_default_params();
        pp.lookup = true;
        pp.lookup_ngram_min = 1;
        pp.adaptive = false;
        pp.n_draft_max = 4;
        REQUIRE(hearth_sched_enable_spec(s, &pp, &e) == HEARTH_OK);
    }
    static ru_job a, b, c, d, g, h;
    a.s = b.s = c.s = d.s = g.s = h.s = s;
    a.n = make_prompt(3, a.prompt);
    a.grammar = NULL;
    ru_run(m, &a, 0, "first turn");
    ru_continue(&b, &a, 5, 1);
    ru_run(m, &b, ru_shared(&a, &b), "second turn");
    CHECKF(b.out.res.n_cached > a.n, "second turn reuses %d tokens (the first turn's prompt: %d)",
           b.out.res.n_cached, a.n);
    /* strict prefix of what the slot holds: all but its last token reused */
    c.n = b.n - 3;
    memcpy(c.prompt, b.prompt, (size_t)c.n * sizeof *c.prompt);
    c.grammar = NULL;
    ru_run(m, &c, c.n - 1, "strict prefix");
    /* the very same prompt again */
    ru_run(m, &c, c.n - 1, "same prompt");
    /* differing at token 0 */
    memcpy(&d, &c, sizeof d);
    d.prompt[0] = (d.prompt[0] + 1) % 250 + 3;
    ru_run(m, &d, 0, "differs at token 0");
    /* a grammar job (no speculation, no history told to the slot's spec),
     * then a continuation of it */
    hearth_grammar *gr;
    const char *gbnf = "root ::= [a-z ]+";
    REQUIRE(hearth_grammar_from_gbnf(gbnf, strlen(gbnf), NULL, &gr, &e) == HEARTH_OK);
    g.n = make_prompt(4, g.prompt);
    g.grammar = gr;
    ru_run(m, &g, 0, "grammar job");
    ru_continue(&h, &g, 4, 2);
    ru_run(m, &h, ru_shared(&g, &h), "after a grammar job");
    hearth_grammar_free(gr);
    /* no_reuse: nothing reused, and nothing left for the next job */
    h.no_reuse = true;
    ru_run(m, &h, 0, "no_reuse");
    h.no_reuse = false;
    ru_run(m, &h, 0, "after no_reuse");
    ru_run(m, &h, h.n - 1, "after that");
    /* a prompt too long for the slot fails without disturbing what it holds */
    static int32_t big[300];
    for (int i = 0; i < 300; i++) big[i] = i < h.n / 2 ? h.prompt[i] : 5; /* shares a half */
    hearth_gen_params bp = greedy(4);
    hearth_gen_result br;
    CHECK_EQ_INT(hearth_sched_generate(s, big, 300, &bp, NULL, NULL, &br, &e), HEARTH_E_LIMIT);
    ru_run(m, &h, h.n - 1, "after a prompt too long");
    hearth_sched_free(s);

    /* Two slots, three conversations one after another: the least recently
     * used slot goes. */
    sp.n_seq = 2;
    sp.n_ctx = 512;
    REQUIRE(hearth_sched_new(m, &sp, &s, &e) == HEARTH_OK);
    static ru_job conv[3], next[3];
    for (int k = 0; k < 3; k++) {
        conv[k].s = next[k].s = s;
        conv[k].n = make_prompt(k, conv[k].prompt);
        conv[k].grammar = NULL;
        ru_run(m, &conv[k], 0, "conversation");
    }
    /* slots: 1 and 2 (0 was evicted by 2) */
    ru_continue(&next[2], &conv[2], 3, 3);
    ru_run(m, &next[2], ru_shared(&conv[2], &next[2]), "kept conversation");
    CHECK(next[2].out.res.n_cached > 0);
    ru_continue(&next[0], &conv[0], 3, 4);
    ru_run(m, &next[0], 0, "evicted conversation"); /* evicts 1 */
    ru_continue(&next[1], &conv[1], 3, 5);
    ru_run(m, &next[1], 0, "evicted conversation"); /* evicts 2's second turn */
    /* the slots hold conversations 0 and 1 now: their third turns at once,
     * with 2's, which must wait and then takes the least recent slot */
    static ru_job third[3];
    pthread_t th[3];
    for (int k = 0; k < 3; k++) {
        third[k].s = s;
        ru_continue(&third[k], k == 2 ? &next[2] : &next[k], 2, 6 + k);
        REQUIRE(pthread_create(&th[k], NULL, ru_main, &third[k]) == 0);
    }
    for (int k = 0; k < 3; k++) pthread_join(th[k], NULL);
    for (int k = 0; k < 3; k++) {
        CHECK_EQ_INT(third[k].st, HEARTH_OK);
        int32_t want[RU_GEN];
        int nw = plain_greedy(m, third[k].prompt, third[k].n, RU_GEN, want);
        bool same = third[k].out.n_got == nw;
        for (int t = 0; same && t < nw; t++) same = third[k].out.got[t] == want[t];
        CHECKF(same, "concurrent third turn %d: tokens differ from a fresh context's", k);
        int hit = ru_shared(k == 2 ? &next[2] : &next[k], &third[k]);
        /* each either found its conversation or started over */
        CHECKF(third[k].out.res.n_cached == 0 || third[k].out.res.n_cached == hit,
               "concurrent third turn %d: n_cached %d (0 or %d)", k, third[k].out.res.n_cached, hit);
    }
    fprintf(stderr, "reuse%s: concurrent third turns reused %d, %d, %d tokens\n", spec ? " (spec)" : "",
            third[0].out.res.n_cached, third[1].out.res.n_cached, third[2].out.res.n_cached);
    hearth_sched_free(s);
}

/* ---- saved states (hearth_sched_set_state_hooks) ---- */

/* What the hooks saw: the last saved tokens and state, and calls made. */
typedef struct {
    pthread_mutex_t mu;
    int n_saves, n_restores;
    int32_t tokens[2 * RU_MAX];
    int n_tokens;
    uint8_t *state;
    size_t state_len;
    bool damage;        /* restore a state with a flipped byte */
} hook_log;

static void hook_save(void *user, const hearth_ctx *ctx, int32_t seq, const int32_t *tokens, int32_t n) {
    hook_log *h = user;
    size_t need = hearth_ctx_seq_state_size(ctx, n);
    uint8_t *buf = malloc(need);
    size_t w = 0;
    hearth_error e;
    bool ok = buf && n <= 2 * RU_MAX &&
              hearth_ctx_seq_state_save(ctx, seq, n, buf, need, &w, &e) == HEARTH_OK;
    pthread_mutex_lock(&h->mu);
    h->n_saves++;
    if (ok) {
        free(h->state);
        h->state = buf;
        h->state_len = w;
        memcpy(h->tokens, tokens, (size_t)n * sizeof *tokens);
        h->n_tokens = n;
    } else {
        free(buf);
    }
    pthread_mutex_unlock(&h->mu);
}

static int32_t hook_restore(void *user, hearth_ctx *ctx, int32_t seq, const int32_t *prompt,
                            int32_t n_prompt, int32_t n_have) {
    hook_log *h = user;
    pthread_mutex_lock(&h->mu);
    h->n_restores++;
    int32_t c = 0;
    while (c < h->n_tokens && c < n_prompt && h->tokens[c] == prompt[c]) c++;
    int32_t r = 0;
    if (h->state && c > n_have) {
        if (h->damage) h->state[h->state_len / 2] ^= 0x40;
        hearth_error e;
        int32_t got = 0;
        hearth_ctx_seq_clear(ctx, seq, NULL);
        if (hearth_ctx_seq_state_load(ctx, seq, h->state, h->state_len, &got, &e) == HEARTH_OK &&
            got == h->n_tokens && hearth_ctx_seq_truncate(ctx, seq, c, NULL) == HEARTH_OK)
            r = c;
        else
            hearth_ctx_seq_clear(ctx, seq, NULL);
        if (h->damage) h->state[h->state_len / 2] ^= 0x40;
    }
    pthread_mutex_unlock(&h->mu);
    return r;
}

/* Waits (a bounded while: the save runs once the scheduler is idle) until
 * the hook saw want saves. */
static int saves_seen(hook_log *h, int want) {
    int n = 0;
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&h->mu);
        n = h->n_saves;
        pthread_mutex_unlock(&h->mu);
        if (n >= want) break;
        usleep(10000);
    }
    return n;
}

static hearth_sched *hooked_sched(const hearth_model *m, hook_log *h) {
    hearth_error e;
    hearth_ctx_params sp = hearth_ctx_default_params();
    sp.n_seq = 2;
    sp.n_ctx = 512;
    sp.n_threads = 1;
    hearth_sched *s;
    REQUIRE(hearth_sched_new(m, &sp, &s, &e) == HEARTH_OK);
    hearth_sched_state_hooks hk = {hook_save, hook_restore, h};
    REQUIRE(hearth_sched_set_state_hooks(s, &hk, &e) == HEARTH_OK);
    CHECK_EQ_INT(hearth_sched_set_state_hooks(s, &hk, &e), HEARTH_E_STATE);
    return s;
}

/* The save hook: once per answered generation, with the tokens its slot
 * holds, never for a no_reuse one. The restore hook, in a new scheduler
 * (a restarted process): the next turn gives a fresh context's tokens
 * with the restored prefix counted in n_cached and n_restored; a damaged
 * state is refused and everything evaluated, with the same tokens. */
static void state_hooks(const hearth_model *m) {
    static hook_log h;
    pthread_mutex_init(&h.mu, NULL);
    hearth_sched *s = hooked_sched(m, &h);
    static ru_job a, b, x, y;
    a.s = x.s = s;
    a.n = make_prompt(5, a.prompt);
    ru_run(m, &a, 0, "hooks: first turn");
    CHECK_EQ_INT(saves_seen(&h, 1), 1);
    int held = a.n + a.out.n_got - (a.out.res.finish == HEARTH_FINISH_LENGTH);
    pthread_mutex_lock(&h.mu);
    CHECK_EQ_INT(h.n_tokens, held);
    bool same = h.n_tokens == held;
    for (int i = 0; same && i < a.n; i++) same = h.tokens[i] == a.prompt[i];
    for (int i = a.n; same && i < held; i++) same = h.tokens[i] == a.out.got[i - a.n];
    CHECKF(same, "saved tokens are the prompt and the answer's");
    pthread_mutex_unlock(&h.mu);
    CHECK_EQ_INT(a.out.res.n_restored, 0);
    /* no_reuse: not saved (and not restored into) */
    x.n = make_prompt(6, x.prompt);
    x.no_reuse = true;
    int restores = h.n_restores;
    ru_run(m, &x, 0, "hooks: no_reuse");
    CHECK_EQ_INT(h.n_restores, restores);
    usleep(50000);
    CHECK_EQ_INT(saves_seen(&h, 1), 1);
    hearth_sched_free(s); /* nothing pending: no more saves */
    CHECK_EQ_INT(h.n_saves, 1);

    /* "restarted": a new scheduler, the next turn of a */
    s = hooked_sched(m, &h);
    b.s = s;
    ru_continue(&b, &a, 6, 7);
    int want = ru_shared(&a, &b);
    ru_run(m, &b, want, "hooks: restored turn");
    CHECK_EQ_INT(b.out.res.n_restored, want);
    CHECK(b.out.res.restore_ms >= 0);
    CHECK(want > a.n);
    fprintf(stderr, "hooks: next turn after a restart restored %d of %d tokens\n", b.out.res.n_restored, b.n);
    /* its own answer is saved in turn; the state a held is superseded by
     * the longer one (the hook keeps the last) */
    CHECK_EQ_INT(saves_seen(&h, 2), 2);
    hearth_sched_free(s);

    /* a damaged state: refused, everything evaluated, the same tokens */
    s = hooked_sched(m, &h);
    y.s = s;
    ru_continue(&y, &b, 3, 8);
    h.damage = true;
    ru_run(m, &y, 0, "hooks: damaged state");
    CHECK_EQ_INT(y.out.res.n_restored, 0);
    h.damage = false;
    hearth_sched_free(s);
    CHECK_EQ_INT(h.n_saves, 3); /* saved at the latest when freed */
    free(h.state);
    pthread_mutex_destroy(&h.mu);
}

int main(void) {
    const char *gen = getenv("HEARTH_GENMODEL");
    REQUIRE(gen);
    char dir[] = "/tmp/hearth-sched-XXXXXX";
    REQUIRE(mkdtemp(dir));
    char path[256], cmd[1024];
    snprintf(path, sizeof path, "%s/m.gguf", dir);
    snprintf(cmd, sizeof cmd, "%s --arch qwen2 --preset tiny --type F32 --seed 7 -o %s", gen, path);
    REQUIRE(system(cmd) == 0);
    hearth_error e;
    hearth_model *m;
    REQUIRE(hearth_model_open(path, NULL, &m, &e) == HEARTH_OK);
    model = m;
    batched(m, 1);
    /* 3 and 8 threads (more than the cores) on a model wide enough that the
     * matrix products split (see engine_threads): the same tokens */
    char wpath[256];
    snprintf(wpath, sizeof wpath, "%s/w.gguf", dir);
    snprintf(cmd, sizeof cmd, "%s --arch qwen2 --preset tiny256 --type F32 --seed 7 -o %s", gen, wpath);
    REQUIRE(system(cmd) == 0);
    hearth_model *w;
    REQUIRE(hearth_model_open(wpath, NULL, &w, &e) == HEARTH_OK);
    batched(w, 3);
    batched(w, 8);
    hearth_model_free(w);
    unlink(wpath);
    check_bad_prompt_alone(m);
    prefix_reuse(m, false);
    prefix_reuse(m, true);
    state_hooks(m);
    hearth_model_free(m);
    unlink(path);
    rmdir(dir);
    return test_done();
}
