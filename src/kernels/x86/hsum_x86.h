/*
 * hsum_x86.h: transposing horizontal sums: lane k of the result is the sum
 * of the lanes of the k-th input vector. Summing 8 (or 16) accumulators this
 * way takes a tree of hadds shared by all of them instead of a separate
 * reduction each, which matters where rows are short (a 256-wide model's
 * gemm tiles, attention's 16 dot products per block of keys).
 * hearth_hsum8x8_ps needs AVX; hearth_hsum16x16_ps AVX-512F and DQ.
 */
#ifndef HEARTH_KERNELS_X86_HSUM_X86_H
#define HEARTH_KERNELS_X86_HSUM_X86_H

#include <immintrin.h>

static inline __attribute__((always_inline)) __m256 hearth_hsum8x8_ps(const __m256 *a) {
    __m256 t0 = _mm256_hadd_ps(a[0], a[1]), t1 = _mm256_hadd_ps(a[2], a[3]);
    __m256 t2 = _mm256_hadd_ps(a[4], a[5]), t3 = _mm256_hadd_ps(a[6], a[7]);
    __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

#if defined(__AVX512F__) && defined(__AVX512DQ__)
static inline __attribute__((always_inline)) __m512 hearth_hsum16x16_ps(const __m512 *a) {
    __m256 h[16];
#pragma GCC unroll 16
    for (int k = 0; k < 16; k++)
        h[k] = _mm256_add_ps(_mm512_castps512_ps256(a[k]), _mm512_extractf32x8_ps(a[k], 1));
    return _mm512_insertf32x8(_mm512_castps256_ps512(hearth_hsum8x8_ps(h)), hearth_hsum8x8_ps(h + 8), 1);
}

/* The same for 4 vectors: lane k of the result is the sum of a[k]. */
static inline __attribute__((always_inline)) __m128 hearth_hsum4x16_ps(const __m512 *a) {
    __m256 h[4];
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++)
        h[k] = _mm256_add_ps(_mm512_castps512_ps256(a[k]), _mm512_extractf32x8_ps(a[k], 1));
    __m256 u = _mm256_hadd_ps(_mm256_hadd_ps(h[0], h[1]), _mm256_hadd_ps(h[2], h[3]));
    return _mm_add_ps(_mm256_castps256_ps128(u), _mm256_extractf128_ps(u, 1));
}
#endif

#endif
