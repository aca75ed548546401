/* test_embeddings.c: embedding storage and cosine top-k: results against a
 * naive double-precision computation, the SIMD row kernel against its
 * scalar reference, filters, replacement, deletion (direct and through a
 * message's or task's deletion), rollback, and changes made by another
 * connection. */
#include "test.h"

#include "store_util.h"

#include "store/vec_index.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(void) { /* xorshift64*, uniform in [-1, 1) */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (float)((double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

typedef struct {
    int64_t id;
    double score;
} ref_hit;

static double cosine(const float *a, const float *b, int dim) {
    double d = 0, na = 0, nb = 0;
    for (int i = 0; i < dim; i++) {
        d += (double)a[i] * b[i];
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }
    return na > 0 && nb > 0 ? d / sqrt(na * nb) : 0.0;
}

static int cmp_ref(const void *pa, const void *pb) {
    const ref_hit *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static void test_kernels(void) {
    vec_dot_rows_fn fast = vec_dot_rows_get();
    double max_err = 0;
    int dims[] = {1, 3, 7, 8, 9, 31, 32, 33, 100, 384, 385};
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
        int dim = dims[di];
        size_t rows = 37;
        float *m = aligned_alloc(64, ((rows * dim * sizeof(float)) + 63) & ~(size_t)63);
        float *q = malloc(dim * sizeof(float)), ref[37], got[37], avx[37];
        for (size_t i = 0; i < rows * dim; i++) m[i] = frand();
        for (int i = 0; i < dim; i++) q[i] = frand();
        vec_dot_rows_ref(q, m, dim, rows, ref);
        fast(q, m, dim, rows, got);
        vec_dot_rows_avx2(q, m, dim, rows, avx);
        for (size_t r = 0; r < rows; r++) {
            double tol = 1e-5 + 1e-5 * fabs(ref[r]) + 1e-6 * dim;
            double e1 = fabs(got[r] - ref[r]), e2 = fabs(avx[r] - ref[r]);
            if (e1 > max_err) max_err = e1;
            CHECKF(e1 <= tol, "dim %d row %zu: %g vs %g", dim, r, got[r], ref[r]);
            /* the AVX2 kernel is called directly only where the CPU has it */
            if (fast == vec_dot_rows_avx2) CHECKF(e2 <= tol, "avx2 dim %d row %zu", dim, r);
        }
        free(m);
        free(q);
    }
    fprintf(stderr, "row dot: %s path, max |err| vs reference %.3g\n",
            vec_dot_rows_get() == vec_dot_rows_ref ? "scalar" : "avx2", max_err);
}

/* n random vectors; top-k for several queries checked against the naive
 * computation. */
static void test_topk(hearth_store *s) {
    enum { N = 1500, DIM = 48, K = 10 };
    float *v = malloc(sizeof(float) * N * DIM);
    int64_t *ids = malloc(sizeof(int64_t) * N);
    REQUIRE(hearth_store_begin(s, NULL) == HEARTH_OK);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < DIM; j++) v[i * DIM + j] = frand() * (1 + i % 7);
        if (i == 17) memset(&v[i * DIM], 0, DIM * sizeof(float)); /* a zero vector */
        REQUIRE(hearth_store_embedding_put(s, i % 3 ? "message" : "task", 1000 + i, i % 5,
                                           "mini", &v[i * DIM], DIM, &ids[i], NULL) == HEARTH_OK);
    }
    REQUIRE(hearth_store_commit(s, NULL) == HEARTH_OK);
    ref_hit *ref = malloc(sizeof(ref_hit) * N);
    for (int qi = 0; qi < 5; qi++) {
        float q[DIM];
        for (int j = 0; j < DIM; j++) q[j] = frand();
        if (qi == 4) memcpy(q, &v[123 * DIM], sizeof q); /* a stored vector: finds itself */
        const char *kind = qi == 2 ? "task" : NULL;
        int64_t group = qi == 3 ? 4 : 0;
        size_t nr = 0;
        for (int i = 0; i < N; i++) {
            if (kind && i % 3) continue;
            if (group && i % 5 != group) continue;
            ref[nr++] = (ref_hit){ids[i], cosine(q, &v[i * DIM], DIM)};
        }
        qsort(ref, nr, sizeof *ref, cmp_ref);
        hearth_embedding_hit hits[K];
        size_t nh = 0;
        hearth_error e;
        hearth_status st = hearth_store_embedding_search(s, "mini", kind, group, q, DIM, K, hits, &nh, &e);
        if (st) fprintf(stderr, "search: %s\n", e.msg);
        CHECK(st == HEARTH_OK);
        CHECK_EQ_INT(nh, K);
        for (size_t i = 0; i < nh; i++) {
            int idx = (int)(hits[i].id - ids[0]);
            REQUIRE(idx >= 0 && idx < N && ids[idx] == hits[i].id);
            double want = cosine(q, &v[idx * DIM], DIM);
            CHECKF(fabs(hits[i].score - want) < 1e-5, "score %g vs %g", hits[i].score, want);
            /* same as the naive ranking, unless two scores are within rounding */
            CHECKF(hits[i].id == ref[i].id || fabs(ref[i].score - hits[i].score) < 1e-5,
                   "query %d rank %zu: id %lld vs %lld", qi, i, (long long)hits[i].id,
                   (long long)ref[i].id);
            CHECK(hits[i].owner_id == 1000 + idx);
            CHECK(hits[i].group_id == idx % 5);
            CHECK_STR(hits[i].owner_kind, idx % 3 ? "message" : "task");
            if (i) CHECK(hits[i].score <= hits[i - 1].score);
            if (kind) CHECK_STR(hits[i].owner_kind, "task");
            if (group) CHECK(hits[i].group_id == group);
        }
        if (qi == 4) CHECK(nh && hits[0].id == ids[123] && hits[0].score > 0.99999f);
    }
    /* k larger than the set: everything, ranked */
    float q[DIM];
    for (int j = 0; j < DIM; j++) q[j] = frand();
    hearth_embedding_hit *all = malloc(sizeof *all * (N + 5));
    size_t nh = 0;
    CHECK(hearth_store_embedding_search(s, "mini", NULL, 0, q, DIM, N + 5, all, &nh, NULL) == HEARTH_OK);
    CHECK_EQ_INT(nh, N);
    for (size_t i = 1; i < nh; i++) CHECK(all[i].score <= all[i - 1].score);
    /* the zero vector scores 0 */
    for (size_t i = 0; i < nh; i++)
        if (all[i].id == ids[17]) CHECK(all[i].score == 0.0f);
    free(all);
    /* other dimension, other model, unknown kind: nothing */
    hearth_embedding_hit h[2];
    CHECK(hearth_store_embedding_search(s, "mini", NULL, 0, q, DIM - 1, 2, h, &nh, NULL) == HEARTH_OK && nh == 0);
    CHECK(hearth_store_embedding_search(s, "other", NULL, 0, q, DIM, 2, h, &nh, NULL) == HEARTH_OK && nh == 0);
    CHECK(hearth_store_embedding_search(s, "mini", "nope", 0, q, DIM, 2, h, &nh, NULL) == HEARTH_OK && nh == 0);
    CHECK(hearth_store_embedding_search(s, "mini", NULL, 0, q, DIM, 0, NULL, &nh, NULL) == HEARTH_OK && nh == 0);
    q[3] = NAN;
    CHECK(hearth_store_embedding_search(s, "mini", NULL, 0, q, DIM, 2, h, &nh, NULL) == HEARTH_E_ARG);
    free(ref);
    free(v);
    free(ids);
}

/* The index follows this handle's writes, rollbacks, and other connections. */
static void test_upkeep(hearth_store *s, const char *path) {
    float e0[4] = {1, 0, 0, 0}, e1[4] = {0, 1, 0, 0}, e2[4] = {0, 0, 1, 0};
    hearth_embedding_hit h[4];
    size_t nh;
    int64_t a, b;
    REQUIRE(hearth_store_embedding_put(s, "note", 1, 0, "m4", e0, 4, &a, NULL) == HEARTH_OK);
    REQUIRE(hearth_store_embedding_put(s, "note", 2, 0, "m4", e1, 4, &b, NULL) == HEARTH_OK);
    CHECK(hearth_store_embedding_search(s, "m4", NULL, 0, e1, 4, 4, h, &nh, NULL) == HEARTH_OK);
    CHECK(nh == 2 && h[0].id == b && h[0].owner_id == 2 && fabsf(h[0].score - 1) < 1e-6f &&
          fabsf(h[1].score) < 1e-6f);
    /* replace owner 1's vector (same id), add one: seen without reload */
    int64_t a2;
    REQUIRE(hearth_store_embedding_put(s, "note", 1, 7, "m4", e1, 4, &a2, NULL) == HEARTH_OK);
    CHECK_EQ_INT(a2, a);
    CHECK(hearth_store_embedding_search(s, "m4", NULL, 0, e1, 4, 4, h, &nh, NULL) == HEARTH_OK);
    CHECK(nh == 2 && fabsf(h[1].score - 1) < 1e-6f && h[0].id == a && h[0].group_id == 7);
    /* search inside a transaction is refused; rolled-back rows never appear */
    REQUIRE(hearth_store_begin(s, NULL) == HEARTH_OK);
    REQUIRE(hearth_store_embedding_put(s, "note", 3, 0, "m4", e2, 4, NULL, NULL) == HEARTH_OK);
    CHECK(hearth_store_embedding_search(s, "m4", NULL, 0, e2, 4, 4, h, &nh, NULL) == HEARTH_E_STATE);
    REQUIRE(hearth_store_rollback(s, NULL) == HEARTH_OK);
    CHECK(hearth_store_embedding_search(s, "m4", NULL, 0, e2, 4, 4, h, &nh, NULL) == HEARTH_OK && nh == 2);
    /* committed in a transaction: appears after commit */
    REQUIRE(hearth_store_begin(s, NULL) == HEARTH_OK);
    REQUIRE(hearth_store_embedding_put(s, "note", 3, 0, "m4", e2, 4, NULL, NULL) == HEARTH_OK);
    REQUIRE(hearth_store_commit(s, NULL) == HEARTH_OK);
    CHECK(hearth_store_embedding_search(s, "m4", NULL, 0, e2, 4, 4, h, &nh, NULL) == HEARTH_OK);
    CHECK(nh == 3 && h[0].owner_id == 3);
    /* direct delete */
    CHECK(hearth_store_embedding_delete(s, "note", 3, NULL) == HEARTH_OK);
    CHECK(hearth_store_embedding_delete(s, "note", 3, NULL) == HEARTH_OK);
    CHECK(hearth_store_embedding_search(s, "m4", NULL, 0, e2, 4, 4, h, &nh, NULL) == HEARTH_OK && nh == 2);
    /* a message's embeddings go when the session is cleared (trigger) */
    int64_t sid, mid;
    REQUIRE(hearth_store_session_ensure(s, "emb", &sid, NULL) == HEARTH_OK);
    hearth_message m = {.session_id = sid, .role = "user", .content = "hello"};
    REQUIRE(hearth_store_message_add(s, &m, &mid, NULL) == HEARTH_OK);
    REQUIRE(hearth_store_embedding_put(s, "message", mid, sid, "m4", e2, 4, NULL, NULL) == HEARTH_OK);
    CHECK(hearth_store_embedding_search(s, "m4", "message", sid, e2, 4, 4, h, &nh, NULL) == HEARTH_OK && nh == 1);
    REQUIRE(hearth_store_session_clear(s, sid, NULL) == HEARTH_OK);
    CHECK(hearth_store_embedding_search(s, "m4", "message", 0, e2, 4, 4, h, &nh, NULL) == HEARTH_OK && nh == 0);
    /* another connection's changes: seen at the next search */
    hearth_store *o = tu_open(path);
    REQUIRE(hearth_store_embedding_put(o, "note", 9, 0, "m4", e2, 4, NULL, NULL) == HEARTH_OK);
    REQUIRE(hearth_store_embedding_delete(o, "note", 2, NULL) == HEARTH_OK);
    hearth_store_free(o);
    CHECK(hearth_store_embedding_search(s, "m4", NULL, 0, e2, 4, 4, h, &nh, NULL) == HEARTH_OK);
    CHECK(nh == 2 && h[0].owner_id == 9 && h[1].owner_id == 1);
    /* many writes in one transaction (more than the index tracks one by one) */
    REQUIRE(hearth_store_begin(s, NULL) == HEARTH_OK);
    for (int i = 0; i < 5000; i++) {
        float x[4] = {frand(), frand(), frand(), frand()};
        REQUIRE(hearth_store_embedding_put(s, "bulk", i, 0, "m4", x, 4, NULL, NULL) == HEARTH_OK);
    }
    REQUIRE(hearth_store_commit(s, NULL) == HEARTH_OK);
    CHECK(hearth_store_embedding_search(s, "m4", "bulk", 0, e2, 4, 4, h, &nh, NULL) == HEARTH_OK && nh == 4);
    hearth_embedding_hit *all = malloc(sizeof *all * 6000);
    CHECK(hearth_store_embedding_search(s, "m4", NULL, 0, e2, 4, 6000, all, &nh, NULL) == HEARTH_OK);
    CHECK_EQ_INT(nh, 5002);
    free(all);
    /* bad arguments */
    CHECK(hearth_store_embedding_put(s, "", 1, 0, "m4", e0, 4, NULL, NULL) == HEARTH_E_ARG);
    CHECK(hearth_store_embedding_put(s, "a-kind-far-too-long", 1, 0, "m4", e0, 4, NULL, NULL) == HEARTH_E_ARG);
    CHECK(hearth_store_embedding_put(s, "note", 1, 0, "m4", e0, 0, NULL, NULL) == HEARTH_E_ARG);
    float inf[2] = {INFINITY, 0};
    CHECK(hearth_store_embedding_put(s, "note", 1, 0, "m4", inf, 2, NULL, NULL) == HEARTH_E_ARG);
}

int main(void) {
    test_kernels();
    const char *path = tu_path("emb.db");
    hearth_store *s = tu_open(path);
    test_topk(s);
    test_upkeep(s, path);
    hearth_store_free(s);
    /* a fresh handle loads from the database and finds the same */
    s = tu_open(path);
    float e2[4] = {0, 0, 1, 0};
    hearth_embedding_hit h[2];
    size_t nh;
    CHECK(hearth_store_embedding_search(s, "m4", "note", 0, e2, 4, 2, h, &nh, NULL) == HEARTH_OK);
    CHECK(nh == 2 && h[0].owner_id == 9);
    hearth_store_free(s);
    return test_done();
}
