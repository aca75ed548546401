/*
 * dot_amx.c: the amx level: the AVX-512 level's kernels (dot_avx512.c) with
 * the gemm of Q4_0, Q5_0 and Q8_0 weights (Q8_0 activations) on Intel AMX
 * (tdpbssd: a tile of up to 16 x 64 int8 times one of 16 x 64, int32 sums,
 * in one instruction). Built with -mamx-tile -mamx-int8 and the AVX-512
 * flags; dot.c fills this level only where cpu_x86.c found AMX-TILE and
 * AMX-INT8 in cpuid, the tile state enabled in XCR0 and the kernel's
 * permission to use it granted (arch_prctl ARCH_REQ_XCOMP_PERM), so no tile
 * instruction here can fault.
 *
 * Shape of one call (out = W x act, W nrows x n, act ncols columns):
 *   - B tiles hold the weights: for each group of 16 rows and each 32-element
 *     block, the block's 16 x 32 codes as signed int8 (Q4_0 nibbles - 8,
 *     Q5_0 codes - 16, Q8_0 as they are) in AMX's VNNI layout (row k of the
 *     tile: dword k of each of the 16 weight rows), built once per group and
 *     block and reused by every token tile of the call;
 *   - A tiles are M tokens' activation blocks (32 bytes each), loaded straight
 *     from the quantized activation rows (stride act_stride): no copy;
 *   - C = A x B is M tokens x 16 rows of exact int32 block sums, stored and
 *     scaled in AVX-512 (d_w of the 16 rows times each token's d_act) into
 *     M float accumulators that stay in registers for the whole row of
 *     blocks; each accumulator is one token's 16 outputs, so the result
 *     lands in out[] with one (masked) vector store per token.
 * Tokens are split into tiles of even size M (at most 16); the last tile
 * starts at ncols - M, overlapping its neighbour, so every tile has M rows
 * (one tile configuration per call) and no load passes the last activation
 * row; the overlapped tokens are stored by one tile only.
 * Two C, two A and two B tiles take the even and odd blocks of a step, and
 * a step's C tiles are scaled during the next step's tile work. Blocks go
 * in chunks of AMX_CB (the B tiles of a chunk stay in L1), columns in
 * passes of at most AMX_TC; the next row group's weights are prefetched
 * while a group's token tiles run.
 *
 * Results: int32 block sums are exact; each output is the sum over blocks,
 * in block order (per chunk, the chunks' sums added in order), of
 * fma(sum * d_act, d_w), so a value depends neither on the thread count nor
 * on which other columns or rows share the call. It differs from the AVX-512
 * gemm and gemv (8 lanes of blocks, then a horizontal sum) in float
 * rounding only.
 *
 * Tile state is per thread: every call loads its configuration and
 * releases the tiles (_tile_release) before it returns, so a thread that
 * is not inside a gemm carries no tile state into context switches, and
 * signal frames are only that much larger while a call runs. (hearth sets
 * no sigaltstack, whose small stacks AMX's 8 KB of tile state could overrun:
 * grep finds none in src/.)
 *
 * Below AMX_MIN_COLS_* columns (5 or 6) the AVX-512 gemm runs instead (a
 * 16-row B tile for few tokens costs more to build than it saves).
 */
#if defined(__x86_64__)
#include "kernels/dot_int.h"

#include <immintrin.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
#define UNROLL _Pragma("GCC unroll 16")
#else
#define UNROLL _Pragma("unroll")
#endif
#define INLINE static inline __attribute__((always_inline))
#include "kernels/x86/zmm_x86.h"

/* Columns from which AMX beats the AVX-512 tiles (bench_kernels
 * --gemm-cols; see the README's kernel section): at 5 columns Q4_0 is
 * 1.06-1.27x, Q8_0 (whose B tiles cost more to build) 0.90-0.95x. */
#define AMX_MIN_COLS_q4_0 5
#define AMX_MIN_COLS_q5_0 6
#define AMX_MIN_COLS_q8_0 6
/* Blocks per chunk (the B tiles of one row group: AMX_CB x 512 bytes, and
 * the activation scales AMX_TC x AMX_CB floats, stay in L1) and columns per
 * pass (the B tiles are reused by every token tile of a pass). */
#define AMX_CB 32
#define AMX_TC 128

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} amx_tilecfg;
_Static_assert(sizeof(amx_tilecfg) == 64, "ldtilecfg reads 64 bytes");

typedef struct {
    _Alignas(64) int8_t b[AMX_CB][8][64]; /* (block, k, 16 rows x 4 bytes): B tiles */
    _Alignas(64) float dw[AMX_CB][16];   /* (block, row): d_w */
    _Alignas(64) float da[AMX_TC][AMX_CB]; /* (token, block): d_act */
    _Alignas(64) int32_t c[4][16][16];   /* (step parity x even/odd block, token, row): C tiles */
} amx_scratch;

/* tmm0/1: C (M x 16 int32), tmm2/3: A (M x 32 bytes), tmm4/5: B (8 x 64
 * bytes), for even/odd blocks. */
static void amx_config(int M) {
    amx_tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int i = 0; i < 2; i++) {
        cfg.colsb[i] = 64, cfg.rows[i] = (uint8_t)M;
        cfg.colsb[2 + i] = 32, cfg.rows[2 + i] = (uint8_t)M;
        cfg.colsb[4 + i] = 64, cfg.rows[4 + i] = 8;
    }
    /* gcc 12 does not see ldtilecfg's builtin read the struct and drops
     * the stores above as dead: an empty asm that may read it keeps them */
    __asm__ __volatile__("" : : "r"(&cfg) : "memory");
    _tile_loadconfig(&cfg);
}

/* Rows i, i+4, i+8, i+12 (those < R) of 16 bytes at p + row * ws. */
INLINE __m512i ld4rows(const uint8_t *p, size_t ws, int i, int R) {
    __m512i z = _mm512_castsi128_si512(ld128_or0(p + (size_t)i * ws, i < R));
    z = _mm512_inserti32x4(z, ld128_or0(p + (size_t)(i + 4) * ws, i + 4 < R), 1);
    z = _mm512_inserti32x4(z, ld128_or0(p + (size_t)(i + 8) * ws, i + 8 < R), 2);
    return _mm512_inserti32x4(z, ld128_or0(p + (size_t)(i + 12) * ws, i + 12 < R), 3);
}

/* ---- B tiles: one block of R <= 16 weight rows (rows past R are zero codes
 * with d_w 0, never read) ------------------------------------------------- */

INLINE void bprep_q8_0(int8_t bt[8][64], const uint8_t *wb, size_t ws, int R) {
    __m512i v[8];
    UNROLL for (int j = 0; j < 8; j++) {
        __m256i lo = j < R ? _mm256_loadu_si256((const __m256i *)(wb + (size_t)j * ws + 2)) : _mm256_setzero_si256();
        __m256i hi = j + 8 < R ? _mm256_loadu_si256((const __m256i *)(wb + (size_t)(j + 8) * ws + 2))
                               : _mm256_setzero_si256();
        v[j] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    }
    tr16(v);
    UNROLL for (int k = 0; k < 8; k++) _mm512_store_si512((__m512i *)bt[k], v[k]);
}

/* Q4_0: qs byte i holds element i (low nibble) and 16 + i (high); dword k of
 * the qs of 16 rows gives B rows k (low nibbles) and 4 + k (high). */
INLINE void bprep_q4_0(int8_t bt[8][64], const uint8_t *wb, size_t ws, int R) {
    __m512i z[4];
    UNROLL for (int i = 0; i < 4; i++) z[i] = ld4rows(wb + 2, ws, i, R);
    tr4x4(z);
    const __m512i m4 = _mm512_set1_epi8(0x0F), k8 = _mm512_set1_epi8(8);
    UNROLL for (int k = 0; k < 4; k++) {
        _mm512_store_si512((__m512i *)bt[k], _mm512_sub_epi8(_mm512_and_si512(z[k], m4), k8));
        _mm512_store_si512((__m512i *)bt[k + 4],
                           _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(z[k], 4), m4), k8));
    }
}

/* Q5_0 (d, qh: 4 bytes, qs: 16): as Q4_0 plus bit i of qh as element i's
 * fifth bit. Lane n of B row k byte j is element 4k + j (k < 4) or
 * 16 + 4(k-4) + j of row n: bit 4k + j (or 16 + ...) of that row's qh,
 * broadcast to its byte and tested against one bit per byte. */
INLINE void bprep_q5_0(int8_t bt[8][64], const uint8_t *wb, size_t ws, int R) {
    __m512i z[4];
    UNROLL for (int i = 0; i < 4; i++) z[i] = ld4rows(wb + 6, ws, i, R);
    tr4x4(z);
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32((int)ws));
    __mmask16 rm = (__mmask16)(R >= 16 ? 0xFFFF : (1u << R) - 1);
    __m512i qh = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), rm, idx, wb + 2, 1); /* lane n: row n's qh */
    const __m512i m4 = _mm512_set1_epi8(0x0F), k16 = _mm512_set1_epi8(16), k10 = _mm512_set1_epi8(0x10);
    /* dword d of a 128-bit lane is row 4L + d: its qh bytes are 4d .. 4d + 3 */
    const __m512i base = _mm512_set4_epi32(0x0C0C0C0C, 0x08080808, 0x04040404, 0);
    UNROLL for (int k = 0; k < 8; k++) {
        __m512i q = k < 4 ? _mm512_and_si512(z[k], m4) : _mm512_and_si512(_mm512_srli_epi16(z[k - 4], 4), m4);
        /* element 4k + j: bit 4(k % 2) + j of qh byte k / 2, broadcast to the dword */
        __m512i byte = _mm512_shuffle_epi8(qh, _mm512_add_epi8(base, _mm512_set1_epi8((char)(k / 2))));
        __mmask64 m = _mm512_test_epi8_mask(byte, _mm512_set1_epi32((int)(0x08040201u << (4 * (k % 2)))));
        q = _mm512_mask_add_epi8(q, m, q, k10);
        _mm512_store_si512((__m512i *)bt[k], _mm512_sub_epi8(q, k16));
    }
}

/* ---- the token tiles ------------------------------------------------------ */

/* acc[t] += C row t (16 rows' block sums of token t) * d_act(t) * d_w,
 * rounded as the AVX-512 gemm and gemv round each block (sum * d_act, then
 * fma with d_w), so that prefill (gemm) and decode (gemv) stay as close as
 * they do on that level: activations are requantized after every layer, and
 * a difference in the last bit can move a value across a rounding boundary
 * there. */
INLINE void amx_scale(const int M, __m512 *acc, const int32_t c[16][16], const float *dw, const float *da) {
    __m512 d = _mm512_load_ps(dw);
    UNROLL for (int t = 0; t < M; t++)
        acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_load_si512((const void *)c[t])),
                                               _mm512_set1_ps(da[t * AMX_CB])),
                                 d, acc[t]);
}

/* M tokens (activation blocks at a, rows as bytes apart; their d_act at
 * da, AMX_CB floats apart) times the group's B tiles over cb blocks:
 * out[t * os + r] (r where rm is set) for t in [skip, M), stored (first
 * chunk) or added. */
INLINE void amx_tile(const int M, int64_t cb, const uint8_t *a, size_t as, amx_scratch *s, const float *da,
                     float *out, int64_t os, __mmask16 rm, int skip, bool first) {
    __m512 acc[16];
    UNROLL for (int t = 0; t < M; t++) acc[t] = _mm512_setzero_ps();
    /* step i multiplies blocks 2i and 2i+1 into C buffers (i % 2) while
     * the float work scales step i-1's: the vector loads of a C tile come an
     * iteration after its tilestored (reading it at once stalls on the
     * store) */
    int64_t nsteps = (cb + 1) / 2;
    for (int64_t i = 0; i <= nsteps; i++) {
        if (i < nsteps) {
            int64_t b = 2 * i;
            int32_t(*cs)[16][16] = &s->c[2 * (i & 1)];
            _tile_loadd(2, a + b * 34 + 2, (long)as);
            _tile_loadd(4, s->b[b], 64);
            _tile_zero(0);
            _tile_dpbssd(0, 2, 4);
            if (b + 1 < cb) {
                _tile_loadd(3, a + (b + 1) * 34 + 2, (long)as);
                _tile_loadd(5, s->b[b + 1], 64);
                _tile_zero(1);
                _tile_dpbssd(1, 3, 5);
            }
            _tile_stored(0, cs[0], 64);
            if (b + 1 < cb) _tile_stored(1, cs[1], 64);
        }
        if (i > 0) {
            int64_t b = 2 * (i - 1);
            int32_t(*cs)[16][16] = &s->c[2 * ((i - 1) & 1)];
            amx_scale(M, acc, cs[0], s->dw[b], da + b);
            if (b + 1 < cb) amx_scale(M, acc, cs[1], s->dw[b + 1], da + b + 1);
        }
    }
    /* t is a constant in each unrolled store (a runtime index into acc would
     * keep the accumulators in memory for the whole loop) */
    UNROLL for (int t = 0; t < M; t++) {
        if (t < skip) continue;
        float *o = out + (size_t)t * os;
        __m512 v = first ? acc[t] : _mm512_add_ps(_mm512_maskz_loadu_ps(rm, o), acc[t]);
        _mm512_mask_storeu_ps(o, rm, v);
    }
}

typedef void (*amx_tile_fn)(int64_t cb, const uint8_t *a, size_t as, amx_scratch *s, const float *da, float *out,
                            int64_t os, __mmask16 rm, int skip, bool first);
#define AMX_TILE_M(M)                                                                                       \
    static void amx_tile_##M(int64_t cb, const uint8_t *a, size_t as, amx_scratch *s, const float *da,     \
                             float *out, int64_t os, __mmask16 rm, int skip, bool first) {                 \
        amx_tile(M, cb, a, as, s, da, out, os, rm, skip, first);                                           \
    }
AMX_TILE_M(1) AMX_TILE_M(2) AMX_TILE_M(3) AMX_TILE_M(4) AMX_TILE_M(5) AMX_TILE_M(6) AMX_TILE_M(7)
AMX_TILE_M(8) AMX_TILE_M(9) AMX_TILE_M(10) AMX_TILE_M(11) AMX_TILE_M(12) AMX_TILE_M(13) AMX_TILE_M(14)
AMX_TILE_M(15) AMX_TILE_M(16)
static const amx_tile_fn amx_tiles[17] = {
    NULL,        amx_tile_1,  amx_tile_2,  amx_tile_3,  amx_tile_4,  amx_tile_5,  amx_tile_6,
    amx_tile_7,  amx_tile_8,  amx_tile_9,  amx_tile_10, amx_tile_11, amx_tile_12, amx_tile_13,
    amx_tile_14, amx_tile_15, amx_tile_16,
};

/* ---- the gemm ------------------------------------------------------------- */

/* The AVX-512 gemms of Q4_0, Q5_0, Q8_0 (below AMX_MIN_COLS_*), from the
 * table hearth_dot_fill_amx is given; written once, inside dot.c's
 * call_once, before any kernel runs. */
static hearth_dot_gemm_fn fallback_q4_0, fallback_q5_0, fallback_q8_0;

enum { AMX_Q8_0, AMX_Q4_0, AMX_Q5_0 };

INLINE void amx_gemm(const int kind, int64_t n, int64_t nrows, int64_t ncols, float *out, int64_t os,
                     const uint8_t *w, size_t ws, const uint8_t *act, size_t as) {
    const int bsz = kind == AMX_Q8_0 ? 34 : kind == AMX_Q4_0 ? 18 : 22;
    amx_scratch s;
    int64_t nb = n / 32;
    /* passes of even widths, each split into token tiles of even size M */
    int64_t npass = (ncols + AMX_TC - 1) / AMX_TC, T;
    int cur_m = 0;
    for (int64_t c0 = 0, p = 0; p < npass; p++, c0 += T) {
        T = (ncols - c0 + (npass - p) - 1) / (npass - p);
        int ntt = (int)((T + 15) / 16), M = (int)((T + ntt - 1) / ntt);
        if (M != cur_m) amx_config(cur_m = M);
        const uint8_t *ap = act + (size_t)c0 * as;
        float *op = out + c0 * os;
        for (int64_t b0 = 0; b0 < nb; b0 += AMX_CB) {
            int64_t cb = nb - b0 < AMX_CB ? nb - b0 : AMX_CB;
            for (int64_t t = 0; t < T; t++)
                for (int64_t b = 0; b < cb; b += 16) {
                    int left = (int)(cb - b);
                    __mmask16 m = (__mmask16)(left >= 16 ? 0xFFFF : (1u << left) - 1);
                    _mm512_store_ps(s.da[t] + b, f16x16_strided(ap + (size_t)t * as + (b0 + b) * 34, 34, m));
                }
            for (int64_t r0 = 0; r0 < nrows; r0 += 16) {
                int R = nrows - r0 < 16 ? (int)(nrows - r0) : 16;
                __mmask16 rm = (__mmask16)(R >= 16 ? 0xFFFF : (1u << R) - 1);
                const uint8_t *wb = w + (size_t)r0 * ws + b0 * bsz;
                for (int64_t b = 0; b < cb; b++) {
                    if (kind == AMX_Q8_0) bprep_q8_0(s.b[b], wb + b * bsz, ws, R);
                    else if (kind == AMX_Q4_0) bprep_q4_0(s.b[b], wb + b * bsz, ws, R);
                    else bprep_q5_0(s.b[b], wb + b * bsz, ws, R);
                    _mm512_store_ps(s.dw[b], f16x16_strided(wb + b * bsz, (int32_t)ws, rm));
                }
                /* the next group's chunk (16 rows of cb blocks), fetched
                 * while this group's token tiles run: in prefill the weights
                 * come from memory, 16 rows at a time, too many streams for
                 * the hardware prefetcher to follow */
                int64_t rn = nrows - r0 - 16 < 16 ? nrows - r0 - 16 : 16;
                for (int64_t j = 0; j < rn; j++) {
                    const uint8_t *p = wb + (size_t)(16 + j) * ws;
                    for (int64_t o = 0; o < cb * bsz; o += 64) _mm_prefetch((const char *)(p + o), _MM_HINT_T0);
                    _mm_prefetch((const char *)(p + cb * bsz - 1), _MM_HINT_T0);
                }
                for (int i = 0; i < ntt; i++) {
                    int64_t t0 = i < ntt - 1 ? (int64_t)i * M : T - M;
                    int skip = i < ntt - 1 ? 0 : (int)((int64_t)(ntt - 1) * M - t0);
                    amx_tiles[M](cb, ap + (size_t)t0 * as + b0 * 34, as, &s, s.da[t0], op + t0 * os + r0, os, rm,
                                 skip, b0 == 0);
                }
            }
        }
    }
    _tile_release();
}

#define AMX_GEMM(name, KIND)                                                                               \
    static void gemm_amx_##name(int64_t n, int64_t nrows, int64_t ncols, float *out, int64_t os,           \
                                const void *w, size_t ws, const void *act, size_t as) {                    \
        if (ncols < AMX_MIN_COLS_##name) fallback_##name(n, nrows, ncols, out, os, w, ws, act, as);               \
        else amx_gemm(KIND, n, nrows, ncols, out, os, w, ws, act, as);                                     \
    }
AMX_GEMM(q8_0, AMX_Q8_0)
AMX_GEMM(q4_0, AMX_Q4_0)
AMX_GEMM(q5_0, AMX_Q5_0)

void hearth_dot_fill_amx(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) {
    fallback_q8_0 = tab[HEARTH_TYPE_Q8_0].gemm;
    fallback_q4_0 = tab[HEARTH_TYPE_Q4_0].gemm;
    fallback_q5_0 = tab[HEARTH_TYPE_Q5_0].gemm;
    tab[HEARTH_TYPE_Q8_0].gemm = gemm_amx_q8_0;
    tab[HEARTH_TYPE_Q4_0].gemm = gemm_amx_q4_0;
    tab[HEARTH_TYPE_Q5_0].gemm = gemm_amx_q5_0;
}
#else
#include "kernels/dot_int.h"
void hearth_dot_fill_amx(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) { (void)tab; }
#endif
