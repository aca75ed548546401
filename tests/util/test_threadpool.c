/*
 * test_threadpool.c: the fork-join pool (util/threadpool.c) under stress,
 * with 1 to 8 threads (more than this machine's cores: workers are often
 * descheduled, the case the pool's join protocol exists for):
 *  - many short runs back to back: every item of every run is done exactly
 *    once, by calls whose ith is in [0, nth) and unique within the run, and
 *    the workers' plain (non-atomic) writes are visible to the caller when
 *    run returns (the ThreadSanitizer build checks that ordering too);
 *  - nested counters, as the forward pass's matrix products take their
 *    work: one shared counter over several sub-jobs of different sizes
 *    (prefix sums), each task an item of one sub-job;
 *  - empty runs, and runs with fewer items than threads;
 *  - runs after the workers went to sleep (wake-up), and free while the
 *    workers spin, while they sleep, during their start, and with no run.
 * A hang is a failure: alarm() ends the test after 120 s.
 */
#include "test.h"

#include "util/threadpool.h"

#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

enum { MAX_ITEMS = 4096, N_SUB = 4 };

typedef struct {
    int nth;
    int64_t n_items;               /* all sub-jobs together */
    int64_t before[N_SUB + 1];     /* prefix sums of the sub-jobs' sizes */
    atomic_llong next;
    int done[N_SUB][MAX_ITEMS];    /* plain writes, one per item */
    int by[N_SUB][MAX_ITEMS];      /* ith that did it */
    _Atomic unsigned calls;        /* bit ith: a call with this ith ran */
    atomic_int dup_ith, bad_args;
} job;

static void task(void *arg, int ith, int nth) {
    job *j = arg;
    if (ith < 0 || ith >= nth || nth != j->nth || ith >= 32) {
        atomic_fetch_add(&j->bad_args, 1);
        return;
    }
    if (atomic_fetch_or(&j->calls, 1u << ith) & (1u << ith)) atomic_fetch_add(&j->dup_ith, 1);
    for (;;) {
        int64_t t = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (t >= j->n_items) return;
        int s = 0;
        while (t >= j->before[s + 1]) s++;
        int64_t i = t - j->before[s];
        j->done[s][i]++;
        j->by[s][i] = ith;
    }
}

/* Sets up a run over sub-jobs of the given sizes (sizes[s] <= MAX_ITEMS). */
static void job_reset(job *j, int nth, const int64_t sizes[N_SUB]) {
    j->nth = nth;
    j->before[0] = 0;
    for (int s = 0; s < N_SUB; s++) {
        j->before[s + 1] = j->before[s] + sizes[s];
        memset(j->done[s], 0, (size_t)sizes[s] * sizeof(int));
    }
    j->n_items = j->before[N_SUB];
    atomic_store(&j->next, 0);
    atomic_store(&j->calls, 0);
    atomic_store(&j->dup_ith, 0);
    atomic_store(&j->bad_args, 0);
}

/* After a run: every item done once by a thread that ran; returns the
 * number of distinct calls. */
static int job_check(job *j, const int64_t sizes[N_SUB], int run, int *bad_runs) {
    unsigned calls = atomic_load(&j->calls);
    int ok = atomic_load(&j->dup_ith) == 0 && atomic_load(&j->bad_args) == 0 && (calls & 1u);
    for (int s = 0; s < N_SUB && ok; s++)
        for (int64_t i = 0; i < sizes[s]; i++)
            if (j->done[s][i] != 1 || !(calls & (1u << j->by[s][i]))) {
                ok = 0;
                break;
            }
    if (!ok && (*bad_runs)++ < 5)
        fprintf(stderr, "nth %d run %d: calls %#x dup %d bad args %d\n", j->nth, run, calls,
                atomic_load(&j->dup_ith), atomic_load(&j->bad_args));
    return __builtin_popcount(calls);
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void stress(int nth, int runs) {
    hearth_threadpool *p = NULL;
    hearth_error e = {0};
    REQUIRE(hearth_threadpool_new(nth, &p, &e) == HEARTH_OK);
    CHECK_EQ_INT(hearth_threadpool_size(p), nth);
    static job j;
    int bad = 0, max_calls = 0;
    uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)nth;
    for (int r = 0; r < runs; r++) {
        int64_t sizes[N_SUB];
        for (int s = 0; s < N_SUB; s++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            /* mostly short runs, some empty sub-jobs, now and then a long one */
            int64_t v = (int64_t)(rng >> 33);
            sizes[s] = r % 97 == 0 ? MAX_ITEMS : v % 5 == 0 ? 0 : v % 64;
        }
        if (r % 31 == 0) memset(sizes, 0, sizeof sizes); /* an empty run */
        job_reset(&j, nth, sizes);
        hearth_threadpool_run(p, task, &j);
        int c = job_check(&j, sizes, r, &bad);
        if (c > max_calls) max_calls = c;
        /* now and then let the workers fall asleep, so the next run wakes them */
        if (r % 500 == 499) sleep_ms(2);
    }
    CHECKF(bad == 0, "nth %d: %d of %d runs wrong", nth, bad, runs);
    CHECKF(max_calls <= nth, "nth %d: %d calls in one run", nth, max_calls);
    fprintf(stderr, "nth %d: %d runs, at most %d threads joined one\n", nth, runs, max_calls);
    hearth_threadpool_free(p);
}

/* A run that only the caller can finish must still finish; then free with
 * the workers in each waiting state. */
static void lifecycle(int nth) {
    hearth_error e = {0};
    hearth_threadpool *p = NULL;
    /* free with no run (the workers may not have started yet) */
    REQUIRE(hearth_threadpool_new(nth, &p, &e) == HEARTH_OK);
    hearth_threadpool_free(p);
    static job j;
    int64_t sizes[N_SUB] = {7, 0, 300, 1};
    int bad = 0;
    /* free right after a run: the workers are spinning */
    REQUIRE(hearth_threadpool_new(nth, &p, &e) == HEARTH_OK);
    job_reset(&j, nth, sizes);
    hearth_threadpool_run(p, task, &j);
    job_check(&j, sizes, 0, &bad);
    hearth_threadpool_free(p);
    /* free after the workers went to sleep (far past the spin), then a run
     * that has to wake them, then sleep again and free */
    REQUIRE(hearth_threadpool_new(nth, &p, &e) == HEARTH_OK);
    sleep_ms(20);
    job_reset(&j, nth, sizes);
    hearth_threadpool_run(p, task, &j);
    job_check(&j, sizes, 1, &bad);
    sleep_ms(20);
    hearth_threadpool_free(p);
    CHECKF(bad == 0, "nth %d: lifecycle runs wrong", nth);
}

int main(void) {
    alarm(120);
    hearth_threadpool *p = NULL;
    hearth_error e = {0};
    CHECK(hearth_threadpool_new(0, &p, &e) == HEARTH_E_ARG && p == NULL);
    CHECK(hearth_threadpool_new(1025, &p, &e) == HEARTH_E_ARG && p == NULL);
    hearth_threadpool_free(NULL);
    for (int nth = 1; nth <= 8; nth++) {
        stress(nth, 3000);
        lifecycle(nth);
    }
    return test_done();
}
