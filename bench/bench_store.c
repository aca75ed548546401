/*
 * bench_store.c: the local store's two headline figures (issue 5):
 *   - 100,000 message inserts, batched (goal >= 50,000 inserts/s), with the
 *     default durability (WAL, synchronous=FULL: one fsync per commit);
 *   - top-10 cosine search over 100,000 embeddings of 384 dims (goal <= 20
 *     ms), brute force on one thread, with the memory bandwidth it reaches.
 * Runs in a temporary directory (or $HEARTH_BENCH_DIR) that it removes.
 * usage: bench_store [N_MESSAGES] [N_VECTORS] [DIM]
 */
#include "hearth.h"

#include "store/vec_index.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f) {
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

static void die(const char *what, const hearth_error *e) {
    fprintf(stderr, "bench_store: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint64_t rng = 88172645463325252ull;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 40) / 8388608.0 - 1.0);
}

int main(int argc, char **argv) {
    long n_msg = argc > 1 ? atol(argv[1]) : 100000;
    long n_vec = argc > 2 ? atol(argv[2]) : 100000;
    int dim = argc > 3 ? atoi(argv[3]) : 384;
    if (n_msg < 1 || n_vec < 1 || dim < 1 || dim > 65536) {
        fprintf(stderr, "usage: bench_store [N_MESSAGES] [N_VECTORS] [DIM]\n");
        return 2;
    }
    char dir[512];
    const char *base = getenv("HEARTH_BENCH_DIR");
    if (!base) base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/hearth-bench-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) die("mkdtemp", NULL);
    char path[600];
    snprintf(path, sizeof path, "%s/hearth.db", dir);

    hearth_store_params p = hearth_store_default_params();
    p.path = path;
    hearth_store *s;
    hearth_error e;
    if (hearth_store_open(&p, &s, &e)) die("open", &e);
    int64_t sid;
    if (hearth_store_session_ensure(s, "bench", &sid, &e)) die("session", &e);

    /* ---- message inserts ---- */
    enum { BATCH = 1000 };
    static hearth_message batch[BATCH];
    static char texts[BATCH][96];
    for (int i = 0; i < BATCH; i++) {
        snprintf(texts[i], sizeof texts[i], "message %d: a short line of chat text, about as long as a typical turn", i);
        batch[i] = (hearth_message){.session_id = sid, .role = i % 2 ? "assistant" : "user",
                                    .content = texts[i], .n_tokens = 17, .model = "bench-model"};
    }
    /* warm up: statements prepared, file grown a little */
    if (hearth_store_message_add_batch(s, batch, BATCH, NULL, &e)) die("warm-up", &e);

    double t0 = now_s(), c0 = cpu_s();
    for (long done = 0; done < n_msg; done += BATCH) {
        size_t n = (size_t)(n_msg - done < BATCH ? n_msg - done : BATCH);
        if (hearth_store_message_add_batch(s, batch, n, NULL, &e)) die("insert", &e);
    }
    double t_batch = now_s() - t0, c_batch = cpu_s() - c0;

    /* batches of 10 x BATCH: ten times fewer commits (fsyncs) */
    t0 = now_s();
    c0 = cpu_s();
    for (long done = 0; done < n_msg;) {
        if (hearth_store_begin(s, &e)) die("begin", &e);
        for (int k = 0; k < 10 && done < n_msg; k++) {
            size_t n = (size_t)(n_msg - done < BATCH ? n_msg - done : BATCH);
            if (hearth_store_message_add_batch(s, batch, n, NULL, &e)) die("insert", &e);
            done += (long)n;
        }
        if (hearth_store_commit(s, &e)) die("commit", &e);
    }
    double t_big = now_s() - t0, c_big = cpu_s() - c0;

    /* the same through begin / message_add x N / commit */
    t0 = now_s();
    c0 = cpu_s();
    if (hearth_store_begin(s, &e)) die("begin", &e);
    for (long i = 0; i < n_msg; i++)
        if (hearth_store_message_add(s, &batch[i % BATCH], NULL, &e)) die("insert", &e);
    if (hearth_store_commit(s, &e)) die("commit", &e);
    double t_tx = now_s() - t0, c_tx = cpu_s() - c0;

    /* one transaction per message, for scale (fewer: each one is an fsync) */
    long n_single = n_msg < 200 ? n_msg : 200;
    t0 = now_s();
    for (long i = 0; i < n_single; i++)
        if (hearth_store_message_add(s, &batch[i % BATCH], NULL, &e)) die("insert", &e);
    double t_single = now_s() - t0;

    printf("message inserts (WAL, synchronous=FULL, change record per row):\n");
    printf("  batched, %d per add_batch: %8.0f inserts/s  (%ld in %.3f s wall, %.3f s cpu)  goal >= 50000\n",
           BATCH, n_msg / t_batch, n_msg, t_batch, c_batch);
    printf("  batched, %d per commit:   %8.0f inserts/s  (%ld in %.3f s wall, %.3f s cpu)\n",
           10 * BATCH, n_msg / t_big, n_msg, t_big, c_big);
    printf("  one begin/commit, add x N: %8.0f inserts/s  (%ld in %.3f s wall, %.3f s cpu)\n", n_msg / t_tx,
           n_msg, t_tx, c_tx);
    printf("  autocommit, one per call:  %8.0f inserts/s  (%ld in %.3f s, an fsync each)\n",
           n_single / t_single, n_single, t_single);

    /* ---- embedding search ---- */
    float *v = malloc(sizeof(float) * (size_t)dim);
    t0 = now_s();
    if (hearth_store_begin(s, &e)) die("begin", &e);
    for (long i = 0; i < n_vec; i++) {
        for (int j = 0; j < dim; j++) v[j] = frand();
        if (hearth_store_embedding_put(s, "message", i + 1, sid, "bench-embed", v, dim, NULL, &e))
            die("embedding put", &e);
    }
    if (hearth_store_commit(s, &e)) die("commit", &e);
    double t_put = now_s() - t0;

    hearth_embedding_hit hits[10];
    size_t nh;
    for (int j = 0; j < dim; j++) v[j] = frand();
    t0 = now_s();
    if (hearth_store_embedding_search(s, "bench-embed", NULL, 0, v, dim, 10, hits, &nh, &e))
        die("search", &e);
    double t_load = now_s() - t0;

    enum { RUNS = 30 };
    double ms[RUNS];
    for (int r = 0; r < RUNS; r++) {
        for (int j = 0; j < dim; j++) v[j] = frand();
        t0 = now_s();
        if (hearth_store_embedding_search(s, "bench-embed", NULL, 0, v, dim, 10, hits, &nh, &e))
            die("search", &e);
        ms[r] = (now_s() - t0) * 1e3;
        if (nh != 10) die("search returned fewer than 10 hits", NULL);
    }
    qsort(ms, RUNS, sizeof ms[0], cmp_double);
    double mb = (double)n_vec * dim * 4 / 1e6;
    printf("embeddings: %ld x %d float32 (%.0f MB), stored in %.2f s (%.0f/s); first search (loads) %.1f ms\n",
           n_vec, dim, mb, t_put, n_vec / t_put, t_load * 1e3);
    printf("  top-10 search, %s kernel, 1 thread: median %.2f ms, best %.2f ms, worst %.2f ms"
           " (%.1f GB/s at the median)  goal <= 20 ms\n",
           vec_dot_rows_get() == vec_dot_rows_ref ? "scalar" : "avx2", ms[RUNS / 2], ms[0],
           ms[RUNS - 1], mb / 1e3 / (ms[RUNS / 2] / 1e3));

    hearth_store_stats st;
    if (!hearth_store_stats_get(s, &st, &e))
        printf("database: %.1f MB (+ %.1f MB log)\n", st.file_bytes / 1e6, st.wal_bytes / 1e6);
    free(v);
    hearth_store_free(s);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
