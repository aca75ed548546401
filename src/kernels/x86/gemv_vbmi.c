/*
 * gemv_vbmi.c: the decode gemv of Q4_0, Q5_0 and Q8_0 weights (Q8_0
 * activations) on 512-bit vectors with AVX512-VBMI's two-table byte
 * permutation (vpermt2b), and of Q4_K (Q8_K activations; see there), for
 * CPUs where dot.c installs the wide int8 kernels (hearth_dot_x86_wide_int8:
 * Zen 5) over the AVX-512 level; and, with the same rows, the Q4_0/Q5_0/Q8_0
 * gemm of a few columns (see "The gemm of a few columns").
 *
 * Why: decode reads each weight once, so the gemv should run at the memory's
 * speed, but the 256-bit gemv (dot_x86.h's GEMV8) spends ~9 instructions per
 * 32-code block (unpacking, one vpdpbusd of 256 bits, a horizontal sum per 8
 * blocks, eight scale loads): one thread's ceiling is below the bandwidth one
 * core can draw. Here a group of 4 blocks (Q4_0: 72 bytes, Q5_0: 88) or 2
 * (Q8_0: 68) is loaded as two vectors, and one vpermt2b puts all its codes
 * where vpdpbusd wants them, another its 4 (or 2) fp16 scales, each repeated
 * over its block's lanes: about 13 instructions per 4 blocks, no horizontal
 * sum until the end of the row.
 *
 * Layout of a group in a 512-bit vector (Q4_0, Q5_0): byte 16k + j is code j
 * (low nibbles: elements 0..15) or 16 + j (high nibbles) of block k, so
 * dword lanes 4k..4k+3 hold block k's partial sums. The activation is put in
 * the same order once per call (lo: elements 0..15 of each block, hi:
 * 16..31), with -BIAS * sum(a) per block in its first lane (the sums' start)
 * and d_act in its 4 lanes. Q8_0: bytes 32k + j, k < 2, code j of block k
 * (made unsigned, x ^ 0x80, BIAS 128), lanes 8k..8k+7. Integer sums per
 * block are exact; each lane is scaled by d_w * d_act and the lanes summed
 * at the end, so results differ from the reference in float rounding only.
 * A last group of fewer blocks loads only its bytes (masked loads) and has
 * zero activations, bias and scales in the missing lanes.
 */
#include "kernels/dot_int.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))
#if defined(__clang__)
#define UNROLL _Pragma("unroll")
#else
#define UNROLL _Pragma("GCC unroll 16")
#endif
#include "kernels/quants.h"
#include "kernels/x86/kscales_x86.h"

/* Activation blocks prepared per chunk (the scratch stays in L1/L2: 256
 * blocks = 8 KB of codes); longer rows add into out chunk by chunk. */
#define VG_CHUNK 256

/* One group of one activation column, arranged: codes (Q4_0/Q5_0: lo then
 * hi; Q8_0: 64), -BIAS * sum(a) per lane, d_act per lane. A batch keeps a
 * group's records for all its columns side by side (record g * C + c), so
 * a row's pass over the columns reads consecutive memory. */
typedef struct {
    _Alignas(64) uint8_t q[128];
    int32_t nbias[16];
    float da[16];
} vg_rec4;
typedef struct {
    _Alignas(64) uint8_t q[64];
    int32_t nbias[16];
    float da[16];
} vg_rec2;

INLINE uint16_t ld_u16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}

INLINE float hsum16(__m512 v) {
    __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* The group's bytes: z0 = the first 64, z1 = the rest (up to 64 more);
 * nothing past len bytes is read. */
INLINE void ld_group(const uint8_t *p, int len, __m512i *z0, __m512i *z1) {
    if (len >= 64) {
        *z0 = _mm512_loadu_si512(p);
        *z1 = _mm512_maskz_loadu_epi8(len - 64 >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (len - 64)) - 1), p + 64);
    } else {
        *z0 = _mm512_maskz_loadu_epi8(((__mmask64)1 << len) - 1, p);
        *z1 = _mm512_setzero_si512();
    }
}

/* Byte permutations (indices into z0:z1, 0..127), filled once by the fill
 * function (dot.c's call_once) before any gemv runs:
 *   codes16_B: 16 codes per block of B bytes (4 blocks), at +2 (Q4_0, and
 *     the activations' lo halves), +6 (Q5_0), +18 - 8 (the activations' hi
 *     halves, loaded from 8 bytes in: 4 blocks of 34 are 136 bytes);
 *   codes32: 32 codes per block of 34 bytes (2 blocks: Q8_0 weights and
 *     activations);
 *   scales4_B / scales8_34: each block's fp16 at +0 over its 4 (or 8) lanes;
 *   qh_lo / qh_hi / qh_bit: Q5_0's fifth bits (see row4). */
static uint8_t codes16_18[64], codes16_22[64], codes16_act_lo[64], codes16_act_hi[64], codes32[64];
static uint8_t scales4_18[64], scales4_22[64], scales4_34[64], scales8_34[64];
static uint8_t qh_lo[64], qh_hi[64], qh_bit[64];

static void fill_tables(void) {
    for (int i = 0; i < 64; i++) {
        int k = i / 16, j = i % 16;
        codes16_18[i] = (uint8_t)(18 * k + 2 + j);
        codes16_22[i] = (uint8_t)(22 * k + 6 + j);
        codes16_act_lo[i] = (uint8_t)(34 * k + 2 + j);
        codes16_act_hi[i] = (uint8_t)(34 * k + 18 + j - 8);
        codes32[i] = (uint8_t)(34 * (i / 32) + 2 + i % 32);
        /* element j's fifth bit is bit j % 8 of qh byte j / 8; the hi
         * half's element 16 + j that of byte 2 + j / 8 */
        qh_lo[i] = (uint8_t)(22 * k + 2 + j / 8);
        qh_hi[i] = (uint8_t)(22 * k + 4 + j / 8);
        qh_bit[i] = (uint8_t)(1u << (j % 8));
        /* bytes 0..31: 16 fp16 values, word w from block w / 4 (w / 8) */
        int w = i / 2;
        bool in = i < 32;
        scales4_18[i] = in ? (uint8_t)(18 * (w / 4) + i % 2) : 0;
        scales4_22[i] = in ? (uint8_t)(22 * (w / 4) + i % 2) : 0;
        scales4_34[i] = in ? (uint8_t)(34 * (w / 4) + i % 2) : 0;
        scales8_34[i] = in ? (uint8_t)(34 * (w / 8) + i % 2) : 0;
    }
}

INLINE __m512i ldx(const uint8_t *t) { return _mm512_loadu_si512(t); }
INLINE __m512 f16x16(__m512i z0, __m512i idx, __m512i z1) {
    return _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutex2var_epi8(z0, idx, z1)));
}

/* ---- activation side: once per call, vectorized (a call covers as few as
 * 32 rows, so this must cost little against them) ------------------------ */

/* Q4_0/Q5_0: 4 blocks per group, lo then hi codes; the bias in each lane as
 * -BIAS * that lane's 8 activations (the lanes of a block share its scale,
 * so only their total matters). */
static void prep4(vg_rec4 *s, int stride, const uint8_t *ab, int64_t nb, int shift) {
    const __m512i ilo = ldx(codes16_act_lo), ihi = ldx(codes16_act_hi), isc = ldx(scales4_34);
    const __m512i ones = _mm512_set1_epi8(1);
    for (int64_t g = 0; g * 4 < nb; g++) {
        int cnt = nb - g * 4 >= 4 ? 4 : (int)(nb - g * 4);
        const uint8_t *p = ab + g * 136;
        __m512i z0, z1, y0, y1;
        ld_group(p, cnt * 34, &z0, &z1);
        ld_group(p + 8, cnt * 34 - 8, &y0, &y1);
        __m512i lo = _mm512_permutex2var_epi8(z0, ilo, z1), hi = _mm512_permutex2var_epi8(y0, ihi, y1);
        if (cnt < 4) { /* missing blocks: no codes (their bytes read as 0 or past the group) */
            __mmask64 keep = ((__mmask64)1 << (16 * cnt)) - 1;
            lo = _mm512_maskz_mov_epi8(keep, lo), hi = _mm512_maskz_mov_epi8(keep, hi);
        }
        vg_rec4 *rec = &s[g * stride];
        _mm512_store_si512((__m512i *)rec->q, lo);
        _mm512_store_si512((__m512i *)(rec->q + 64), hi);
        __m512i sum = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, lo), ones, hi);
        _mm512_store_si512((__m512i *)rec->nbias,
                           _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(sum, (unsigned)shift)));
        __m512 d = f16x16(z0, isc, z1);
        if (cnt < 4) d = _mm512_maskz_mov_ps((__mmask16)((1u << (4 * cnt)) - 1), d);
        _mm512_store_ps(rec->da, d);
    }
}

/* Q8_0: 2 blocks per group (the weights' permutation), bias 128. */
static void prep2(vg_rec2 *s, int stride, const uint8_t *ab, int64_t nb) {
    const __m512i iq = ldx(codes32), isc = ldx(scales8_34), ones = _mm512_set1_epi8(1);
    for (int64_t g = 0; g * 2 < nb; g++) {
        int cnt = nb - g * 2 >= 2 ? 2 : 1;
        __m512i z0, z1;
        ld_group(ab + g * 68, cnt * 34, &z0, &z1);
        __m512i q = _mm512_permutex2var_epi8(z0, iq, z1);
        if (cnt < 2) q = _mm512_maskz_mov_epi8(((__mmask64)1 << 32) - 1, q);
        vg_rec2 *rec = &s[g * stride];
        _mm512_store_si512((__m512i *)rec->q, q);
        __m512i sum = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, q);
        _mm512_store_si512((__m512i *)rec->nbias, _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(sum, 7)));
        __m512 d = f16x16(z0, isc, z1);
        if (cnt < 2) d = _mm512_maskz_mov_ps(0xFF, d);
        _mm512_store_ps(rec->da, d);
    }
}

/* ---- the rows ------------------------------------------------------------
 * Each row function does one weight row against C activation columns
 * (C a compile-time constant at every call, 1..VGN_MAXC), adding column c's
 * dot product into out[c * os]. The group's codes are unpacked once and used
 * for every column; each column's arithmetic is the one-column gemv's, in
 * the same order, so a batch of up to VGN_MAXC columns (speculative
 * verification's k + 1 tokens) gives every column bit for bit the value the
 * gemv gives it alone. */
#define VGN_MAXC 4

/* out[c * os] = (or, after the first chunk of a long row, +=) the sum of
 * acc[c]'s lanes: stored on the first chunk, so out needs no zeroing pass. */
INLINE void row_out(const __m512 *acc, int C, bool first, float *out, int64_t os) {
    UNROLL for (int c = 0; c < C; c++) {
        float h = hsum16(acc[c]);
        out[c * os] = first ? h : out[c * os] + h;
    }
}

/* Q4_0 (HBITS 0, 18-byte blocks, qs at +2) and Q5_0 (HBITS 1, 22 bytes, qh
 * at +2, qs at +6): groups of 4 blocks. */
INLINE void row4(const uint8_t *w, int64_t nb, const vg_rec4 *s, int C, bool first, float *out, int64_t os, int bsz,
                 int HBITS, __m512i iq, __m512i id, __m512i ih_lo, __m512i ih_hi, __m512i hbit) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), k10 = _mm512_set1_epi8(0x10);
    __m512 acc[VGN_MAXC];
    UNROLL for (int c = 0; c < C; c++) acc[c] = _mm512_setzero_ps();
    for (int64_t g = 0; g * 4 < nb; g++) {
        int cnt = nb - g * 4 >= 4 ? 4 : (int)(nb - g * 4);
        __m512i z0, z1;
        ld_group(w + g * 4 * bsz, cnt * bsz, &z0, &z1);
        __m512i q = _mm512_permutex2var_epi8(z0, iq, z1);
        __m512i lo = _mm512_and_si512(q, m4), hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
        if (HBITS) {
            /* element e's fifth bit: bit e % 8 of qh byte e / 8 */
            __mmask64 ml = _mm512_test_epi8_mask(_mm512_permutex2var_epi8(z0, ih_lo, z1), hbit);
            __mmask64 mh = _mm512_test_epi8_mask(_mm512_permutex2var_epi8(z0, ih_hi, z1), hbit);
            lo = _mm512_mask_add_epi8(lo, ml, lo, k10);
            hi = _mm512_mask_add_epi8(hi, mh, hi, k10);
        }
        __m512 dw = f16x16(z0, id, z1);
        UNROLL for (int c = 0; c < C; c++) {
            const vg_rec4 *a = &s[g * C + c];
            __m512i i = _mm512_load_si512((const __m512i *)a->nbias);
            i = _mm512_dpbusd_epi32(i, lo, _mm512_load_si512((const __m512i *)a->q));
            i = _mm512_dpbusd_epi32(i, hi, _mm512_load_si512((const __m512i *)(a->q + 64)));
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), _mm512_mul_ps(dw, _mm512_load_ps(a->da)), acc[c]);
        }
    }
    row_out(acc, C, first, out, os);
}

/* Q8_0: groups of 2 blocks. */
INLINE void row2(const uint8_t *w, int64_t nb, const vg_rec2 *s, int C, bool first, float *out, int64_t os, __m512i iq,
                 __m512i id) {
    const __m512i k80 = _mm512_set1_epi8((char)0x80);
    __m512 acc[VGN_MAXC];
    UNROLL for (int c = 0; c < C; c++) acc[c] = _mm512_setzero_ps();
    for (int64_t g = 0; g * 2 < nb; g++) {
        int cnt = nb - g * 2 >= 2 ? 2 : 1;
        __m512i z0, z1;
        ld_group(w + g * 68, cnt * 34, &z0, &z1);
        __m512i u = _mm512_xor_si512(_mm512_permutex2var_epi8(z0, iq, z1), k80);
        __m512 dw = f16x16(z0, id, z1);
        UNROLL for (int c = 0; c < C; c++) {
            const vg_rec2 *a = &s[g * C + c];
            __m512i i = _mm512_dpbusd_epi32(_mm512_load_si512((const __m512i *)a->nbias), u,
                                            _mm512_load_si512((const __m512i *)a->q));
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), _mm512_mul_ps(dw, _mm512_load_ps(a->da)), acc[c]);
        }
    }
    row_out(acc, C, first, out, os);
}

/* The C cases of a row function: each a constant C the loops unroll on. */
#define ROW_CASES(call)                                                     \
    case 1: call(1); break;                                                 \
    case 2: call(2); break;                                                 \
    case 3: call(3); break;                                                 \
    default: call(4); break

/* Columns per pass over a call's rows: as many as keep their arranged
 * activation (recs records of rec_size bytes per column) within VGN_L1
 * bytes, so that every row's pass over them reads L1, not L2 (one more
 * column than fits cost half the speed on Zen 5, 48 KB of L1D); at least
 * one. The rows of a call (64 in a batch) stay in L2 for the next pass.
 * Passes split the columns evenly. */
#ifndef VGN_L1
#define VGN_L1 (32 * 1024)
#endif
#ifndef VGN_PF
#define VGN_PF 4
#endif
INLINE void prefetch_row(const uint8_t *p, int64_t len) {
    for (int64_t o = 0; o < len; o += 64) _mm_prefetch((const char *)(p + o), _MM_HINT_T0);
}

static int pass_cols(int64_t recs, size_t rec_size, int64_t ncols) {
    int64_t fit = VGN_L1 / ((int64_t)rec_size * recs);
    if (fit < 1) fit = 1;
    if (fit > VGN_MAXC) fit = VGN_MAXC;
    int64_t passes = (ncols + fit - 1) / fit;
    return (int)((ncols + passes - 1) / passes);
}

/* Rows x ncols (<= VGN_MAXC) for Q4_0/Q5_0: per chunk of blocks and pass of
 * columns, the columns' activation arranged, then each row against all of
 * them. s holds VG_CHUNK / 4 records per column. */
static void rows4(int64_t n, int64_t nrows, int64_t ncols, float *out, int64_t os, const uint8_t *wb, size_t ws,
                  const uint8_t *ab, size_t as, int bsz, int HBITS, vg_rec4 *s) {
    const __m512i iq = ldx(HBITS ? codes16_22 : codes16_18), id = ldx(HBITS ? scales4_22 : scales4_18);
    const __m512i ihl = ldx(qh_lo), ihh = ldx(qh_hi), hbit = ldx(qh_bit);
    int64_t nb = n / 32;
    for (int64_t b0 = 0; b0 < nb; b0 += VG_CHUNK) {
        int64_t cb = nb - b0 < VG_CHUNK ? nb - b0 : VG_CHUNK;
        int pc = pass_cols((cb + 3) / 4, sizeof *s, ncols);
        for (int64_t c0 = 0; c0 < ncols; c0 += pc) {
            int C = ncols - c0 < pc ? (int)(ncols - c0) : pc;
            for (int c = 0; c < C; c++) prep4(&s[c], C, ab + (size_t)(c0 + c) * as + b0 * 34, cb, HBITS ? 4 : 3);
            float *oc = out + c0 * os;
            for (int64_t r = 0; r < nrows; r++) {
                const uint8_t *row = wb + (size_t)r * ws + b0 * bsz;
                if (C > 1 && r + VGN_PF < nrows) prefetch_row(row + VGN_PF * ws, cb * bsz);
#define ROW4(K)                                                                               \
    (HBITS ? row4(row, cb, s, K, b0 == 0, oc + r, os, bsz, 1, iq, id, ihl, ihh, hbit)        \
           : row4(row, cb, s, K, b0 == 0, oc + r, os, bsz, 0, iq, id, ihl, ihh, hbit))
                switch (C) { ROW_CASES(ROW4); }
#undef ROW4
            }
        }
    }
}

static void rows2(int64_t n, int64_t nrows, int64_t ncols, float *out, int64_t os, const uint8_t *wb, size_t ws,
                  const uint8_t *ab, size_t as, vg_rec2 *s) {
    const __m512i iq = ldx(codes32), id = ldx(scales8_34);
    int64_t nb = n / 32;
    for (int64_t b0 = 0; b0 < nb; b0 += VG_CHUNK) {
        int64_t cb = nb - b0 < VG_CHUNK ? nb - b0 : VG_CHUNK;
        int pc = pass_cols((cb + 1) / 2, sizeof *s, ncols);
        for (int64_t c0 = 0; c0 < ncols; c0 += pc) {
            int C = ncols - c0 < pc ? (int)(ncols - c0) : pc;
            for (int c = 0; c < C; c++) prep2(&s[c], C, ab + (size_t)(c0 + c) * as + b0 * 34, cb);
            float *oc = out + c0 * os;
            for (int64_t r = 0; r < nrows; r++) {
                const uint8_t *row = wb + (size_t)r * ws + b0 * 34;
                if (C > 1 && r + VGN_PF < nrows) prefetch_row(row + VGN_PF * ws, cb * 34);
#define ROW2(K) row2(row, cb, s, K, b0 == 0, oc + r, os, iq, id)
                switch (C) { ROW_CASES(ROW2); }
#undef ROW2
            }
        }
    }
}

static void gemv_vbmi_q4_0(int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    vg_rec4 s[VG_CHUNK / 4];
    rows4(n, nrows, 1, out, 0, w, ws, act, 0, 18, 0, s);
}
static void gemv_vbmi_q5_0(int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    vg_rec4 s[VG_CHUNK / 4];
    rows4(n, nrows, 1, out, 0, w, ws, act, 0, 22, 1, s);
}
static void gemv_vbmi_q8_0(int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    vg_rec2 s[VG_CHUNK / 2];
    rows2(n, nrows, 1, out, 0, w, ws, act, 0, s);
}

/* The gemm of a few columns (speculative verification's small batches):
 * up to VGN_COLS4 (Q4_0, Q5_0) or VGN_COLS2 (Q8_0) columns run here, more in
 * the wide gemm installed before. Its transposed tiles unpack a weight
 * block once for up to 16 columns and apply the scales of 16 blocks per
 * vector, so each further column costs them less than here (scales per 4 or
 * 2 blocks), but each block costs them more (the transposes) and so does
 * each call (the activation's): bench_kernels --gemm-cols on Zen 5 (one
 * thread, 64-row calls, n 896 and 4864): Q4_0 at 2-4 columns 78-139 GMAC/s
 * here against 51-95 there, at 5 and more no better; Q8_0 at 2 columns 61-82
 * against 43-51, at 3 even. */
#define VGN_COLS4 4
#define VGN_COLS2 2
static hearth_dot_gemm_fn wide_gemm[HEARTH_TYPE_COUNT]; /* saved by the fill function */

/* gemmn_vbmi_NAME: ncols <= COLS here (ROWS, on a stack scratch s of REC
 * records of BPR blocks each), more in the wide gemm. */
#define GEMMN(name, TYPE, COLS, REC, BPR, ROWS)                                                           \
    static void gemmn_vbmi_##name(int64_t n, int64_t nrows, int64_t ncols, float *out, int64_t os,   \
                                  const void *w, size_t ws, const void *act, size_t as) {            \
        if (ncols > COLS) {                                                                          \
            wide_gemm[TYPE](n, nrows, ncols, out, os, w, ws, act, as);                               \
            return;                                                                                  \
        }                                                                                            \
        REC s[VG_CHUNK / BPR * COLS];                                                                \
        ROWS;                                                                                        \
    }
GEMMN(q4_0, HEARTH_TYPE_Q4_0, VGN_COLS4, vg_rec4, 4, rows4(n, nrows, ncols, out, os, w, ws, act, as, 18, 0, s))
GEMMN(q5_0, HEARTH_TYPE_Q5_0, VGN_COLS4, vg_rec4, 4, rows4(n, nrows, ncols, out, os, w, ws, act, as, 22, 1, s))
GEMMN(q8_0, HEARTH_TYPE_Q8_0, VGN_COLS2, vg_rec2, 2, rows2(n, nrows, ncols, out, os, w, ws, act, as, s))

/* ---- Q4_K: a super-block as 4 vectors ---------------------------------------
 * Its 128 qs bytes are two vectors; their low and high nibbles are 4 vectors
 * of 64 codes, each two sub-blocks of 32: (0, 2), (1, 3), (4, 6), (5, 7)
 * (qs byte 32k + l: element l of sub-block 2k, high nibble of 2k + 1). The
 * activation's codes are arranged so once per call. Each vpdpbusd lane is 4
 * products of one sub-block; cvt(lane) * scale is exact in float (at most
 * 7620 * 63), and the lanes times d * d_act, minus the mins' dmin * d_act *
 * min . bsum per sub-block, are summed at the end of the row. (No VBMI here;
 * it is installed with the others.) */
#define VK_CHUNK 32 /* super-blocks of activation per chunk */
typedef struct {
    _Alignas(64) uint8_t q[VK_CHUNK][256];
    _Alignas(32) float bs[VK_CHUNK][8]; /* bsums per sub-block of 32 */
    float d[VK_CHUNK];
} vk_scratch;

static void prepk(vk_scratch *s, const hearth_block_q8_K *a, int64_t nb) {
    for (int64_t b = 0; b < nb; b++) {
        const int8_t *qs = a[b].qs;
        for (int r = 0; r < 4; r++) { /* sub-blocks 4 (r / 2) + r % 2 and that + 2 */
            int j = 4 * (r / 2) + r % 2;
            __m256i lo = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
            __m256i hi = _mm256_loadu_si256((const __m256i *)(qs + 32 * (j + 2)));
            _mm512_store_si512((__m512i *)(s->q[b] + 64 * r), _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1));
        }
        __m128i b0 = _mm_loadu_si128((const __m128i *)a[b].bsums), b1 = _mm_loadu_si128((const __m128i *)(a[b].bsums + 8));
        _mm256_store_ps(s->bs[b], _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm_hadd_epi16(b0, b1))));
        s->d[b] = a[b].d;
    }
}

static void gemv_vbmi_q4_K(int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    const uint8_t *wb = w;
    const hearth_block_q8_K *ab = act;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i p0 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2);
    const __m512i p1 = _mm512_setr_epi32(1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m512i p2 = _mm512_setr_epi32(4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6);
    const __m512i p3 = _mm512_setr_epi32(5, 5, 5, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 7, 7);
    int64_t nb = n / QK_K;
    vk_scratch s;
    for (int64_t r = 0; r < nrows; r++) out[r] = 0.f;
    for (int64_t b0 = 0; b0 < nb; b0 += VK_CHUNK) {
        int64_t cb = nb - b0 < VK_CHUNK ? nb - b0 : VK_CHUNK;
        prepk(&s, ab + b0, cb);
        for (int64_t r = 0; r < nrows; r++) {
            const uint8_t *row = wb + (size_t)r * ws + b0 * 144;
            __m512 acc = _mm512_setzero_ps();
            for (int64_t b = 0; b < cb; b++) {
                const uint8_t *x = row + b * 144; /* d 0, dmin 2, scales 4, qs 16 */
                __m512i z0 = _mm512_loadu_si512(x + 16), z1 = _mm512_loadu_si512(x + 80);
                const uint8_t *aq = s.q[b];
                __m512i i0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(z0, m4),
                                                 _mm512_load_si512((const __m512i *)aq));
                __m512i i1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(_mm512_srli_epi16(z0, 4), m4),
                                                 _mm512_load_si512((const __m512i *)(aq + 64)));
                __m512i i2 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(z1, m4),
                                                 _mm512_load_si512((const __m512i *)(aq + 128)));
                __m512i i3 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(_mm512_srli_epi16(z1, 4), m4),
                                                 _mm512_load_si512((const __m512i *)(aq + 192)));
                __m256i sc32, mn32;
                k4_scales(x + 4, &sc32, &mn32);
                __m512 scf = _mm512_castps256_ps512(_mm256_cvtepi32_ps(sc32));
                __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(i0), _mm512_permutexvar_ps(p0, scf));
                t = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i1), _mm512_permutexvar_ps(p1, scf), t);
                t = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i2), _mm512_permutexvar_ps(p2, scf), t);
                t = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i3), _mm512_permutexvar_ps(p3, scf), t);
                float da = s.d[b];
                acc = _mm512_fmadd_ps(t, _mm512_set1_ps(_cvtsh_ss(ld_u16(x)) * da), acc);
                /* the mins in the same accumulator, block by block (two sums
                 * subtracted at the end would cancel over long rows) */
                __m256 m8 = _mm256_mul_ps(_mm256_cvtepi32_ps(mn32), _mm256_load_ps(s.bs[b]));
                acc = _mm512_fnmadd_ps(_mm512_zextps256_ps512(m8), _mm512_set1_ps(_cvtsh_ss(ld_u16(x + 2)) * da), acc);
            }
            out[r] += hsum16(acc);
        }
    }
}

void hearth_dot_fill_gemv_vbmi(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) {
    fill_tables();
    for (int t = 0; t < HEARTH_TYPE_COUNT; t++) wide_gemm[t] = tab[t].gemm;
    tab[HEARTH_TYPE_Q4_0].gemv_exact_cols = VGN_COLS4;
    tab[HEARTH_TYPE_Q5_0].gemv_exact_cols = VGN_COLS4;
    tab[HEARTH_TYPE_Q8_0].gemv_exact_cols = VGN_COLS2;
    tab[HEARTH_TYPE_Q4_0].gemm = gemmn_vbmi_q4_0;
    tab[HEARTH_TYPE_Q5_0].gemm = gemmn_vbmi_q5_0;
    tab[HEARTH_TYPE_Q8_0].gemm = gemmn_vbmi_q8_0;
    tab[HEARTH_TYPE_Q4_0].gemv = gemv_vbmi_q4_0;
    tab[HEARTH_TYPE_Q5_0].gemv = gemv_vbmi_q5_0;
    tab[HEARTH_TYPE_Q8_0].gemv = gemv_vbmi_q8_0;
    tab[HEARTH_TYPE_Q4_K].gemv = gemv_vbmi_q4_K;
}
#else
void hearth_dot_fill_gemv_vbmi(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) { (void)tab; }
#endif
