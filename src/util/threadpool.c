/*
 * threadpool.c: persistent fork-join pool (see threadpool.h).
 *
 * Protocol. `state` packs the run's generation (high 32 bits), a CLOSED bit
 * and the number of workers that joined the run (low bits). The caller
 * publishes (fn, arg) and opens generation g+1; a worker that sees the new
 * generation joins with a CAS (only while the run is open), runs fn and
 * counts itself in `done`. The caller runs fn itself, then closes the run
 * and waits only for the workers that joined. Tasks take their work from a
 * shared counter, so a worker that is descheduled when a run starts (likely
 * on a busy machine) is simply left out instead of stalling the run.
 *
 * Waiting: a worker spins SPIN_ITERS times for the next generation, then
 * sleeps on `cv`; the caller takes the mutex only when `sleepers` is
 * non-zero. Sequentially consistent atomics on state/sleepers ensure either
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
#elif defined(__aarch64__) || defined(__arm__)
/* ARM's spin-wait hint (what x86's pause is there). */
#define CPU_RELAX() __asm__ __volatile__("yield" ::: "memory")
#else
#define CPU_RELAX() ((void)0)
#endif

/* About 50-100 us of spinning: longer than the gap between two runs of a
 * decode step, shorter than a scheduler tick. */
enum { SPIN_ITERS = 1 << 11 };

#define ST_CLOSED ((uint64_t)1 << 31)
#define ST_JOINED_MASK (ST_CLOSED - 1)
#define ST_GEN(s) ((uint32_t)((s) >> 32))

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
    _Atomic uint64_t state;
    atomic_int done;
    atomic_int sleepers;
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void *worker_main(void *vp) {
    worker *w = vp;
    hearth_threadpool *p = w->pool;
    uint32_t seen = 0;
    for (;;) {
        uint64_t s;
        int spins = 0;
        while (ST_GEN(s = atomic_load(&p->state)) == seen && !atomic_load(&p->stop)) {
            if (++spins < SPIN_ITERS) {
                CPU_RELAX();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while (ST_GEN(atomic_load(&p->state)) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->cv, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
            spins = 0;
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = ST_GEN(s);
        /* join the run while it is open */
        bool joined = false;
        while (ST_GEN(s) == seen && !(s & ST_CLOSED)) {
            if (atomic_compare_exchange_weak(&p->state, &s, s + 1)) {
                joined = true;
                break;
            }
        }
        if (!joined) continue;
        p->fn(p->arg, w->ith, p->nth);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
}

hearth_status hearth_threadpool_new(int n_threads, hearth_threadpool **out, hearth_error *err) {
    *out = NULL;
    if (n_threads < 1 || n_threads > 1024)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "thread pool: %d threads (want 1..1024)", n_threads);
    hearth_threadpool *p = hearth_calloc(1, sizeof *p);
    if (!p) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "thread pool: out of memory");
    p->nth = n_threads;
    atomic_init(&p->state, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->stop, false);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (n_threads > 1) {
        p->workers = hearth_calloc((size_t)n_threads - 1, sizeof *p->workers);
        if (!p->workers) {
            p->nth = 1;
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
    uint64_t s = atomic_load(&p->state);
    atomic_store(&p->state, (uint64_t)(ST_GEN(s) + 1) << 32); /* open, nobody joined */
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    fn(arg, 0, p->nth);
    int joined = (int)(atomic_fetch_or(&p->state, ST_CLOSED) & ST_JOINED_MASK);
    int spins = 0;
    while (atomic_load_explicit(&p->done, memory_order_acquire) != joined) {
        /* a joined worker was descheduled mid-task: give it the core */
        if (++spins < SPIN_ITERS) CPU_RELAX();
        else sched_yield();
    }
}
