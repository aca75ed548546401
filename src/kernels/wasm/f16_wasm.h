/*
 * f16_wasm.h: binary16 -> binary32 in WebAssembly SIMD128 lanes (there is
 * no conversion instruction), exact for every value (a fast path for
 * finite values, checked per vector): shared by the wasm dot
 * kernels (dot_wasm.c) and attention (model/attn_wasm.c). Include only
 * under __wasm_simd128__.
 */
#ifndef HEARTH_KERNELS_WASM_F16_WASM_H
#define HEARTH_KERNELS_WASM_F16_WASM_H

#include <stdbool.h>
#include <wasm_simd128.h>

/* Four binary16 values (in the low 16 bits of each u32 lane) as f32:
 * exponent and mantissa moved into place and rebiased by a multiply by
 * 2^112 (exact for normals and subnormals), inf/NaN patched, sign or'ed. */
static inline __attribute__((always_inline)) v128_t hearth_wasm_f16x4_to_f32(v128_t h) {
    v128_t em = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x7fff)), 13);
    v128_t f = wasm_f32x4_mul(em, wasm_f32x4_splat(0x1p112f));
    v128_t infnan = wasm_i32x4_eq(wasm_v128_and(h, wasm_i32x4_splat(0x7c00)),
                                  wasm_i32x4_splat(0x7c00));
    f = wasm_v128_bitselect(wasm_v128_or(em, wasm_i32x4_splat(0x7f800000)), f, infnan);
    return wasm_v128_or(f, wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16));
}

/* True if a lane of the 8 binary16 values h is an infinity or a NaN. */
static inline __attribute__((always_inline)) bool hearth_wasm_f16x8_any_infnan(v128_t h) {
    const v128_t e = wasm_i16x8_splat(0x7c00);
    return wasm_v128_any_true(wasm_i16x8_eq(wasm_v128_and(h, e), e));
}

/* The fast path for finite values, before the rebias: each half moved to
 * the top of its 32-bit lane (a shuffle with zeros), shifted right
 * arithmetically by 3 (exponent and mantissa in place; the sign's copies
 * land on the exponent's top 3 bits and are masked off, the sign stays at
 * bit 31). That is the value times 2^-112, exactly: normals become f32
 * normals (2^-14 -> 2^-126), subnormals f32 subnormals. Lanes 0-3 of h (lo)
 * or 4-7 (hi). Wrong for inf/NaN (finite values of 2^-96 and more). */
static inline __attribute__((always_inline)) v128_t hearth_wasm_f16x8_lo_scaled(v128_t h) {
    v128_t x = wasm_i16x8_shuffle(wasm_i16x8_splat(0), h, 0, 8, 1, 9, 2, 10, 3, 11);
    return wasm_v128_and(wasm_i32x4_shr(x, 3), wasm_i32x4_splat((int32_t)0x8fffffff));
}
static inline __attribute__((always_inline)) v128_t hearth_wasm_f16x8_hi_scaled(v128_t h) {
    v128_t x = wasm_i16x8_shuffle(wasm_i16x8_splat(0), h, 4, 12, 5, 13, 6, 14, 7, 15);
    return wasm_v128_and(wasm_i32x4_shr(x, 3), wasm_i32x4_splat((int32_t)0x8fffffff));
}

/* The fast path for finite values: the above rebiased by a multiply by
 * 2^112, which keeps the sign and is exact for normals and subnormals (wasm
 * floats do not flush subnormals). Wrong for inf/NaN: callers check
 * hearth_wasm_f16x8_any_infnan. */
static inline __attribute__((always_inline)) v128_t hearth_wasm_f16x8_lo_finite(v128_t h) {
    return wasm_f32x4_mul(hearth_wasm_f16x8_lo_scaled(h), wasm_f32x4_splat(0x1p112f));
}
static inline __attribute__((always_inline)) v128_t hearth_wasm_f16x8_hi_finite(v128_t h) {
    return wasm_f32x4_mul(hearth_wasm_f16x8_hi_scaled(h), wasm_f32x4_splat(0x1p112f));
}

/* Four binary16 values at p (8 bytes) as f32. */
static inline __attribute__((always_inline)) v128_t hearth_wasm_load_f16x4(const void *p) {
    v128_t h = wasm_v128_load64_zero(p);
    if (__builtin_expect(hearth_wasm_f16x8_any_infnan(h), 0))
        return hearth_wasm_f16x4_to_f32(wasm_u32x4_extend_low_u16x8(h));
    return hearth_wasm_f16x8_lo_finite(h);
}

#endif
