/*
 * vec_dot.c: the scalar reference for the embedding search's row dot
 * products, and the one-time choice of the implementation for this CPU.
 */
#include "store/vec_index.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void vec_dot_rows_ref(const float *q, const float *rows, int32_t dim, size_t nrows, float *out) {
    for (size_t r = 0; r < nrows; r++) {
        const float *v = rows + r * (size_t)dim;
        float acc = 0.0f;
        for (int32_t i = 0; i < dim; i++) acc += q[i] * v[i];
        out[r] = acc;
    }
}

static pthread_once_t pick_once = PTHREAD_ONCE_INIT;
static vec_dot_rows_fn picked; /* written once under pick_once, then read-only */

static void pick(void) {
    const char *force = getenv("HEARTH_FORCE_SCALAR");
    picked = vec_dot_rows_ref;
    if (force && *force && strcmp(force, "0") != 0) return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        picked = vec_dot_rows_avx2;
#endif
}

vec_dot_rows_fn vec_dot_rows_get(void) {
    pthread_once(&pick_once, pick);
    return picked;
}
