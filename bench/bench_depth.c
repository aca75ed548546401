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
 * With CACHES (a comma list of KEYS/VALUES KV cache types, e.g.
 * f16/f16,q8_0/q8_0,q8_0/q4_0) it measures the cache types instead: a
 * context at depth 0 and one at DEPTH per type, single-token steps
 * alternating over all of them; per type the KV cache's bytes at DEPTH
 * positions, the median step at each depth, and each against the first
 * type's (ratios of one run).
 *
 *   bench_depth [MODEL.gguf|-] [DEPTH (4096)] [THREADS (2)] [ROUNDS (3)] [CACHES]
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

static hearth_ctx *new_ctx_t(hearth_model *m, int32_t n_ctx, int threads, hearth_type tk, hearth_type tv) {
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = n_ctx;
    cp.n_threads = threads;
    cp.type_k = tk;
    cp.type_v = tv;
    hearth_ctx *c;
    hearth_error e;
    if (hearth_ctx_new(m, &cp, &c, &e)) {
        fprintf(stderr, "bench_depth: context of %d: %s\n", n_ctx, e.msg);
        exit(1);
    }
    return c;
}

static hearth_ctx *new_ctx(hearth_model *m, int32_t n_ctx, int threads) {
    return new_ctx_t(m, n_ctx, threads, HEARTH_TYPE_F16, HEARTH_TYPE_F16);
}

enum { MAX_CACHES = 8 };

/* The CACHES mode (see the top): decode at depth 0 and `depth` per cache
 * type, all steps interleaved. */
static int bench_caches(hearth_model *m, const char *list, const int32_t *toks, int32_t depth, int threads) {
    hearth_type tk[MAX_CACHES], tv[MAX_CACHES];
    char names[MAX_CACHES][40];
    int n = 0;
    for (const char *p = list; *p && n < MAX_CACHES;) {
        char item[48], k[16], v[16];
        size_t len = strcspn(p, ",");
        snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item ? len : sizeof item - 1), p);
        hearth_error e;
        if (sscanf(item, "%15[^/]/%15s", k, v) != 2 || hearth_cache_type_parse(k, false, &tk[n], &e) ||
            hearth_cache_type_parse(v, true, &tv[n], &e)) {
            fprintf(stderr, "bench_depth: bad cache pair '%s' (KEYS/VALUES, e.g. q8_0/q4_0)\n", item);
            return 2;
        }
        snprintf(names[n++], sizeof names[0], "%s/%s", k, v);
        p += len + (p[len] == ',');
    }
    hearth_ctx *c0[MAX_CACHES], *cd[MAX_CACHES];
    double *t0 = malloc((size_t)n * STEPS * sizeof(double)), *td = malloc((size_t)n * STEPS * sizeof(double));
    if (!t0 || !td) return 1;
    uint64_t bytes[MAX_CACHES];
    for (int i = 0; i < n; i++) {
        c0[i] = new_ctx_t(m, STEPS + 16, threads, tk[i], tv[i]);
        cd[i] = new_ctx_t(m, depth + STEPS, threads, tk[i], tv[i]);
        /* the bytes of exactly `depth` positions: the cache is allocated per position */
        bytes[i] = hearth_ctx_kv_bytes(cd[i]) / (uint64_t)(depth + STEPS) * (uint64_t)depth;
        eval(c0[i], toks, 16);
        for (int32_t done = 0; done < depth; done += PIECE)
            eval(cd[i], toks + done, depth - done < PIECE ? depth - done : PIECE);
    }
    for (int s = 0; s < STEPS; s++)
        for (int i = 0; i < n; i++) {
            truncate_to(c0[i], 0);
            double a = now_s();
            eval(c0[i], toks + s, 1);
            t0[i * STEPS + s] = now_s() - a;
            truncate_to(cd[i], depth);
            a = now_s();
            eval(cd[i], toks + depth + s, 1);
            td[i * STEPS + s] = now_s() - a;
        }
    double m0[MAX_CACHES], md[MAX_CACHES];
    for (int i = 0; i < n; i++) {
        m0[i] = median(t0 + i * STEPS, STEPS);
        md[i] = median(td + i * STEPS, STEPS);
        printf("cache %-10s KV %10llu bytes at %d (%.2f of %s)  decode d0 %6.1f t/s (%.3f)  d%d %6.1f t/s "
               "(%.3f)  d%d/d0 %.3f\n",
               names[i], (unsigned long long)bytes[i], depth, (double)bytes[i] / (double)bytes[0], names[0],
               1 / m0[i], m0[0] / m0[i], depth, 1 / md[i], md[0] / md[i], depth, m0[i] / md[i]);
        hearth_ctx_free(c0[i]);
        hearth_ctx_free(cd[i]);
    }
    printf("(t/s from medians of %d interleaved steps; in parentheses: speed relative to %s)\n", STEPS, names[0]);
    free(t0);
    free(td);
    return 0;
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
    if (argc > 5) {
        if (!toks) return 1;
        uint32_t y = 1;
        for (int32_t i = 0; i < ntok; i++) toks[i] = (int32_t)((y = y * 1664525u + 1013904223u) >> 8) % nv;
        printf("== %s, depth %d, %d threads, KV cache types\n", model, depth, threads);
        int rc = bench_caches(m, argv[5], toks, depth, threads);
        free(toks);
        hearth_model_free(m);
        return rc;
    }
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
