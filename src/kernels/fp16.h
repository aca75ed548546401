/*
 * fp16.h: exact conversions between float32 and the two 16-bit float formats
 * GGUF files hold: IEEE binary16 ("F16", ggml_half) and bfloat16 ("BF16").
 *
 * Invariants: f16/bf16 -> f32 is exact for every input. f32 -> f16/bf16
 * rounds to nearest, ties to even; overflow gives +-inf, NaN stays NaN
 * (quiet), subnormals are produced and read exactly. Pure functions of their
 * argument: any thread.
 */
#ifndef HEARTH_KERNELS_FP16_H
#define HEARTH_KERNELS_FP16_H

#include <stdint.h>
#include <string.h>

typedef uint16_t hearth_f16;  /* IEEE binary16 bits */
typedef uint16_t hearth_bf16; /* bfloat16 bits (upper half of a float32) */

static inline uint32_t hearth_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float hearth_bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* binary16 -> float32, exact. */
static inline float hearth_f16_to_f32(hearth_f16 h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0) {
        /* zero or subnormal: man * 2^-24 is exact in float32 */
        float v = (float)man * 0x1p-24f;
        return hearth_bits_f32(hearth_f32_bits(v) | sign);
    }
    if (exp == 31) return hearth_bits_f32(sign | 0x7f800000u | (man << 13));
    return hearth_bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

/* float32 -> binary16, round to nearest even. */
static inline hearth_f16 hearth_f32_to_f16(float f) {
    uint32_t x = hearth_f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) /* inf, or NaN made quiet */
        return (hearth_f16)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u | ((ax >> 13) & 0x3ffu) : 0));
    if (ax >= 0x477ff000u) /* >= 65520: rounds past 65504 to inf */
        return (hearth_f16)(sign | 0x7c00u);
    if (ax < 0x38800000u) { /* below 2^-14: half subnormal, unit 2^-24 */
        if (ax <= 0x33000000u) return (hearth_f16)sign; /* <= 2^-25 ties to 0 */
        uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; /* 14..24 */
        uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (hearth_f16)(sign | r); /* r == 0x400 is the smallest normal: right */
    }
    uint32_t r = ax - 0x38000000u; /* rebias the exponent 127 -> 15 */
    uint32_t h = r >> 13, rem = r & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;
    return (hearth_f16)(sign | h);
}

/* bfloat16 -> float32, exact. */
static inline float hearth_bf16_to_f32(hearth_bf16 h) { return hearth_bits_f32((uint32_t)h << 16); }

/* float32 -> bfloat16, round to nearest even; NaN stays a (quiet) NaN. */
static inline hearth_bf16 hearth_f32_to_bf16(float f) {
    uint32_t x = hearth_f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (hearth_bf16)((x >> 16) | 0x40u);
    return (hearth_bf16)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

#endif
