/*
 * quants.h: the quantized block formats of GGUF files, byte for byte as ggml
 * lays them out, and their reference (scalar, deterministic) dequantization
 * and quantization. The code in kernels/ref/quants_*.c is the specification
 * of each format; SIMD kernels must agree with it.
 *
 * Invariants: every block struct has exactly ggml's size (checked by
 * _Static_assert below) and alignment 1 or 2 or 4, so a block can be read in
 * place from an mmap'd file at any offset the GGUF alignment allows. All
 * fp16 fields are IEEE binary16 bits (see fp16.h).
 *
 * Element order inside a block (x[i] is the i-th dequantized value):
 *   Q4_0  x[j] = d*((qs[j]&15)-8), x[j+16] = d*((qs[j]>>4)-8), j<16
 *   Q4_1  as Q4_0 without -8, plus m
 *   Q5_0  5th bit of x[j] is bit j of qh (little-endian u32), then -16
 *   Q5_1  as Q5_0 without -16, plus m
 *   Q8_0  x[j] = d*qs[j];  Q8_1 adds s = d*sum(qs) (activations only)
 *   K-quants: 256 elements per super-block, see the dequantizers.
 *
 * All functions take n, a multiple of the type's block size, and are pure:
 * any thread.
 */
#ifndef HEARTH_KERNELS_QUANTS_H
#define HEARTH_KERNELS_QUANTS_H

#include "kernels/fp16.h"
#include "kernels/types.h"

#include <stdint.h>

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define K_SCALE_SIZE 12

typedef struct {
    hearth_f16 d;
    uint8_t qs[QK4_0 / 2]; /* nibbles: low = x[0..15], high = x[16..31] */
} hearth_block_q4_0;
_Static_assert(sizeof(hearth_block_q4_0) == 18, "Q4_0 block size");

typedef struct {
    hearth_f16 d, m;
    uint8_t qs[QK4_1 / 2];
} hearth_block_q4_1;
_Static_assert(sizeof(hearth_block_q4_1) == 20, "Q4_1 block size");

typedef struct {
    hearth_f16 d;
    uint8_t qh[4]; /* 5th bits, little-endian u32: bit j for x[j] */
    uint8_t qs[QK5_0 / 2];
} hearth_block_q5_0;
_Static_assert(sizeof(hearth_block_q5_0) == 22, "Q5_0 block size");

typedef struct {
    hearth_f16 d, m;
    uint8_t qh[4];
    uint8_t qs[QK5_1 / 2];
} hearth_block_q5_1;
_Static_assert(sizeof(hearth_block_q5_1) == 24, "Q5_1 block size");

typedef struct {
    hearth_f16 d;
    int8_t qs[QK8_0];
} hearth_block_q8_0;
_Static_assert(sizeof(hearth_block_q8_0) == 34, "Q8_0 block size");

typedef struct {
    hearth_f16 d;
    hearth_f16 s; /* d * sum(qs) */
    int8_t qs[QK8_1];
} hearth_block_q8_1;
_Static_assert(sizeof(hearth_block_q8_1) == 36, "Q8_1 block size");

/* 16 sub-blocks of 16; x = d*(scales&15)*q - dmin*(scales>>4), q in 0..3. */
typedef struct {
    uint8_t scales[QK_K / 16]; /* low nibble scale, high nibble min */
    uint8_t qs[QK_K / 4];      /* 2-bit quants */
    hearth_f16 d, dmin;
} hearth_block_q2_K;
_Static_assert(sizeof(hearth_block_q2_K) == 84, "Q2_K block size");

/* 16 sub-blocks of 16; x = d*(sc-32)*(q-4*!hbit), 6-bit sc packed in 12 bytes. */
typedef struct {
    uint8_t hmask[QK_K / 8]; /* high bit of x[i] is bit i/32 of hmask[i%32] */
    uint8_t qs[QK_K / 4];    /* low 2 bits */
    uint8_t scales[12];      /* 16 x 6-bit scales */
    hearth_f16 d;
} hearth_block_q3_K;
_Static_assert(sizeof(hearth_block_q3_K) == 110, "Q3_K block size");

/* 8 sub-blocks of 32; x = d*sc*q - dmin*m, 6-bit sc/m packed in 12 bytes. */
typedef struct {
    hearth_f16 d, dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qs[QK_K / 2];
} hearth_block_q4_K;
_Static_assert(sizeof(hearth_block_q4_K) == 144, "Q4_K block size");

typedef struct {
    hearth_f16 d, dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qh[QK_K / 8]; /* 5th bit of x[64k+l] is bit 2k of qh[l], x[64k+32+l] bit 2k+1 */
    uint8_t qs[QK_K / 2];
} hearth_block_q5_K;
_Static_assert(sizeof(hearth_block_q5_K) == 176, "Q5_K block size");

/* 16 sub-blocks of 16; x = d*scales[i/16]*(q-32), q 6 bits. */
typedef struct {
    uint8_t ql[QK_K / 2];
    uint8_t qh[QK_K / 4];
    int8_t scales[QK_K / 16];
    hearth_f16 d;
} hearth_block_q6_K;
_Static_assert(sizeof(hearth_block_q6_K) == 210, "Q6_K block size");

/* Activation format of the K-quant dot products. */
typedef struct {
    float d;
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16]; /* sum of each group of 16 qs */
} hearth_block_q8_K;
_Static_assert(sizeof(hearth_block_q8_K) == 292, "Q8_K block size");

/* Round to nearest, ties to even (under the default FP rounding mode, which
 * hearth never changes), for |f| < 2^22; larger inputs give garbage that
 * callers clamp. No libm call, so quantization is the same everywhere. */
static inline int hearth_nearest_int(float f) {
    float v = f + 12582912.f; /* 1.5 * 2^23 */
    int32_t i;
    memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

/* Unpacks 6-bit scale j (0..7) and min of a Q4_K/Q5_K scales[12] array. */
static inline void hearth_get_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* Unpacks the 16 signed scales (-32..31) of a Q3_K scales[12] array. */
static inline void hearth_q3_K_scales(const uint8_t *s, int8_t out[16]) {
    for (int j = 0; j < 16; j++) {
        int lo = j < 8 ? s[j] & 0xF : s[j - 8] >> 4;
        int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        out[j] = (int8_t)((lo | (hi << 4)) - 32);
    }
}

/* Dequantize: n elements (multiple of the block size) from blocks at src. */
void hearth_f32_to_float(const void *src, float *dst, int64_t n);
void hearth_f16_to_float(const void *src, float *dst, int64_t n);
void hearth_bf16_to_float(const void *src, float *dst, int64_t n);
void hearth_q4_0_to_float(const void *src, float *dst, int64_t n);
void hearth_q4_1_to_float(const void *src, float *dst, int64_t n);
void hearth_q5_0_to_float(const void *src, float *dst, int64_t n);
void hearth_q5_1_to_float(const void *src, float *dst, int64_t n);
void hearth_q8_0_to_float(const void *src, float *dst, int64_t n);
void hearth_q8_1_to_float(const void *src, float *dst, int64_t n);
void hearth_q2_K_to_float(const void *src, float *dst, int64_t n);
void hearth_q3_K_to_float(const void *src, float *dst, int64_t n);
void hearth_q4_K_to_float(const void *src, float *dst, int64_t n);
void hearth_q5_K_to_float(const void *src, float *dst, int64_t n);
void hearth_q6_K_to_float(const void *src, float *dst, int64_t n);
void hearth_q8_K_to_float(const void *src, float *dst, int64_t n);

/* Reference quantization: n elements (multiple of the block size) into
 * n / block_size blocks at dst. Deterministic (same input, same bytes).
 * Non-finite inputs give unspecified (but memory-safe) blocks. */
void hearth_f32_from_float_ref(const float *src, void *dst, int64_t n);
void hearth_f16_from_float_ref(const float *src, void *dst, int64_t n);
void hearth_bf16_from_float_ref(const float *src, void *dst, int64_t n);
void hearth_q4_0_from_float_ref(const float *src, void *dst, int64_t n);
void hearth_q4_1_from_float_ref(const float *src, void *dst, int64_t n);
void hearth_q5_0_from_float_ref(const float *src, void *dst, int64_t n);
void hearth_q5_1_from_float_ref(const float *src, void *dst, int64_t n);
void hearth_q8_0_from_float_ref(const float *src, void *dst, int64_t n);
void hearth_q8_1_from_float_ref(const float *src, void *dst, int64_t n);
void hearth_q2_K_from_float_ref(const float *src, void *dst, int64_t n);
void hearth_q3_K_from_float_ref(const float *src, void *dst, int64_t n);
void hearth_q4_K_from_float_ref(const float *src, void *dst, int64_t n);
void hearth_q5_K_from_float_ref(const float *src, void *dst, int64_t n);
void hearth_q6_K_from_float_ref(const float *src, void *dst, int64_t n);
void hearth_q8_K_from_float_ref(const float *src, void *dst, int64_t n);

/* ---- importance-weighted quantization (hearth quantize --imatrix) ---------- */

/* Quantize n elements (one row, a multiple of the block size) minimising the
 * squared error weighted per element by imp[i] (an importance matrix column,
 * mean squared activation; imp has n entries), times sqrt(sigma2 + x^2) with
 * sigma2 the row's mean square, as each block's scale search. imp NULL is
 * exactly the reference quantizer. Q8_0 (and the float types) ignore imp.
 * Deterministic. */
void hearth_q4_0_quantize_imp(const float *src, void *dst, int64_t n, const float *imp);
void hearth_q4_1_quantize_imp(const float *src, void *dst, int64_t n, const float *imp);
void hearth_q5_0_quantize_imp(const float *src, void *dst, int64_t n, const float *imp);
void hearth_q5_1_quantize_imp(const float *src, void *dst, int64_t n, const float *imp);
void hearth_q2_K_quantize_imp(const float *src, void *dst, int64_t n, const float *imp);
void hearth_q3_K_quantize_imp(const float *src, void *dst, int64_t n, const float *imp);
void hearth_q4_K_quantize_imp(const float *src, void *dst, int64_t n, const float *imp);
void hearth_q5_K_quantize_imp(const float *src, void *dst, int64_t n, const float *imp);
void hearth_q6_K_quantize_imp(const float *src, void *dst, int64_t n, const float *imp);

/* Shared scale searches (quants_fit_ref.c).
 * Symmetric: codes L[i] in [0, 2*nmax) for x[i] ~ scale*(L[i]-nmax),
 * minimising sum w[i]*err^2 (w NULL: w = x^2, favouring the large values).
 * Returns the scale (0 if x is all 0). */
float hearth_fit_symmetric(int n, int nmax, const float *x, const float *w, uint8_t *L);
/* Asymmetric: codes L[i] in [0, nmax] for x[i] ~ scale*L[i] - min, min >= 0
 * (the range always includes 0); n <= 32. Tries nstep+1 candidate scales
 * (rmin + rdelta*is + nmax)/(max-min), refits scale and min by weighted least
 * squares for each, keeps the best. Returns scale; *min_out = min. */
float hearth_fit_asymmetric(int n, int nmax, const float *x, const float *w, uint8_t *L,
                            float *min_out, float rmin, float rdelta, int nstep);
/* w[i] = imp[i] * sqrt(sigma2 + x[i]^2), i < n. */
void hearth_quant_weights(const float *x, const float *imp, int64_t n, float sigma2, float *w);
/* Mean of x^2 over n elements (0 for n 0). */
float hearth_quant_sigma2(const float *x, int64_t n);

#endif
