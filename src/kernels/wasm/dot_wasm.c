/*
 * dot_wasm.c: the WebAssembly SIMD128 kernels of dot.h (issue 19), the third
 * kernel family beside x86/ and arm/, built only by the browser build
 * (web/CMakeLists.txt, -msimd128). Elsewhere the fill function is an empty
 * stub dot.c never calls.
 *
 * Weight types here: F32, F16, BF16 (f32x4 multiply-adds, the tail in
 * scalar code; F16/BF16 widened in the vector registers), Q8_0 and Q4_0
 * (int8 codes widened to int16, i32x4.dot_i16x8_s, exact per block). The
 * other types keep their reference kernels (dot.c starts from the
 * reference table). Quantized blocks are scaled and summed in the
 * reference's order, so Q8_0/Q4_0 results equal kernels/ref/ bit for bit;
 * the float types differ only by the order of float additions. gemm is
 * gemv per activation column (no weight reuse across columns yet).
 */
#include "kernels/dot_int.h"

#if defined(__wasm_simd128__)
#include "kernels/fp16.h"
#include "kernels/quants.h"

#include <string.h>
#include <wasm_simd128.h>

#define INLINE static inline __attribute__((always_inline))

INLINE float hsum_f32(v128_t v) {
    return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
           (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

INLINE int32_t hsum_i32(v128_t v) {
    return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) +
           wasm_i32x4_extract_lane(v, 2) + wasm_i32x4_extract_lane(v, 3);
}

/* Four binary16 values (in the low 16 bits of each u32 lane) as f32:
 * exponent and mantissa moved into place and rebiased by a multiply by
 * 2^112 (exact for normals and subnormals), inf/NaN patched, sign or'ed. */
INLINE v128_t f16x4_to_f32(v128_t h) {
    v128_t em = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x7fff)), 13);
    v128_t f = wasm_f32x4_mul(em, wasm_f32x4_splat(0x1p112f));
    v128_t infnan = wasm_i32x4_eq(wasm_v128_and(h, wasm_i32x4_splat(0x7c00)),
                                  wasm_i32x4_splat(0x7c00));
    f = wasm_v128_bitselect(wasm_v128_or(em, wasm_i32x4_splat(0x7f800000)), f, infnan);
    return wasm_v128_or(f, wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16));
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
        v128_t h = wasm_v128_load(x + i);
        v128_t lo = f16x4_to_f32(wasm_u32x4_extend_low_u16x8(h));
        v128_t hi = f16x4_to_f32(wasm_u32x4_extend_high_u16x8(h));
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

/* The exact integer dot product of 32 int8 codes (two vectors each). */
INLINE int32_t dot32_i8(v128_t w0, v128_t w1, v128_t a0, v128_t a1) {
    v128_t acc = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w0), wasm_i16x8_extend_low_i8x16(a0));
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w0),
                                                   wasm_i16x8_extend_high_i8x16(a0)));
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w1),
                                                   wasm_i16x8_extend_low_i8x16(a1)));
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w1),
                                                   wasm_i16x8_extend_high_i8x16(a1)));
    return hsum_i32(acc);
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

#define WASM_KERNELS(name, fn)                                                               \
    static void gemv_##name(int64_t n, int64_t nrows, float *out, const void *w,             \
                            size_t w_stride, const void *act) {                              \
        const uint8_t *wb = w;                                                               \
        for (int64_t r = 0; r < nrows; r++) out[r] = fn(n, wb + (size_t)r * w_stride, act);  \
    }                                                                                        \
    static void gemm_##name(int64_t n, int64_t nrows, int64_t ncols, float *out,             \
                            int64_t out_stride, const void *w, size_t w_stride,              \
                            const void *act, size_t act_stride) {                            \
        const uint8_t *ab = act;                                                             \
        for (int64_t c = 0; c < ncols; c++)                                                  \
            gemv_##name(n, nrows, out + c * out_stride, w, w_stride,                         \
                        ab + (size_t)c * act_stride);                                        \
    }

WASM_KERNELS(f32, dot_f32)
WASM_KERNELS(f16, dot_f16)
WASM_KERNELS(bf16, dot_bf16)
WASM_KERNELS(q8_0, dot_q8_0)
WASM_KERNELS(q4_0, dot_q4_0)

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
#undef SET
}
#else
void hearth_dot_fill_wasm128(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) { (void)tab; }
#endif
