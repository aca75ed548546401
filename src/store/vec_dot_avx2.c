/*
 * vec_dot_avx2.c: AVX2+FMA row dot products for the embedding search
 * (compiled with -mavx2 -mfma; picked at run time only on CPUs that have
 * them). Same contract as vec_dot_rows_ref; sums in a different order, so
 * results differ from the reference by rounding only.
 *
 * The search is bound by memory bandwidth: each row is read once, with four
 * independent accumulators so the FMA latency is hidden, and the next rows
 * are prefetched.
 */
#include "store/vec_index.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

static inline float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

void vec_dot_rows_avx2(const float *q, const float *rows, int32_t dim, size_t nrows,
                       float *out) {
    const size_t d = (size_t)dim, d32 = d & ~(size_t)31, d8 = d & ~(size_t)7;
    for (size_t r = 0; r < nrows; r++) {
        const float *v = rows + r * d;
        /* two rows ahead: far enough to cover memory latency at this rate */
        if (r + 2 < nrows) {
            const char *p = (const char *)(v + 2 * d);
            for (size_t b = 0; b < d * sizeof(float); b += 64) _mm_prefetch(p + b, _MM_HINT_T0);
        }
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        size_t i = 0;
        for (; i < d32; i += 32) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(v + i), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), _mm256_loadu_ps(v + i + 8), a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 16), _mm256_loadu_ps(v + i + 16), a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 24), _mm256_loadu_ps(v + i + 24), a3);
        }
        for (; i < d8; i += 8)
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(v + i), a0);
        float acc = hsum256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
        for (; i < d; i++) acc += q[i] * v[i];
        out[r] = acc;
    }
}
#else
/* Not an x86 CPU: never picked (vec_dot_rows_get checks the CPU), present
 * only so the symbol exists. */
void vec_dot_rows_avx2(const float *q, const float *rows, int32_t dim, size_t nrows,
                       float *out) {
    vec_dot_rows_ref(q, rows, dim, nrows, out);
}
#endif
