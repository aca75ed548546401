/*
 * float512.h: F16 and F32 weights times F32 activations on 512-bit vectors,
 * for dot_avx512.c only (after dot_x86.h, whose 256-bit float tiles they
 * replace there). The float tiles are bound by multiply-adds, not by
 * unpacking as the integer formats are, so twice the lanes per instruction
 * is nearly twice the speed wherever the weights come from cache: prefill,
 * a speculative verification batch, and decode of models that fit in L2/L3.
 *
 * A tile is R weight rows x C activation columns (R, C <= 4, compile-time
 * constants at every call so the accumulators stay in registers); it walks
 * the row in steps of 16 elements, then one masked step for the rest, so
 * every length runs here. Results differ from the reference only in the
 * order of float additions. The 4-row tiles sum their accumulators with
 * hsum_x86.h's transposing sums (one hadd tree for 4 or 16 of them, not a
 * reduction each): on a 256-wide model the separate reductions were a third
 * of a tile's instructions.
 */
#include "kernels/x86/hsum_x86.h"

INLINE __m512 ld16_f32(const uint8_t *p) { return _mm512_loadu_ps((const float *)p); }
INLINE __m512 ld16_f16(const uint8_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }
INLINE __m512 ldm_f32(const uint8_t *p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
INLINE __m512 ldm_f16(const uint8_t *p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

#define TILE512(name, esz, LD16, LDM)                                                          \
    INLINE void t512_##name(int64_t n, int R, int C, const uint8_t *w, size_t ws,             \
                            const uint8_t *a, size_t as, float *out, int64_t os) {            \
        __m512 acc[4][4];                                                                     \
        UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) acc[r][c] =     \
            _mm512_setzero_ps();                                                              \
        int64_t i = 0;                                                                        \
        for (; i + 16 <= n; i += 16) {                                                        \
            __m512 av[4];                                                                     \
            UNROLL for (int c = 0; c < C; c++) av[c] = ld16_f32(a + c * as + i * 4);           \
            UNROLL for (int r = 0; r < R; r++) {                                              \
                __m512 wv = LD16(w + r * ws + i * esz);                                       \
                UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm512_fmadd_ps(wv, av[c], acc[r][c]); \
            }                                                                                 \
        }                                                                                     \
        if (i < n) {                                                                          \
            __mmask16 m = (__mmask16)((1u << (n - i)) - 1);                                   \
            __m512 av[4];                                                                     \
            UNROLL for (int c = 0; c < C; c++) av[c] = ldm_f32(a + c * as + i * 4, m);         \
            UNROLL for (int r = 0; r < R; r++) {                                              \
                __m512 wv = LDM(w + r * ws + i * esz, m);                                     \
                UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm512_fmadd_ps(wv, av[c], acc[r][c]); \
            }                                                                                 \
        }                                                                                     \
        if (R == 4 && C == 4) {                                                               \
            __m512 t[16];                                                                     \
            UNROLL for (int c = 0; c < 4; c++) UNROLL for (int r = 0; r < 4; r++) t[c * 4 + r] = \
                acc[r][c];                                                                    \
            __m512 s = hearth_hsum16x16_ps(t); /* lanes 4c..4c+3: column c's 4 rows */         \
            _mm_storeu_ps(out, _mm512_extractf32x4_ps(s, 0));                                 \
            _mm_storeu_ps(out + os, _mm512_extractf32x4_ps(s, 1));                            \
            _mm_storeu_ps(out + 2 * os, _mm512_extractf32x4_ps(s, 2));                        \
            _mm_storeu_ps(out + 3 * os, _mm512_extractf32x4_ps(s, 3));                        \
        } else if (R == 4) {                                                                  \
            UNROLL for (int c = 0; c < C; c++) {                                              \
                __m512 t[4] = {acc[0][c], acc[1][c], acc[2][c], acc[3][c]};                   \
                _mm_storeu_ps(out + c * os, hearth_hsum4x16_ps(t));                           \
            }                                                                                 \
        } else {                                                                              \
            UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++)             \
                out[c * os + r] = _mm512_reduce_add_ps(acc[r][c]);                            \
        }                                                                                     \
    }                                                                                         \
                                                                                              \
    static void gemv512_##name(int64_t n, int64_t nrows, float *out, const void *w, size_t ws, \
                               const void *act) {                                             \
        const uint8_t *wb = w;                                                                \
        int64_t r = 0;                                                                        \
        for (; r + 4 <= nrows; r += 4) t512_##name(n, 4, 1, wb + (size_t)r * ws, ws, act, 0, out + r, 0); \
        for (; r < nrows; r++) t512_##name(n, 1, 1, wb + (size_t)r * ws, ws, act, 0, out + r, 0); \
    }                                                                                         \
                                                                                              \
    static void gemm512_##name(int64_t n, int64_t nrows, int64_t ncols, float *out, int64_t os, \
                               const void *w, size_t ws, const void *act, size_t as) {        \
        const uint8_t *wb = w, *ab = act;                                                     \
        for (int64_t r0 = 0; r0 < nrows; r0 += GEMM_ROW_CHUNK) {                              \
            int64_t r1 = r0 + GEMM_ROW_CHUNK < nrows ? r0 + GEMM_ROW_CHUNK : nrows;           \
            int64_t c = 0;                                                                    \
            for (; c + 4 <= ncols; c += 4) {                                                  \
                const uint8_t *ac = ab + (size_t)c * as;                                      \
                float *oc = out + c * os;                                                     \
                int64_t r = r0;                                                               \
                for (; r + 4 <= r1; r += 4) t512_##name(n, 4, 4, wb + (size_t)r * ws, ws, ac, as, oc + r, os); \
                for (; r < r1; r++) t512_##name(n, 1, 4, wb + (size_t)r * ws, ws, ac, as, oc + r, os); \
            }                                                                                 \
            int cl = (int)(ncols - c); /* 0..3 columns left: one tile shape each */           \
            const uint8_t *ac = ab + (size_t)c * as;                                          \
            float *oc = out + c * os;                                                         \
            for (int64_t r = r0; r < r1 && cl; r += 4) {                                      \
                const uint8_t *wr = wb + (size_t)r * ws;                                      \
                if (r + 4 <= r1) {                                                            \
                    if (cl == 3) t512_##name(n, 4, 3, wr, ws, ac, as, oc + r, os);            \
                    else if (cl == 2) t512_##name(n, 4, 2, wr, ws, ac, as, oc + r, os);       \
                    else t512_##name(n, 4, 1, wr, ws, ac, as, oc + r, os);                    \
                } else {                                                                      \
                    for (int64_t q = r; q < r1; q++) {                                        \
                        const uint8_t *wq = wb + (size_t)q * ws;                              \
                        if (cl == 3) t512_##name(n, 1, 3, wq, ws, ac, as, oc + q, os);        \
                        else if (cl == 2) t512_##name(n, 1, 2, wq, ws, ac, as, oc + q, os);   \
                        else t512_##name(n, 1, 1, wq, ws, ac, as, oc + q, os);                \
                    }                                                                         \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }

TILE512(f32, 4, ld16_f32, ldm_f32)
TILE512(f16, 2, ld16_f16, ldm_f16)

/* Puts the 512-bit float kernels into a table filled by dot_x86.h. */
static void float512_fill(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) {
    tab[HEARTH_TYPE_F32].gemv = gemv512_f32;
    tab[HEARTH_TYPE_F32].gemm = gemm512_f32;
    tab[HEARTH_TYPE_F16].gemv = gemv512_f16;
    tab[HEARTH_TYPE_F16].gemm = gemm512_f16;
}
