/*
 * dot_x86.h: the x86 SIMD kernels of dot.h, written once on 256-bit vectors
 * and compiled three times: by dot_avx2.c (AVX2+FMA+F16C: int8 products
 * through maddubs/madd), by dot_avxvnni.c (HEARTH_X86_VNNI: the VEX vpdpbusd
 * of AVX-VNNI, AVX2's registers and tiles) and by dot_avx512.c
 * (HEARTH_X86_VNNI and HEARTH_X86_AVX512: the EVEX vpdpbusd, mask registers
 * for Q5's high bits, 32 registers for larger tiles). Zen 4 runs 512-bit
 * operations as two 256-bit halves, and Xeons with one 512-bit FMA unit (the
 * project's Sapphire Rapids-class test machine: 512-bit vpdpbusd at half the
 * 256-bit instruction rate) do no more int8 multiply-adds per cycle on
 * 512-bit vectors, so 256-bit code loses little there. (A 512-bit version
 * of the Q4_0/Q8_0 transposed gemm, 16 blocks per vector, measured 0-10%
 * faster at n = 4864 and 10-15% slower at n = 896 there; on Zen 5, whose
 * 512-bit vpdpbusd runs at the 256-bit rate, it is 1.4-1.7x faster, so
 * dot_avx512.c has it, gemm512.h, and dot.c installs it on such CPUs.)
 *
 * Structure: every kernel is a tile of R weight rows x C activation columns
 * that walks the blocks once: each weight block is loaded and unpacked once
 * and used for all C columns (gemm, prefill), each activation block once
 * for all R rows (gemv, decode). Integer sums per block are exact (no
 * int16 saturation for any input the formats allow: the unsigned operand
 * of maddubs is at most 63, or 128 with the sign trick), so results differ
 * from the reference only in the order of float additions, with one
 * exception: the Q4_0/Q5_0 gemv (GEMV8) subtracts the codes' offset in
 * float (see there).
 *
 * Prefill gemm for Q4_0, Q5_0, Q8_0, Q4_K and Q6_K uses a transposed layout
 * instead (see tr8): the dwords of 8 blocks (or sub-blocks) are transposed
 * so that lane l holds block l, and each block's int8 dot product ends in its
 * own lane with no horizontal reduction. The activation columns are
 * transposed once per chunk into a stack scratch; the weights, still read
 * from the file's layout, are transposed in registers and reused by
 * GEMM8_C columns. Activations are quantized by act_x86.h, byte for byte as
 * the reference does.
 *
 * The including file defines HEARTH_X86_VNNI (vpdpbusd: AVX-VNNI or, with
 * HEARTH_X86_AVX512, AVX512-VNNI+VL) and HEARTH_X86_AVX512 as its level has
 * them, HEARTH_DOT_FILL (the fill function's name),
 * GEMV_R (rows per gemv tile), GEMM_R, GEMM_C (gemm tile), GEMM_RF (gemm tile
 * rows for float weights) and GEMM8_C (columns per transposed gemm tile),
 * optionally GEMM8_QC (columns per Q4_0/Q5_0/Q8_0 transposed tile, default
 * GEMM8_C), GEMM8_KC (the same for Q4_K/Q5_K/Q6_K, default GEMM8_C) and
 * GEMM8_PF (rows prefetched ahead in the Q4_0/Q5_0/Q8_0 gemms). Both kinds
 * of transposed gemm split the columns into tiles of even widths.
 */
#include "kernels/dot_int.h"
#include "kernels/quants.h"

#include <immintrin.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
#define UNROLL _Pragma("GCC unroll 16")
#else
#define UNROLL _Pragma("unroll")
#endif
#define INLINE static inline __attribute__((always_inline))

/* Rows of weights whose blocks stay in L2 while every column group of a
 * gemm passes over them. */
#define GEMM_ROW_CHUNK 64

INLINE float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

INLINE float ld_f16(const void *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

INLINE __m256i ld256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }
INLINE __m128i ld128(const void *p) { return _mm_loadu_si128((const __m128i *)p); }

/* acc + sum of groups of 4 u8*s8 products (exact: see the file comment). */
INLINE __m256i dot_us(__m256i acc, __m256i u, __m256i s) {
#if defined(HEARTH_X86_AVX512)
    return _mm256_dpbusd_epi32(acc, u, s);
#elif defined(HEARTH_X86_VNNI)
    return _mm256_dpbusd_avx_epi32(acc, u, s);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

/* 32 bytes 0x10 where bit i of the little-endian u32 at p is set, else 0. */
INLINE __m256i bits_to_0x10(const uint8_t *p) {
    uint32_t bits;
    memcpy(&bits, p, 4);
#ifdef HEARTH_X86_AVX512
    return _mm256_maskz_mov_epi8((__mmask32)bits, _mm256_set1_epi8(0x10));
#else
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    __m256i x = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), shuf);
    x = _mm256_or_si256(x, _mm256_set1_epi64x((long long)0x7fbfdfeff7fbfdfeull));
    x = _mm256_cmpeq_epi8(x, _mm256_set1_epi64x(-1));
    return _mm256_and_si256(x, _mm256_set1_epi8(0x10));
#endif
}

/* 16 packed nibbles -> 32 bytes: low nibbles (x[0..15]) then high (x[16..31]). */
INLINE __m256i nibbles32(const uint8_t *qs) {
    __m128i q = ld128(qs);
    __m256i x = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
    return _mm256_and_si256(x, _mm256_set1_epi8(0x0F));
}

/* lane j = sum of the 8 lanes of p[j] */
INLINE __m256i reduce8(const __m256i p[8]) {
    __m256i h01 = _mm256_hadd_epi32(p[0], p[1]), h23 = _mm256_hadd_epi32(p[2], p[3]);
    __m256i h45 = _mm256_hadd_epi32(p[4], p[5]), h67 = _mm256_hadd_epi32(p[6], p[7]);
    __m256i h0123 = _mm256_hadd_epi32(h01, h23), h4567 = _mm256_hadd_epi32(h45, h67);
    return _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20),
                            _mm256_permute2x128_si256(h0123, h4567, 0x31));
}

#include "kernels/x86/act_x86.h"

/* ---- float weights (F32, F16, BF16) with F32 activations --------------------- */

INLINE __m256 ld8_f32(const void *p) { return _mm256_loadu_ps((const float *)p); }
INLINE __m256 ld8_f16(const void *p) { return _mm256_cvtph_ps(ld128(p)); }
INLINE __m256 ld8_bf16(const void *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(ld128(p)), 16));
}
INLINE float ld1_f32(const void *p) { float f; memcpy(&f, p, 4); return f; }
INLINE float ld1_bf16(const void *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return hearth_bf16_to_f32(h);
}

#define FLOAT_TILE(name, esz, LD8, LD1)                                                       \
    INLINE void tile_##name(int64_t n, int R, int C, const uint8_t *w, size_t ws,             \
                            const uint8_t *a, size_t as, float *out, int64_t os) {            \
        __m256 acc[4][4];                                                                     \
        UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) acc[r][c] =     \
            _mm256_setzero_ps();                                                              \
        int64_t i = 0;                                                                        \
        for (; i + 8 <= n; i += 8) {                                                          \
            __m256 av[4];                                                                     \
            UNROLL for (int c = 0; c < C; c++) av[c] = _mm256_loadu_ps((const float *)(a + c * as) + i); \
            UNROLL for (int r = 0; r < R; r++) {                                              \
                __m256 wv = LD8(w + r * ws + i * esz);                                        \
                UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm256_fmadd_ps(wv, av[c], acc[r][c]); \
            }                                                                                 \
        }                                                                                     \
        UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) {               \
            float s = hsum8(acc[r][c]);                                                       \
            for (int64_t j = i; j < n; j++)                                                   \
                s += LD1(w + r * ws + j * esz) * ((const float *)(a + c * as))[j];            \
            out[c * os + r] = s;                                                              \
        }                                                                                     \
    }

FLOAT_TILE(f32, 4, ld8_f32, ld1_f32)
FLOAT_TILE(f16, 2, ld8_f16, ld_f16)
FLOAT_TILE(bf16, 2, ld8_bf16, ld1_bf16)

/* ---- Q4_1 / Q5_1 with Q8_1 activations ----------------------------------------------- */

INLINE __m256i unpack_q4_1(const uint8_t *blk) { return nibbles32(blk + 4); }
INLINE __m256i unpack_q5_1(const uint8_t *blk) {
    return _mm256_or_si256(nibbles32(blk + 8), bits_to_0x10(blk + 4));
}

#define QX_1_TILE(name, BSZ, UNPACK)                                                          \
    INLINE void tile_##name(int64_t nb, int R, int C, const uint8_t *w, size_t ws,            \
                            const uint8_t *a, size_t as, float *out, int64_t os) {            \
        __m256 acc[4][4];                                                                     \
        float accm[4][4];                                                                     \
        UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) {               \
            acc[r][c] = _mm256_setzero_ps();                                                  \
            accm[r][c] = 0.f;                                                                 \
        }                                                                                     \
        for (int64_t b = 0; b < nb; b++) {                                                    \
            __m256i av[4];                                                                    \
            float da[4], sa[4];                                                               \
            UNROLL for (int c = 0; c < C; c++) {                                              \
                const uint8_t *ab = a + c * as + b * 36;                                      \
                da[c] = ld_f16(ab);                                                           \
                sa[c] = ld_f16(ab + 2);                                                       \
                av[c] = ld256(ab + 4);                                                        \
            }                                                                                 \
            UNROLL for (int r = 0; r < R; r++) {                                              \
                const uint8_t *wb = w + r * ws + b * BSZ;                                     \
                __m256i u = UNPACK(wb);                                                       \
                float dw = ld_f16(wb), mw = ld_f16(wb + 2);                                   \
                UNROLL for (int c = 0; c < C; c++) {                                          \
                    __m256i p = dot_us(_mm256_setzero_si256(), u, av[c]);                     \
                    acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * da[c]), \
                                                acc[r][c]);                                   \
                    accm[r][c] += mw * sa[c];                                                 \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
        UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++)                 \
            out[c * os + r] = hsum8(acc[r][c]) + accm[r][c];                                  \
    }

QX_1_TILE(q4_1, 20, unpack_q4_1)
QX_1_TILE(q5_1, 24, unpack_q5_1)

/* ---- K-quants with Q8_K activations ---------------------------------------------------- */

enum { Q8K_D = 0, Q8K_QS = 4, Q8K_BSUMS = 4 + QK_K, Q8K_SIZE = 292 };

#include "kernels/x86/kscales_x86.h"

/* Q4_K (HBITS 0) and Q5_K (HBITS 1): 8 sub-blocks of 32; codes 0..15 (0..31)
 * times unsigned 6-bit scales, minus dmin * mins . bsums. The 8 sub-block
 * dot products are reduced into one vector (lane j = sub-block j) and
 * scaled there, so the scales never need broadcasting. */
#define QK4_TILE(name, BSZ, QS_OFF, HBITS)                                                    \
    INLINE void tile_##name(int64_t nb, int R, int C, const uint8_t *w, size_t ws,            \
                            const uint8_t *a, size_t as, float *out, int64_t os) {            \
        const __m256i m4 = _mm256_set1_epi8(0x0F);                                            \
        for (int r = 0; r < R; r++) {                                                         \
            __m256 acc[4];                                                                    \
            UNROLL for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();                  \
            for (int64_t b = 0; b < nb; b++) {                                                \
                const uint8_t *wb = w + r * ws + b * BSZ;                                     \
                float d = ld_f16(wb), dmin = ld_f16(wb + 2);                                  \
                __m256i sc32, mn32;                                                           \
                k4_scales(wb + 4, &sc32, &mn32);                                              \
                __m256i u[8];                                                                 \
                __m256i hb = HBITS ? ld256(wb + 16) : _mm256_setzero_si256();                 \
                UNROLL for (int k = 0; k < 4; k++) {                                          \
                    __m256i q = ld256(wb + QS_OFF + 32 * k);                                  \
                    u[2 * k] = _mm256_and_si256(q, m4);                                       \
                    u[2 * k + 1] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);             \
                    if (HBITS) {                                                              \
                        /* bit 2k of qh -> 0x10 of sub-block 2k, bit 2k+1 -> of 2k+1 */       \
                        __m256i h0 = 2 * k <= 4 ? _mm256_slli_epi16(hb, 4 - 2 * k)             \
                                                : _mm256_srli_epi16(hb, 2 * k - 4);            \
                        __m256i h1 = 2 * k + 1 <= 4 ? _mm256_slli_epi16(hb, 3 - 2 * k)         \
                                                    : _mm256_srli_epi16(hb, 2 * k - 3);        \
                        u[2 * k] = _mm256_or_si256(u[2 * k], _mm256_and_si256(h0, _mm256_set1_epi8(0x10))); \
                        u[2 * k + 1] =                                                        \
                            _mm256_or_si256(u[2 * k + 1], _mm256_and_si256(h1, _mm256_set1_epi8(0x10))); \
                    }                                                                         \
                }                                                                             \
                UNROLL for (int c = 0; c < C; c++) {                                          \
                    const uint8_t *ab = a + c * as + b * Q8K_SIZE;                            \
                    __m256i p[8];                                                             \
                    UNROLL for (int j = 0; j < 8; j++)                                        \
                        p[j] = dot_us(_mm256_setzero_si256(), u[j], ld256(ab + Q8K_QS + 32 * j)); \
                    __m256i si = _mm256_mullo_epi32(reduce8(p), sc32);                        \
                    __m128i bs2 = _mm_hadd_epi16(ld128(ab + Q8K_BSUMS), ld128(ab + Q8K_BSUMS + 16)); \
                    __m256i mi = _mm256_mullo_epi32(_mm256_cvtepi16_epi32(bs2), mn32);        \
                    float da = ld1_f32(ab);                                                   \
                    acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(si), _mm256_set1_ps(d * da), acc[c]); \
                    acc[c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(mi), _mm256_set1_ps(dmin * da), acc[c]); \
                }                                                                             \
            }                                                                                 \
            UNROLL for (int c = 0; c < C; c++) out[c * os + r] = hsum8(acc[c]);               \
        }                                                                                     \
    }

QK4_TILE(q4_K, 144, 16, 0)
QK4_TILE(q5_K, 176, 48, 1)

/* Q6_K: codes 0..63 (stored +32) times signed scales per 16; the -32 is
 * folded in as -32 * scales . bsums. */
INLINE void tile_q6_K(int64_t nb, int R, int C, const uint8_t *w, size_t ws, const uint8_t *a,
                      size_t as, float *out, int64_t os) {
    __m256 acc[4][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    for (int64_t b = 0; b < nb; b++) {
        float da[4];
        UNROLL for (int c = 0; c < C; c++) da[c] = ld1_f32(a + c * as + b * Q8K_SIZE);
        UNROLL for (int r = 0; r < R; r++) {
            const uint8_t *wb = w + r * ws + b * 210; /* ql 0, qh 128, scales 192, d 208 */
            float d = ld_f16(wb + 208);
            __m128i sc8 = ld128(wb + 192);
            __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
            __m256i sumi[4];
            UNROLL for (int c = 0; c < C; c++) {
                /* -32 * sum_i sc_i * bsums_i */
                __m256i bs = ld256(a + c * as + b * Q8K_SIZE + Q8K_BSUMS);
                sumi[c] = _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5);
                sumi[c] = _mm256_sub_epi32(_mm256_setzero_si256(), sumi[c]);
            }
            UNROLL for (int h = 0; h < 2; h++) {
                __m256i ql0 = ld256(wb + 64 * h), ql1 = ld256(wb + 64 * h + 32);
                __m256i qh = ld256(wb + 128 + 32 * h);
                __m256i q[4];
                q[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30));
                q[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30));
                q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30));
                q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                       _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
                UNROLL for (int k = 0; k < 4; k++) {
                    int g = 8 * h + 2 * k; /* scales g (first 16) and g+1 (next 16) */
                    const __m128i shuf = _mm_set_epi8((char)(g + 1), (char)(g + 1), (char)(g + 1), (char)(g + 1),
                                                      (char)(g + 1), (char)(g + 1), (char)(g + 1), (char)(g + 1),
                                                      (char)g, (char)g, (char)g, (char)g, (char)g, (char)g,
                                                      (char)g, (char)g);
                    __m256i scv = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, shuf));
                    UNROLL for (int c = 0; c < C; c++) {
                        const uint8_t *aq = a + c * as + b * Q8K_SIZE + Q8K_QS + 128 * h + 32 * k;
                        __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(q[k], ld256(aq)), scv);
                        sumi[c] = _mm256_add_epi32(sumi[c], p);
                    }
                }
            }
            UNROLL for (int c = 0; c < C; c++)
                acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[c]), _mm256_set1_ps(d * da[c]), acc[r][c]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) out[c * os + r] = hsum8(acc[r][c]);
}

/* int16 vector [sc[g] x8 | sc[g+1] x8] from 16 signed byte scales: the scales
 * of the two 16-element halves of a 32-element group. */
INLINE __m256i pair_scales(__m128i sc8, int g) {
    const __m128i shuf = _mm_set_epi8((char)(g + 1), (char)(g + 1), (char)(g + 1), (char)(g + 1), (char)(g + 1),
                                      (char)(g + 1), (char)(g + 1), (char)(g + 1), (char)g, (char)g, (char)g,
                                      (char)g, (char)g, (char)g, (char)g, (char)g);
    return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, shuf));
}

/* Q2_K: codes 0..3 in 2-bit fields, 4-bit scales and mins per 16. */
INLINE void tile_q2_K(int64_t nb, int R, int C, const uint8_t *w, size_t ws, const uint8_t *a, size_t as,
                      float *out, int64_t os) {
    __m256 acc[4][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm256_setzero_ps();
    const __m256i m3 = _mm256_set1_epi8(3);
    for (int64_t b = 0; b < nb; b++) {
        float da[4];
        UNROLL for (int c = 0; c < C; c++) da[c] = ld1_f32(a + c * as + b * Q8K_SIZE);
        UNROLL for (int r = 0; r < R; r++) {
            const uint8_t *wb = w + r * ws + b * 84; /* scales 0, qs 16, d 80, dmin 82 */
            float d = ld_f16(wb + 80), dmin = ld_f16(wb + 82);
            __m128i s8 = ld128(wb);
            __m128i sc8 = _mm_and_si128(s8, _mm_set1_epi8(0x0F));
            __m256i mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s8, 4), _mm_set1_epi8(0x0F)));
            __m256i sumi[4], summ[4];
            UNROLL for (int c = 0; c < C; c++) {
                sumi[c] = _mm256_setzero_si256();
                summ[c] = _mm256_madd_epi16(mins16, ld256(a + c * as + b * Q8K_SIZE + Q8K_BSUMS));
            }
            UNROLL for (int h = 0; h < 2; h++) {
                __m256i qv = ld256(wb + 16 + 32 * h);
                UNROLL for (int k = 0; k < 4; k++) {
                    __m256i q = _mm256_and_si256(_mm256_srli_epi16(qv, 2 * k), m3);
                    __m256i scv = pair_scales(sc8, 8 * h + 2 * k);
                    UNROLL for (int c = 0; c < C; c++) {
                        const uint8_t *aq = a + c * as + b * Q8K_SIZE + Q8K_QS + 128 * h + 32 * k;
                        sumi[c] = _mm256_add_epi32(sumi[c], _mm256_madd_epi16(_mm256_maddubs_epi16(q, ld256(aq)), scv));
                    }
                }
            }
            UNROLL for (int c = 0; c < C; c++) {
                acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[c]), _mm256_set1_ps(d * da[c]), acc[r][c]);
                acc[r][c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(summ[c]), _mm256_set1_ps(dmin * da[c]), acc[r][c]);
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) out[c * os + r] = hsum8(acc[r][c]);
}

/* The 16 signed 6-bit scales of a Q3_K block as bytes: low nibbles in
 * bytes 0-7 (scales 0-7) and their high nibbles (scales 8-15), top 2 bits
 * in bytes 8-11, field j/4 of byte 8 + j%4. Word-parallel form of
 * hearth_q3_K_scales. */
INLINE __m128i q3_scales(const uint8_t *s12) {
    uint32_t u[3], o[4];
    memcpy(u, s12, 12);
    const uint32_t k1 = 0x03030303, k2 = 0x0f0f0f0f;
    o[0] = (u[0] & k2) | (((u[2] >> 0) & k1) << 4);
    o[1] = (u[1] & k2) | (((u[2] >> 2) & k1) << 4);
    o[2] = ((u[0] >> 4) & k2) | (((u[2] >> 4) & k1) << 4);
    o[3] = ((u[1] >> 4) & k2) | (((u[2] >> 6) & k1) << 4);
    /* from registers: a 16-byte load of four 4-byte stores would miss
     * store forwarding and stall */
    return _mm_sub_epi8(_mm_set_epi32((int)o[3], (int)o[2], (int)o[1], (int)o[0]), _mm_set1_epi8(32));
}

/* Q3_K: code + 4 = low 2 bits | high bit << 2 is unsigned (0..7); the -4
 * is folded in as -4 * scales . bsums. */
INLINE void tile_q3_K(int64_t nb, int R, int C, const uint8_t *w, size_t ws, const uint8_t *a, size_t as,
                      float *out, int64_t os) {
    __m256 acc[4][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm256_setzero_ps();
    const __m256i m3 = _mm256_set1_epi8(3), m4 = _mm256_set1_epi8(4);
    for (int64_t b = 0; b < nb; b++) {
        float da[4];
        UNROLL for (int c = 0; c < C; c++) da[c] = ld1_f32(a + c * as + b * Q8K_SIZE);
        UNROLL for (int r = 0; r < R; r++) {
            const uint8_t *wb = w + r * ws + b * 110; /* hmask 0, qs 32, scales 96, d 108 */
            float d = ld_f16(wb + 108);
            __m128i sc8 = q3_scales(wb + 96);
            __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
            __m256i hm = ld256(wb);
            __m256i sumi[4];
            UNROLL for (int c = 0; c < C; c++) {
                __m256i bs = ld256(a + c * as + b * Q8K_SIZE + Q8K_BSUMS);
                sumi[c] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 2));
            }
            UNROLL for (int h = 0; h < 2; h++) {
                __m256i qv = ld256(wb + 32 + 32 * h);
                UNROLL for (int k = 0; k < 4; k++) {
                    int hs = 4 * h + k; /* bit of hmask for this group -> bit 2 */
                    __m256i hb = hs >= 2 ? _mm256_srli_epi16(hm, hs - 2) : _mm256_slli_epi16(hm, 2 - hs);
                    __m256i q = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qv, 2 * k), m3),
                                                _mm256_and_si256(hb, m4));
                    __m256i scv = pair_scales(sc8, 8 * h + 2 * k);
                    UNROLL for (int c = 0; c < C; c++) {
                        const uint8_t *aq = a + c * as + b * Q8K_SIZE + Q8K_QS + 128 * h + 32 * k;
                        sumi[c] = _mm256_add_epi32(sumi[c], _mm256_madd_epi16(_mm256_maddubs_epi16(q, ld256(aq)), scv));
                    }
                }
            }
            UNROLL for (int c = 0; c < C; c++)
                acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[c]), _mm256_set1_ps(d * da[c]), acc[r][c]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) out[c * os + r] = hsum8(acc[r][c]);
}

/* ---- gemv for Q4_0 / Q5_0 / Q8_0: scales handled 8 blocks at a time ---------------
 *
 * Decode streams each weight byte once, so the per-block scalar work of the
 * tiles (fp16 scale, product, broadcast, convert, fma) is what limits the
 * small-block formats. Here the integer dot products of 8 consecutive blocks
 * of a row are reduced into one vector (lane j = block j), and the scales
 * of those 8 blocks are applied with one convert and two FMAs. The
 * activation side (its scales, and bias * its block sums) is prepared once
 * per call.
 * Not exact per block for Q4_0 and Q5_0: the integer product is of the
 * unsigned codes (u = q + BIAS), and BIAS * d_act * sum(a) is subtracted in
 * float (fmsub), so each block's value is rounded before the offset is
 * taken off: an error of float rounding relative to |u . a| * d_act, which
 * can exceed the block's own value. (The gemm, GEMM8, subtracts it in
 * integers; Q8_0 has no offset.)
 */

/* 8 fp16 scales at p, p+stride, ... as floats */
INLINE uint16_t ld_u16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}

INLINE __m256 ld8_f16_strided(const uint8_t *p, size_t stride) {
    /* inserted from memory, not stored to an array and reloaded (a 16-byte
     * load of eight 2-byte stores misses store forwarding) */
    __m128i h = _mm_cvtsi32_si128(ld_u16(p));
    h = _mm_insert_epi16(h, ld_u16(p + 1 * stride), 1);
    h = _mm_insert_epi16(h, ld_u16(p + 2 * stride), 2);
    h = _mm_insert_epi16(h, ld_u16(p + 3 * stride), 3);
    h = _mm_insert_epi16(h, ld_u16(p + 4 * stride), 4);
    h = _mm_insert_epi16(h, ld_u16(p + 5 * stride), 5);
    h = _mm_insert_epi16(h, ld_u16(p + 6 * stride), 6);
    h = _mm_insert_epi16(h, ld_u16(p + 7 * stride), 7);
    return _mm256_cvtph_ps(h);
}

/* The first cnt (< 8) of 8 fp16 scales at p, p+stride, ... as floats, the
 * rest 0; inserted from memory as ld8_f16_strided. */
INLINE __m256 ld8_f16_strided_n(const uint8_t *p, size_t stride, int cnt) {
    __m128i h = _mm_setzero_si128();
    h = _mm_insert_epi16(h, ld_u16(p), 0);
    if (cnt > 1) h = _mm_insert_epi16(h, ld_u16(p + 1 * stride), 1);
    if (cnt > 2) h = _mm_insert_epi16(h, ld_u16(p + 2 * stride), 2);
    if (cnt > 3) h = _mm_insert_epi16(h, ld_u16(p + 3 * stride), 3);
    if (cnt > 4) h = _mm_insert_epi16(h, ld_u16(p + 4 * stride), 4);
    if (cnt > 5) h = _mm_insert_epi16(h, ld_u16(p + 5 * stride), 5);
    if (cnt > 6) h = _mm_insert_epi16(h, ld_u16(p + 6 * stride), 6);
    return _mm256_cvtph_ps(h);
}

/* Unsigned weight codes u and the matching signed activation bytes s for
 * one block, such that u . s = (codes + BIAS) . a. */
INLINE void us_q4_0(const uint8_t *wb, const uint8_t *aq, __m256i *u, __m256i *sv) {
    *u = nibbles32(wb + 2);
    *sv = ld256(aq);
}
INLINE void us_q5_0(const uint8_t *wb, const uint8_t *aq, __m256i *u, __m256i *sv) {
    *u = _mm256_or_si256(nibbles32(wb + 6), bits_to_0x10(wb + 2));
    *sv = ld256(aq);
}
INLINE void us_q8_0(const uint8_t *wb, const uint8_t *aq, __m256i *u, __m256i *sv) {
    /* |x| and the sign moved onto a (bias 0): keeps the sum exact, where
     * x + 128 would need a float correction of 128 * sum(a) */
    __m256i x = ld256(wb + 2);
    *u = _mm256_sign_epi8(x, x);
    *sv = _mm256_sign_epi8(ld256(aq), x);
}

/* Blocks per call for which the activation side is prepared on the stack. */
#define ACT_CHUNK 512

#define GEMV8(name, BSZ, US, BIAS)                                                             \
    static void gemv_##name(int64_t n, int64_t nrows, float *out, const void *w, size_t ws,    \
                            const void *act) {                                                 \
        const uint8_t *wb0 = w, *ab0 = act;                                                    \
        int64_t nb = n / 32;                                                                   \
        float da[ACT_CHUNK], bias[ACT_CHUNK]; /* d_act, BIAS * d_act * sum(a) per block */     \
        for (int64_t r = 0; r < nrows; r++) out[r] = 0.f;                                      \
        /* long rows are done in chunks of blocks, adding into out */                          \
        for (int64_t b0 = 0; b0 < nb; b0 += ACT_CHUNK) {                                       \
            int64_t cb = nb - b0 < ACT_CHUNK ? nb - b0 : ACT_CHUNK;                            \
            const uint8_t *ab = ab0 + b0 * 34;                                                 \
            for (int64_t b = 0; b < cb; b++) {                                                 \
                da[b] = ld_f16(ab + b * 34);                                                   \
                __m256i sa = dot_us(_mm256_setzero_si256(), _mm256_set1_epi8(1), ld256(ab + b * 34 + 2)); \
                __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sa), _mm256_extracti128_si256(sa, 1)); \
                s4 = _mm_hadd_epi32(s4, s4);                                                   \
                s4 = _mm_hadd_epi32(s4, s4);                                                   \
                bias[b] = (float)(BIAS) * da[b] * (float)_mm_cvtsi128_si32(s4);                \
            }                                                                                  \
            for (int64_t b = cb; b < ((cb + 7) & ~(int64_t)7); b++) da[b] = bias[b] = 0.f;       \
            for (int64_t r = 0; r < nrows; r++) {                                              \
                const uint8_t *wb = wb0 + (size_t)r * ws + b0 * BSZ;                           \
                __m256 acc = _mm256_setzero_ps();                                              \
                int64_t b = 0;                                                                 \
                for (; b + 8 <= cb; b += 8) {                                                  \
                    __m256i p[8];                                                              \
                    UNROLL for (int j = 0; j < 8; j++) {                                       \
                        __m256i u, sv;                                                         \
                        US(wb + (b + j) * BSZ, ab + (b + j) * 34 + 2, &u, &sv);                \
                        p[j] = dot_us(_mm256_setzero_si256(), u, sv);                          \
                    }                                                                          \
                    __m256 t = _mm256_fmsub_ps(_mm256_cvtepi32_ps(reduce8(p)), _mm256_loadu_ps(da + b), \
                                               _mm256_loadu_ps(bias + b));                     \
                    acc = _mm256_fmadd_ps(t, ld8_f16_strided(wb + b * BSZ, BSZ), acc);         \
                }                                                                              \
                if (b < cb) { /* last partial group: missing blocks count as 0 */              \
                    int cnt = (int)(cb - b);                                                   \
                    __m256i p[8];                                                              \
                    UNROLL for (int j = 0; j < 8; j++) {                                       \
                        p[j] = _mm256_setzero_si256();                                         \
                        if (j < cnt) {                                                         \
                            __m256i u, sv;                                                     \
                            US(wb + (b + j) * BSZ, ab + (b + j) * 34 + 2, &u, &sv);            \
                            p[j] = dot_us(p[j], u, sv);                                        \
                        }                                                                      \
                    }                                                                          \
                    /* scales by inserts: a store-forwarding miss per row costs ~10% at n=896 */ \
                    __m256 t = _mm256_fmsub_ps(_mm256_cvtepi32_ps(reduce8(p)), _mm256_loadu_ps(da + b), \
                                               _mm256_loadu_ps(bias + b));                     \
                    acc = _mm256_fmadd_ps(t, ld8_f16_strided_n(wb + b * BSZ, BSZ, cnt), acc);  \
                }                                                                              \
                float s = hsum8(acc);                                                          \
                out[r] += s;                                                                   \
            }                                                                                  \
        }                                                                                      \
    }

GEMV8(q4_0, 18, us_q4_0, 8)
GEMV8(q5_0, 22, us_q5_0, 16)
GEMV8(q8_0, 34, us_q8_0, 0)

/* gemm for the same three formats, on a transposed layout: the dwords of 8
 * consecutive blocks are transposed (tr8) so that lane l of each vector holds
 * 4 bytes of block l. The int8 dot products of 8 blocks then land each in
 * its own lane with no horizontal reduction: 8 dpbusd per 8 blocks and
 * column, then one convert and two float ops apply the 8 scales. A row's 8
 * unpacked, transposed weight blocks are reused by GEMM8_C activation
 * columns, whose blocks are transposed once per row chunk into a scratch
 * buffer (with d_act and BIAS * sum(a) per block). BIAS (the codes' offset)
 * is subtracted in integers, so each block's sum is exact.
 * Q8_0 weights are signed: with VNNI they are made unsigned by x ^ 0x80
 * (BIAS 128: dpbusd's int32 sums cannot overflow); on AVX2 maddubs would
 * saturate there, so the sign moves onto the activation (|x|, sign(a, x)). */
INLINE __m256i u_q4_0(const uint8_t *wb) { return nibbles32(wb + 2); }
INLINE __m256i u_q5_0(const uint8_t *wb) { return _mm256_or_si256(nibbles32(wb + 6), bits_to_0x10(wb + 2)); }
INLINE __m256i u_q8_0(const uint8_t *wb) {
#ifdef HEARTH_X86_VNNI
    return _mm256_xor_si256(ld256(wb + 2), _mm256_set1_epi8((char)0x80));
#else
    return ld256(wb + 2);
#endif
}
#ifdef HEARTH_X86_VNNI
#define SGN_q8_0 0
#define BIAS_q8_0 128
#else
#define SGN_q8_0 1
#define BIAS_q8_0 0
#endif
#define SGN_q4_0 0
#define SGN_q5_0 0
#define BIAS_q4_0 8
#define BIAS_q5_0 16

/* Transposes the dwords of v[0..7] (block j in v[j]): afterwards lane l
 * (0..7) of every v[k] holds 4 bytes of block l. The same permutation for
 * weights and activations keeps their bytes paired. */
INLINE void tr8(__m256i v[8]) {
    __m256i y[8];
    UNROLL for (int j = 0; j < 4; j++) {
        y[j] = _mm256_permute2x128_si256(v[j], v[j + 4], 0x20);
        y[j + 4] = _mm256_permute2x128_si256(v[j], v[j + 4], 0x31);
    }
    UNROLL for (int g = 0; g < 8; g += 4) {
        __m256i t0 = _mm256_unpacklo_epi32(y[g], y[g + 1]), t1 = _mm256_unpackhi_epi32(y[g], y[g + 1]);
        __m256i t2 = _mm256_unpacklo_epi32(y[g + 2], y[g + 3]), t3 = _mm256_unpackhi_epi32(y[g + 2], y[g + 3]);
        v[g] = _mm256_unpacklo_epi64(t0, t2);
        v[g + 1] = _mm256_unpackhi_epi64(t0, t2);
        v[g + 2] = _mm256_unpacklo_epi64(t1, t3);
        v[g + 3] = _mm256_unpackhi_epi64(t1, t3);
    }
}

/* The layout for a last group of at most 4 blocks (v[4..7] unused): after
 * it v[k] (k < 4) holds dword k of blocks 0-3 in lanes 0-3 and dword 4+k in
 * lanes 4-7, so 4 dpbusd instead of 8 cover the group; folding the halves
 * (fold4) leaves block l's sum in lane l < 4. */
INLINE void tr4(__m256i v[4]) {
    __m256i t0 = _mm256_unpacklo_epi32(v[0], v[1]), t1 = _mm256_unpackhi_epi32(v[0], v[1]);
    __m256i t2 = _mm256_unpacklo_epi32(v[2], v[3]), t3 = _mm256_unpackhi_epi32(v[2], v[3]);
    v[0] = _mm256_unpacklo_epi64(t0, t2);
    v[1] = _mm256_unpackhi_epi64(t0, t2);
    v[2] = _mm256_unpacklo_epi64(t1, t3);
    v[3] = _mm256_unpackhi_epi64(t1, t3);
}
/* lanes 0-3 += lanes 4-7 (lanes 4-7 are left as they were). */
INLINE __m256i fold4(__m256i v) { return _mm256_add_epi32(v, _mm256_permute2x128_si256(v, v, 0x81)); }

/* Q4_0: 8 blocks straight into the tr8 layout: the 16-byte qs of blocks j
 * and j+4 share a vector, a 4x4 dword transpose per 128-bit half, then the
 * low nibbles are elements 4k..4k+3 (dword k) and the high ones 16+4k.. (dword
 * 4+k): fewer operations than unpacking each block and running tr8. */
INLINE void ut8_q4_0(const uint8_t *wb, __m256i x[8]) {
    __m256i y[4];
    UNROLL for (int j = 0; j < 4; j++)
        y[j] = _mm256_inserti128_si256(_mm256_castsi128_si256(ld128(wb + j * 18 + 2)), ld128(wb + (j + 4) * 18 + 2), 1);
    tr4(y);
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    UNROLL for (int k = 0; k < 4; k++) {
        x[k] = _mm256_and_si256(y[k], m4);
        x[k + 4] = _mm256_and_si256(_mm256_srli_epi16(y[k], 4), m4);
    }
}
#define UT8_q4_0(wb, x) ut8_q4_0(wb, x)
#ifdef HEARTH_X86_AVX512
/* Q5_0 as ut8_q4_0 (qs at +6, 22-byte blocks), then the fifth bits: x[k]
 * holds elements 4k..4k+3, so byte b of lane l takes bit 4k+b of block l's
 * qh: that qh byte is broadcast to the dword (pshufb), tested against one bit
 * per byte, and 0x10 added under the mask. */
INLINE uint32_t ld_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
INLINE void ut8_q5_0(const uint8_t *wb, __m256i x[8]) {
    __m256i y[4];
    UNROLL for (int j = 0; j < 4; j++)
        y[j] = _mm256_inserti128_si256(_mm256_castsi128_si256(ld128(wb + j * 22 + 6)), ld128(wb + (j + 4) * 22 + 6), 1);
    tr4(y);
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    UNROLL for (int k = 0; k < 4; k++) {
        x[k] = _mm256_and_si256(y[k], m4);
        x[k + 4] = _mm256_and_si256(_mm256_srli_epi16(y[k], 4), m4);
    }
    __m128i h0 = _mm_cvtsi32_si128((int)ld_u32(wb + 2)), h1 = _mm_cvtsi32_si128((int)ld_u32(wb + 4 * 22 + 2));
    h0 = _mm_insert_epi32(h0, (int)ld_u32(wb + 1 * 22 + 2), 1);
    h1 = _mm_insert_epi32(h1, (int)ld_u32(wb + 5 * 22 + 2), 1);
    h0 = _mm_insert_epi32(h0, (int)ld_u32(wb + 2 * 22 + 2), 2);
    h1 = _mm_insert_epi32(h1, (int)ld_u32(wb + 6 * 22 + 2), 2);
    h0 = _mm_insert_epi32(h0, (int)ld_u32(wb + 3 * 22 + 2), 3);
    h1 = _mm_insert_epi32(h1, (int)ld_u32(wb + 7 * 22 + 2), 3);
    __m256i H = _mm256_set_m128i(h1, h0); /* lane l: qh of block l */
    const __m256i base = _mm256_setr_epi32(0, 0x04040404, 0x08080808, 0x0C0C0C0C, 0, 0x04040404, 0x08080808, 0x0C0C0C0C);
    const __m256i k10 = _mm256_set1_epi8(0x10);
    UNROLL for (int k = 0; k < 8; k++) {
        __m256i hb = _mm256_shuffle_epi8(H, _mm256_add_epi8(base, _mm256_set1_epi8((char)(k / 2))));
        __mmask32 m = _mm256_test_epi8_mask(hb, _mm256_set1_epi32((int)(0x08040201u << (4 * (k % 2)))));
        x[k] = _mm256_mask_add_epi8(x[k], m, x[k], k10);
    }
}
#define UT8_q5_0(wb, x) ut8_q5_0(wb, x)
#else
#define UT8_q5_0(wb, x) UT8_GENERIC(wb, x, 22, u_q5_0)
#endif
#define UT8_q8_0(wb, x) UT8_GENERIC(wb, x, 34, u_q8_0)
#define UT8_GENERIC(wb, x, BSZ, UNPACK)                                      \
    do {                                                                     \
        UNROLL for (int j_ = 0; j_ < 8; j_++) x[j_] = UNPACK((wb) + j_ * BSZ); \
        tr8(x);                                                              \
    } while (0)

/* Columns per Q4_0/Q5_0/Q8_0 gemm tile (the including file may raise it above
 * GEMM8_C: these tiles hold only 8 weight vectors besides the accumulators). */
#ifndef GEMM8_QC
#define GEMM8_QC GEMM8_C
#endif

/* Blocks per gemm chunk (scratch: GEMM8_QC columns of this many blocks) and
 * rows per chunk (their weight blocks stay in L2 while every column group
 * passes over them: 256 rows x 64 blocks x 34 B = 557 KB at most). */
#define GEMM8_CB 64
#define GEMM8_ROWS 256

/* Weight rows ahead of the one being multiplied that are prefetched: with
 * many columns per row the loads of the next rows come too late for the
 * hardware prefetcher to overlap them with the arithmetic. */
#ifndef GEMM8_PF
#define GEMM8_PF 2
#endif
INLINE void gemm8_prefetch(const uint8_t *p, int64_t len) {
    for (int64_t o = 0; o < len; o += 64) _mm_prefetch((const char *)(p + o), _MM_HINT_T0);
}

typedef struct {
    _Alignas(32) uint8_t q[GEMM8_QC][GEMM8_CB * 32]; /* (column, block, 32) transposed per 8 blocks */
    _Alignas(32) int32_t nbias[GEMM8_QC][GEMM8_CB];  /* -BIAS * sum(a) per block (the sums' start) */
    _Alignas(32) float d[GEMM8_QC][GEMM8_CB];        /* d_act per block */
} gemm8_scratch;

/* Fills scratch column c from cb activation blocks at ab, 8 blocks at a
 * time in the tr8 layout (missing blocks zero), or in the tr4 layout for a
 * last group of at most 4 (then lanes 4-7 of nbias and d are zero). */
INLINE void gemm8_prep(gemm8_scratch *s, int c, const uint8_t *ab, int64_t cb, int bias) {
    for (int64_t b = 0; b < cb; b += 8) {
        __m256i v[8];
        UNROLL for (int j = 0; j < 8; j++) v[j] = b + j < cb ? ld256(ab + (b + j) * 34 + 2) : _mm256_setzero_si256();
        int nk = cb - b <= 4 ? 4 : 8;
        /* the scales are inserted from memory: an array of 8 two-byte stores
         * reloaded as one vector would miss store forwarding */
        __m256 dv = b + 8 <= cb ? ld8_f16_strided(ab + b * 34, 34) : ld8_f16_strided_n(ab + b * 34, 34, (int)(cb - b));
        __m256i sum = _mm256_setzero_si256();
        if (nk == 4) {
            tr4(v);
            UNROLL for (int k = 0; k < 4; k++) {
                _mm256_store_si256((__m256i *)(s->q[c] + (b + k) * 32), v[k]);
                sum = dot_us(sum, _mm256_set1_epi8(1), v[k]);
            }
            sum = _mm256_permute2x128_si256(fold4(sum), sum, 0x80); /* lanes 4-7: 0 */
        } else {
            tr8(v);
            UNROLL for (int k = 0; k < 8; k++) {
                _mm256_store_si256((__m256i *)(s->q[c] + (b + k) * 32), v[k]);
                sum = dot_us(sum, _mm256_set1_epi8(1), v[k]);
            }
        }
        _mm256_store_si256((__m256i *)(s->nbias[c] + b), _mm256_mullo_epi32(sum, _mm256_set1_epi32(-bias)));
        _mm256_store_ps(s->d[c] + b, dv);
    }
}

/* out[c * os] += sum of acc[c]'s lanes, c < C. Each group of 8 columns reduces
 * its 8 accumulators together (as reduce8), not one horizontal sum each. */
INLINE void gemm8_store(const __m256 *acc, int C, float *out, int64_t os) {
    int c = 0;
    for (; c + 8 <= C; c += 8) {
        __m256 h01 = _mm256_hadd_ps(acc[c + 0], acc[c + 1]), h23 = _mm256_hadd_ps(acc[c + 2], acc[c + 3]);
        __m256 h45 = _mm256_hadd_ps(acc[c + 4], acc[c + 5]), h67 = _mm256_hadd_ps(acc[c + 6], acc[c + 7]);
        __m256 h0123 = _mm256_hadd_ps(h01, h23), h4567 = _mm256_hadd_ps(h45, h67);
        __m256 r = _mm256_add_ps(_mm256_permute2f128_ps(h0123, h4567, 0x20),
                                 _mm256_permute2f128_ps(h0123, h4567, 0x31));
        float t[8];
        _mm256_storeu_ps(t, r);
        UNROLL for (int j = 0; j < 8; j++) out[(c + j) * os] += t[j];
    }
    for (; c < C; c++) out[c * os] += hsum8(acc[c]);
}

/* One column's part of a tile: acc + (sum_k dot(x[k], a[k]) - BIAS * sum(a))
 * * d_act * d_w, lane = block. NK 8: the tr8 layout; 4: the tr4 layout. */
#define GEMM8_COL(name, SGN)                                                                   \
    INLINE __m256 gemm8_col_##name(__m256 acc, const __m256i x[8], const uint8_t *aq, const int32_t *nb, \
                                   const float *da, __m256 dw, int NK) {                      \
        __m256i i0 = _mm256_load_si256((const __m256i *)nb), i1 = _mm256_setzero_si256();       \
        UNROLL for (int k = 0; k < NK; k += 2) {                                               \
            __m256i a0 = _mm256_load_si256((const __m256i *)(aq + 32 * k));                    \
            __m256i a1 = _mm256_load_si256((const __m256i *)(aq + 32 * k + 32));               \
            if (SGN) {                                                                         \
                i0 = dot_us(i0, _mm256_sign_epi8(x[k], x[k]), _mm256_sign_epi8(a0, x[k]));     \
                i1 = dot_us(i1, _mm256_sign_epi8(x[k + 1], x[k + 1]), _mm256_sign_epi8(a1, x[k + 1])); \
            } else {                                                                           \
                i0 = dot_us(i0, x[k], a0);                                                     \
                i1 = dot_us(i1, x[k + 1], a1);                                                 \
            }                                                                                  \
        }                                                                                      \
        __m256i isum = _mm256_add_epi32(i0, i1);                                               \
        if (NK == 4) isum = fold4(isum);                                                       \
        __m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(isum), _mm256_load_ps(da));                \
        return _mm256_fmadd_ps(t, dw, acc);                                                    \
    }
GEMM8_COL(q4_0, SGN_q4_0)
GEMM8_COL(q5_0, SGN_q5_0)
GEMM8_COL(q8_0, SGN_q8_0)

#define GEMM8_TILE(name, BSZ, UNPACK)                                                          \
    INLINE void tile8_##name(int64_t cb, int C, const uint8_t *wb, const gemm8_scratch *s,    \
                             float *out, int64_t os) {                                         \
        __m256 acc[GEMM8_QC];                                                                   \
        UNROLL for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();                       \
        int64_t b = 0;                                                                         \
        for (; b + 8 <= cb; b += 8) {                                                          \
            __m256i x[8];                                                                      \
            UT8_##name(wb + b * BSZ, x);                                                       \
            __m256 dw = ld8_f16_strided(wb + b * BSZ, BSZ);                                    \
            UNROLL for (int c = 0; c < C; c++)                                                 \
                acc[c] = gemm8_col_##name(acc[c], x, s->q[c] + b * 32, s->nbias[c] + b, s->d[c] + b, dw, 8); \
        }                                                                                      \
        if (b < cb) { /* last partial group: missing blocks count as 0 */                     \
            int cnt = (int)(cb - b), nk = cnt <= 4 ? 4 : 8;                                    \
            __m256i x[8];                                                                      \
            UNROLL for (int j = 0; j < 8; j++)                                                 \
                x[j] = j < cnt ? UNPACK(wb + (b + j) * BSZ) : _mm256_setzero_si256();          \
            __m256 dw = ld8_f16_strided_n(wb + b * BSZ, BSZ, cnt);                             \
            if (nk == 4) {                                                                     \
                tr4(x);                                                                        \
                UNROLL for (int c = 0; c < C; c++)                                             \
                    acc[c] = gemm8_col_##name(acc[c], x, s->q[c] + b * 32, s->nbias[c] + b, s->d[c] + b, dw, 4); \
            } else {                                                                           \
                tr8(x);                                                                        \
                UNROLL for (int c = 0; c < C; c++)                                             \
                    acc[c] = gemm8_col_##name(acc[c], x, s->q[c] + b * 32, s->nbias[c] + b, s->d[c] + b, dw, 8); \
            }                                                                                  \
        }                                                                                      \
        gemm8_store(acc, C, out, os);                                                          \
    }                                                                                          \
    static void gemm_##name(int64_t n, int64_t nrows, int64_t ncols, float *out, int64_t os,   \
                            const void *w, size_t ws, const void *act, size_t as) {            \
        const uint8_t *wb0 = w, *ab0 = act;                                                    \
        int64_t nb = n / 32;                                                                   \
        gemm8_scratch s;                                                                       \
        for (int64_t c = 0; c < ncols; c++)                                                    \
            for (int64_t r = 0; r < nrows; r++) out[c * os + r] = 0.f;                         \
        for (int64_t b0 = 0; b0 < nb; b0 += GEMM8_CB) {                                        \
            int64_t cb = nb - b0 < GEMM8_CB ? nb - b0 : GEMM8_CB;                              \
            for (int64_t r0 = 0; r0 < nrows; r0 += GEMM8_ROWS) {                               \
                int64_t r1 = r0 + GEMM8_ROWS < nrows ? r0 + GEMM8_ROWS : nrows;                \
                /* as few tiles as GEMM8_QC allows, of even widths (17: 9 + 8, not      \
                 * 16 + 1: a narrow tile unpacks the weights for little work) */       \
                int64_t ng = (ncols + GEMM8_QC - 1) / GEMM8_QC, C;                          \
                for (int64_t c0 = 0, g = 0; g < ng; g++, c0 += C) {                            \
                    C = (ncols - c0 + (ng - g) - 1) / (ng - g);                                \
                    for (int c = 0; c < C; c++)                                                \
                        gemm8_prep(&s, c, ab0 + (size_t)(c0 + c) * as + b0 * 34, cb, BIAS_##name); \
                    for (int64_t r = r0; r < r1; r++) {                                        \
                        const uint8_t *wb = wb0 + (size_t)r * ws + b0 * BSZ;                   \
                        if (r + GEMM8_PF < r1) gemm8_prefetch(wb + GEMM8_PF * ws, cb * BSZ);   \
                        float *o = out + c0 * os + r;                                          \
                        switch (C) {                                                           \
                        TILE_CASES(tile8_##name, GEMM8_QC)                                     \
                        default: tile8_##name(cb, 1, wb, &s, o, os); break;                    \
                        }                                                                      \
                    }                                                                          \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }

/* The cases of a switch on the tile width C that call FN(cb, C, wb, &s, o,
 * os) with C a constant from W (4, 8 or 16; another W does not compile) down
 * to 2, so that each width compiles with its accumulators in registers; the
 * switch's default takes width 1. */
#define TILE_CASE(FN, C) \
    case C: FN(cb, C, wb, &s, o, os); break;
#define TILE_CASES_4(FN) TILE_CASE(FN, 4) TILE_CASE(FN, 3) TILE_CASE(FN, 2)
#define TILE_CASES_8(FN) TILE_CASE(FN, 8) TILE_CASE(FN, 7) TILE_CASE(FN, 6) TILE_CASE(FN, 5) TILE_CASES_4(FN)
#define TILE_CASES_16(FN)                                                                      \
    TILE_CASE(FN, 16) TILE_CASE(FN, 15) TILE_CASE(FN, 14) TILE_CASE(FN, 13) TILE_CASE(FN, 12) \
    TILE_CASE(FN, 11) TILE_CASE(FN, 10) TILE_CASE(FN, 9) TILE_CASES_8(FN)
#define TILE_CASES_(FN, W) TILE_CASES_##W(FN)
#define TILE_CASES(FN, W) TILE_CASES_(FN, W) /* W macro-expanded first */

GEMM8_TILE(q4_0, 18, u_q4_0)
GEMM8_TILE(q5_0, 22, u_q5_0)
GEMM8_TILE(q8_0, 34, u_q8_0)

/* gemm for Q4_K on the same transposed layout: a super-block's 8 sub-blocks
 * of 32 are 8 "blocks" for tr8, so lane j of the integer sums is sub-block j,
 * times its 6-bit scale; the mins use the activation's bsums summed per
 * sub-block (prepared with the transposed codes, once per row chunk). */
#define GEMMK_SB 8 /* super-blocks per chunk */
/* Columns per K-quant transposed tile (default GEMM8_C). */
#ifndef GEMM8_KC
#define GEMM8_KC GEMM8_C
#endif

typedef struct {
    _Alignas(32) uint8_t q[GEMM8_KC][GEMMK_SB * QK_K]; /* (column, super-block, 256) tr8 layout */
    _Alignas(32) int32_t bs[GEMM8_KC][GEMMK_SB * 8];   /* Q4_K: bsums per sub-block of 32; Q6_K:
                                                        -32 * bsums of the first 16 of each 32 */
    _Alignas(32) int32_t bs2[GEMM8_KC][GEMMK_SB * 8];  /* Q6_K: -32 * bsums of the second 16 */
    float d[GEMM8_KC][GEMMK_SB];                       /* d_act */
} gemmk_scratch;

/* A Q8_K activation block's 256 codes in the tr8 layout. */
INLINE void act8_q8_K(const uint8_t *blk, __m256i v[8]) {
    UNROLL for (int j = 0; j < 8; j++) v[j] = ld256(blk + Q8K_QS + 32 * j);
    tr8(v);
}
/* Its bsums per sub-block of 32 (lane j), for the Q4_K/Q5_K mins. */
INLINE __m256i bsums32_q8_K(const uint8_t *blk) {
    return _mm256_cvtepi16_epi32(_mm_hadd_epi16(ld128(blk + Q8K_BSUMS), ld128(blk + Q8K_BSUMS + 16)));
}
/* -32 * its bsums of each 32's first 16 (lo) and second 16 (hi), lane j:
 * the starts of Q6_K's two sums (codes stored +32). */
INLINE void bsums16_q6_K(const uint8_t *blk, __m256i *lo, __m256i *hi) {
    __m256i bs = ld256(blk + Q8K_BSUMS); /* int32 lane j: bsums[2j] low, bsums[2j+1] high */
    __m256i l = _mm256_srai_epi32(_mm256_slli_epi32(bs, 16), 16), h = _mm256_srai_epi32(bs, 16);
    *lo = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_setzero_si256(), l), 5);
    *hi = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_setzero_si256(), h), 5);
}

INLINE void gemmk_prep_q4_K(gemmk_scratch *s, int c, const uint8_t *ab, int64_t cb) {
    for (int64_t b = 0; b < cb; b++) {
        const uint8_t *blk = ab + b * Q8K_SIZE;
        __m256i v[8];
        act8_q8_K(blk, v);
        UNROLL for (int k = 0; k < 8; k++) _mm256_store_si256((__m256i *)(s->q[c] + b * QK_K + 32 * k), v[k]);
        _mm256_store_si256((__m256i *)(s->bs[c] + 8 * b), bsums32_q8_K(blk));
        s->d[c][b] = ld1_f32(blk);
    }
}

/* A Q4_K (HBITS 0) or Q5_K (HBITS 1, fifth bits as in QK4_TILE) super-block
 * w's codes in the tr8 layout (lane j = sub-block j). */
INLINE void ut8_q45_K(const uint8_t *w, int QS_OFF, int HBITS, __m256i x[8]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256i hb = HBITS ? ld256(w + 16) : _mm256_setzero_si256();
    UNROLL for (int k = 0; k < 4; k++) {
        __m256i q = ld256(w + QS_OFF + 32 * k);
        x[2 * k] = _mm256_and_si256(q, m4);
        x[2 * k + 1] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
        if (HBITS) { /* Q5_K: bit j of qh[l] is the fifth bit of sub-block j's element l */
            __m256i h0 = 2 * k <= 4 ? _mm256_slli_epi16(hb, 4 - 2 * k) : _mm256_srli_epi16(hb, 2 * k - 4);
            __m256i h1 = 2 * k + 1 <= 4 ? _mm256_slli_epi16(hb, 3 - 2 * k) : _mm256_srli_epi16(hb, 2 * k - 3);
            x[2 * k] = _mm256_or_si256(x[2 * k], _mm256_and_si256(h0, _mm256_set1_epi8(0x10)));
            x[2 * k + 1] = _mm256_or_si256(x[2 * k + 1], _mm256_and_si256(h1, _mm256_set1_epi8(0x10)));
        }
    }
    tr8(x);
}

/* Q4_K and Q5_K. */
INLINE void tilek_q45_K(int BSZ, int QS_OFF, int HBITS, int64_t cb, int C, const uint8_t *wb,
                        const gemmk_scratch *s, float *out, int64_t os) {
    __m256 acc[GEMM8_KC];
    UNROLL for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();
    for (int64_t b = 0; b < cb; b++) {
        const uint8_t *w = wb + b * BSZ;
        __m256 dv = _mm256_set1_ps(ld_f16(w)), dminv = _mm256_set1_ps(ld_f16(w + 2));
        __m256i sc32, mn32;
        k4_scales(w + 4, &sc32, &mn32);
        __m256i x[8];
        ut8_q45_K(w, QS_OFF, HBITS, x);
        UNROLL for (int c = 0; c < C; c++) {
            const uint8_t *aq = s->q[c] + b * QK_K;
            __m256i i0 = _mm256_setzero_si256(), i1 = _mm256_setzero_si256();
            UNROLL for (int k = 0; k < 8; k += 2) {
                i0 = dot_us(i0, x[k], _mm256_load_si256((const __m256i *)(aq + 32 * k)));
                i1 = dot_us(i1, x[k + 1], _mm256_load_si256((const __m256i *)(aq + 32 * k + 32)));
            }
            __m256i si = _mm256_mullo_epi32(_mm256_add_epi32(i0, i1), sc32);
            __m256i mi = _mm256_mullo_epi32(_mm256_load_si256((const __m256i *)(s->bs[c] + 8 * b)), mn32);
            __m256 t = _mm256_fmsub_ps(_mm256_cvtepi32_ps(si), dv, _mm256_mul_ps(_mm256_cvtepi32_ps(mi), dminv));
            acc[c] = _mm256_fmadd_ps(t, _mm256_set1_ps(s->d[c][b]), acc[c]);
        }
    }
    gemm8_store(acc, C, out, os);
}
INLINE void tilek_q4_K(int64_t cb, int C, const uint8_t *wb, const gemmk_scratch *s, float *out, int64_t os) {
    tilek_q45_K(144, 16, 0, cb, C, wb, s, out, os);
}
INLINE void tilek_q5_K(int64_t cb, int C, const uint8_t *wb, const gemmk_scratch *s, float *out, int64_t os) {
    tilek_q45_K(176, 48, 1, cb, C, wb, s, out, os);
}
#define gemmk_prep_q5_K gemmk_prep_q4_K

/* Q6_K: 8 chunks of 32 (lane j = chunk j after tr8), each with two signed
 * scales (its first and second 16 elements: dwords 0-3 and 4-7 of the
 * chunk, summed in separate accumulators). Codes are 0..63 (stored +32); the
 * -32 enters as the sums' start, -32 * bsums per 16. */
INLINE void gemmk_prep_q6_K(gemmk_scratch *s, int c, const uint8_t *ab, int64_t cb) {
    for (int64_t b = 0; b < cb; b++) {
        const uint8_t *blk = ab + b * Q8K_SIZE;
        __m256i v[8], lo, hi;
        act8_q8_K(blk, v);
        UNROLL for (int k = 0; k < 8; k++) _mm256_store_si256((__m256i *)(s->q[c] + b * QK_K + 32 * k), v[k]);
        bsums16_q6_K(blk, &lo, &hi);
        _mm256_store_si256((__m256i *)(s->bs[c] + 8 * b), lo);
        _mm256_store_si256((__m256i *)(s->bs2[c] + 8 * b), hi);
        s->d[c][b] = ld1_f32(blk);
    }
}

/* A Q6_K super-block w's codes (0..63) in the tr8 layout (lane j = chunk j)
 * and its signed scales, scA for each chunk's first 16 elements and scB for
 * the second (int32, lane j). Layout: ql 0, qh 128, scales 192, d 208. */
INLINE void ut8_q6_K(const uint8_t *w, __m256i x[8], __m256i *scA, __m256i *scB) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    __m256i sc16 = _mm256_cvtepi8_epi16(ld128(w + 192));
    *scA = _mm256_srai_epi32(_mm256_slli_epi32(sc16, 16), 16), *scB = _mm256_srai_epi32(sc16, 16);
    UNROLL for (int h = 0; h < 2; h++) {
        __m256i ql0 = ld256(w + 64 * h), ql1 = ld256(w + 64 * h + 32);
        __m256i qh = ld256(w + 128 + 32 * h);
        x[4 * h + 0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30));
        x[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30));
        x[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30));
        x[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                       _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
    }
    tr8(x);
}

INLINE void tilek_q6_K(int64_t cb, int C, const uint8_t *wb, const gemmk_scratch *s, float *out, int64_t os) {
    __m256 acc[GEMM8_KC];
    UNROLL for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();
    for (int64_t b = 0; b < cb; b++) {
        const uint8_t *w = wb + b * 210;
        __m256 dv = _mm256_set1_ps(ld_f16(w + 208));
        __m256i x[8], scA, scB;
        ut8_q6_K(w, x, &scA, &scB);
        UNROLL for (int c = 0; c < C; c++) {
            const uint8_t *aq = s->q[c] + b * QK_K;
            __m256i iA = _mm256_load_si256((const __m256i *)(s->bs[c] + 8 * b));
            __m256i iB = _mm256_load_si256((const __m256i *)(s->bs2[c] + 8 * b));
            UNROLL for (int k = 0; k < 4; k++) {
                iA = dot_us(iA, x[k], _mm256_load_si256((const __m256i *)(aq + 32 * k)));
                iB = dot_us(iB, x[k + 4], _mm256_load_si256((const __m256i *)(aq + 32 * k + 128)));
            }
            __m256i si = _mm256_add_epi32(_mm256_mullo_epi32(iA, scA), _mm256_mullo_epi32(iB, scB));
            __m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(si), dv);
            acc[c] = _mm256_fmadd_ps(t, _mm256_set1_ps(s->d[c][b]), acc[c]);
        }
    }
    gemm8_store(acc, C, out, os);
}

#define GEMMK_DRIVER(name, BSZ)                                                                     \
static void gemmk_##name(int64_t n, int64_t nrows, int64_t ncols, float *out, int64_t os, const void *w,\
                       size_t ws, const void *act, size_t as) {                                     \
    const uint8_t *wb0 = w, *ab0 = act;                                                             \
    int64_t nb = n / QK_K;                                                                          \
    gemmk_scratch s;                                                                                \
    for (int64_t c = 0; c < ncols; c++)                                                             \
        for (int64_t r = 0; r < nrows; r++) out[c * os + r] = 0.f;                                  \
    for (int64_t b0 = 0; b0 < nb; b0 += GEMMK_SB) {                                                 \
        int64_t cb = nb - b0 < GEMMK_SB ? nb - b0 : GEMMK_SB;                                       \
        for (int64_t r0 = 0; r0 < nrows; r0 += GEMM8_ROWS) {                                        \
            int64_t r1 = r0 + GEMM8_ROWS < nrows ? r0 + GEMM8_ROWS : nrows;                         \
            int64_t ng = (ncols + GEMM8_KC - 1) / GEMM8_KC;                                         \
            int C;                                                                                  \
            for (int64_t c0 = 0, g = 0; g < ng; g++, c0 += C) {                                     \
                C = (int)((ncols - c0 + (ng - g) - 1) / (ng - g));                                  \
                for (int c = 0; c < C; c++) gemmk_prep_##name(&s, c, ab0 + (size_t)(c0 + c) * as + b0 * Q8K_SIZE, cb);\
                for (int64_t r = r0; r < r1; r++) {                                                 \
                    const uint8_t *wb = wb0 + (size_t)r * ws + b0 * BSZ;                            \
                    float *o = out + c0 * os + r;                                                   \
                    switch (C) {                                                                    \
                    TILE_CASES(tilek_##name, GEMM8_KC)                                              \
                    default: tilek_##name(cb, 1, wb, &s, o, os); break;                             \
                    }                                                                               \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
    }                                                                                               \
}
GEMMK_DRIVER(q4_K, 144)
GEMMK_DRIVER(q6_K, 210)
GEMMK_DRIVER(q5_K, 176)

/* ---- drivers: tile the rows (gemv) or rows x columns (gemm) ------------------------- */

/* Elements per "unit" the tiles count in: blocks for quants, elements for floats. */
#define GEMV_TILED(name, UNIT, RV)                                                                     \
    static void gemv_##name(int64_t n, int64_t nrows, float *out, const void *w, size_t ws,   \
                            const void *act) {                                                \
        const uint8_t *wb = w;                                                                \
        int64_t nu = n / (UNIT), r = 0;                                                       \
        for (; r + RV <= nrows; r += RV)                                              \
            tile_##name(nu, RV, 1, wb + (size_t)r * ws, ws, act, 0, out + r, 0);          \
        for (; r < nrows; r++) tile_##name(nu, 1, 1, wb + (size_t)r * ws, ws, act, 0, out + r, 0); \
    }

#define GEMM_TILED(name, UNIT, GEMM_R)                                                                \
    static void gemm_##name(int64_t n, int64_t nrows, int64_t ncols, float *out, int64_t os,  \
                            const void *w, size_t ws, const void *act, size_t as) {           \
        const uint8_t *wb = w, *ab = act;                                                     \
        int64_t nu = n / (UNIT);                                                              \
        for (int64_t r0 = 0; r0 < nrows; r0 += GEMM_ROW_CHUNK) {                              \
            int64_t r1 = r0 + GEMM_ROW_CHUNK < nrows ? r0 + GEMM_ROW_CHUNK : nrows;           \
            int64_t c = 0;                                                                    \
            for (; c + GEMM_C <= ncols; c += GEMM_C) {                                        \
                const uint8_t *ac = ab + (size_t)c * as;                                      \
                float *oc = out + c * os;                                                     \
                int64_t r = r0;                                                               \
                for (; r + GEMM_R <= r1; r += GEMM_R)                                         \
                    tile_##name(nu, GEMM_R, GEMM_C, wb + (size_t)r * ws, ws, ac, as, oc + r, os); \
                for (; r < r1; r++)                                                           \
                    tile_##name(nu, 1, GEMM_C, wb + (size_t)r * ws, ws, ac, as, oc + r, os);  \
            }                                                                                 \
            for (; c < ncols; c++) {                                                          \
                const uint8_t *ac = ab + (size_t)c * as;                                      \
                int64_t r = r0;                                                               \
                for (; r + GEMV_R <= r1; r += GEMV_R)                                         \
                    tile_##name(nu, GEMV_R, 1, wb + (size_t)r * ws, ws, ac, 0, out + c * os + r, 0); \
                for (; r < r1; r++)                                                           \
                    tile_##name(nu, 1, 1, wb + (size_t)r * ws, ws, ac, 0, out + c * os + r, 0); \
            }                                                                                 \
        }                                                                                     \
    }

/* RV: rows per gemv tile. Several rows share each activation load, which
 * pays for small blocks; the K-quant tiles hold a whole super-block in
 * registers, so one row at a time keeps them there. */
#define DRIVERS(name, UNIT, RV) GEMV_TILED(name, UNIT, RV) GEMM_TILED(name, UNIT, GEMM_R)
/* The float tiles hold R x C accumulators and C activation vectors. */
#define DRIVERS_F(name) GEMV_TILED(name, 1, GEMV_R) GEMM_TILED(name, 1, GEMM_RF)

DRIVERS_F(f32)
DRIVERS_F(f16)
DRIVERS_F(bf16)
DRIVERS(q4_1, 32, GEMV_R)
DRIVERS(q5_1, 32, GEMV_R)
/* Q4_K, Q5_K and Q6_K multiply matrices with gemmk_* (above): the tiled
 * gemm would never be called, so only their gemv is made here. */
GEMV_TILED(q4_K, QK_K, 1)
GEMV_TILED(q5_K, QK_K, 1)
GEMV_TILED(q6_K, QK_K, 1)
DRIVERS(q2_K, QK_K, 1)
DRIVERS(q3_K, QK_K, 1)

void HEARTH_DOT_FILL(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) {
#define SET_FNS(T, gv, gm)          \
    tab[HEARTH_TYPE_##T].gemv = gv; \
    tab[HEARTH_TYPE_##T].gemm = gm
#define SET(T, name) SET_FNS(T, gemv_##name, gemm_##name)
    SET(F32, f32);
    SET(F16, f16);
    SET(BF16, bf16);
    SET(Q4_0, q4_0);
    SET(Q5_0, q5_0);
    SET(Q8_0, q8_0);
    SET(Q4_1, q4_1);
    SET(Q5_1, q5_1);
    SET(Q2_K, q2_K);
    SET(Q3_K, q3_K);
    SET_FNS(Q4_K, gemv_q4_K, gemmk_q4_K);
    SET_FNS(Q5_K, gemv_q5_K, gemmk_q5_K);
    SET_FNS(Q6_K, gemv_q6_K, gemmk_q6_K);
#undef SET
#undef SET_FNS
    for (int t = 0; t < HEARTH_TYPE_COUNT; t++) {
        if (!tab[t].gemv) continue;
        if (tab[t].act_type == HEARTH_TYPE_Q8_0) tab[t].quantize_act = quant_q8_0;
        if (tab[t].act_type == HEARTH_TYPE_Q8_1) tab[t].quantize_act = quant_q8_1;
        if (tab[t].act_type == HEARTH_TYPE_Q8_K) tab[t].quantize_act = quant_q8_K;
    }
}
