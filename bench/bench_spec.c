/*
 * bench_spec.c: speculative decoding's figures (issue 15).
 *
 *   bench_spec verify MODEL [-t THREADS] [--depth D] [--reps R] [--only K]
 *       The cost of one decode of k + 1 tokens with logits for all (what
 *       verifying k drafts costs) relative to one plain single-token step,
 *       for k = 1, 2, 4, 8, 16 (or K alone), after D tokens of context
 *       (default 128).
 *   bench_spec e2e TARGET (--draft MODEL | --lookup | --both MODEL)
 *                  [-t THREADS] [--max-tokens N] [--reps R] PROMPTS_FILE
 *       Greedy generation of every prompt (one per line; "\n" in a line is a
 *       newline) plainly and speculatively: generation tokens/s of each, the
 *       speedup, the acceptance and mean accepted length, and whether the
 *       outputs were identical (they must be).
 *
 * Without arguments (make bench): both, on the bundled pair (the 256-wide
 * demo model as target, hearth-demo.gguf drafting) over bench/spec_prompts.txt
 * (held-out-style arithmetic, and questions asked a second time in one
 * conversation: the answer quotes the history, lookup's case).
 * Times are the median of the repetitions; figures are ratios within one
 * run (the machine is shared).
 */
#include "hearth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static hearth_model *open_model(const char *path, int threads) {
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = threads;
    hearth_model *m = NULL;
    hearth_error e = {0};
    if (hearth_model_open(path, &mp, &m, &e)) {
        fprintf(stderr, "bench_spec: %s: %s\n", path, e.msg);
        exit(1);
    }
    return m;
}

static int verify_cost(int argc, char **argv) {
    const char *path = NULL;
    int threads = 2, depth = 128, reps = 15, only = -1;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--depth") && i + 1 < argc) depth = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else path = argv[i];
    }
    if (!path || reps < 1 || reps > 1000 || depth < 1) {
        fprintf(stderr, "usage: bench_spec verify MODEL [-t N] [--depth D] [--reps R] [--only K]\n");
        return 2;
    }
    hearth_model *m = open_model(path, threads);
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = depth + 64;
    cp.n_threads = threads;
    hearth_ctx *c;
    hearth_error e = {0};
    if (hearth_ctx_new(m, &cp, &c, &e)) {
        fprintf(stderr, "bench_spec: %s\n", e.msg);
        return 1;
    }
    int32_t nv = hearth_model_n_vocab(m);
    int32_t *toks = malloc((size_t)(depth + 32) * sizeof *toks);
    for (int i = 0; i < depth + 32; i++) toks[i] = (int32_t)((i * 7919 + 13) % (nv > 1000 ? 1000 : nv));
    if (hearth_ctx_eval(c, 0, toks, depth, &e)) {
        fprintf(stderr, "bench_spec: %s\n", e.msg);
        return 1;
    }
    /* The sizes take turns within each repetition, so a slow spell of the
     * shared machine lands on all of them alike instead of on one size. */
    static const int ks[] = {0, 1, 2, 4, 8, 16};
    enum { NK = sizeof ks / sizeof ks[0] };
    double t[NK];
    int8_t want[17];
    memset(want, 1, sizeof want);
    double *v = malloc((size_t)reps * NK * sizeof *v);
    for (int r = -2; r < reps; r++) {
        for (size_t ki = 0; ki < NK; ki++) {
            if (only >= 0 && ks[ki] != only && ks[ki] != 0) continue; /* --only K: a profile of K */
            hearth_batch b = {.n_tokens = ks[ki] + 1, .tokens = toks + depth, .logits = want};
            double t0 = now_ms();
            if (hearth_ctx_decode(c, &b, &e)) {
                fprintf(stderr, "bench_spec: %s\n", e.msg);
                return 1;
            }
            double dt = now_ms() - t0;
            hearth_ctx_seq_truncate(c, 0, depth, NULL);
            if (r >= 0) v[ki * (size_t)reps + (size_t)r] = dt;
        }
    }
    for (size_t ki = 0; ki < NK; ki++) t[ki] = median(v + ki * (size_t)reps, reps);
    printf("verify cost, %s, %d threads, depth %d (median of %d):\n", path, threads, depth, reps);
    printf("  %-10s %10s %8s\n", "tokens", "ms", "x step");
    for (size_t ki = 0; ki < NK; ki++)
        if (only < 0 || ks[ki] == only || ks[ki] == 0)
            printf("  k=%-2d (%2d) %10.3f %8.2f\n", ks[ki], ks[ki] + 1, t[ki], t[ki] / t[0]);
    free(v);
    free(toks);
    hearth_ctx_free(c);
    hearth_model_free(m);
    return 0;
}

typedef struct {
    int32_t *ids;
    int n, cap;
} idvec;

static int on_tok(void *u, int32_t t, const char *s, size_t len) {
    (void)s;
    (void)len;
    idvec *v = u;
    if (t < 0) return 0;
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 256;
        v->ids = realloc(v->ids, (size_t)v->cap * sizeof *v->ids);
    }
    v->ids[v->n++] = t;
    return 0;
}

static int e2e(int argc, char **argv) {
    const char *target = NULL, *draft = NULL, *file = NULL;
    bool lookup = false;
    int threads = 2, draft_threads = 0, max_tokens = 64, reps = 3;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-td") && i + 1 < argc) draft_threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--draft") && i + 1 < argc) draft = argv[++i];
        else if (!strcmp(argv[i], "--both") && i + 1 < argc) draft = argv[++i], lookup = true;
        else if (!strcmp(argv[i], "--lookup")) lookup = true;
        else if (!strcmp(argv[i], "--max-tokens") && i + 1 < argc) max_tokens = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!target) target = argv[i];
        else file = argv[i];
    }
    if (!target || !file || (!draft && !lookup) || reps < 1) {
        fprintf(stderr, "usage: bench_spec e2e TARGET (--draft M | --lookup | --both M) [-t N] "
                        "[--max-tokens N] [--reps R] PROMPTS_FILE\n");
        return 2;
    }
    hearth_model *m = open_model(target, threads), *dm = draft ? open_model(draft, threads) : NULL;
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = 2048;
    cp.n_threads = threads;
    hearth_ctx *c;
    hearth_error e = {0};
    hearth_spec_params sp = hearth_spec_default_params();
    sp.draft = dm;
    sp.lookup = lookup;
    sp.n_threads = draft_threads > 0 ? draft_threads : threads;
    hearth_spec *spec;
    if (hearth_ctx_new(m, &cp, &c, &e) || hearth_spec_new(m, &sp, &spec, &e)) {
        fprintf(stderr, "bench_spec: %s\n", e.msg);
        return 1;
    }
    FILE *f = fopen(file, "r");
    if (!f) {
        perror(file);
        return 1;
    }
    char line[8192];
    double plain_ms = 0, spec_ms = 0;
    long plain_tok = 0, spec_tok = 0, drafted = 0, accepted = 0, steps = 0;
    int n_prompts = 0, same = 0;
    const hearth_tokenizer *tok = hearth_model_tokenizer(m);
    while (fgets(line, sizeof line, f)) {
        size_t L = strlen(line);
        while (L && (line[L - 1] == '\n' || line[L - 1] == '\r')) line[--L] = 0;
        if (!L) continue;
        /* "\n" escapes -> newlines */
        char text[8192];
        size_t o = 0;
        for (size_t i = 0; i < L && o + 1 < sizeof text; i++) {
            if (line[i] == '\\' && line[i + 1] == 'n') text[o++] = '\n', i++;
            else text[o++] = line[i];
        }
        text[o] = 0;
        int32_t *ids;
        size_t n;
        if (hearth_tokenize(tok, text, o, true, true, &ids, &n, &e) || n == 0) continue;
        n_prompts++;
        idvec a = {0}, b = {0};
        double va[16], vb[16];
        int R = reps > 16 ? 16 : reps;
        hearth_gen_result ra = {0}, rb = {0};
        for (int r = 0; r < R; r++) {
            hearth_gen_params gp = hearth_gen_default_params();
            gp.sampling.temp = 0;
            gp.max_tokens = max_tokens;
            a.n = 0;
            hearth_ctx_seq_clear(c, -1, NULL);
            hearth_generate(c, ids, (int32_t)n, &gp, on_tok, &a, &ra, &e);
            va[r] = ra.gen_ms;
            gp.spec = spec;
            b.n = 0;
            hearth_ctx_seq_clear(c, -1, NULL);
            hearth_generate(c, ids, (int32_t)n, &gp, on_tok, &b, &rb, &e);
            vb[r] = rb.gen_ms;
        }
        same += a.n == b.n && !memcmp(a.ids, b.ids, (size_t)a.n * sizeof *a.ids);
        plain_ms += median(va, R);
        spec_ms += median(vb, R);
        plain_tok += ra.n_gen;
        spec_tok += rb.n_gen;
        drafted += rb.n_drafted;
        accepted += rb.n_accepted;
        steps += rb.n_spec_steps;
        free(a.ids);
        free(b.ids);
        hearth_free(ids);
    }
    fclose(f);
    double tp = plain_tok / (plain_ms / 1e3), ts = spec_tok / (spec_ms / 1e3);
    printf("end to end, %s %s%s%s, %d threads, %d prompts, greedy, median of %d:\n", target,
           draft ? "draft " : "", draft ? draft : "", lookup ? (draft ? " + lookup" : "lookup") : "",
           threads, n_prompts, reps);
    printf("  plain        %8.1f tokens/s (%ld tokens)\n", tp, plain_tok);
    printf("  speculative  %8.1f tokens/s  speedup %.2fx\n", ts, ts / tp);
    printf("  drafted %ld, accepted %ld (%.1f%%), %.2f accepted per verification step\n", drafted,
           accepted, drafted ? 100.0 * accepted / drafted : 0, steps ? (double)accepted / steps : 0);
    printf("  outputs identical: %d of %d\n", same, n_prompts);
    hearth_spec_free(spec);
    hearth_ctx_free(c);
    hearth_model_free(dm);
    hearth_model_free(m);
    return same == n_prompts ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 1) {
        const char *t = HEARTH_SOURCE_DIR "/models/hearth-demo-256.gguf";
        const char *d = HEARTH_SOURCE_DIR "/models/hearth-demo.gguf";
        const char *pf = HEARTH_SOURCE_DIR "/bench/spec_prompts.txt";
        char *v[] = {argv[0], "verify", (char *)t, NULL};
        char *a[] = {argv[0], "e2e", (char *)t, "--draft", (char *)d, (char *)pf, NULL};
        char *l[] = {argv[0], "e2e", (char *)t, "--lookup", (char *)pf, NULL};
        char *b[] = {argv[0], "e2e", (char *)t, "--both", (char *)d, (char *)pf, NULL};
        int rc = verify_cost(3, v);
        rc |= e2e(6, a);
        rc |= e2e(5, l);
        rc |= e2e(6, b);
        return rc;
    }
    if (argc >= 2 && !strcmp(argv[1], "verify")) return verify_cost(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "e2e")) return e2e(argc, argv);
    fprintf(stderr, "usage: bench_spec verify MODEL ... | bench_spec e2e TARGET ... (see the source)\n");
    return 2;
}
