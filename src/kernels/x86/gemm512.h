/*
 * gemm512.h: the wide gemm of Q4_0, Q5_0 and Q8_0 weights (Q8_0
 * activations) on 512-bit vectors, for dot_avx512.c only (after dot_x86.h,
 * whose gemm8 tiles it replaces where dot.c installs it).
 *
 * The layout is dot_x86.h's transposed one with 16 blocks per vector instead
 * of 8: lane m of register k holds dword k of block m, for the weights
 * (unpacked and transposed in registers, once per row and group of 16
 * blocks) and for the activation columns (transposed once per chunk into a
 * stack scratch, with d_act and -BIAS * sum(a) per block). A column's 16
 * block sums then come from 8 vpdpbusd of 512 multiply-adds each, in their
 * own lanes with no horizontal reduction, exact in int32; one convert, one
 * multiply (d_act) and one multiply-add (d_w) apply the scales.
 * A last group of fewer than 16 blocks runs the same code with the missing
 * blocks zero (codes, d_act and d_w; nothing past the row is read).
 *
 * Where it pays: a CPU whose 512-bit vpdpbusd runs at its 256-bit
 * instruction rate (Zen 5) does twice the multiply-adds per instruction
 * here. On Zen 4 (two 256-bit halves) and on Xeons with one 512-bit FMA unit
 * it does not (dot_x86.h's file comment has the figures), so dot.c installs
 * it (with gemv_vbmi.c's gemv) only where hearth_dot_x86_wide_int8 says so or
 * HEARTH_WIDE_INT8=1 asks.
 * Results differ from the gemm8 tiles (and the reference) in the order of
 * float additions only: 16 lanes of blocks, then a horizontal sum.
 */
#include "kernels/x86/zmm_x86.h"

typedef struct {
    _Alignas(64) uint8_t q[GEMM8_QC][GEMM8_CB * 32]; /* (column; group of 16 blocks, k, lane) */
    _Alignas(64) int32_t nbias[GEMM8_QC][GEMM8_CB];  /* -BIAS * sum(a) per block */
    _Alignas(64) float d[GEMM8_QC][GEMM8_CB];        /* d_act per block */
} gemm16_scratch;
_Static_assert(GEMM8_CB % 16 == 0, "a chunk is whole groups of 16 blocks");

INLINE __mmask16 first_n16(int n) { return (__mmask16)((1u << n) - 1); }

/* Scratch column c from cb activation blocks at ab, 16 at a time (missing
 * blocks zero). */
INLINE void gemm16_prep(gemm16_scratch *s, int c, const uint8_t *ab, int64_t cb, int bias) {
    const __m512i one = _mm512_set1_epi8(1);
    for (int64_t b = 0; b < cb; b += 16) {
        int cnt = cb - b < 16 ? (int)(cb - b) : 16;
        __m512i v[8];
        UNROLL for (int j = 0; j < 8; j++) {
            __m256i lo = j < cnt ? ld256(ab + (b + j) * 34 + 2) : _mm256_setzero_si256();
            __m256i hi = j + 8 < cnt ? ld256(ab + (b + j + 8) * 34 + 2) : _mm256_setzero_si256();
            v[j] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
        }
        tr16(v);
        __m512i sum = _mm512_setzero_si512();
        UNROLL for (int k = 0; k < 8; k++) {
            _mm512_store_si512((__m512i *)(s->q[c] + b * 32 + k * 64), v[k]);
            sum = _mm512_dpbusd_epi32(sum, one, v[k]);
        }
        _mm512_store_si512((__m512i *)(s->nbias[c] + b), _mm512_mullo_epi32(sum, _mm512_set1_epi32(-bias)));
        _mm512_store_ps(s->d[c] + b, f16x16_strided(ab + b * 34, 34, first_n16(cnt)));
    }
}

/* Blocks j, j+4, j+8, j+12 (those < cnt) of 16 bytes at p + block * bsz. */
INLINE __m512i ld4blocks(const uint8_t *p, int bsz, int j, int cnt) {
    __m512i z = _mm512_castsi128_si512(ld128_or0(p + j * bsz, j < cnt));
    z = _mm512_inserti32x4(z, ld128_or0(p + (j + 4) * bsz, j + 4 < cnt), 1);
    z = _mm512_inserti32x4(z, ld128_or0(p + (j + 8) * bsz, j + 8 < cnt), 2);
    return _mm512_inserti32x4(z, ld128_or0(p + (j + 12) * bsz, j + 12 < cnt), 3);
}

/* Packed nibbles of cnt blocks (qs at +QS in blocks of bsz bytes) into the
 * layout: qs byte i is element i (low nibble) and 16 + i (high), so dword k
 * of the 16-byte qs gives registers k (low) and 4 + k (high). */
INLINE void u16_nibbles(const uint8_t *wb, int bsz, int qs, int cnt, __m512i x[8]) {
    __m512i y[4];
    UNROLL for (int j = 0; j < 4; j++) y[j] = ld4blocks(wb + qs, bsz, j, cnt);
    tr4x4(y);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    UNROLL for (int k = 0; k < 4; k++) {
        x[k] = _mm512_and_si512(y[k], m4);
        x[k + 4] = _mm512_and_si512(_mm512_srli_epi16(y[k], 4), m4);
    }
}

INLINE void u16_q4_0(const uint8_t *wb, int cnt, __m512i x[8]) { u16_nibbles(wb, 18, 2, cnt, x); }

/* Q5_0: the nibbles, then the fifth bits: register r holds elements 4r..4r+3,
 * so byte b of lane m takes bit 4r + b of block m's qh: the qh byte holding
 * it is copied to the lane's 4 bytes (pshufb), tested against one bit per
 * byte, and 0x10 added under the mask. */
INLINE void u16_q5_0(const uint8_t *wb, int cnt, __m512i x[8]) {
    u16_nibbles(wb, 22, 6, cnt, x);
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32(22));
    __m512i H = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), first_n16(cnt), idx, wb + 2, 1);
    const __m512i base = _mm512_broadcast_i32x4(_mm_setr_epi32(0, 0x04040404, 0x08080808, 0x0C0C0C0C));
    const __m512i k10 = _mm512_set1_epi8(0x10);
    UNROLL for (int r = 0; r < 8; r++) {
        __m512i hb = _mm512_shuffle_epi8(H, _mm512_add_epi8(base, _mm512_set1_epi8((char)(r / 2))));
        __mmask64 m = _mm512_test_epi8_mask(hb, _mm512_set1_epi32((int)(0x08040201u << (4 * (r % 2)))));
        x[r] = _mm512_mask_add_epi8(x[r], m, x[r], k10);
    }
}

/* Q8_0: the codes made unsigned (x ^ 0x80, BIAS 128), as gemm8's u_q8_0. */
INLINE void u16_q8_0(const uint8_t *wb, int cnt, __m512i x[8]) {
    UNROLL for (int j = 0; j < 8; j++) {
        __m256i lo = j < cnt ? ld256(wb + j * 34 + 2) : _mm256_setzero_si256();
        __m256i hi = j + 8 < cnt ? ld256(wb + (j + 8) * 34 + 2) : _mm256_setzero_si256();
        x[j] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    }
    tr16(x);
    UNROLL for (int k = 0; k < 8; k++) x[k] = _mm512_xor_si512(x[k], _mm512_set1_epi8((char)0x80));
}

/* One column's part: acc + (sum_k dot(x[k], a[k]) - BIAS * sum(a)) * d_act *
 * d_w, lane = block. */
INLINE __m512 gemm16_col(__m512 acc, const __m512i x[8], const uint8_t *aq, const int32_t *nb, const float *da,
                         __m512 dw) {
    /* one chain of 8: the columns of a tile are independent chains, and a
     * second accumulator per column would not fit the registers */
    __m512i i = _mm512_load_si512((const __m512i *)nb);
    UNROLL for (int k = 0; k < 8; k++) i = _mm512_dpbusd_epi32(i, x[k], _mm512_load_si512((const __m512i *)(aq + 64 * k)));
    __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(i), _mm512_load_ps(da));
    return _mm512_fmadd_ps(t, dw, acc);
}

/* out[c * os] += sum of acc[c]'s lanes, c < C: halves added, then gemm8's
 * reduction of 8 columns at a time. */
INLINE void gemm16_store(const __m512 *acc, int C, float *out, int64_t os) {
    __m256 h[GEMM8_QC];
    UNROLL for (int c = 0; c < C; c++)
        h[c] = _mm256_add_ps(_mm512_castps512_ps256(acc[c]), _mm512_extractf32x8_ps(acc[c], 1));
    gemm8_store(h, C, out, os);
}

/* The 256-bit gemms the wide ones replace (hearth_dot_fill_avx512_wide saves
 * them): rows shorter than one wide group (Q4_0/Q5_0/Q8_0: under 16 blocks,
 * n < 512; K-quants: one super-block, n = 256) go there, where the wide
 * layout would run half its lanes on zeros (the demo-256 model's rows of 256
 * and 768: its 9-column Q8_0 batches ran at 52 GMAC/s). */
static hearth_dot_gemm_fn narrow_gemm[HEARTH_TYPE_COUNT];

#define TYPE_q4_0 HEARTH_TYPE_Q4_0
#define TYPE_q5_0 HEARTH_TYPE_Q5_0
#define TYPE_q8_0 HEARTH_TYPE_Q8_0
#define TYPE_q4_K HEARTH_TYPE_Q4_K
#define TYPE_q5_K HEARTH_TYPE_Q5_K
#define TYPE_q6_K HEARTH_TYPE_Q6_K
#define GEMM16(name, BSZ)                                                                          \
    INLINE void tile16_##name(int64_t cb, int C, const uint8_t *wb, const gemm16_scratch *s,     \
                              float *out, int64_t os) {                                            \
        __m512 acc[GEMM8_QC];                                                                      \
        UNROLL for (int c = 0; c < C; c++) acc[c] = _mm512_setzero_ps();                          \
        for (int64_t b = 0; b < cb; b += 16) {                                                     \
            __m512i x[8];                                                                          \
            __m512 dw;                                                                             \
            if (cb - b >= 16) { /* a constant count: the loads need no test */                     \
                u16_##name(wb + b * BSZ, 16, x);                                                   \
                dw = f16x16_strided(wb + b * BSZ, BSZ, 0xFFFF);                                    \
            } else {                                                                               \
                u16_##name(wb + b * BSZ, (int)(cb - b), x);                                        \
                dw = f16x16_strided(wb + b * BSZ, BSZ, first_n16((int)(cb - b)));                  \
            }                                                                                      \
            UNROLL for (int c = 0; c < C; c++)                                                     \
                acc[c] = gemm16_col(acc[c], x, s->q[c] + b * 32, s->nbias[c] + b, s->d[c] + b, dw); \
        }                                                                                          \
        gemm16_store(acc, C, out, os);                                                             \
    }                                                                                              \
    static void gemm512_##name(int64_t n, int64_t nrows, int64_t ncols, float *out, int64_t os,    \
                               const void *w, size_t ws, const void *act, size_t as) {             \
        const uint8_t *wb0 = w, *ab0 = act;                                                        \
        int64_t nb = n / 32;                                                                       \
        if (nb < 16) {                                                                             \
            narrow_gemm[TYPE_##name](n, nrows, ncols, out, os, w, ws, act, as);                    \
            return;                                                                                \
        }                                                                                          \
        gemm16_scratch s;                                                                          \
        for (int64_t c = 0; c < ncols; c++)                                                        \
            for (int64_t r = 0; r < nrows; r++) out[c * os + r] = 0.f;                             \
        for (int64_t b0 = 0; b0 < nb; b0 += GEMM8_CB) {                                            \
            int64_t cb = nb - b0 < GEMM8_CB ? nb - b0 : GEMM8_CB;                                  \
            for (int64_t r0 = 0; r0 < nrows; r0 += GEMM8_ROWS) {                                   \
                int64_t r1 = r0 + GEMM8_ROWS < nrows ? r0 + GEMM8_ROWS : nrows;                    \
                /* tiles of even widths, as gemm8's */                                             \
                int64_t ng = (ncols + GEMM8_QC - 1) / GEMM8_QC, C;                                 \
                for (int64_t c0 = 0, g = 0; g < ng; g++, c0 += C) {                                \
                    C = (ncols - c0 + (ng - g) - 1) / (ng - g);                                    \
                    for (int c = 0; c < C; c++)                                                    \
                        gemm16_prep(&s, c, ab0 + (size_t)(c0 + c) * as + b0 * 34, cb, BIAS_##name); \
                    for (int64_t r = r0; r < r1; r++) {                                            \
                        const uint8_t *wb = wb0 + (size_t)r * ws + b0 * BSZ;                       \
                        if (r + GEMM8_PF < r1) gemm8_prefetch(wb + GEMM8_PF * ws, cb * BSZ);       \
                        float *o = out + c0 * os + r;                                              \
                        switch (C) {                                                               \
                        TILE_CASES(tile16_##name, GEMM8_QC)                                        \
                        default: tile16_##name(cb, 1, wb, &s, o, os); break;                       \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

GEMM16(q4_0, 18)
GEMM16(q5_0, 22)
GEMM16(q8_0, 34)

/* ---- K-quants (Q4_K, Q5_K, Q6_K): two super-blocks per vector -------------
 * dot_x86.h's tr8 layout of a super-block (lane j = sub-block j) in each
 * 256-bit half: lanes 0-7 super-block 2p, lanes 8-15 super-block 2p + 1 of
 * a pair p; an odd last super-block leaves the upper half zero. The scales
 * are applied in float: Q4_K/Q5_K's isum * scale is exact there (at most
 * 2^22), the mins' dmin * min is one float per lane and row; Q6_K's two
 * sums take scale * d each. */
typedef struct {
    _Alignas(64) uint8_t q[GEMM8_KC][GEMMK_SB * QK_K]; /* (column; pair, k, 2 x 32 bytes) */
    _Alignas(64) float bsf[GEMM8_KC][GEMMK_SB * 8];   /* Q4_K/Q5_K: bsums per sub-block of 32 */
    _Alignas(64) int32_t bs[GEMM8_KC][GEMMK_SB * 8];  /* Q6_K: the sums' starts (bsums16_q6_K) */
    _Alignas(64) int32_t bs2[GEMM8_KC][GEMMK_SB * 8];
    _Alignas(64) float d[GEMM8_KC][GEMMK_SB * 8];     /* d_act in each of its super-block's 8 lanes */
} gemmk16_scratch;
_Static_assert(GEMMK_SB % 2 == 0, "a chunk is whole pairs of super-blocks");

/* Where super-block b's tr8 vector k goes in a column's q. */
INLINE size_t k16_off(int64_t b) { return (size_t)(b / 2) * 512 + (size_t)(b % 2) * 32; }

/* Zeros the upper half of the last pair after an odd count cb. */
INLINE void gemmk16_pad(gemmk16_scratch *s, int c, int64_t cb) {
    if (cb % 2 == 0) return;
    UNROLL for (int k = 0; k < 8; k++) _mm256_store_si256((__m256i *)(s->q[c] + k16_off(cb) + 64 * k), _mm256_setzero_si256());
    _mm256_store_ps(s->bsf[c] + 8 * cb, _mm256_setzero_ps());
    _mm256_store_si256((__m256i *)(s->bs[c] + 8 * cb), _mm256_setzero_si256());
    _mm256_store_si256((__m256i *)(s->bs2[c] + 8 * cb), _mm256_setzero_si256());
    _mm256_store_ps(s->d[c] + 8 * cb, _mm256_setzero_ps());
}

INLINE void gemmk16_prep_q4_K(gemmk16_scratch *s, int c, const uint8_t *ab, int64_t cb) {
    for (int64_t b = 0; b < cb; b++) {
        const uint8_t *blk = ab + b * Q8K_SIZE;
        __m256i v[8];
        act8_q8_K(blk, v);
        UNROLL for (int k = 0; k < 8; k++) _mm256_store_si256((__m256i *)(s->q[c] + k16_off(b) + 64 * k), v[k]);
        _mm256_store_ps(s->bsf[c] + 8 * b, _mm256_cvtepi32_ps(bsums32_q8_K(blk)));
        _mm256_store_ps(s->d[c] + 8 * b, _mm256_set1_ps(ld1_f32(blk)));
    }
    gemmk16_pad(s, c, cb);
}
#define gemmk16_prep_q5_K gemmk16_prep_q4_K

INLINE void gemmk16_prep_q6_K(gemmk16_scratch *s, int c, const uint8_t *ab, int64_t cb) {
    for (int64_t b = 0; b < cb; b++) {
        const uint8_t *blk = ab + b * Q8K_SIZE;
        __m256i v[8], lo, hi;
        act8_q8_K(blk, v);
        UNROLL for (int k = 0; k < 8; k++) _mm256_store_si256((__m256i *)(s->q[c] + k16_off(b) + 64 * k), v[k]);
        bsums16_q6_K(blk, &lo, &hi);
        _mm256_store_si256((__m256i *)(s->bs[c] + 8 * b), lo);
        _mm256_store_si256((__m256i *)(s->bs2[c] + 8 * b), hi);
        _mm256_store_ps(s->d[c] + 8 * b, _mm256_set1_ps(ld1_f32(blk)));
    }
    gemmk16_pad(s, c, cb);
}

INLINE __m512i join256i(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }
INLINE __m512 join256f(__m256 lo, __m256 hi) { return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1); }

INLINE void tilek16_q45_K(int BSZ, int QS_OFF, int HBITS, int64_t cb, int C, const uint8_t *wb,
                          const gemmk16_scratch *s, float *out, int64_t os) {
    __m512 acc[GEMM8_KC];
    UNROLL for (int c = 0; c < C; c++) acc[c] = _mm512_setzero_ps();
    for (int64_t b = 0; b < cb; b += 2) {
        const uint8_t *w0 = wb + b * BSZ, *w1 = w0 + BSZ;
        __m256i xa[8], xb[8], sca, mna, scb = _mm256_setzero_si256(), mnb = _mm256_setzero_si256();
        ut8_q45_K(w0, QS_OFF, HBITS, xa);
        k4_scales(w0 + 4, &sca, &mna);
        float d1 = 0.f, m1 = 0.f;
        if (b + 1 < cb) {
            ut8_q45_K(w1, QS_OFF, HBITS, xb);
            k4_scales(w1 + 4, &scb, &mnb);
            d1 = ld_f16(w1), m1 = ld_f16(w1 + 2);
        } else {
            UNROLL for (int k = 0; k < 8; k++) xb[k] = _mm256_setzero_si256();
        }
        __m512i x[8];
        UNROLL for (int k = 0; k < 8; k++) x[k] = join256i(xa[k], xb[k]);
        __m512 dv = join256f(_mm256_set1_ps(ld_f16(w0)), _mm256_set1_ps(d1));
        __m512 scf = _mm512_cvtepi32_ps(join256i(sca, scb));
        __m512 mnd = _mm512_mul_ps(_mm512_cvtepi32_ps(join256i(mna, mnb)),
                                   join256f(_mm256_set1_ps(ld_f16(w0 + 2)), _mm256_set1_ps(m1)));
        UNROLL for (int c = 0; c < C; c++) {
            const uint8_t *aq = s->q[c] + k16_off(b);
            __m512i i = _mm512_setzero_si512();
            UNROLL for (int k = 0; k < 8; k++) i = _mm512_dpbusd_epi32(i, x[k], _mm512_load_si512((const __m512i *)(aq + 64 * k)));
            __m512 t = _mm512_fmsub_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(i), scf), dv,
                                       _mm512_mul_ps(_mm512_load_ps(s->bsf[c] + 8 * b), mnd));
            acc[c] = _mm512_fmadd_ps(t, _mm512_load_ps(s->d[c] + 8 * b), acc[c]);
        }
    }
    gemm16_store(acc, C, out, os);
}
INLINE void tilek16_q4_K(int64_t cb, int C, const uint8_t *wb, const gemmk16_scratch *s, float *out, int64_t os) {
    tilek16_q45_K(144, 16, 0, cb, C, wb, s, out, os);
}
INLINE void tilek16_q5_K(int64_t cb, int C, const uint8_t *wb, const gemmk16_scratch *s, float *out, int64_t os) {
    tilek16_q45_K(176, 48, 1, cb, C, wb, s, out, os);
}

INLINE void tilek16_q6_K(int64_t cb, int C, const uint8_t *wb, const gemmk16_scratch *s, float *out, int64_t os) {
    __m512 acc[GEMM8_KC];
    UNROLL for (int c = 0; c < C; c++) acc[c] = _mm512_setzero_ps();
    for (int64_t b = 0; b < cb; b += 2) {
        const uint8_t *w0 = wb + b * 210, *w1 = w0 + 210;
        __m256i xa[8], xb[8], sAa, sBa, sAb = _mm256_setzero_si256(), sBb = _mm256_setzero_si256();
        ut8_q6_K(w0, xa, &sAa, &sBa);
        float d1 = 0.f;
        if (b + 1 < cb) {
            ut8_q6_K(w1, xb, &sAb, &sBb);
            d1 = ld_f16(w1 + 208);
        } else {
            UNROLL for (int k = 0; k < 8; k++) xb[k] = _mm256_setzero_si256();
        }
        __m512i x[8];
        UNROLL for (int k = 0; k < 8; k++) x[k] = join256i(xa[k], xb[k]);
        __m512 dv = join256f(_mm256_set1_ps(ld_f16(w0 + 208)), _mm256_set1_ps(d1));
        __m512 sAd = _mm512_mul_ps(_mm512_cvtepi32_ps(join256i(sAa, sAb)), dv);
        __m512 sBd = _mm512_mul_ps(_mm512_cvtepi32_ps(join256i(sBa, sBb)), dv);
        UNROLL for (int c = 0; c < C; c++) {
            const uint8_t *aq = s->q[c] + k16_off(b);
            __m512i iA = _mm512_load_si512((const __m512i *)(s->bs[c] + 8 * b));
            __m512i iB = _mm512_load_si512((const __m512i *)(s->bs2[c] + 8 * b));
            UNROLL for (int k = 0; k < 4; k++) {
                iA = _mm512_dpbusd_epi32(iA, x[k], _mm512_load_si512((const __m512i *)(aq + 64 * k)));
                iB = _mm512_dpbusd_epi32(iB, x[k + 4], _mm512_load_si512((const __m512i *)(aq + 64 * k + 256)));
            }
            __m512 t = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iA), sAd, _mm512_mul_ps(_mm512_cvtepi32_ps(iB), sBd));
            acc[c] = _mm512_fmadd_ps(t, _mm512_load_ps(s->d[c] + 8 * b), acc[c]);
        }
    }
    gemm16_store(acc, C, out, os);
}

#define GEMMK16(name, BSZ)                                                                           \
    static void gemmk512_##name(int64_t n, int64_t nrows, int64_t ncols, float *out, int64_t os,     \
                                const void *w, size_t ws, const void *act, size_t as) {              \
        const uint8_t *wb0 = w, *ab0 = act;                                                          \
        int64_t nb = n / QK_K;                                                                       \
        if (nb < 2) {                                                                                \
            narrow_gemm[TYPE_##name](n, nrows, ncols, out, os, w, ws, act, as);                      \
            return;                                                                                  \
        }                                                                                            \
        gemmk16_scratch s;                                                                           \
        for (int64_t c = 0; c < ncols; c++)                                                          \
            for (int64_t r = 0; r < nrows; r++) out[c * os + r] = 0.f;                               \
        for (int64_t b0 = 0; b0 < nb; b0 += GEMMK_SB) {                                              \
            int64_t cb = nb - b0 < GEMMK_SB ? nb - b0 : GEMMK_SB;                                    \
            for (int64_t r0 = 0; r0 < nrows; r0 += GEMM8_ROWS) {                                     \
                int64_t r1 = r0 + GEMM8_ROWS < nrows ? r0 + GEMM8_ROWS : nrows;                      \
                int64_t ng = (ncols + GEMM8_KC - 1) / GEMM8_KC;                                      \
                int C;                                                                               \
                for (int64_t c0 = 0, g = 0; g < ng; g++, c0 += C) {                                  \
                    C = (int)((ncols - c0 + (ng - g) - 1) / (ng - g));                               \
                    for (int c = 0; c < C; c++)                                                      \
                        gemmk16_prep_##name(&s, c, ab0 + (size_t)(c0 + c) * as + b0 * Q8K_SIZE, cb); \
                    for (int64_t r = r0; r < r1; r++) {                                              \
                        const uint8_t *wb = wb0 + (size_t)r * ws + b0 * BSZ;                         \
                        float *o = out + c0 * os + r;                                                \
                        switch (C) {                                                                 \
                        TILE_CASES(tilek16_##name, GEMM8_KC)                                         \
                        default: tilek16_##name(cb, 1, wb, &s, o, os); break;                        \
                        }                                                                            \
                    }                                                                                \
                }                                                                                    \
            }                                                                                        \
        }                                                                                            \
    }
GEMMK16(q4_K, 144)
GEMMK16(q5_K, 176)
GEMMK16(q6_K, 210)

void hearth_dot_fill_avx512_wide(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) {
    static const hearth_type wide[] = {HEARTH_TYPE_Q4_0, HEARTH_TYPE_Q5_0, HEARTH_TYPE_Q8_0,
                                       HEARTH_TYPE_Q4_K, HEARTH_TYPE_Q5_K, HEARTH_TYPE_Q6_K};
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++) narrow_gemm[wide[i]] = tab[wide[i]].gemm;
    tab[HEARTH_TYPE_Q4_0].gemm = gemm512_q4_0;
    tab[HEARTH_TYPE_Q5_0].gemm = gemm512_q5_0;
    tab[HEARTH_TYPE_Q8_0].gemm = gemm512_q8_0;
    tab[HEARTH_TYPE_Q4_K].gemm = gemmk512_q4_K;
    tab[HEARTH_TYPE_Q5_K].gemm = gemmk512_q5_K;
    tab[HEARTH_TYPE_Q6_K].gemm = gemmk512_q6_K;
}
