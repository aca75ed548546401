/*
 * bench_sched.c: the batch scheduler's figures (issue 16).
 *
 *   bench_sched MODEL [-t THREADS] [--long L] [--gen N] [--chunks C,C,...]
 *               [--streams K] [--reps R]
 *
 * gap: one greedy stream generates N (default 96) tokens; once it has 16
 *   out, a prompt of L (3000) random tokens arrives (max_tokens 1). For each
 *   prefill chunk C (hearth_sched_set_prefill_chunk; 0: unbounded, i.e. a
 *   whole batch of 512 prompt tokens per step, the scheduler's behaviour
 *   before the bound; otherwise the bound on pieces sized from measured
 *   costs) it prints the stream's median inter-token gap alone (before the
 *   prompt came) and over the whole stream, its worst gap, and the long
 *   prompt's time to its first token.
 * streams: K (4) concurrent greedy streams of N tokens each against one
 *   alone (short distinct prompts): summed generated tokens/s of each and
 *   their ratio; the median of R (3) runs each.
 * reuse: a second request repeating a first one's 1000-token prompt with 16
 *   more tokens, on the scheduler that ran the first: its time to first token with the
 *   first turn's slot kept (n_cached reported) and on a fresh scheduler.
 *
 * Made for the generated Qwen2.5-0.5B-shaped Q4_0 model:
 *   build/hearth-genmodel --preset qwen2.5-0.5b --type Q4_0 -q -o /tmp/q.gguf
 * The machine may be shared: figures are ratios within one run.
 */
#include "hearth.h"

#include <pthread.h>
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

static void die(const char *what, const hearth_error *e) {
    fprintf(stderr, "bench_sched: %s: %s\n", what, e->msg);
    exit(1);
}

static int32_t n_vocab;

static void random_prompt(uint64_t *rng, int32_t *ids, int n) {
    for (int i = 0; i < n; i++) {
        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
        ids[i] = (int32_t)((*rng >> 33) % (uint64_t)(n_vocab - 1000)) + 100;
    }
}

/* One stream: its prompt, and when each token came. */
typedef struct {
    hearth_sched *s;
    int32_t prompt[4096];
    int n_prompt, max_tokens;
    double *t;      /* (max_tokens) arrival times, ms */
    int n_t;
    /* the stream that triggers the long prompt: signalled at token 16 */
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    bool *go;
    hearth_gen_result res;
} stream;

static int on_token(void *user, int32_t token, const char *text, size_t len) {
    (void)text;
    (void)len;
    stream *st = user;
    if (token < 0) return 0;
    if (st->n_t < st->max_tokens) st->t[st->n_t++] = now_ms();
    if (st->go && st->n_t == 16) {
        pthread_mutex_lock(st->mu);
        *st->go = true;
        pthread_cond_signal(st->cv);
        pthread_mutex_unlock(st->mu);
    }
    return 0;
}

static void *stream_main(void *arg) {
    stream *st = arg;
    hearth_gen_params p = hearth_gen_default_params();
    p.sampling.temp = 0;
    p.max_tokens = st->max_tokens;
    hearth_error e;
    if (hearth_sched_generate(st->s, st->prompt, st->n_prompt, &p, on_token, st, &st->res, &e))
        die("generate", &e);
    return NULL;
}

static hearth_sched *new_sched(const hearth_model *m, int threads, int slots) {
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_seq = slots;
    cp.n_ctx = 4096 * slots;
    cp.n_threads = threads;
    hearth_sched *s;
    hearth_error e;
    if (hearth_sched_new(m, &cp, &s, &e)) die("scheduler", &e);
    return s;
}

static void gap(const hearth_model *m, int threads, int n_long, int n_gen, const char *chunks) {
    hearth_sched *s = new_sched(m, threads, 2);
    uint64_t rng = 42;
    static stream a, b;
    double *ta = malloc((size_t)n_gen * sizeof *ta), tb[1];
    /* warm-up: a short generation */
    a = (stream){.s = s, .n_prompt = 16, .max_tokens = 8, .t = ta};
    random_prompt(&rng, a.prompt, a.n_prompt);
    stream_main(&a);
    printf("gap: one stream of %d tokens, a %d-token prompt arriving after its 16th, %d threads\n",
           n_gen, n_long, threads);
    printf("%8s %10s %10s %10s %12s %14s\n", "chunk", "alone ms", "median ms", "worst ms",
           "worst/alone", "long ttft ms");
    for (const char *c = chunks; c && *c;) {
        int chunk = atoi(c);
        hearth_sched_set_prefill_chunk(s, chunk);
        pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
        bool go = false;
        a = (stream){.s = s, .n_prompt = 16, .max_tokens = n_gen, .t = ta, .mu = &mu, .cv = &cv,
                     .go = &go};
        random_prompt(&rng, a.prompt, a.n_prompt);
        b = (stream){.s = s, .n_prompt = n_long, .max_tokens = 1, .t = tb};
        random_prompt(&rng, b.prompt, b.n_prompt);
        pthread_t th;
        pthread_create(&th, NULL, stream_main, &a);
        pthread_mutex_lock(&mu);
        while (!go) pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
        stream_main(&b);
        pthread_join(th, NULL);
        double *g = malloc((size_t)a.n_t * sizeof *g);
        int ng = 0;
        double worst = 0;
        for (int i = 1; i < a.n_t; i++) {
            g[ng] = a.t[i] - a.t[i - 1];
            if (g[ng] > worst) worst = g[ng];
            ng++;
        }
        /* the stream alone: its gaps before the prompt arrived */
        double *g0 = malloc(16 * sizeof *g0);
        int n0 = ng < 15 ? ng : 15;
        memcpy(g0, g, (size_t)n0 * sizeof *g0);
        double alone = n0 ? median(g0, n0) : 0;
        free(g0);
        double med = ng ? median(g, ng) : 0;
        char name[16];
        snprintf(name, sizeof name, chunk > 0 ? "%d" : "batch", chunk);
        printf("%8s %10.1f %10.1f %10.1f %12.1f %14.0f\n", name, alone, med, worst,
               alone > 0 ? worst / alone : 0, b.res.prompt_ms);
        fflush(stdout);
        free(g);
        c = strchr(c, ',');
        if (c) c++;
    }
    free(ta);
    hearth_sched_free(s);
}

/* Summed tokens/s of k streams at once: tokens after each stream's first,
 * over the span from the earliest first token to the latest last one. */
static double run_streams(hearth_sched *s, int k, int n_gen, uint64_t *rng) {
    stream *st = calloc((size_t)k, sizeof *st);
    pthread_t *th = calloc((size_t)k, sizeof *th);
    for (int i = 0; i < k; i++) {
        st[i] = (stream){.s = s, .n_prompt = 8, .max_tokens = n_gen};
        st[i].t = malloc((size_t)n_gen * sizeof *st[i].t);
        random_prompt(rng, st[i].prompt, st[i].n_prompt);
    }
    for (int i = 0; i < k; i++) pthread_create(&th[i], NULL, stream_main, &st[i]);
    for (int i = 0; i < k; i++) pthread_join(th[i], NULL);
    double t0 = 1e300, t1 = 0;
    long toks = 0;
    for (int i = 0; i < k; i++) {
        if (st[i].n_t < 2) continue;
        /* the streams start together; their first tokens come with the
         * prompts' step */
        if (st[i].t[0] < t0) t0 = st[i].t[0];
        if (st[i].t[st[i].n_t - 1] > t1) t1 = st[i].t[st[i].n_t - 1];
        toks += st[i].n_t - 1;
        free(st[i].t);
    }
    free(st);
    free(th);
    return t1 > t0 ? toks / ((t1 - t0) / 1e3) : 0;
}

static void streams(const hearth_model *m, int threads, int k, int n_gen, int reps) {
    hearth_sched *s = new_sched(m, threads, k);
    uint64_t rng = 7;
    run_streams(s, 1, 8, &rng); /* warm-up */
    double *one = malloc((size_t)reps * sizeof *one), *many = malloc((size_t)reps * sizeof *many);
    for (int r = 0; r < reps; r++) {
        one[r] = run_streams(s, 1, n_gen, &rng);
        many[r] = run_streams(s, k, n_gen, &rng);
    }
    double a = median(one, reps), b = median(many, reps);
    printf("streams: %d threads, %d tokens each: 1 stream %.1f tokens/s, %d streams %.1f tokens/s "
           "(%.2fx)\n", threads, n_gen, a, k, b, a > 0 ? b / a : 0);
    free(one);
    free(many);
    hearth_sched_free(s);
}

static void reuse(const hearth_model *m, int threads) {
    uint64_t rng = 99;
    static stream first, second;
    double t[64];
    first = (stream){.n_prompt = 1000, .max_tokens = 32, .t = t};
    random_prompt(&rng, first.prompt, first.n_prompt);
    double ttft[2];
    int cached = 0;
    for (int fresh = 0; fresh < 2; fresh++) {
        hearth_sched *s = new_sched(m, threads, 2);
        first.s = s;
        first.n_t = 0;
        if (!fresh) stream_main(&first);
        second = (stream){.s = s, .max_tokens = 1, .t = t};
        memcpy(second.prompt, first.prompt, (size_t)first.n_prompt * sizeof *first.prompt);
        second.n_prompt = first.n_prompt;
        /* the first turn's prompt and 16 more tokens */
        random_prompt(&rng, second.prompt + second.n_prompt, 16);
        second.n_prompt += 16;
        stream_main(&second);
        ttft[fresh] = second.res.prompt_ms;
        if (!fresh) cached = second.res.n_cached;
        hearth_sched_free(s);
    }
    printf("reuse: a %d-token second turn: first token after %.0f ms with %d tokens reused, "
           "%.0f ms on a fresh scheduler\n", second.n_prompt, ttft[0], cached, ttft[1]);
}

int main(int argc, char **argv) {
    const char *path = NULL, *chunks = "0,256,128,64,32", *only = NULL;
    int threads = 2, n_long = 3000, n_gen = 96, k = 4, reps = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-t") && v) threads = atoi(v), i++;
        else if (!strcmp(a, "--long") && v) n_long = atoi(v), i++;
        else if (!strcmp(a, "--gen") && v) n_gen = atoi(v), i++;
        else if (!strcmp(a, "--chunks") && v) chunks = v, i++;
        else if (!strcmp(a, "--streams") && v) k = atoi(v), i++;
        else if (!strcmp(a, "--reps") && v) reps = atoi(v), i++;
        else if (!strcmp(a, "--only") && v) only = v, i++;
        else if (a[0] != '-' && !path) path = a;
        else {
            fprintf(stderr, "usage: bench_sched MODEL [-t THREADS] [--long L] [--gen N] "
                            "[--chunks C,...] [--streams K] [--reps R] [--only gap|streams|reuse]\n");
            return 2;
        }
    }
    if (!path || n_long < 1 || n_long > 4000 || n_gen < 2 || k < 1 || reps < 1) {
        fprintf(stderr, "usage: bench_sched MODEL [-t THREADS] ... (see the file's comment)\n");
        return 2;
    }
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = threads;
    hearth_model *m;
    hearth_error e;
    if (hearth_model_open(path, &mp, &m, &e)) die(path, &e);
    n_vocab = hearth_model_n_vocab(m);
    if (!only || !strcmp(only, "reuse")) reuse(m, threads);
    if (!only || !strcmp(only, "gap")) gap(m, threads, n_long, n_gen, chunks);
    if (!only || !strcmp(only, "streams")) streams(m, threads, k, n_gen, reps);
    hearth_model_free(m);
    return 0;
}
