/*
 * zmm_x86.h: 512-bit helpers shared by the AVX-512 level's wide int8 gemm
 * (gemm512.h) and the amx level (dot_amx.c): dword transposes that put 16
 * blocks (or 16 weight rows) one per lane, and strided loads of their
 * scales. The including file defines INLINE and UNROLL and is compiled with
 * the AVX-512 F/BW/VL/DQ flags.
 */
#ifndef HEARTH_KERNELS_X86_ZMM_X86_H
#define HEARTH_KERNELS_X86_ZMM_X86_H
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

/* 16 fp16 values, one every stride bytes from p, as floats; lanes outside
 * m are 0 and their bytes are not read. */
INLINE __m512 f16x16_strided(const uint8_t *p, int32_t stride, __mmask16 m) {
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32(stride));
    /* 4 bytes at each d (the block's first field; the block is longer) */
    __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, p, 1);
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(v));
}

/* 4x4 dword transpose within each 128-bit lane of z[0..3], z[i] lane L =
 * 4 dwords of row i + 4L: afterwards z[k] holds dword k of rows 0..15. */
INLINE void tr4x4(__m512i z[4]) {
    __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
    __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
    z[0] = _mm512_unpacklo_epi64(t0, t2);
    z[1] = _mm512_unpackhi_epi64(t0, t2);
    z[2] = _mm512_unpacklo_epi64(t1, t3);
    z[3] = _mm512_unpackhi_epi64(t1, t3);
}

/* Transposes the dwords of v[0..7], v[j] = (row j: 8 dwords, row j+8: 8
 * dwords): afterwards v[k] holds dword k of rows 0..15 in lanes 0..15 (an
 * AMX B tile's row k; in the wide gemm a row is a block). */
INLINE void tr16(__m512i v[8]) {
    const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), hi = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    __m512i y[8];
    UNROLL for (int j = 0; j < 4; j++) {
        y[j] = _mm512_permutex2var_epi64(v[j], lo, v[j + 4]);
        y[j + 4] = _mm512_permutex2var_epi64(v[j], hi, v[j + 4]);
    }
    UNROLL for (int j = 0; j < 8; j++) v[j] = y[j];
    tr4x4(v);
    tr4x4(v + 4);
}

/* 16 bytes at p, or zeros without reading p when !ok. */
INLINE __m128i ld128_or0(const uint8_t *p, bool ok) {
    return ok ? _mm_loadu_si128((const __m128i *)p) : _mm_setzero_si128();
}

#endif
