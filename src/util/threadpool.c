/*
 * threadpool.c: persistent fork-join pool (see threadpool.h).
 *
 * Protocol: the caller publishes (fn, arg), then bumps `gen`. Each worker
 * waits until gen differs from the last one it served, runs its share and
 * increments `done`. The caller runs share 0 and spins until done == nth-1.
 * A worker that has spun SPIN_ITERS times without news sleeps on `cv`; the
 * caller only takes the mutex to wake it when `sleepers` is non-zero. Both
 * sides use sequentially consistent atomics for gen/sleepers so that either
 * the caller sees the sleeper or the sleeper sees the new generation.
 */
#include "util/threadpool.h"

#include "util/alloc.h"
#include "util/error.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

enum { SPIN_ITERS = 1 << 14 };

typedef struct {
    hearth_threadpool *pool;
    int ith;
    pthread_t tid;
} worker;

struct hearth_threadpool {
    int nth;
    worker *workers; /* nth - 1 */
    hearth_task_fn fn;
    void *arg;
    atomic_uint gen;
    atomic_int done;
    atomic_int sleepers;
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void *worker_main(void *vp) {
    worker *w = vp;
    hearth_threadpool *p = w->pool;
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load(&p->gen)) == seen && !atomic_load(&p->stop)) {
            if (++spins < SPIN_ITERS) {
                CPU_RELAX();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->cv, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
            spins = 0;
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = g;
        p->fn(p->arg, w->ith, p->nth);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
}

static void wake_all(hearth_threadpool *p) {
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

hearth_status hearth_threadpool_new(int n_threads, hearth_threadpool **out, hearth_error *err) {
    *out = NULL;
    if (n_threads < 1 || n_threads > 1024)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "thread pool: %d threads (want 1..1024)", n_threads);
    hearth_threadpool *p = hearth_calloc(1, sizeof *p);
    if (!p) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "thread pool: out of memory");
    p->nth = n_threads;
    atomic_init(&p->gen, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->stop, false);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (n_threads > 1) {
        p->workers = hearth_calloc((size_t)n_threads - 1, sizeof *p->workers);
        if (!p->workers) {
            hearth_threadpool_free(p);
            return HEARTH_FAIL(err, HEARTH_E_NOMEM, "thread pool: out of memory");
        }
    }
    for (int i = 0; i < n_threads - 1; i++) {
        p->workers[i].pool = p;
        p->workers[i].ith = i + 1;
        if (pthread_create(&p->workers[i].tid, NULL, worker_main, &p->workers[i])) {
            p->nth = i + 1; /* join only the ones started */
            hearth_threadpool_free(p);
            return HEARTH_FAIL(err, HEARTH_E_IO, "thread pool: cannot start thread %d", i + 1);
        }
    }
    *out = p;
    return HEARTH_OK;
}

void hearth_threadpool_free(hearth_threadpool *p) {
    if (!p) return;
    atomic_store(&p->stop, true);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nth - 1; i++) pthread_join(p->workers[i].tid, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    hearth_free(p->workers);
    hearth_free(p);
}

int hearth_threadpool_size(const hearth_threadpool *p) { return p->nth; }

void hearth_threadpool_run(hearth_threadpool *p, hearth_task_fn fn, void *arg) {
    if (p->nth == 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->done, 0);
    atomic_fetch_add(&p->gen, 1); /* publishes fn/arg (seq_cst) */
    wake_all(p);
    fn(arg, 0, p->nth);
    int spins = 0;
    while (atomic_load_explicit(&p->done, memory_order_acquire) != p->nth - 1) {
        /* On an oversubscribed machine a worker may be descheduled: yield
         * rather than burn its core. */
        if (++spins < SPIN_ITERS) CPU_RELAX();
        else sched_yield();
    }
}
