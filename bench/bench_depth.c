/*
 * bench_depth.c: what a long context costs, measured so that a shared,
 * noisy machine hurts both sides alike: the short-context and the
 * long-context test alternate within one process, in small pieces, on two
 * contexts of the same model, and the figures are ratios of medians.
 *  - decode: single-token steps alternate between a context at depth 0 and
 *    one at depth DEPTH (each truncated back after its step); the ratio of
 *    the median step times is decode(DEPTH) / decode(0) (issue 16's goal:
 *    >= 0.8);
 *  - prefill: a DEPTH-token prompt is fed in 512-token pieces, each piece
 *    followed by a pp512 into an empty context; the ratio of the prompt's
 *    tokens/s to the median pp512's is prefill(DEPTH) / pp512 (goal >= 0.8).
 * Prefill is measured ROUNDS times, the median round printed (0: decode
 * only).
 *
 *   bench_depth [MODEL.gguf|-] [DEPTH (4096)] [THREADS (2)] [ROUNDS (3)]
 * Without a model, bench_grammar's one is made with hearth-genmodel (the
 * Qwen2.5-0.5B-shaped Q4_0 model) in $TMPDIR.
 */
#include "hearth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { PIECE = 512, STEPS = 64, MAX_ROUNDS = 16 };

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* eval, failing loudly: a benchmark that measured an error is worthless */
static void eval(hearth_ctx *c, const int32_t *t, int32_t n) {
    hearth_error e;
    if (hearth_ctx_eval(c, 0, t, n, &e)) {
        fprintf(stderr, "bench_depth: eval of %d tokens: %s\n", n, e.msg);
        exit(1);
    }
}

static void truncate_to(hearth_ctx *c, int32_t n) {
    hearth_error e;
    if (hearth_ctx_seq_truncate(c, 0, n, &e)) {
        fprintf(stderr, "bench_depth: truncate: %s\n", e.msg);
        exit(1);
    }
}

static hearth_ctx *new_ctx(hearth_model *m, int32_t n_ctx, int threads) {
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = n_ctx;
    cp.n_threads = threads;
    hearth_ctx *c;
    hearth_error e;
    if (hearth_ctx_new(m, &cp, &c, &e)) {
        fprintf(stderr, "bench_depth: context of %d: %s\n", n_ctx, e.msg);
        exit(1);
    }
    return c;
}

int main(int argc, char **argv) {
    const char *model = argc > 1 && strcmp(argv[1], "-") ? argv[1] : NULL;
    int32_t depth = argc > 2 ? atoi(argv[2]) : 4096;
    int threads = argc > 3 ? atoi(argv[3]) : 2;
    int n_rounds = argc > 4 ? atoi(argv[4]) : 3;
    if (depth < PIECE || threads < 1 || n_rounds < 0 || n_rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: bench_depth [MODEL.gguf|-] [DEPTH >= %d] [THREADS] [ROUNDS 0..%d]\n", PIECE,
                MAX_ROUNDS);
        return 2;
    }
    char made[512] = "";
    if (!model) {
        const char *gen = getenv("HEARTH_GENMODEL");
        char here[512];
        if (!gen) {
            ssize_t k = readlink("/proc/self/exe", here, sizeof here - 32);
            if (k <= 0) return 1;
            here[k] = 0;
            strcpy(strrchr(here, '/') + 1, "hearth-genmodel");
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
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = threads;
    if (hearth_model_open(model, &mp, &m, &e)) {
        fprintf(stderr, "%s: %s\n", model, e.msg);
        return 1;
    }
    int32_t nv = hearth_model_n_vocab(m), ntok = depth + STEPS + PIECE;
    int32_t *toks = malloc((size_t)ntok * sizeof *toks);
    double *ta = malloc(((size_t)depth / PIECE + 1 + STEPS) * sizeof(double));
    double *tb = malloc((size_t)STEPS * sizeof(double)), rounds[MAX_ROUNDS];
    if (!toks || !ta || !tb) return 1;
    uint32_t x = 1;
    for (int32_t i = 0; i < ntok; i++) toks[i] = (int32_t)((x = x * 1664525u + 1013904223u) >> 8) % nv;
    hearth_ctx *a = new_ctx(m, PIECE + STEPS, threads), *b = new_ctx(m, depth + STEPS, threads);
    eval(a, toks, 16); /* warm-up: weights paged in, threads started */
    eval(b, toks, 16);
    printf("== %s, depth %d, %d threads\n", model, depth, threads);

    if (!n_rounds) {
        truncate_to(b, 0);
        for (int32_t done = 0; done < depth; done += PIECE)
            eval(b, toks + done, depth - done < PIECE ? depth - done : PIECE);
    }
    for (int r = 0; r < n_rounds; r++) {
        truncate_to(b, 0);
        double sum_b = 0;
        int na = 0;
        for (int32_t done = 0; done < depth;) {
            int32_t n = depth - done < PIECE ? depth - done : PIECE;
            double t0 = now_s();
            eval(b, toks + done, n);
            sum_b += now_s() - t0;
            done += n;
            truncate_to(a, 0);
            t0 = now_s();
            eval(a, toks, PIECE);
            ta[na++] = now_s() - t0;
        }
        double pp = PIECE / median(ta, na), pl = depth / sum_b;

        rounds[r] = pl / pp;
        printf("prefill round %d: %d-token prompt %.1f t/s, pp%d %.1f t/s (median of %d): ratio %.3f\n", r,
               depth, pl, PIECE, pp, na, rounds[r]);
    }
    /* b holds depth tokens now */
    for (int s = 0; s < STEPS; s++) {
        truncate_to(a, 0);
        double t0 = now_s();
        eval(a, toks + s, 1);
        ta[s] = now_s() - t0;
        truncate_to(b, depth);
        t0 = now_s();
        eval(b, toks + depth + s, 1);
        tb[s] = now_s() - t0;
    }
    double d0 = median(ta, STEPS), dd = median(tb, STEPS);
    printf("decode: depth 0 %.2f ms (%.1f t/s), depth %d %.2f ms (%.1f t/s), medians of %d steps\n",
           d0 * 1e3, 1 / d0, depth, dd * 1e3, 1 / dd, STEPS);
    printf("ratios: decode d%d/d0 %.3f (goal >= 0.8)", depth, d0 / dd);
    if (n_rounds)
        printf(", prefill %d/pp%d %.3f (median of %d rounds; goal >= 0.8)", depth, PIECE,
               median(rounds, n_rounds), n_rounds);
    printf("\n");
    hearth_ctx_free(a);
    hearth_ctx_free(b);
    hearth_model_free(m);
    free(toks);
    free(ta);
    free(tb);
    return 0;
}
