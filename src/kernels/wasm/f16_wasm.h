/*
 * f16_wasm.h: binary16 -> binary32 in WebAssembly SIMD128 lanes (there is
 * no conversion instruction), exact for every value: shared by the wasm dot
 * kernels (dot_wasm.c) and attention (model/attn_wasm.c). Include only
 * under __wasm_simd128__.
 */
#ifndef HEARTH_KERNELS_WASM_F16_WASM_H
#define HEARTH_KERNELS_WASM_F16_WASM_H

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

/* Four binary16 values at p (8 bytes) as f32. */
static inline __attribute__((always_inline)) v128_t hearth_wasm_load_f16x4(const void *p) {
    return hearth_wasm_f16x4_to_f32(wasm_u32x4_load16x4(p));
}

#endif
