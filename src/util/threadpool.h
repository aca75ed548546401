/*
 * threadpool.h: a persistent pool of worker threads for the forward pass.
 *
 * hearth_threadpool_run(pool, fn, arg) calls fn(arg, ith, nth) on the
 * caller (thread 0) and on the workers that are ready to join, and returns
 * when all those calls have returned: a fork-join with one barrier at the
 * end, in which a descheduled worker never holds the others up. Workers spin briefly on
 * a generation counter between runs (a decode step issues hundreds of short
 * runs, and a futex wake costs more than the work), then sleep on a condition
 * variable so an idle context burns no CPU.
 *
 * Invariant: at most one run is in flight per pool; runs must not nest.
 */
#ifndef HEARTH_UTIL_THREADPOOL_H
#define HEARTH_UTIL_THREADPOOL_H

#include "hearth.h"

typedef struct hearth_threadpool hearth_threadpool;

typedef void (*hearth_task_fn)(void *arg, int ith, int nth);

/* Starts n_threads - 1 workers (n_threads >= 1; the caller of run is the
 * n_threads-th). OUT: *out owns the pool. Errors: HEARTH_E_NOMEM, or
 * HEARTH_E_IO if a thread cannot be started. Any thread. */
hearth_status hearth_threadpool_new(int n_threads, hearth_threadpool **out, hearth_error *err);

/* Stops and joins the workers. NULL is a no-op. Not during a run. */
void hearth_threadpool_free(hearth_threadpool *p);

/* Number of threads including the caller. */
int hearth_threadpool_size(const hearth_threadpool *p);

/* Runs fn(arg, ith, nth) on the caller (ith 0) and on every worker that
 * joins while the caller is busy with its own call, and returns when all of
 * them have returned. A worker that is not running at the time may be left
 * out, so fn must take its work from a shared counter (never split it by
 * ith): the caller's call alone must be able to do everything. ith is
 * unique among the calls of one run (use it for per-thread scratch). One
 * thread per pool at a time. */
void hearth_threadpool_run(hearth_threadpool *p, hearth_task_fn fn, void *arg);

#endif
