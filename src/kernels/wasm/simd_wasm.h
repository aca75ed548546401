/*
 * simd_wasm.h: lane sums, Q4_K/Q5_K scale unpacking and block scales in
 * WebAssembly SIMD128 and Q5_0/Q5_1 code unpacking, shared by the SIMD128
 * kernels (dot_wasm.c) and the relaxed-SIMD ones (dot_relaxed.c). Include only under __wasm_simd128__.
 */
#ifndef HEARTH_KERNELS_WASM_SIMD_WASM_H
#define HEARTH_KERNELS_WASM_SIMD_WASM_H

#include "kernels/fp16.h"
#include "kernels/wasm/f16_wasm.h"

#include <stdbool.h>
#include <stdint.h>
#include <wasm_simd128.h>

#define HEARTH_WASM_INLINE static inline __attribute__((always_inline))

HEARTH_WASM_INLINE int32_t hearth_wasm_hsum_i32(v128_t v) {
    return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) +
           wasm_i32x4_extract_lane(v, 2) + wasm_i32x4_extract_lane(v, 3);
}

/* Sums of 4 vectors' lanes: {sum(a), sum(b), sum(c), sum(d)}. */
HEARTH_WASM_INLINE v128_t hearth_wasm_hsum4_i32(v128_t a, v128_t b, v128_t c, v128_t d) {
    v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 1, 4, 5), wasm_i32x4_shuffle(a, b, 2, 3, 6, 7));
    v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 1, 4, 5), wasm_i32x4_shuffle(c, d, 2, 3, 6, 7));
    return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 2, 4, 6), wasm_i32x4_shuffle(ab, cd, 1, 3, 5, 7));
}

/* Four binary16 block scales as f32x4 (exact; the finite fast path unless
 * one is inf/NaN). */
HEARTH_WASM_INLINE v128_t hearth_wasm_scales4(hearth_f16 d0, hearth_f16 d1, hearth_f16 d2, hearth_f16 d3) {
    v128_t dh = wasm_i16x8_make((int16_t)d0, (int16_t)d1, (int16_t)d2, (int16_t)d3, 0, 0, 0, 0);
    return __builtin_expect(hearth_wasm_f16x8_any_infnan(dh), 0)
               ? hearth_wasm_f16x4_to_f32(wasm_u32x4_extend_low_u16x8(dh))
               : hearth_wasm_f16x8_lo_finite(dh);
}

/* The fast path of hearth_wasm_scales4 for kernels that multiply the
 * scales by an activation scale: each scale times 2^-112, exactly
 * (hearth_wasm_f16x8_lo_scaled), to be multiplied by the activation's scale
 * times 2^112 (at most 65504 * 2^112, below FLT_MAX), which gives the same
 * products bit for bit, without a multiply or a branch per block. Wrong
 * for inf/NaN: *top keeps the largest magnitude seen, and
 * hearth_wasm_scales_nonfinite(*top) says if one was. */
HEARTH_WASM_INLINE v128_t hearth_wasm_scales4_fast(const hearth_f16 d[4], v128_t *top) {
    v128_t dh = wasm_i16x8_make((int16_t)d[0], (int16_t)d[1], (int16_t)d[2], (int16_t)d[3], 0, 0, 0, 0);
    /* dh + dh drops the sign: inf/NaN are 0xf800 and up */
    *top = wasm_u16x8_max(*top, wasm_i16x8_add(dh, dh));
    return hearth_wasm_f16x8_lo_scaled(dh);
}
HEARTH_WASM_INLINE bool hearth_wasm_scales_nonfinite(v128_t top) {
    return wasm_v128_any_true(wasm_u16x8_ge(top, wasm_i16x8_splat((int16_t)0xf800)));
}

/* The 8 6-bit scales (*sc) and mins (*m) of a Q4_K/Q5_K block as int16
 * lanes, hearth_get_scale_min_k4 for j = 0..7 at once. Reads 16 bytes at
 * scales (the 12 of scales[] and the 4 after them, in the same block). */
HEARTH_WASM_INLINE void hearth_wasm_scales_q4_K(const uint8_t *scales, v128_t *sc, v128_t *m) {
    v128_t q = wasm_v128_load(scales);
    /* lanes 0-7 build scale j, 8-15 min j: the low 6 bits from q[j] / q[j+4]
     * (j < 4), else a nibble of q[j+4] and the top 2 bits of q[j-4] / q[j] */
    v128_t lo = wasm_i8x16_shuffle(q, q, 0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11);
    v128_t top = wasm_i8x16_shuffle(q, q, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7);
    const v128_t first8 = wasm_i8x16_make(-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0);
    const v128_t low4 = wasm_i8x16_make(-1, -1, -1, -1, 0, 0, 0, 0, -1, -1, -1, -1, 0, 0, 0, 0);
    v128_t nib = wasm_v128_bitselect(wasm_v128_and(lo, wasm_i8x16_splat(0x0F)), wasm_u8x16_shr(lo, 4), first8);
    v128_t hi = wasm_v128_or(nib, wasm_i8x16_shl(wasm_u8x16_shr(top, 6), 4));
    v128_t res = wasm_v128_bitselect(wasm_v128_and(lo, wasm_i8x16_splat(63)), hi, low4);
    *sc = wasm_u16x8_extend_low_u8x16(res);
    *m = wasm_u16x8_extend_high_u8x16(res);
}

/* The 16 6-bit scales of a Q3_K block minus 32 as int8 lanes,
 * hearth_q3_K_scales at once: scale j's low 4 bits are the low (j < 8) or
 * high nibble of byte j % 8, its top 2 bits bits 2(j / 4), 2(j / 4) + 1 of
 * byte 8 + j % 4. Reads the 12 bytes at s only. */
HEARTH_WASM_INLINE v128_t hearth_wasm_scales_q3_K(const uint8_t *s) {
    v128_t q = wasm_v128_load32_lane(s + 8, wasm_v128_load64_zero(s), 2); /* bytes 0-11 */
    const v128_t m4 = wasm_i8x16_splat(0x0F), m2 = wasm_i8x16_splat(3);
    v128_t lo = wasm_i8x16_shuffle(q, q, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
    const v128_t first8 = wasm_i8x16_make(-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0);
    lo = wasm_v128_and(wasm_v128_bitselect(lo, wasm_u16x8_shr(lo, 4), first8), m4);
    /* bytes 8-11 four times, each copy shifted by its 2(j / 4) (u16 shifts:
     * the mask drops what crosses a byte) */
    v128_t t = wasm_i8x16_shuffle(q, q, 8, 9, 10, 11, 8, 9, 10, 11, 8, 9, 10, 11, 8, 9, 10, 11);
    const v128_t g0 = wasm_i32x4_make(-1, 0, 0, 0), g1 = wasm_i32x4_make(0, -1, 0, 0);
    const v128_t g2 = wasm_i32x4_make(0, 0, -1, 0);
    v128_t hi = wasm_v128_bitselect(t, wasm_u16x8_shr(t, 2), g0);
    hi = wasm_v128_bitselect(hi, wasm_u16x8_shr(t, 4), wasm_v128_or(g0, g1));
    hi = wasm_v128_bitselect(hi, wasm_u16x8_shr(t, 6), wasm_v128_or(wasm_v128_or(g0, g1), g2));
    hi = wasm_v128_and(hi, m2);
    return wasm_i8x16_sub(wasm_v128_or(lo, wasm_i16x8_shl(hi, 4)), wasm_i8x16_splat(32));
}

/* Q5_0 / Q5_1 codes (0..31, bias not removed): the nibbles with their 5th
 * bit, bit j of the little-endian u32 at qh for element j, spread to bytes
 * by one swizzle per 16 elements (16 scalar lane inserts cost V8 a long
 * sequence). *lo: elements 0..15, *hi: 16..31. */
HEARTH_WASM_INLINE void hearth_wasm_codes5(const uint8_t *qs, const uint8_t *qh, v128_t *lo, v128_t *hi) {
    const v128_t m4 = wasm_i8x16_splat(0x0F), b5 = wasm_i8x16_splat(0x10);
    const v128_t sel = wasm_u8x16_make(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
    v128_t h = wasm_v128_load32_splat(qh);
    v128_t h0 = wasm_i8x16_swizzle(h, wasm_u8x16_make(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
    v128_t h1 = wasm_i8x16_swizzle(h, wasm_u8x16_make(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    v128_t q = wasm_v128_load(qs);
    *lo = wasm_v128_or(wasm_v128_and(q, m4), wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(h0, sel), sel), b5));
    *hi = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(q, 4), m4),
                       wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(h1, sel), sel), b5));
}

#endif
