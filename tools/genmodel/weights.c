/*
 * weights.c: fills one tensor with deterministic random values and stores it
 * in its type through the reference quantizer, rows in parallel.
 *
 * Each row is generated into a small per-thread float buffer and quantized
 * straight into the output, so no full-precision copy of a tensor (the 0.5B
 * preset's embedding alone is 544 MB as floats) is ever held. Rows are handed
 * out in chunks from an atomic counter; since a row's values depend only on
 * (seed, name, row) and the reference quantizers are per-row deterministic,
 * the bytes do not depend on which thread did which row.
 */
#include "genmodel.h"
#include "rng.h"

#include "kernels/types.h"
#include "util/alloc.h"
#include "util/error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

typedef struct {
    const gm_fill *f;
    const hearth_type_traits *tr;
    uint8_t *dst;
    size_t row_size;
    int64_t chunk;
    uint64_t name_hash;
    atomic_llong next;
    atomic_int failed; /* a worker could not allocate its row buffer */
} job;

static void fill_rows(job *j, float *row, int64_t r0, int64_t r1) {
    const gm_fill *f = j->f;
    int64_t first_hot = f->nrows - f->n_hot;
    for (int64_t r = r0; r < r1; r++) {
        if (r >= first_hot) {
            int64_t k = r - first_hot;
            memset(row, 0, (size_t)f->ne0 * sizeof *row);
            row[(k / 2) % f->ne0] = k % 2 ? -GM_PAD_GAIN : GM_PAD_GAIN;
        } else {
            gm_rng rng = {gm_row_seed(f->seed, j->name_hash, (uint64_t)r)};
            for (int64_t i = 0; i < f->ne0; i++) row[i] = f->mean + f->std * gm_rng_normal(&rng);
        }
        j->tr->from_float_ref(row, j->dst + (size_t)r * j->row_size, f->ne0);
    }
}

static void *worker(void *arg) {
    job *j = arg;
    float *row = hearth_malloc((size_t)j->f->ne0 * sizeof(float)); /* (ne0) */
    if (!row) {
        atomic_store(&j->failed, 1);
        return NULL;
    }
    for (;;) {
        int64_t r0 = atomic_fetch_add(&j->next, j->chunk);
        if (r0 >= j->f->nrows) break;
        int64_t r1 = r0 + j->chunk < j->f->nrows ? r0 + j->chunk : j->f->nrows;
        fill_rows(j, row, r0, r1);
    }
    hearth_free(row);
    return NULL;
}

hearth_status gm_fill_tensor(const gm_fill *f, void *dst, hearth_error *err) {
    const hearth_type_traits *tr = hearth_type_traits_get(f->type);
    if (!tr || !tr->from_float_ref)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED,
                           "tensor '%s': no reference quantizer for type %s", f->name,
                           tr ? tr->name : "?");
    size_t row_size = hearth_type_row_size(f->type, f->ne0);
    if (!row_size)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "tensor '%s': row of %lld is not a multiple of %s's block",
                           f->name, (long long)f->ne0, tr->name);

    job j = {.f = f, .tr = tr, .dst = dst, .row_size = row_size,
             .name_hash = gm_hash_str(f->name)};
    /* About 64k values per chunk: big enough that the counter is cold, small
     * enough that the last chunks balance across threads. */
    j.chunk = 65536 / f->ne0 > 0 ? 65536 / f->ne0 : 1;
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, 0);

    int64_t n_chunks = (f->nrows + j.chunk - 1) / j.chunk;
    int nt = f->n_threads > 1 ? f->n_threads : 1;
    if (nt > n_chunks) nt = (int)(n_chunks > 0 ? n_chunks : 1);
    if (nt > 256) nt = 256;

    pthread_t tids[256];
    int started = 0;
    for (int i = 1; i < nt; i++) {
        if (pthread_create(&tids[started], NULL, worker, &j)) break; /* fewer threads is fine */
        started++;
    }
    worker(&j);
    for (int i = 0; i < started; i++) pthread_join(tids[i], NULL);
    /* A worker that could not allocate quits before claiming a chunk, and any
     * worker that did not fail ran until every chunk was claimed; so rows
     * are missing only if the counter never got to the end. */
    if (atomic_load(&j.failed) && atomic_load(&j.next) < f->nrows)
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "tensor '%s': row buffer", f->name);
    return HEARTH_OK;
}
