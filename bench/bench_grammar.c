/*
 * bench_grammar.c: what constrained decoding costs a generation. Decodes
 * with the Qwen2.5-0.5B-shaped generated model (151,936-token vocabulary,
 * random weights) plainly and constrained by a typical tool-call schema, and
 * prints the time per generated token of each and the ratio (the figure:
 * the grammar's own cost per token, in CPU time of the choosing thread,
 * over a plain decode step, should stay under 10%; the wall-clock ratio of
 * the two runs is printed too, but on a shared machine it is mostly noise). Also the cost of the two
 * grammar paths on their own: checking one token, and the full mask (walking
 * the vocabulary trie) inside a JSON string, the worst place for it.
 *
 *   bench_grammar [MODEL.gguf] [tokens] [threads]
 * Without a model, one is made with hearth-genmodel (Q4_0) in $TMPDIR.
 */
#include "engine/constrain.h"
#include "hearth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const schema =
    "{\"type\":\"object\",\"properties\":{\"name\":{\"const\":\"get_weather\"},"
    "\"arguments\":{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\"},"
    "\"unit\":{\"enum\":[\"celsius\",\"fahrenheit\"]},\"days\":{\"type\":\"integer\","
    "\"minimum\":1,\"maximum\":14}},\"required\":[\"location\",\"unit\"]}},"
    "\"required\":[\"name\",\"arguments\"]}";

/* This thread's CPU time: the token choice runs on one thread, and on a
 * loaded machine its wall time would count other processes' turns. */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    char buf[16384];
    size_t len;
} text;

static int collect(void *user, int32_t tok, const char *s, size_t n) {
    (void)tok;
    text *t = user;
    if (t->len + n < sizeof t->buf) memcpy(t->buf + t->len, s, n), t->len += n;
    return 0;
}

/* Decodes `want` tokens one at a time as hearth_generate does, timing the
 * token choice (sampler, plus the grammar when g is set) apart from the
 * decode step. With a grammar, a finished tool call starts a new one. */
typedef struct {
    double pick_s, eval_s;
    int n, n_calls;
    int64_t n_fast, n_full;
} run_stats;

static run_stats run(hearth_ctx *c, const hearth_model *m, const hearth_grammar *g, int want,
                     text *last) {
    int32_t prompt[8] = {9707, 11, 1879, 0, 3555, 374, 279, 9104};
    run_stats rs = {0};
    hearth_error e;
    hearth_gen_params p = hearth_gen_default_params();
    p.sampling.seed = 1;
    p.grammar = g;
    hearth_sampler *smp;
    if (hearth_sampler_new(&p.sampling, hearth_model_n_vocab(m), &smp, &e)) exit(1);
    gcons gc;
    bool fresh = true;
    last->len = 0;
    while (rs.n < want) {
        if (fresh) {
            if (g && rs.n_calls) {
                rs.n_fast += gc.n_fast;
                rs.n_full += gc.n_full;
                gcons_free(&gc);
            }
            if (gcons_init(&gc, &p, hearth_model_tokenizer(m), hearth_model_n_vocab(m), &e)) exit(1);
            hearth_ctx_seq_clear(c, 0, NULL);
            if (hearth_ctx_eval(c, 0, prompt, 8, &e)) exit(1);
            rs.n_calls++;
            last->len = 0;
            fresh = false;
        }
        double t0 = cpu_s();
        const float *logits = hearth_ctx_logits(c, -1);
        int32_t t;
        gcons_pick_result pr = gcons_pick(&gc, smp, logits, &t);
        if (pr == GC_TOKEN) {
            hearth_sampler_accept(smp, t);
            gcons_accept(&gc, t);
        }
        rs.pick_s += cpu_s() - t0;
        double t1 = now_s();
        if (pr != GC_TOKEN || hearth_token_is_eog(hearth_model_tokenizer(m), t)) {
            fresh = true;
            continue;
        }
        size_t n;
        const char *pc = hearth_token_to_piece(hearth_model_tokenizer(m), t, &n);
        if (pc) collect(last, t, pc, n);
        if (hearth_ctx_eval(c, 0, &t, 1, &e)) exit(1);
        rs.eval_s += now_s() - t1;
        rs.n++;
        if (hearth_ctx_seq_len(c, 0) > 900) fresh = true;
    }
    rs.n_fast += gc.n_fast;
    rs.n_full += gc.n_full;
    gcons_free(&gc);
    hearth_sampler_free(smp);
    return rs;
}

int main(int argc, char **argv) {
    const char *model = argc > 1 && strcmp(argv[1], "-") ? argv[1] : NULL;
    int want = argc > 2 ? atoi(argv[2]) : 96;
    int threads = argc > 3 ? atoi(argv[3]) : 0;
    char made[512] = "";
    if (!model) {
        const char *gen = getenv("HEARTH_GENMODEL");
        char here[512];
        if (!gen) {
            ssize_t k = readlink("/proc/self/exe", here, sizeof here - 32);
            if (k <= 0) return 1;
            here[k] = 0;
            char *slash = strrchr(here, '/');
            strcpy(slash + 1, "hearth-genmodel");
            gen = here;
        }
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(made, sizeof made, "%s/bench_grammar_qwen05b.gguf", tmp);
        if (access(made, R_OK)) {
            char cmd[1400];
            snprintf(cmd, sizeof cmd, "%s --arch qwen2 --preset qwen2.5-0.5b --type Q4_0 --seed 1 -o %s",
                     gen, made);
            fprintf(stderr, "making %s\n", made);
            if (system(cmd)) return 1;
        }
        model = made;
    }
    hearth_error e;
    hearth_model *m;
    if (hearth_model_open(model, NULL, &m, &e)) {
        fprintf(stderr, "%s: %s\n", model, e.msg);
        return 1;
    }
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = 1024;
    cp.n_threads = threads;
    hearth_ctx *c;
    if (hearth_ctx_new(m, &cp, &c, &e)) return fprintf(stderr, "%s\n", e.msg), 1;
    hearth_grammar *g;
    if (hearth_grammar_from_json_schema(schema, strlen(schema), &g, &e))
        return fprintf(stderr, "%s\n", e.msg), 1;

    /* warm-up (also builds the vocabulary trie, once per tokenizer) */
    double t0 = now_s();
    const hearth_vtrie *vt = hearth_vtrie_get(hearth_model_tokenizer(m), &e);
    double trie_s = now_s() - t0;
    text t;
    run(c, m, NULL, 4, &t);

    run_stats plain = run(c, m, NULL, want, &t);
    run_stats cons = run(c, m, g, want, &t);
    double step_plain = (plain.pick_s + plain.eval_s) / plain.n;
    double step_cons = (cons.pick_s + cons.eval_s) / cons.n;
    double extra = cons.pick_s / cons.n - plain.pick_s / plain.n;
    printf("model %s, vocabulary %d, %d tokens each\n", model, hearth_model_n_vocab(m), want);
    printf("plain decode:        %8.2f ms/token (token choice %.3f ms CPU)\n", step_plain * 1e3,
           plain.pick_s / plain.n * 1e3);
    printf("tool-call schema:    %8.2f ms/token (token choice %.3f ms CPU; %d tool calls; %lld "
           "first samples kept, %lld full masks)\n",
           step_cons * 1e3, cons.pick_s / cons.n * 1e3, cons.n_calls, (long long)cons.n_fast,
           (long long)cons.n_full);
    printf("last output:         %.*s\n", (int)(t.len > 200 ? 200 : t.len), t.buf);
    printf("overhead:            %+8.1f %% of a plain step (the grammar's own time: "
           "constrained minus plain token choice, over a plain decode step)\n",
           extra / step_plain * 100);
    printf("wall ratio:          %+8.1f %%  (constrained / plain step - 1; includes the "
           "machine's noise)\n", (step_cons / step_plain - 1) * 100);

    /* the two paths alone, inside a JSON string (after '{"name":"get_weather","arguments":{"location":"') */
    gcons gc;
    hearth_gen_params p = hearth_gen_default_params();
    p.grammar = g;
    if (gcons_init(&gc, &p, hearth_model_tokenizer(m), hearth_model_n_vocab(m), &e)) return 1;
    const char *pre = "{\"name\":\"get_weather\",\"arguments\":{\"location\":\"Par";
    gmatch_accept(&gc.gm, pre, strlen(pre));
    int iters = 20;
    t0 = now_s();
    size_t n_allowed = 0;
    for (int i = 0; i < iters; i++) n_allowed = gmatch_allowed(&gc.gm, vt, gc.allowed);
    double mask_s = (now_s() - t0) / iters;
    t0 = now_s();
    int checks = 20000, ok = 0;
    for (int i = 0; i < checks; i++) {
        size_t n;
        const char *s = hearth_token_to_piece(hearth_model_tokenizer(m), 1000 + i % 5000, &n);
        ok += s && n && gmatch_try(&gc.gm, s, n);
    }
    double check_s = (now_s() - t0) / checks;
    printf("vocabulary trie:     %8.1f ms once per tokenizer (%u nodes)\n", trie_s * 1e3,
           vt->n_nodes);
    printf("one token check:     %8.2f us (in a string; %d of %d sample tokens allowed)\n",
           check_s * 1e6, ok, checks);
    printf("full mask:           %8.2f ms (in a string: %zu of %d tokens allowed)\n", mask_s * 1e3,
           n_allowed, hearth_model_n_vocab(m));
    gcons_free(&gc);
    hearth_grammar_free(g);
    hearth_ctx_free(c);
    hearth_model_free(m);
    return 0;
}
