/*
 * dot_wasm.c: the WebAssembly SIMD128 kernels of dot.h (issue 19), the third
 * kernel family beside x86/ and arm/, built only by the browser build
 * (web/CMakeLists.txt, -msimd128). Elsewhere the fill function is an empty
 * stub dot.c never calls.
 *
 * Weight types here: F32, F16, BF16 (f32x4 multiply-adds, the tail in
 * scalar code; F16/BF16 widened in the vector registers), Q8_0, Q4_0, Q4_1,
 * Q5_0 and Q5_1 (int8 codes widened to int16, i32x4.dot_i16x8_s, exact per
 * block; Q8_0, Q4_0, Q5_0, Q4_K and Q6_K 4 rows at a time, Q4_0 and Q4_K with
 * their nibbles decoded straight into int16 lanes against a deinterleaved
 * activation), and every K-quant, Q2_K to
 * Q6_K (codes rebuilt in int8 lanes, the group scales applied in int32): the
 * whole table of dot.h (dot.c starts from the reference table all the same). Quantized
 * blocks are scaled and summed in the reference's order, so the quantized
 * results equal kernels/ref/ bit for bit;
 * the float types differ only by the order of float additions. gemm is
 * gemv per activation column (no weight reuse across columns yet).
 */
#include "kernels/dot_int.h"

#if defined(__wasm_simd128__)
#include "kernels/fp16.h"
#include "kernels/quants.h"
#include "kernels/wasm/f16_wasm.h"
#include "kernels/wasm/simd_wasm.h"

#include <string.h>
#include <wasm_simd128.h>

#define INLINE static inline __attribute__((always_inline))

INLINE float hsum_f32(v128_t v) {
    return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
           (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

static float dot_f32(int64_t n, const void *w, const void *a) {
    const float *x = w, *y = a;
    v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(x + i), wasm_v128_load(y + i)));
        s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(x + i + 4), wasm_v128_load(y + i + 4)));
    }
    float s = hsum_f32(wasm_f32x4_add(s0, s1));
    for (; i < n; i++) s += x[i] * y[i];
    return s;
}

static float dot_f16(int64_t n, const void *w, const void *a) {
    const hearth_f16 *x = w;
    const float *y = a;
    v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v128_t h = wasm_v128_load(x + i), lo, hi;
        if (__builtin_expect(hearth_wasm_f16x8_any_infnan(h), 0)) {
            lo = hearth_wasm_f16x4_to_f32(wasm_u32x4_extend_low_u16x8(h));
            hi = hearth_wasm_f16x4_to_f32(wasm_u32x4_extend_high_u16x8(h));
        } else {
            lo = hearth_wasm_f16x8_lo_finite(h);
            hi = hearth_wasm_f16x8_hi_finite(h);
        }
        s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(lo, wasm_v128_load(y + i)));
        s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(hi, wasm_v128_load(y + i + 4)));
    }
    float s = hsum_f32(wasm_f32x4_add(s0, s1));
    for (; i < n; i++) s += hearth_f16_to_f32(x[i]) * y[i];
    return s;
}

static float dot_bf16(int64_t n, const void *w, const void *a) {
    const hearth_bf16 *x = w;
    const float *y = a;
    v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v128_t h = wasm_v128_load(x + i);
        v128_t lo = wasm_i32x4_shl(wasm_u32x4_extend_low_u16x8(h), 16);
        v128_t hi = wasm_i32x4_shl(wasm_u32x4_extend_high_u16x8(h), 16);
        s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(lo, wasm_v128_load(y + i)));
        s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(hi, wasm_v128_load(y + i + 4)));
    }
    float s = hsum_f32(wasm_f32x4_add(s0, s1));
    for (; i < n; i++) s += hearth_bf16_to_f32(x[i]) * y[i];
    return s;
}

/* 8 binary16 values as two f32x4 (lanes 0-3, 4-7); exact. */
INLINE void f16x8_to_f32(v128_t h, v128_t *lo, v128_t *hi) {
    if (__builtin_expect(hearth_wasm_f16x8_any_infnan(h), 0)) {
        *lo = hearth_wasm_f16x4_to_f32(wasm_u32x4_extend_low_u16x8(h));
        *hi = hearth_wasm_f16x4_to_f32(wasm_u32x4_extend_high_u16x8(h));
    } else {
        *lo = hearth_wasm_f16x8_lo_finite(h);
        *hi = hearth_wasm_f16x8_hi_finite(h);
    }
}

/* gemv over float activations, 4 weight rows at a time: each row keeps the
 * two accumulators and the order of dot_f32 / dot_f16 / dot_bf16 (so the
 * results are bit-identical to them), but the 4 rows' 8 independent chains
 * hide the add latency (SIMD128 has no fused multiply-add, so one chain
 * waits on every add) and each activation vector is loaded once for 4 rows.
 * load8 widens 8 weights of a row to two f32x4. */
INLINE void gemv_float4(int64_t n, int64_t nrows, float *out, const uint8_t *w, size_t ws,
                        const float *y, void (*load8)(const uint8_t *, int64_t, v128_t *, v128_t *),
                        float (*dot1)(int64_t, const void *, const void *),
                        float (*elem)(const uint8_t *, int64_t)) {
    int64_t r = 0, n8 = n & ~(int64_t)7;
    for (; r + 4 <= nrows; r += 4) {
        const uint8_t *w0 = w + (size_t)r * ws, *w1 = w0 + ws, *w2 = w1 + ws, *w3 = w2 + ws;
        v128_t a0 = wasm_f32x4_splat(0.f), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0,
               b3 = a0;
        for (int64_t i = 0; i < n8; i += 8) {
            v128_t ylo = wasm_v128_load(y + i), yhi = wasm_v128_load(y + i + 4), lo, hi;
            load8(w0, i, &lo, &hi);
            a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(lo, ylo));
            b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(hi, yhi));
            load8(w1, i, &lo, &hi);
            a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(lo, ylo));
            b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(hi, yhi));
            load8(w2, i, &lo, &hi);
            a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(lo, ylo));
            b2 = wasm_f32x4_add(b2, wasm_f32x4_mul(hi, yhi));
            load8(w3, i, &lo, &hi);
            a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(lo, ylo));
            b3 = wasm_f32x4_add(b3, wasm_f32x4_mul(hi, yhi));
        }
        float s[4] = {hsum_f32(wasm_f32x4_add(a0, b0)), hsum_f32(wasm_f32x4_add(a1, b1)),
                      hsum_f32(wasm_f32x4_add(a2, b2)), hsum_f32(wasm_f32x4_add(a3, b3))};
        for (int64_t i = n8; i < n; i++) {
            s[0] += elem(w0, i) * y[i];
            s[1] += elem(w1, i) * y[i];
            s[2] += elem(w2, i) * y[i];
            s[3] += elem(w3, i) * y[i];
        }
        memcpy(out + r, s, sizeof s);
    }
    for (; r < nrows; r++) out[r] = dot1(n, w + (size_t)r * ws, y);
}

INLINE void load8_f32(const uint8_t *row, int64_t i, v128_t *lo, v128_t *hi) {
    const float *x = (const float *)row + i;
    *lo = wasm_v128_load(x);
    *hi = wasm_v128_load(x + 4);
}
INLINE void load8_f16(const uint8_t *row, int64_t i, v128_t *lo, v128_t *hi) {
    f16x8_to_f32(wasm_v128_load((const hearth_f16 *)row + i), lo, hi);
}
INLINE void load8_bf16(const uint8_t *row, int64_t i, v128_t *lo, v128_t *hi) {
    v128_t h = wasm_v128_load((const hearth_bf16 *)row + i);
    *lo = wasm_i32x4_shl(wasm_u32x4_extend_low_u16x8(h), 16);
    *hi = wasm_i32x4_shl(wasm_u32x4_extend_high_u16x8(h), 16);
}
INLINE float elem_f32(const uint8_t *row, int64_t i) { return ((const float *)row)[i]; }
INLINE float elem_f16(const uint8_t *row, int64_t i) {
    return hearth_f16_to_f32(((const hearth_f16 *)row)[i]);
}
INLINE float elem_bf16(const uint8_t *row, int64_t i) {
    return hearth_bf16_to_f32(((const hearth_bf16 *)row)[i]);
}

static void gemv_f32(int64_t n, int64_t nrows, float *out, const void *w, size_t ws,
                     const void *act) {
    gemv_float4(n, nrows, out, w, ws, act, load8_f32, dot_f32, elem_f32);
}
static void gemv_f16(int64_t n, int64_t nrows, float *out, const void *w, size_t ws,
                     const void *act) {
    gemv_float4(n, nrows, out, w, ws, act, load8_f16, dot_f16, elem_f16);
}
static void gemv_bf16(int64_t n, int64_t nrows, float *out, const void *w, size_t ws,
                      const void *act) {
    gemv_float4(n, nrows, out, w, ws, act, load8_bf16, dot_bf16, elem_bf16);
}

/* The exact integer dot product of 32 int8 codes (two vectors each). */
INLINE int32_t dot32_i8(v128_t w0, v128_t w1, v128_t a0, v128_t a1) {
    v128_t acc = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w0), wasm_i16x8_extend_low_i8x16(a0));
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w0),
                                                   wasm_i16x8_extend_high_i8x16(a0)));
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w1),
                                                   wasm_i16x8_extend_low_i8x16(a1)));
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w1),
                                                   wasm_i16x8_extend_high_i8x16(a1)));
    return hearth_wasm_hsum_i32(acc);
}

static float dot_q8_0(int64_t n, const void *w, const void *a) {
    const hearth_block_q8_0 *x = w;
    const hearth_block_q8_0 *y = a;
    float s = 0.f;
    for (int64_t b = 0; b < n / QK8_0; b++) {
        int32_t sumi = dot32_i8(wasm_v128_load(x[b].qs), wasm_v128_load(x[b].qs + 16),
                                wasm_v128_load(y[b].qs), wasm_v128_load(y[b].qs + 16));
        s += hearth_f16_to_f32(x[b].d) * hearth_f16_to_f32(y[b].d) * (float)sumi;
    }
    return s;
}

static float dot_q4_0(int64_t n, const void *w, const void *a) {
    const hearth_block_q4_0 *x = w;
    const hearth_block_q8_0 *y = a;
    const v128_t m4 = wasm_i8x16_splat(0x0F), b8 = wasm_i8x16_splat(8);
    float s = 0.f;
    for (int64_t b = 0; b < n / QK4_0; b++) {
        v128_t q = wasm_v128_load(x[b].qs);
        v128_t lo = wasm_i8x16_sub(wasm_v128_and(q, m4), b8);   /* elements 0..15 */
        v128_t hi = wasm_i8x16_sub(wasm_u8x16_shr(q, 4), b8);  /* elements 16..31 */
        int32_t sumi = dot32_i8(lo, hi, wasm_v128_load(y[b].qs), wasm_v128_load(y[b].qs + 16));
        s += hearth_f16_to_f32(x[b].d) * hearth_f16_to_f32(y[b].d) * (float)sumi;
    }
    return s;
}

/* The exact integer dot product of 16 int8 codes, in 4 int32 lanes. */
INLINE v128_t dot16_i8(v128_t w, v128_t a) {
    v128_t acc = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w), wasm_i16x8_extend_low_i8x16(a));
    return wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w),
                                                    wasm_i16x8_extend_high_i8x16(a)));
}

/* Q6_K: per group of 16 the 6-bit codes are rebuilt from ql (low nibbles)
 * and qh (2 bits), biased by -32, dotted with the Q8_K codes and weighted by
 * the group's int8 scale, all in int32 (exact: |sum| < 2^31); the block's
 * float scaling is the reference's. */
static float dot_q6_K(int64_t n, const void *w, const void *a) {
    const hearth_block_q6_K *x = w;
    const hearth_block_q8_K *y = a;
    const v128_t m4 = wasm_i8x16_splat(0x0F), m3 = wasm_i8x16_splat(3), b32 = wasm_i8x16_splat(32);
    float s = 0.f;
    for (int64_t b = 0; b < n / QK_K; b++) {
        v128_t acc = wasm_i32x4_splat(0);
        for (int h = 0; h < 2; h++) {
            for (int l0 = 0; l0 < 32; l0 += 16) {
                v128_t ql0 = wasm_v128_load(x[b].ql + 64 * h + l0);
                v128_t ql1 = wasm_v128_load(x[b].ql + 64 * h + 32 + l0);
                v128_t qh = wasm_v128_load(x[b].qh + 32 * h + l0);
                for (int k = 0; k < 4; k++) {
                    v128_t ql = (k & 1) ? ql1 : ql0;
                    v128_t lo = k < 2 ? wasm_v128_and(ql, m4) : wasm_u8x16_shr(ql, 4);
                    v128_t hi = wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(qh, 2 * k), m3), 4);
                    v128_t q = wasm_i8x16_sub(wasm_v128_or(lo, hi), b32);
                    int e = 128 * h + 32 * k + l0;
                    v128_t d = dot16_i8(q, wasm_v128_load(y[b].qs + e));
                    acc = wasm_i32x4_add(acc, wasm_i32x4_mul(d, wasm_i32x4_splat(x[b].scales[e / 16])));
                }
            }
        }
        s += y[b].d * hearth_f16_to_f32(x[b].d) * (float)hearth_wasm_hsum_i32(acc);
    }
    return s;
}

/* Q6_K gemv, 4 rows at a time: each Q8_K activation block widened to int16
 * once for the 4 rows; the 6-bit codes rebuilt with u16 shifts and byte
 * masks (SIMD128's u8 shifts cost several x86 instructions each; the masks
 * drop what a 16-bit shift moves across bytes); the 16 group sums weighted
 * by their scales 4 groups per i32x4.mul. Integer sums exact, the float
 * expression dot_q6_K's: bit-identical results. */
static void gemv_q6_K(int64_t n, int64_t nrows, float *out, const void *w, size_t ws,
                      const void *act) {
    const hearth_block_q8_K *y = act;
    const uint8_t *wb = w;
    int64_t nb = n / QK_K, r = 0;
    const v128_t m4 = wasm_i8x16_splat(0x0F), m3 = wasm_i8x16_splat(3), b32 = wasm_i8x16_splat(32);
    for (; r + 4 <= nrows; r += 4) {
        float s[4] = {0.f, 0.f, 0.f, 0.f};
        for (int64_t b = 0; b < nb; b++) {
            v128_t al[16], ah[16]; /* group g's 16 activation codes as int16 */
            for (int g = 0; g < 16; g++) {
                v128_t a = wasm_v128_load(y[b].qs + 16 * g);
                al[g] = wasm_i16x8_extend_low_i8x16(a);
                ah[g] = wasm_i16x8_extend_high_i8x16(a);
            }
            for (int i = 0; i < 4; i++) {
                const hearth_block_q6_K *x = (const hearth_block_q6_K *)(wb + (size_t)(r + i) * ws) + b;
                v128_t gs[16]; /* group g's integer dot product, in 4 lanes */
                for (int h = 0; h < 2; h++) {
                    for (int l0 = 0; l0 < 32; l0 += 16) {
                        v128_t ql0 = wasm_v128_load(x->ql + 64 * h + l0);
                        v128_t ql1 = wasm_v128_load(x->ql + 64 * h + 32 + l0);
                        v128_t qh = wasm_v128_load(x->qh + 32 * h + l0);
                        for (int k = 0; k < 4; k++) {
                            v128_t ql = (k & 1) ? ql1 : ql0;
                            v128_t lo = wasm_v128_and(k < 2 ? ql : wasm_u16x8_shr(ql, 4), m4);
                            v128_t hi = wasm_i16x8_shl(wasm_v128_and(wasm_u16x8_shr(qh, 2 * k), m3), 4);
                            v128_t q = wasm_i8x16_sub(wasm_v128_or(lo, hi), b32);
                            int g = (128 * h + 32 * k + l0) / 16;
                            gs[g] = wasm_i32x4_add(
                                wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(q), al[g]),
                                wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(q), ah[g]));
                        }
                    }
                }
                v128_t sc = wasm_v128_load(x->scales);
                v128_t sl = wasm_i16x8_extend_low_i8x16(sc), sh = wasm_i16x8_extend_high_i8x16(sc);
                v128_t acc = wasm_i32x4_mul(hearth_wasm_hsum4_i32(gs[0], gs[1], gs[2], gs[3]), wasm_i32x4_extend_low_i16x8(sl));
                acc = wasm_i32x4_add(acc, wasm_i32x4_mul(hearth_wasm_hsum4_i32(gs[4], gs[5], gs[6], gs[7]),
                                                         wasm_i32x4_extend_high_i16x8(sl)));
                acc = wasm_i32x4_add(acc, wasm_i32x4_mul(hearth_wasm_hsum4_i32(gs[8], gs[9], gs[10], gs[11]),
                                                         wasm_i32x4_extend_low_i16x8(sh)));
                acc = wasm_i32x4_add(acc, wasm_i32x4_mul(hearth_wasm_hsum4_i32(gs[12], gs[13], gs[14], gs[15]),
                                                         wasm_i32x4_extend_high_i16x8(sh)));
                s[i] += y[b].d * hearth_f16_to_f32(x->d) * (float)hearth_wasm_hsum_i32(acc);
            }
        }
        memcpy(out + r, s, sizeof s);
    }
    for (; r < nrows; r++) out[r] = dot_q6_K(n, wb + (size_t)r * ws, y);
}

/* Q2_K / Q3_K: 2-bit codes (Q3_K: with the high bit from hmask, minus 4)
 * per group of 16, dotted with the Q8_K codes and weighted by the group's
 * scale in int32; Q2_K's mins through the group sums, as the reference. */
INLINE v128_t dot_k23(const uint8_t *qs, const uint8_t *hmask, const int8_t *sc,
                      const uint8_t *sc2, const hearth_block_q8_K *y) {
    const v128_t m3 = wasm_i8x16_splat(3), one = wasm_i8x16_splat(1), b4 = wasm_i8x16_splat(4);
    v128_t acc = wasm_i32x4_splat(0);
    for (int h = 0; h < 2; h++) {
        for (int l0 = 0; l0 < 32; l0 += 16) {
            v128_t q2 = wasm_v128_load(qs + 32 * h + l0);
            v128_t hm = hmask ? wasm_v128_load(hmask + l0) : acc;
            for (int k = 0; k < 4; k++) {
                /* u16 shifts (V8's u8 ones take several instructions);
                 * the masks drop what crosses a byte */
                v128_t q = wasm_v128_and(wasm_u16x8_shr(q2, 2 * k), m3);
                if (hmask) {
                    v128_t hi = wasm_v128_and(wasm_u16x8_shr(hm, 4 * h + k), one);
                    q = wasm_i8x16_sub(wasm_v128_or(q, wasm_i16x8_shl(hi, 2)), b4);
                }
                int e = 128 * h + 32 * k + l0;
                int scale = sc ? sc[e / 16] : (sc2[e / 16] & 0xF);
                v128_t d = dot16_i8(q, wasm_v128_load(y->qs + e));
                acc = wasm_i32x4_add(acc, wasm_i32x4_mul(d, wasm_i32x4_splat(scale)));
            }
        }
    }
    return acc;
}

static float dot_q2_K(int64_t n, const void *w, const void *a) {
    const hearth_block_q2_K *x = w;
    const hearth_block_q8_K *y = a;
    float s = 0.f;
    for (int64_t b = 0; b < n / QK_K; b++) {
        int32_t sumi = hearth_wasm_hsum_i32(dot_k23(x[b].qs, NULL, NULL, x[b].scales, &y[b]));
        /* the mins (high nibbles) against the activation's group sums */
        v128_t mn = wasm_v128_and(wasm_u16x8_shr(wasm_v128_load(x[b].scales), 4), wasm_i8x16_splat(0x0F));
        v128_t mdot = wasm_i32x4_add(
            wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(mn), wasm_v128_load(y[b].bsums)),
            wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(mn), wasm_v128_load(y[b].bsums + 8)));
        int32_t summ = hearth_wasm_hsum_i32(mdot);
        s += y[b].d * (hearth_f16_to_f32(x[b].d) * (float)sumi - hearth_f16_to_f32(x[b].dmin) * (float)summ);
    }
    return s;
}

static float dot_q3_K(int64_t n, const void *w, const void *a) {
    const hearth_block_q3_K *x = w;
    const hearth_block_q8_K *y = a;
    float s = 0.f;
    int8_t sc[16];
    for (int64_t b = 0; b < n / QK_K; b++) {
        wasm_v128_store(sc, hearth_wasm_scales_q3_K(x[b].scales));
        int32_t sumi = hearth_wasm_hsum_i32(dot_k23(x[b].qs, x[b].hmask, sc, NULL, &y[b]));
        s += y[b].d * hearth_f16_to_f32(x[b].d) * (float)sumi;
    }
    return s;
}

/* Q4_K / Q5_K: per sub-block of 32 the 4-bit codes (with Q5_K's 5th bit
 * from qh) dotted with the Q8_K codes and weighted by the 6-bit scale in
 * int32, the mins through the activation's group sums, as the reference. */
INLINE float dot_k4(const hearth_f16 *dd, const uint8_t *scales, const uint8_t *qs,
                    const uint8_t *qh, const hearth_block_q8_K *y) {
    const v128_t m4 = wasm_i8x16_splat(0x0F), one = wasm_i8x16_splat(1);
    v128_t acc = wasm_i32x4_splat(0);
    v128_t h0 = qh ? wasm_v128_load(qh) : acc, h1 = qh ? wasm_v128_load(qh + 16) : acc;
    int summ = 0;
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        hearth_get_scale_min_k4(j, scales, &sc, &m);
        v128_t q0 = wasm_v128_load(qs + 32 * (j / 2)), q1 = wasm_v128_load(qs + 32 * (j / 2) + 16);
        if (j & 1) {
            q0 = wasm_v128_and(wasm_u16x8_shr(q0, 4), m4);
            q1 = wasm_v128_and(wasm_u16x8_shr(q1, 4), m4);
        } else {
            q0 = wasm_v128_and(q0, m4);
            q1 = wasm_v128_and(q1, m4);
        }
        if (qh) {
            q0 = wasm_v128_or(q0, wasm_i16x8_shl(wasm_v128_and(wasm_u16x8_shr(h0, j), one), 4));
            q1 = wasm_v128_or(q1, wasm_i16x8_shl(wasm_v128_and(wasm_u16x8_shr(h1, j), one), 4));
        }
        v128_t d = wasm_i32x4_add(dot16_i8(q0, wasm_v128_load(y->qs + 32 * j)),
                                  dot16_i8(q1, wasm_v128_load(y->qs + 32 * j + 16)));
        acc = wasm_i32x4_add(acc, wasm_i32x4_mul(d, wasm_i32x4_splat(sc)));
        summ += m * (y->bsums[2 * j] + y->bsums[2 * j + 1]);
    }
    return y->d * (hearth_f16_to_f32(dd[0]) * (float)hearth_wasm_hsum_i32(acc) -
                   hearth_f16_to_f32(dd[1]) * (float)summ);
}

static float dot_q4_K(int64_t n, const void *w, const void *a) {
    const hearth_block_q4_K *x = w;
    const hearth_block_q8_K *y = a;
    float s = 0.f;
    for (int64_t b = 0; b < n / QK_K; b++) {
        const hearth_f16 dd[2] = {x[b].d, x[b].dmin};
        s += dot_k4(dd, x[b].scales, x[b].qs, NULL, &y[b]);
    }
    return s;
}

/* 16 int8 activation codes as two int16 vectors, the even elements
 * (*e) and the odd ones (*o): the order in which gemv_q4_0 and gemv_q4_K
 * decode nibbles in int16 lanes. */
INLINE void deinterleave_i8(const int8_t *p, v128_t *e, v128_t *o) {
    v128_t a = wasm_v128_load(p);
    a = wasm_i8x16_shuffle(a, a, 0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    *e = wasm_i16x8_extend_low_i8x16(a);
    *o = wasm_i16x8_extend_high_i8x16(a);
}

/* Q4_K gemv, 4 rows at a time: each Q8_K activation block is widened to
 * int16 once for the 4 rows (deinterleaved as gemv_q4_0's nibbles: 16 code
 * bytes as u16 lanes give elements 2k, 2k+1 of sub-block 2p and of sub-block
 * 2p+1 as (v & 15), (v >> 8) & 15, (v >> 4) & 15, v >> 12). Per row the
 * integer sums, the 6-bit scales and mins and the float expression are
 * dot_k4's, so the results are the reference's bit for bit. */
/* One Q8_K activation block made ready for the 4-row Q4_K gemv: its 256
 * codes as 16 pairs of even/odd int16 x 8, the 8 sub-blocks' sums (|sum| <=
 * 32 * 128: int16) and its scale. */
typedef struct {
    v128_t ae[16], ao[16], bs;
} act_block_k;

/* Q8_K blocks per chunk (rows of up to 16384 elements in one, 34 KB) */
enum { MAXBK = 64 };

/* 4 rows of nb Q4_K blocks against the prepared activation: per sub-block
 * the nibbles in int16 lanes as gemv_q4_0's, weighted by the 6-bit scales,
 * the mins through the sub-block sums; then per lane the reference's float
 * expression, the 4 rows' d and dmin converted together. */
INLINE void rows4_q4_K(int64_t nb, float *out, const uint8_t *w, size_t ws, const hearth_block_q8_K *y,
                       const act_block_k *p, bool carry) {
    const v128_t m4 = wasm_i16x8_splat(0x0F);
    v128_t s4 = carry ? wasm_v128_load(out) : wasm_f32x4_splat(0.f);
    for (int64_t b = 0; b < nb; b++) {
        const v128_t *ae = p[b].ae, *ao = p[b].ao;
        v128_t sumi[4], summ[4];
        hearth_f16 dd[8]; /* the rows' d, then their dmin */
        for (int i = 0; i < 4; i++) {
            const hearth_block_q4_K *x = (const hearth_block_q4_K *)(w + (size_t)i * ws) + b;
            v128_t d[8]; /* sub-block j's integer dot product, in 4 lanes */
            for (int q = 0; q < 4; q++) {
                v128_t v0 = wasm_v128_load(x->qs + 32 * q), v1 = wasm_v128_load(x->qs + 32 * q + 16);
                /* sub-block 2q: elements 64q + 0..31 = ae/ao[4q], [4q+1] */
                v128_t d0 = wasm_i32x4_dot_i16x8(wasm_v128_and(v0, m4), ae[4 * q]);
                d0 = wasm_i32x4_add(d0, wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(v0, 8), m4), ao[4 * q]));
                d0 = wasm_i32x4_add(d0, wasm_i32x4_dot_i16x8(wasm_v128_and(v1, m4), ae[4 * q + 1]));
                d[2 * q] = wasm_i32x4_add(d0, wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(v1, 8), m4), ao[4 * q + 1]));
                /* sub-block 2q+1: elements 64q + 32..63 = ae/ao[4q+2], [4q+3] */
                v128_t d1 = wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(v0, 4), m4), ae[4 * q + 2]);
                d1 = wasm_i32x4_add(d1, wasm_i32x4_dot_i16x8(wasm_u16x8_shr(v0, 12), ao[4 * q + 2]));
                d1 = wasm_i32x4_add(d1, wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(v1, 4), m4), ae[4 * q + 3]));
                d[2 * q + 1] = wasm_i32x4_add(d1, wasm_i32x4_dot_i16x8(wasm_u16x8_shr(v1, 12), ao[4 * q + 3]));
            }
            v128_t sc, m;
            hearth_wasm_scales_q4_K(x->scales, &sc, &m);
            sumi[i] = wasm_i32x4_add(
                wasm_i32x4_mul(hearth_wasm_hsum4_i32(d[0], d[1], d[2], d[3]), wasm_u32x4_extend_low_u16x8(sc)),
                wasm_i32x4_mul(hearth_wasm_hsum4_i32(d[4], d[5], d[6], d[7]), wasm_u32x4_extend_high_u16x8(sc)));
            summ[i] = wasm_i32x4_dot_i16x8(m, p[b].bs);
            dd[i] = x->d, dd[4 + i] = x->dmin;
        }
        v128_t d, dmin;
        f16x8_to_f32(wasm_v128_load(dd), &d, &dmin);
        v128_t fi = wasm_f32x4_convert_i32x4(hearth_wasm_hsum4_i32(sumi[0], sumi[1], sumi[2], sumi[3]));
        v128_t fm = wasm_f32x4_convert_i32x4(hearth_wasm_hsum4_i32(summ[0], summ[1], summ[2], summ[3]));
        v128_t t = wasm_f32x4_sub(wasm_f32x4_mul(d, fi), wasm_f32x4_mul(dmin, fm));
        s4 = wasm_f32x4_add(s4, wasm_f32x4_mul(wasm_f32x4_splat(y[b].d), t));
    }
    wasm_v128_store(out, s4);
}

/* Q4_K gemv, 4 rows at a time on activation blocks prepared once per gemv
 * (per chunk of MAXBK), then one at a time. */
static void gemv_q4_K(int64_t n, int64_t nrows, float *out, const void *w, size_t ws,
                      const void *act) {
    const hearth_block_q8_K *y = act;
    const uint8_t *wb = w;
    int64_t nb = n / QK_K, n4 = nrows & ~(int64_t)3;
    act_block_k p[MAXBK];
    for (int64_t b0 = 0; n4 && b0 < nb; b0 += MAXBK) {
        int64_t cb = nb - b0 < MAXBK ? nb - b0 : MAXBK;
        for (int64_t b = 0; b < cb; b++) {
            const hearth_block_q8_K *yb = &y[b0 + b];
            for (int k = 0; k < 16; k++) deinterleave_i8(yb->qs + 16 * k, &p[b].ae[k], &p[b].ao[k]);
            v128_t bs0 = wasm_v128_load(yb->bsums), bs1 = wasm_v128_load(yb->bsums + 8);
            p[b].bs = wasm_i16x8_add(wasm_i16x8_shuffle(bs0, bs1, 0, 2, 4, 6, 8, 10, 12, 14),
                                     wasm_i16x8_shuffle(bs0, bs1, 1, 3, 5, 7, 9, 11, 13, 15));
        }
        for (int64_t r = 0; r < n4; r += 4)
            rows4_q4_K(cb, out + r, wb + (size_t)r * ws + (size_t)b0 * sizeof(hearth_block_q4_K), ws, y + b0, p,
                       b0 > 0);
    }
    for (int64_t r = n4; r < nrows; r++) out[r] = dot_q4_K(n, wb + (size_t)r * ws, y);
}

static float dot_q5_K(int64_t n, const void *w, const void *a) {
    const hearth_block_q5_K *x = w;
    const hearth_block_q8_K *y = a;
    float s = 0.f;
    for (int64_t b = 0; b < n / QK_K; b++) {
        const hearth_f16 dd[2] = {x[b].d, x[b].dmin};
        s += dot_k4(dd, x[b].scales, x[b].qs, x[b].qh, &y[b]);
    }
    return s;
}

/* The 32 codes of a Q8_0 weight block as int8. */
INLINE void codes_q8_0(const void *blk, v128_t *w0, v128_t *w1) {
    const hearth_block_q8_0 *x = blk;
    *w0 = wasm_v128_load(x->qs);
    *w1 = wasm_v128_load(x->qs + 16);
}

INLINE void codes_q5_0(const void *blk, v128_t *w0, v128_t *w1) {
    const hearth_block_q5_0 *x = blk;
    hearth_wasm_codes5(x->qs, x->qh, w0, w1);
    *w0 = wasm_i8x16_sub(*w0, wasm_i8x16_splat(16));
    *w1 = wasm_i8x16_sub(*w1, wasm_i8x16_splat(16));
}

static float dot_q5_0(int64_t n, const void *w, const void *a) {
    const hearth_block_q5_0 *x = w;
    const hearth_block_q8_0 *y = a;
    float s = 0.f;
    for (int64_t b = 0; b < n / QK5_0; b++) {
        v128_t w0, w1;
        codes_q5_0(&x[b], &w0, &w1);
        int32_t sumi = dot32_i8(w0, w1, wasm_v128_load(y[b].qs), wasm_v128_load(y[b].qs + 16));
        s += hearth_f16_to_f32(x[b].d) * hearth_f16_to_f32(y[b].d) * (float)sumi;
    }
    return s;
}

/* Q4_1 / Q5_1 against Q8_1: unsigned codes, the min through s = d*sum(qs). */
static float dot_q4_1(int64_t n, const void *w, const void *a) {
    const hearth_block_q4_1 *x = w;
    const hearth_block_q8_1 *y = a;
    const v128_t m4 = wasm_i8x16_splat(0x0F);
    float s = 0.f;
    for (int64_t b = 0; b < n / QK4_1; b++) {
        v128_t q = wasm_v128_load(x[b].qs);
        int32_t sumi = dot32_i8(wasm_v128_and(q, m4), wasm_u8x16_shr(q, 4), wasm_v128_load(y[b].qs),
                                wasm_v128_load(y[b].qs + 16));
        s += hearth_f16_to_f32(x[b].d) * hearth_f16_to_f32(y[b].d) * (float)sumi +
             hearth_f16_to_f32(x[b].m) * hearth_f16_to_f32(y[b].s);
    }
    return s;
}

static float dot_q5_1(int64_t n, const void *w, const void *a) {
    const hearth_block_q5_1 *x = w;
    const hearth_block_q8_1 *y = a;
    float s = 0.f;
    for (int64_t b = 0; b < n / QK5_1; b++) {
        v128_t w0, w1;
        hearth_wasm_codes5(x[b].qs, x[b].qh, &w0, &w1);
        int32_t sumi = dot32_i8(w0, w1, wasm_v128_load(y[b].qs), wasm_v128_load(y[b].qs + 16));
        s += hearth_f16_to_f32(x[b].d) * hearth_f16_to_f32(y[b].d) * (float)sumi +
             hearth_f16_to_f32(x[b].m) * hearth_f16_to_f32(y[b].s);
    }
    return s;
}

/* Q4_0, Q5_0 and Q8_0 (the weight types with Q8_0 activations), 4 rows at
 * a time. Each activation block is made ready once per gemv for all rows:
 * widened to int16 (Q8_0, Q5_0), or for Q4_0 deinterleaved to match its
 * nibbles' order (below) with 8 * the sum of its codes; and its scale.
 * Per row, the blocks are scaled and summed in the reference's order
 * (bit-identical results). */
enum { W_Q4_0, W_Q5_0, W_Q8_0 };

typedef struct {
    v128_t v[4];
    int32_t bias; /* Q4_0: 8 * the sum of the codes */
    float d;      /* the scale */
    float d112;   /* and times 2^112 (hearth_wasm_scales4_fast); Q8_1: its s */
} act_block;

/* Activation blocks per chunk: rows of up to 16384 elements in one (40 KB
 * on the stack), longer ones in several, with the rows' sums carried over. */
enum { MAXB = 512 };

/* One activation block's codes into p->v: widened, or first deinterleaved
 * (even elements in lanes 0-7, odd ones in 8-15) for nibbles read as u16. */
INLINE void widen_act(bool deinterleave, const int8_t *qs, act_block *p) {
    v128_t a0 = wasm_v128_load(qs), a1 = wasm_v128_load(qs + 16);
    if (deinterleave) {
        a0 = wasm_i8x16_shuffle(a0, a0, 0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
        a1 = wasm_i8x16_shuffle(a1, a1, 0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    }
    p->v[0] = wasm_i16x8_extend_low_i8x16(a0);
    p->v[1] = wasm_i16x8_extend_high_i8x16(a0);
    p->v[2] = wasm_i16x8_extend_low_i8x16(a1);
    p->v[3] = wasm_i16x8_extend_high_i8x16(a1);
}

INLINE void prepare(int kind, const hearth_block_q8_0 *y, int64_t nb, act_block *p) {
    for (int64_t b = 0; b < nb; b++) {
        widen_act(kind == W_Q4_0, y[b].qs, &p[b]);
        p[b].bias = 0;
        if (kind == W_Q4_0) {
            v128_t s = wasm_i16x8_add(wasm_i16x8_add(p[b].v[0], p[b].v[1]), wasm_i16x8_add(p[b].v[2], p[b].v[3]));
            p[b].bias = hearth_wasm_hsum_i32(wasm_i32x4_dot_i16x8(s, wasm_i16x8_splat(8)));
        }
        p[b].d = hearth_f16_to_f32(y[b].d);
        p[b].d112 = p[b].d * 0x1p112f;
    }
}

/* One weight block x against its prepared activation block: 4 int32 lanes
 * summing to the exact integer dot product (Q4_0: plus the bias). Q4_0's
 * 16 bytes are read as 8 u16 lanes (bytes 2k, 2k+1): they give elements 2k,
 * 2k+1, 2k+16 and 2k+17 as (v & 15), (v >> 8) & 15, (v >> 4) & 15 and v >>
 * 12, 7 operations for the 32 codes instead of widening int8 codes
 * (SIMD128's u8 shift and i8 -> i16 high widening cost several x86
 * instructions each); the codes stay unsigned (0..15) and the bias of 8
 * comes off as the activation block's bias. */
/* 16 nibble bytes v (Q4_0's and Q4_1's layout) against a deinterleaved
 * activation block (see block_sums). */
INLINE v128_t dot_nibbles(v128_t v, const act_block *p) {
    const v128_t m4 = wasm_i16x8_splat(0x0F);
    v128_t t = wasm_i32x4_dot_i16x8(wasm_v128_and(v, m4), p->v[0]);
    t = wasm_i32x4_add(t, wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(v, 8), m4), p->v[1]));
    t = wasm_i32x4_add(t, wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(v, 4), m4), p->v[2]));
    return wasm_i32x4_add(t, wasm_i32x4_dot_i16x8(wasm_u16x8_shr(v, 12), p->v[3]));
}

/* 32 int8 codes (w0, w1) against a widened activation block. */
INLINE v128_t dot_widened(v128_t w0, v128_t w1, const act_block *p) {
    v128_t t = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w0), p->v[0]);
    t = wasm_i32x4_add(t, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w0), p->v[1]));
    t = wasm_i32x4_add(t, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w1), p->v[2]));
    return wasm_i32x4_add(t, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w1), p->v[3]));
}

INLINE v128_t block_sums(int kind, const uint8_t *x, const act_block *p) {
    if (kind == W_Q4_0) return dot_nibbles(wasm_v128_load(((const hearth_block_q4_0 *)x)->qs), p);
    v128_t w0, w1;
    if (kind == W_Q5_0) codes_q5_0(x, &w0, &w1);
    else codes_q8_0(x, &w0, &w1);
    return dot_widened(w0, w1, p);
}

/* 4 rows of nb blocks of bsize bytes from w (ws apart): lane i accumulates
 * row i, block after block as the reference, (dw * da) * sumi, added to
 * out's values when carry (a chunk after the first). Scales exact
 * (hearth_wasm_scales4) or fast (hearth_wasm_scales4_fast, the same
 * products; false, nothing stored, if a scale was inf/NaN). */
INLINE bool rows4(int kind, bool exact, int64_t nb, float *out, const uint8_t *w, size_t ws, size_t bsize,
                  const act_block *p, bool carry) {
    v128_t s4 = carry ? wasm_v128_load(out) : wasm_f32x4_splat(0.f), top = wasm_i16x8_splat(0);
    for (int64_t b = 0; b < nb; b++) {
        v128_t acc[4];
        hearth_f16 d[4];
        for (int i = 0; i < 4; i++) {
            const uint8_t *x = w + (size_t)i * ws + (size_t)b * bsize;
            acc[i] = block_sums(kind, x, p + b);
            memcpy(&d[i], x, sizeof d[i]); /* every block starts with its scale */
        }
        v128_t sum = hearth_wasm_hsum4_i32(acc[0], acc[1], acc[2], acc[3]);
        if (kind == W_Q4_0) sum = wasm_i32x4_sub(sum, wasm_i32x4_splat(p[b].bias));
        v128_t t = exact ? wasm_f32x4_mul(hearth_wasm_scales4(d[0], d[1], d[2], d[3]), wasm_f32x4_splat(p[b].d))
                         : wasm_f32x4_mul(hearth_wasm_scales4_fast(d, &top), wasm_f32x4_splat(p[b].d112));
        s4 = wasm_f32x4_add(s4, wasm_f32x4_mul(t, wasm_f32x4_convert_i32x4(sum)));
    }
    if (!exact && hearth_wasm_scales_nonfinite(top)) return false;
    wasm_v128_store(out, s4);
    return true;
}

INLINE void gemv_q(int kind, int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    const size_t bsize = kind == W_Q4_0 ? sizeof(hearth_block_q4_0)
                       : kind == W_Q5_0 ? sizeof(hearth_block_q5_0) : sizeof(hearth_block_q8_0);
    const hearth_block_q8_0 *y = act;
    const uint8_t *wb = w;
    int64_t nb = n / QK8_0, n4 = nrows & ~(int64_t)3;
    act_block p[MAXB];
    for (int64_t b0 = 0; n4 && b0 < nb; b0 += MAXB) {
        int64_t cb = nb - b0 < MAXB ? nb - b0 : MAXB;
        prepare(kind, y + b0, cb, p);
        for (int64_t r = 0; r < n4; r += 4) {
            const uint8_t *wr = wb + (size_t)r * ws + (size_t)b0 * bsize;
            if (!rows4(kind, false, cb, out + r, wr, ws, bsize, p, b0 > 0))
                rows4(kind, true, cb, out + r, wr, ws, bsize, p, b0 > 0);
        }
    }
    float (*dot1)(int64_t, const void *, const void *) = kind == W_Q4_0 ? dot_q4_0
                                                        : kind == W_Q5_0 ? dot_q5_0 : dot_q8_0;
    for (int64_t r = n4; r < nrows; r++) out[r] = dot1(n, wb + (size_t)r * ws, y);
}

static void gemv_q4_0(int64_t n, int64_t nrows, float *out, const void *w, size_t ws,
                      const void *act) {
    gemv_q(W_Q4_0, n, nrows, out, w, ws, act);
}

static void gemv_q8_0(int64_t n, int64_t nrows, float *out, const void *w, size_t ws,
                      const void *act) {
    gemv_q(W_Q8_0, n, nrows, out, w, ws, act);
}

static void gemv_q5_0(int64_t n, int64_t nrows, float *out, const void *w, size_t ws,
                      const void *act) {
    gemv_q(W_Q5_0, n, nrows, out, w, ws, act);
}

/* Q4_1 / Q5_1 against Q8_1 activations (d, s = d * sum(qs), the codes), 4
 * rows at a time: each activation block prepared once per gemv
 * (deinterleaved for Q4_1's nibbles, widened for Q5_1's codes), its d and s
 * as floats; the unsigned codes against it, the min through s; the rows' d
 * and m converted together, and per lane the reference's expression. Added
 * to out's values when carry. */
INLINE void rows4_qx_1(bool q5, int64_t nb, float *out, const uint8_t *w, size_t ws, const act_block *p,
                       bool carry) {
    const size_t bsize = q5 ? sizeof(hearth_block_q5_1) : sizeof(hearth_block_q4_1);
    v128_t s4 = carry ? wasm_v128_load(out) : wasm_f32x4_splat(0.f);
    for (int64_t b = 0; b < nb; b++) {
        v128_t acc[4];
        hearth_f16 dm[8]; /* the rows' d, then their m */
        for (int i = 0; i < 4; i++) {
            const uint8_t *blk = w + (size_t)i * ws + (size_t)b * bsize;
            if (q5) {
                const hearth_block_q5_1 *x = (const hearth_block_q5_1 *)blk;
                v128_t w0, w1;
                hearth_wasm_codes5(x->qs, x->qh, &w0, &w1);
                acc[i] = dot_widened(w0, w1, p + b);
                dm[i] = x->d, dm[4 + i] = x->m;
            } else {
                const hearth_block_q4_1 *x = (const hearth_block_q4_1 *)blk;
                acc[i] = dot_nibbles(wasm_v128_load(x->qs), p + b);
                dm[i] = x->d, dm[4 + i] = x->m;
            }
        }
        v128_t d, m;
        f16x8_to_f32(wasm_v128_load(dm), &d, &m);
        v128_t sumi = wasm_f32x4_convert_i32x4(hearth_wasm_hsum4_i32(acc[0], acc[1], acc[2], acc[3]));
        v128_t t = wasm_f32x4_mul(wasm_f32x4_mul(d, wasm_f32x4_splat(p[b].d)), sumi);
        s4 = wasm_f32x4_add(s4, wasm_f32x4_add(t, wasm_f32x4_mul(m, wasm_f32x4_splat(p[b].d112))));
    }
    wasm_v128_store(out, s4);
}

INLINE void gemv_qx_1(bool q5, int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    const size_t bsize = q5 ? sizeof(hearth_block_q5_1) : sizeof(hearth_block_q4_1);
    const hearth_block_q8_1 *y = act;
    const uint8_t *wb = w;
    int64_t nb = n / QK4_1, n4 = nrows & ~(int64_t)3;
    act_block p[MAXB];
    for (int64_t b0 = 0; n4 && b0 < nb; b0 += MAXB) {
        int64_t cb = nb - b0 < MAXB ? nb - b0 : MAXB;
        for (int64_t b = 0; b < cb; b++) {
            widen_act(!q5, y[b0 + b].qs, &p[b]);
            p[b].d = hearth_f16_to_f32(y[b0 + b].d);
            p[b].d112 = hearth_f16_to_f32(y[b0 + b].s);
        }
        for (int64_t r = 0; r < n4; r += 4)
            rows4_qx_1(q5, cb, out + r, wb + (size_t)r * ws + (size_t)b0 * bsize, ws, p, b0 > 0);
    }
    for (int64_t r = n4; r < nrows; r++) out[r] = (q5 ? dot_q5_1 : dot_q4_1)(n, wb + (size_t)r * ws, y);
}

static void gemv_q4_1(int64_t n, int64_t nrows, float *out, const void *w, size_t ws,
                      const void *act) {
    gemv_qx_1(false, n, nrows, out, w, ws, act);
}

static void gemv_q5_1(int64_t n, int64_t nrows, float *out, const void *w, size_t ws,
                      const void *act) {
    gemv_qx_1(true, n, nrows, out, w, ws, act);
}

#define WASM_KERNELS(name, fn)                                                               \
    static void gemv_##name(int64_t n, int64_t nrows, float *out, const void *w,             \
                            size_t w_stride, const void *act) {                              \
        const uint8_t *wb = w;                                                               \
        for (int64_t r = 0; r < nrows; r++) out[r] = fn(n, wb + (size_t)r * w_stride, act);  \
    }                                                                                        \
    HEARTH_DOT_GEMM_BY_GEMV(name)

HEARTH_DOT_GEMM_BY_GEMV(f32)
HEARTH_DOT_GEMM_BY_GEMV(f16)
HEARTH_DOT_GEMM_BY_GEMV(bf16)
HEARTH_DOT_GEMM_BY_GEMV(q8_0)
HEARTH_DOT_GEMM_BY_GEMV(q4_0)
HEARTH_DOT_GEMM_BY_GEMV(q5_0)
HEARTH_DOT_GEMM_BY_GEMV(q4_1)
HEARTH_DOT_GEMM_BY_GEMV(q5_1)
WASM_KERNELS(q2_K, dot_q2_K)
WASM_KERNELS(q3_K, dot_q3_K)
HEARTH_DOT_GEMM_BY_GEMV(q4_K)
WASM_KERNELS(q5_K, dot_q5_K)
HEARTH_DOT_GEMM_BY_GEMV(q6_K)

void hearth_dot_fill_wasm128(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) {
#define SET(T, name)                             \
    do {                                         \
        tab[HEARTH_TYPE_##T].gemv = gemv_##name; \
        tab[HEARTH_TYPE_##T].gemm = gemm_##name; \
    } while (0)
    SET(F32, f32);
    SET(F16, f16);
    SET(BF16, bf16);
    SET(Q8_0, q8_0);
    SET(Q4_0, q4_0);
    SET(Q4_1, q4_1);
    SET(Q5_0, q5_0);
    SET(Q5_1, q5_1);
    SET(Q2_K, q2_K);
    SET(Q3_K, q3_K);
    SET(Q4_K, q4_K);
    SET(Q5_K, q5_K);
    SET(Q6_K, q6_K);
#undef SET
}
#else
void hearth_dot_fill_wasm128(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) { (void)tab; }
#endif
