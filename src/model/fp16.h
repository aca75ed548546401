/*
 * fp16.h: IEEE half <-> float conversions for the KV cache (portable C; the
 * hot attention loop converts one row at a time into a float buffer).
 */
#ifndef HEARTH_MODEL_FP16_H
#define HEARTH_MODEL_FP16_H

#include <stdint.h>
#include <string.h>

static inline float hearth_h2f(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t em = h & 0x7fff;
    uint32_t bits;
    if (em >= 0x7c00) {
        bits = sign | 0x7f800000u | ((em & 0x3ff) << 13); /* inf / nan */
    } else if (em >= 0x0400) {
        bits = sign | ((em + ((127 - 15) << 10)) << 13); /* normal */
    } else {
        /* subnormal (or zero): value = em * 2^-24, exact in float */
        float f = (float)em * 5.9604644775390625e-8f;
        memcpy(&bits, &f, 4);
        bits |= sign;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Round to nearest even; overflow gives inf, NaN stays NaN. */
static inline uint16_t hearth_f2h(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* rounds past 65504 */
    if (ax < 0x38800000u) {
        /* result subnormal or zero: scale so the rounding of the float add
         * does round-to-nearest-even at the right bit */
        float a;
        memcpy(&a, &ax, 4);
        a += 0.5f; /* 2^-1 pins the exponent: the mantissa's low bits are a/2^-24 */
        uint32_t b;
        memcpy(&b, &a, 4);
        return (uint16_t)(sign | (b - 0x3f000000u));
    }
    uint32_t mant_odd = (ax >> 13) & 1;
    ax += 0xc8000fffu + mant_odd; /* rebias exponent (-112 << 23) and round */
    return (uint16_t)(sign | (ax >> 13));
}

#endif
