/*
 * dot_arm.h: the AArch64 SIMD kernels of dot.h, written once and compiled
 * three times: by dot_neon.c (ARMv8.0 Advanced SIMD: int8 products through
 * smull + sadalp), by dot_dotprod.c (HEARTH_ARM_DOTPROD: sdot) and by
 * dot_i8mm.c (HEARTH_ARM_I8MM as well: smmla tiles of 2 weight rows x 2
 * activation columns in gemm).
 *
 * Structure: each weight block is unpacked once into signed int8 codes in
 * vector registers (16 lanes per group of 16 elements: the bias of Q4_0,
 * Q5_0, Q3_K and Q6_K already subtracted), with an integer scale per group
 * (K-quants) and a min per group (Q2_K, Q4_K, Q5_K), then dotted with C
 * activation columns (gemv: 1; gemm: up to 4, or 2 rows x 4 with i8mm) so the
 * unpacking is paid once per block and tile. The integer sums are exact
 * (int8 x int8 products widened to int16 then accumulated in int32, or
 * sdot/smmla into int32); per block they are scaled in float in the
 * reference's order, so results differ from kernels/ref/ only by the order
 * of float additions across blocks (and not at all between this file's
 * gemv and gemm). Float weights (F32, F16, BF16) use 4-lane fmla with the
 * tail in scalar code. Activations are quantized by act_arm.h.
 *
 * The including file defines HEARTH_DOT_FILL (the fill function's name)
 * and optionally HEARTH_ARM_DOTPROD and HEARTH_ARM_I8MM, and is compiled
 * with the matching -march (CMakeLists.txt).
 */
#include "kernels/dot_int.h"
#include "kernels/quants.h"

#include <arm_neon.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

/* Q8_K activation block: d (f32), 256 codes, 16 sums of 16. */
#define Q8K_SIZE 292
#define Q8K_QS 4
#define Q8K_BSUMS 260
/* Rows of weights whose blocks stay in cache while every column group of a
 * gemm passes over them. */
#define GEMM_ROW_CHUNK 64
/* Columns per gemm tile. */
#define GEMM_C 4

INLINE float ld_f16(const void *p) {
    __fp16 h;
    memcpy(&h, p, 2);
    return (float)h;
}
INLINE float ld_f32(const void *p) {
    float f;
    memcpy(&f, p, 4);
    return f;
}

#include "kernels/arm/act_arm.h"

/* acc + the 16 int8 products of a and b, summed in groups of 4 (exact). */
INLINE int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
#ifdef HEARTH_ARM_DOTPROD
    return vdotq_s32(acc, a, b);
#else
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
#endif
}

INLINE int8x16_t s8(uint8x16_t v) { return vreinterpretq_s8_u8(v); }

/* Lane j (0..15): 0x10 if bit j of the little-endian u16 at p is set, else 0. */
INLINE uint8x16_t bits_0x10(const uint8_t *p) {
    static const uint8_t sel[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t b = vcombine_u8(vdup_n_u8(p[0]), vdup_n_u8(p[1]));
    return vandq_u8(vtstq_u8(b, vld1q_u8(sel)), vdupq_n_u8(0x10));
}

/* ---- unpacked weight blocks -------------------------------------------------------- */

/* One weight block as int8 codes: ng groups of 16 (2 for the 32-element
 * formats, 16 for the K-quants), scale sc[g] and min mn[g] of each group
 * (K-quants), d and dm (dmin for the K-quants, m for Q4_1/Q5_1). */
typedef struct {
    int8x16_t q[16];
    int32_t sc[16], mn[16];
    float d, dm;
} wblk;

INLINE void unpack_q4_0(const uint8_t *w, wblk *u) {
    uint8x16_t v = vld1q_u8(w + 2), m4 = vdupq_n_u8(0x0F);
    int8x16_t b8 = vdupq_n_s8(8);
    u->q[0] = vsubq_s8(s8(vandq_u8(v, m4)), b8);
    u->q[1] = vsubq_s8(s8(vshrq_n_u8(v, 4)), b8);
    u->d = ld_f16(w);
}
INLINE void unpack_q4_1(const uint8_t *w, wblk *u) {
    uint8x16_t v = vld1q_u8(w + 4);
    u->q[0] = s8(vandq_u8(v, vdupq_n_u8(0x0F)));
    u->q[1] = s8(vshrq_n_u8(v, 4));
    u->d = ld_f16(w);
    u->dm = ld_f16(w + 2);
}
INLINE void unpack_q5_0(const uint8_t *w, wblk *u) {
    uint8x16_t v = vld1q_u8(w + 6), m4 = vdupq_n_u8(0x0F);
    int8x16_t b16 = vdupq_n_s8(16);
    u->q[0] = vsubq_s8(s8(vorrq_u8(vandq_u8(v, m4), bits_0x10(w + 2))), b16);
    u->q[1] = vsubq_s8(s8(vorrq_u8(vshrq_n_u8(v, 4), bits_0x10(w + 4))), b16);
    u->d = ld_f16(w);
}
INLINE void unpack_q5_1(const uint8_t *w, wblk *u) {
    uint8x16_t v = vld1q_u8(w + 8), m4 = vdupq_n_u8(0x0F);
    u->q[0] = s8(vorrq_u8(vandq_u8(v, m4), bits_0x10(w + 4)));
    u->q[1] = s8(vorrq_u8(vshrq_n_u8(v, 4), bits_0x10(w + 6)));
    u->d = ld_f16(w);
    u->dm = ld_f16(w + 2);
}
INLINE void unpack_q8_0(const uint8_t *w, wblk *u) {
    u->q[0] = vld1q_s8((const int8_t *)(w + 2));
    u->q[1] = vld1q_s8((const int8_t *)(w + 18));
    u->d = ld_f16(w);
}

/* Q2_K: scales 0, qs 16, d 80, dmin 82. Group g: codes (qs[32(g/8) + 16(g%2) + l]
 * >> 2((g/2)%4)) & 3, scale scales[g] & 15, min scales[g] >> 4. */
INLINE void unpack_q2_K(const uint8_t *w, wblk *u) {
    const uint8x16_t m3 = vdupq_n_u8(3);
    for (int h = 0; h < 2; h++)
        for (int half = 0; half < 2; half++) {
            uint8x16_t v = vld1q_u8(w + 16 + 32 * h + 16 * half);
            u->q[8 * h + 0 + half] = s8(vandq_u8(v, m3));
            u->q[8 * h + 2 + half] = s8(vandq_u8(vshrq_n_u8(v, 2), m3));
            u->q[8 * h + 4 + half] = s8(vandq_u8(vshrq_n_u8(v, 4), m3));
            u->q[8 * h + 6 + half] = s8(vshrq_n_u8(v, 6));
        }
    for (int g = 0; g < 16; g++) u->sc[g] = w[g] & 0xF, u->mn[g] = w[g] >> 4;
    u->d = ld_f16(w + 80);
    u->dm = ld_f16(w + 82);
}

/* Q3_K: hmask 0, qs 32, scales 96, d 108. Group g: low bits as Q2_K, minus 4
 * where bit g/2 of hmask[16(g%2) + l] is clear. */
INLINE void unpack_q3_K(const uint8_t *w, wblk *u) {
    const uint8x16_t m3 = vdupq_n_u8(3), k4 = vdupq_n_u8(4);
    uint8x16_t hm[2] = {vld1q_u8(w), vld1q_u8(w + 16)};
    for (int h = 0; h < 2; h++)
        for (int half = 0; half < 2; half++) {
            uint8x16_t v = vld1q_u8(w + 32 + 32 * h + 16 * half);
            for (int s = 0; s < 4; s++) {
                int g = 8 * h + 2 * s + half;
                uint8x16_t lo = vandq_u8(s ? vshlq_u8(v, vdupq_n_s8((int8_t)(-2 * s))) : v, m3);
                uint8x16_t clear = vbicq_u8(k4, vtstq_u8(hm[half], vdupq_n_u8((uint8_t)(1u << (g / 2)))));
                u->q[g] = vsubq_s8(s8(lo), s8(clear));
            }
        }
    int8_t sc[16];
    hearth_q3_K_scales(w + 96, sc);
    for (int g = 0; g < 16; g++) u->sc[g] = sc[g];
    u->d = ld_f16(w + 108);
}

/* Q4_K / Q5_K: d 0, dmin 2, scales 4; Q5_K qh 16; qs at QS. Sub-block j
 * (32 elements, groups 2j and 2j+1): nibble j%2 of qs[32(j/2) + l]. */
INLINE void unpack_q45_K(const uint8_t *w, wblk *u, int QS, int HBITS) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F), k10 = vdupq_n_u8(0x10);
    uint8x16_t qh[2] = {vdupq_n_u8(0), vdupq_n_u8(0)};
    if (HBITS) qh[0] = vld1q_u8(w + 16), qh[1] = vld1q_u8(w + 32);
    for (int p = 0; p < 4; p++)
        for (int half = 0; half < 2; half++) {
            uint8x16_t v = vld1q_u8(w + QS + 32 * p + 16 * half);
            uint8x16_t lo = vandq_u8(v, m4), hi = vshrq_n_u8(v, 4);
            if (HBITS) {
                lo = vorrq_u8(lo, vandq_u8(vtstq_u8(qh[half], vdupq_n_u8((uint8_t)(1u << (2 * p)))), k10));
                hi = vorrq_u8(hi, vandq_u8(vtstq_u8(qh[half], vdupq_n_u8((uint8_t)(2u << (2 * p)))), k10));
            }
            u->q[4 * p + half] = s8(lo);
            u->q[4 * p + 2 + half] = s8(hi);
        }
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        hearth_get_scale_min_k4(j, w + 4, &sc, &m);
        u->sc[2 * j] = u->sc[2 * j + 1] = sc;
        u->mn[2 * j] = u->mn[2 * j + 1] = m;
    }
    u->d = ld_f16(w);
    u->dm = ld_f16(w + 2);
}
INLINE void unpack_q4_K(const uint8_t *w, wblk *u) { unpack_q45_K(w, u, 16, 0); }
INLINE void unpack_q5_K(const uint8_t *w, wblk *u) { unpack_q45_K(w, u, 48, 1); }

/* Q6_K: ql 0, qh 128, scales 192 (int8), d 208. Group g = 8h + 2k + half:
 * low 4 bits nibble k/2 of ql[64h + 32(k%2) + 16half + l], high 2 bits
 * (qh[32h + 16half + l] >> 2k) & 3, minus 32. */
INLINE void unpack_q6_K(const uint8_t *w, wblk *u) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(3);
    const int8x16_t b32 = vdupq_n_s8(32);
    for (int h = 0; h < 2; h++)
        for (int half = 0; half < 2; half++) {
            uint8x16_t qh = vld1q_u8(w + 128 + 32 * h + 16 * half);
            uint8x16_t l0 = vld1q_u8(w + 64 * h + 16 * half), l1 = vld1q_u8(w + 64 * h + 32 + 16 * half);
            uint8x16_t lo[4] = {vandq_u8(l0, m4), vandq_u8(l1, m4), vshrq_n_u8(l0, 4), vshrq_n_u8(l1, 4)};
            for (int k = 0; k < 4; k++) {
                uint8x16_t hb = vandq_u8(k ? vshlq_u8(qh, vdupq_n_s8((int8_t)(-2 * k))) : qh, m3);
                u->q[8 * h + 2 * k + half] = vsubq_s8(s8(vorrq_u8(lo[k], vshlq_n_u8(hb, 4))), b32);
            }
        }
    for (int g = 0; g < 16; g++) u->sc[g] = (int8_t)w[192 + g];
    u->d = ld_f16(w + 208);
}

/* ---- per-block products -------------------------------------------------------------- */

/* Integer dot of an unpacked 32-element block with activation codes at aq. */
INLINE int32_t idot32(const wblk *u, const int8_t *aq) {
    int32x4_t acc = dot16(vdupq_n_s32(0), u->q[0], vld1q_s8(aq));
    return vaddvq_s32(dot16(acc, u->q[1], vld1q_s8(aq + 16)));
}

/* sum over the 16 groups of sc[g] * (codes . acts), exact. */
INLINE int32_t idotK(const wblk *u, const int8_t *aq) {
    int32x4_t acc = vdupq_n_s32(0);
    for (int g = 0; g < 16; g++)
        acc = vmlaq_n_s32(acc, dot16(vdupq_n_s32(0), u->q[g], vld1q_s8(aq + 16 * g)), u->sc[g]);
    return vaddvq_s32(acc);
}

/* sum over the groups of mn[g] * bsums[g] (the K-quants' mins). */
INLINE int32_t iminK(const wblk *u, const uint8_t *ab) {
    int16_t bs[16];
    memcpy(bs, ab + Q8K_BSUMS, sizeof bs);
    int32x4_t acc = vdupq_n_s32(0);
    for (int g = 0; g < 16; g += 4)
        acc = vmlaq_s32(acc, vmovl_s16(vld1_s16(bs + g)), vld1q_s32(u->mn + g));
    return vaddvq_s32(acc);
}

/* Each format's block size (weights, bytes), activation block size, and
 * the float value of one block's product from its exact integer parts, in
 * the reference's order. KIND: 0 = Q8_0 activations, 1 = Q8_1, 2 = Q8_K
 * without mins (Q3_K, Q6_K), 3 = Q8_K with mins (Q2_K, Q4_K, Q5_K). */
INLINE float combine(int KIND, const wblk *u, int32_t isum, const uint8_t *ab) {
    switch (KIND) {
    case 0: return u->d * ld_f16(ab) * (float)isum;
    case 1: return u->d * ld_f16(ab) * (float)isum + u->dm * ld_f16(ab + 2);
    case 2: return ld_f32(ab) * u->d * (float)isum;
    default: return ld_f32(ab) * (u->d * (float)isum - u->dm * (float)iminK(u, ab));
    }
}
INLINE int32_t idot(int KIND, const wblk *u, const uint8_t *ab) {
    return KIND < 2 ? idot32(u, (const int8_t *)(ab + 2 + 2 * KIND)) : idotK(u, (const int8_t *)(ab + Q8K_QS));
}

/* One weight row x C activation columns over nb blocks: out[c*os]. */
#define QUANT_TILE(name, KIND, BSZ, ABSZ)                                                          \
    INLINE void tile_##name(int64_t nb, int C, const uint8_t *w, const uint8_t *a, size_t as,      \
                            float *out, int64_t os) {                                              \
        float acc[GEMM_C] = {0};                                                                   \
        for (int64_t b = 0; b < nb; b++) {                                                         \
            wblk u;                                                                                \
            unpack_##name(w + b * BSZ, &u);                                                        \
            for (int c = 0; c < C; c++) {                                                          \
                const uint8_t *ab = a + c * as + b * ABSZ;                                         \
                acc[c] += combine(KIND, &u, idot(KIND, &u, ab), ab);                               \
            }                                                                                      \
        }                                                                                          \
        for (int c = 0; c < C; c++) out[c * os] = acc[c];                                          \
    }

#ifdef HEARTH_ARM_I8MM
/* Two weight rows x two activation columns with smmla: lanes r0c0, r0c1,
 * r1c0, r1c1 of each group's 2x2 integer product, scaled per row. */
INLINE void idot2x2(int KIND, const wblk *u0, const wblk *u1, const uint8_t *a0, const uint8_t *a1,
                    int32_t out[4]) {
    int ng = KIND < 2 ? 2 : 16;
    const int8_t *q0 = (const int8_t *)(a0 + (KIND < 2 ? 2 + 2 * KIND : Q8K_QS));
    const int8_t *q1 = (const int8_t *)(a1 + (KIND < 2 ? 2 + 2 * KIND : Q8K_QS));
    int32x4_t acc = vdupq_n_s32(0);
    for (int g = 0; g < ng; g++) {
        int64x2_t w0 = vreinterpretq_s64_s8(u0->q[g]), w1 = vreinterpretq_s64_s8(u1->q[g]);
        int64x2_t x0 = vreinterpretq_s64_s8(vld1q_s8(q0 + 16 * g)), x1 = vreinterpretq_s64_s8(vld1q_s8(q1 + 16 * g));
        int32x4_t p = vmmlaq_s32(vdupq_n_s32(0), vreinterpretq_s8_s64(vzip1q_s64(w0, w1)),
                                 vreinterpretq_s8_s64(vzip1q_s64(x0, x1)));
        p = vmmlaq_s32(p, vreinterpretq_s8_s64(vzip2q_s64(w0, w1)), vreinterpretq_s8_s64(vzip2q_s64(x0, x1)));
        if (KIND < 2) {
            acc = vaddq_s32(acc, p);
        } else {
            int32x4_t sc = vcombine_s32(vdup_n_s32(u0->sc[g]), vdup_n_s32(u1->sc[g]));
            acc = vmlaq_s32(acc, p, sc);
        }
    }
    vst1q_s32(out, acc);
}

/* Two weight rows x 2*NP activation columns (NP pairs, 1 or 2): each pair
 * of unpacked rows serves every column pair. */
#define QUANT_TILE2(name, KIND, BSZ, ABSZ)                                                         \
    INLINE void tile2_##name(int64_t nb, int NP, const uint8_t *w, size_t ws, const uint8_t *a,    \
                             size_t as, float *out, int64_t os) {                                  \
        float acc[2][4] = {{0}};                                                                   \
        for (int64_t b = 0; b < nb; b++) {                                                         \
            wblk u0, u1;                                                                           \
            unpack_##name(w + b * BSZ, &u0);                                                       \
            unpack_##name(w + ws + b * BSZ, &u1);                                                  \
            for (int p = 0; p < NP; p++) {                                                         \
                const uint8_t *a0 = a + 2 * p * as + b * ABSZ, *a1 = a0 + as;                      \
                int32_t is[4];                                                                     \
                idot2x2(KIND, &u0, &u1, a0, a1, is);                                               \
                acc[p][0] += combine(KIND, &u0, is[0], a0);                                        \
                acc[p][1] += combine(KIND, &u0, is[1], a1);                                        \
                acc[p][2] += combine(KIND, &u1, is[2], a0);                                        \
                acc[p][3] += combine(KIND, &u1, is[3], a1);                                        \
            }                                                                                      \
        }                                                                                          \
        for (int p = 0; p < NP; p++) {                                                             \
            float *o = out + 2 * p * os;                                                           \
            o[0] = acc[p][0], o[os] = acc[p][1], o[1] = acc[p][2], o[os + 1] = acc[p][3];          \
        }                                                                                          \
    }
#else
#define QUANT_TILE2(name, KIND, BSZ, ABSZ)
#endif

/* ---- float weights (F32, F16, BF16) with F32 activations ------------------------------ */

INLINE float32x4_t ld4_f32(const uint8_t *p) { return vld1q_f32((const float *)p); }
INLINE float32x4_t ld4_f16(const uint8_t *p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)p)));
}
INLINE float32x4_t ld4_bf16(const uint8_t *p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16((const uint16_t *)p), 16));
}
INLINE float ld1_bf16(const void *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return hearth_bf16_to_f32(h);
}

/* One weight row x C columns; n elements, the last n % 8 in scalar code. */
#define FLOAT_TILE(name, ESZ, LD4, LD1)                                                            \
    INLINE void tile_##name(int64_t n, int C, const uint8_t *w, const uint8_t *a, size_t as,       \
                            float *out, int64_t os) {                                              \
        float32x4_t acc0[GEMM_C], acc1[GEMM_C];                                                    \
        for (int c = 0; c < C; c++) acc0[c] = acc1[c] = vdupq_n_f32(0.f);                          \
        int64_t i = 0;                                                                             \
        for (; i + 8 <= n; i += 8) {                                                               \
            float32x4_t w0 = LD4(w + i * ESZ), w1 = LD4(w + (i + 4) * ESZ);                        \
            for (int c = 0; c < C; c++) {                                                          \
                const float *x = (const float *)(a + c * as) + i;                                  \
                acc0[c] = vfmaq_f32(acc0[c], w0, vld1q_f32(x));                                    \
                acc1[c] = vfmaq_f32(acc1[c], w1, vld1q_f32(x + 4));                                \
            }                                                                                      \
        }                                                                                          \
        for (int c = 0; c < C; c++) {                                                              \
            float s = vaddvq_f32(vaddq_f32(acc0[c], acc1[c]));                                     \
            const float *x = (const float *)(a + c * as);                                          \
            for (int64_t j = i; j < n; j++) s += LD1(w + j * ESZ) * x[j];                          \
            out[c * os] = s;                                                                       \
        }                                                                                          \
    }

FLOAT_TILE(f32, 4, ld4_f32, ld_f32)
FLOAT_TILE(f16, 2, ld4_f16, ld_f16)
FLOAT_TILE(bf16, 2, ld4_bf16, ld1_bf16)

/* ---- drivers ---------------------------------------------------------------------------- */

/* The tiles with C as a constant, so each is compiled for its width. */
#define TILE_SWITCH(name, nu, C, w, a, as, o, os)          \
    switch (C) {                                           \
    case 4: tile_##name(nu, 4, w, a, as, o, os); break;    \
    case 3: tile_##name(nu, 3, w, a, as, o, os); break;    \
    case 2: tile_##name(nu, 2, w, a, as, o, os); break;    \
    default: tile_##name(nu, 1, w, a, as, o, os); break;   \
    }

/* UNIT: elements per unit the tiles count (blocks for quants, 1 for floats). */
#define DRIVERS(name, UNIT)                                                                        \
    static void gemv_##name(int64_t n, int64_t nrows, float *out, const void *w, size_t ws,        \
                            const void *act) {                                                     \
        const uint8_t *wb = w;                                                                     \
        for (int64_t r = 0; r < nrows; r++) tile_##name(n / (UNIT), 1, wb + (size_t)r * ws, act, 0, out + r, 0); \
    }                                                                                              \
    static void gemm_##name(int64_t n, int64_t nrows, int64_t ncols, float *out, int64_t os,       \
                            const void *w, size_t ws, const void *act, size_t as) {                \
        const uint8_t *wb = w, *ab = act;                                                          \
        for (int64_t r0 = 0; r0 < nrows; r0 += GEMM_ROW_CHUNK) {                                   \
            int64_t r1 = r0 + GEMM_ROW_CHUNK < nrows ? r0 + GEMM_ROW_CHUNK : nrows;                \
            for (int64_t c0 = 0; c0 < ncols; c0 += GEMM_C) {                                       \
                int C = ncols - c0 < GEMM_C ? (int)(ncols - c0) : GEMM_C;                          \
                for (int64_t r = r0; r < r1; r++)                                                  \
                    TILE_SWITCH(name, n / (UNIT), C, wb + (size_t)r * ws, ab + (size_t)c0 * as, as, \
                                out + c0 * os + r, os)                                             \
            }                                                                                      \
        }                                                                                          \
    }

#ifdef HEARTH_ARM_I8MM
/* gemm in 2 x 2 smmla tiles; an odd last row or column by the 1 x C tiles. */
#define DRIVERS_MM(name, BLK)                                                                      \
    static void gemm2_##name(int64_t n, int64_t nrows, int64_t ncols, float *out, int64_t os,      \
                             const void *w, size_t ws, const void *act, size_t as) {               \
        const uint8_t *wb = w, *ab = act;                                                          \
        int64_t nb = n / (BLK);                                                                    \
        int64_t nr2 = nrows & ~(int64_t)1, nc2 = ncols & ~(int64_t)1;                              \
        for (int64_t r0 = 0; r0 < nr2; r0 += GEMM_ROW_CHUNK) {                                     \
            int64_t r1 = r0 + GEMM_ROW_CHUNK < nr2 ? r0 + GEMM_ROW_CHUNK : nr2;                    \
            for (int64_t c = 0; c < nc2; c += 4)                                                   \
                for (int64_t r = r0; r < r1; r += 2) {                                             \
                    const uint8_t *wr = wb + (size_t)r * ws, *ac = ab + (size_t)c * as;            \
                    if (c + 4 <= nc2) tile2_##name(nb, 2, wr, ws, ac, as, out + c * os + r, os);   \
                    else tile2_##name(nb, 1, wr, ws, ac, as, out + c * os + r, os);                \
                }                                                                                  \
        }                                                                                          \
        if (nc2 < ncols) /* last column, every row */                                              \
            gemv_##name(n, nrows, out + nc2 * os, w, ws, ab + (size_t)nc2 * as);                   \
        if (nr2 < nrows) /* last row, the paired columns */                                        \
            for (int64_t c = 0; c < nc2; c += GEMM_C) {                                            \
                int C = nc2 - c < GEMM_C ? (int)(nc2 - c) : GEMM_C;                                \
                TILE_SWITCH(name, nb, C, wb + (size_t)nr2 * ws, ab + (size_t)c * as, as,           \
                            out + c * os + nr2, os)                                                \
            }                                                                                      \
    }
#else
#define DRIVERS_MM(name, BLK)
#endif

#define QUANT(name, KIND, BSZ, ABSZ, BLK)    \
    QUANT_TILE(name, KIND, BSZ, ABSZ)         \
    QUANT_TILE2(name, KIND, BSZ, ABSZ)        \
    DRIVERS(name, BLK)                        \
    DRIVERS_MM(name, BLK)

QUANT(q4_0, 0, 18, 34, 32)
QUANT(q5_0, 0, 22, 34, 32)
QUANT(q8_0, 0, 34, 34, 32)
QUANT(q4_1, 1, 20, 36, 32)
QUANT(q5_1, 1, 24, 36, 32)
QUANT(q2_K, 3, 84, Q8K_SIZE, QK_K)
QUANT(q3_K, 2, 110, Q8K_SIZE, QK_K)
QUANT(q4_K, 3, 144, Q8K_SIZE, QK_K)
QUANT(q5_K, 3, 176, Q8K_SIZE, QK_K)
QUANT(q6_K, 2, 210, Q8K_SIZE, QK_K)
DRIVERS(f32, 1)
DRIVERS(f16, 1)
DRIVERS(bf16, 1)


void HEARTH_DOT_FILL(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) {
#define SET(T, name)                         \
    tab[HEARTH_TYPE_##T].gemv = gemv_##name; \
    tab[HEARTH_TYPE_##T].gemm = gemm_##name
    SET(F32, f32);
    SET(F16, f16);
    SET(BF16, bf16);
    SET(Q4_0, q4_0);
    SET(Q5_0, q5_0);
    SET(Q8_0, q8_0);
    SET(Q4_1, q4_1);
    SET(Q5_1, q5_1);
    SET(Q2_K, q2_K);
    SET(Q3_K, q3_K);
    SET(Q4_K, q4_K);
    SET(Q5_K, q5_K);
    SET(Q6_K, q6_K);
#undef SET
#ifdef HEARTH_ARM_I8MM
#define SET2(T, name) tab[HEARTH_TYPE_##T].gemm = gemm2_##name
    SET2(Q4_0, q4_0);
    SET2(Q5_0, q5_0);
    SET2(Q8_0, q8_0);
    SET2(Q4_1, q4_1);
    SET2(Q5_1, q5_1);
    SET2(Q2_K, q2_K);
    SET2(Q3_K, q3_K);
    SET2(Q4_K, q4_K);
    SET2(Q5_K, q5_K);
    SET2(Q6_K, q6_K);
#undef SET2
#endif
    for (int t = 0; t < HEARTH_TYPE_COUNT; t++) {
        if (!tab[t].gemv) continue;
        if (tab[t].act_type == HEARTH_TYPE_Q8_0) tab[t].quantize_act = quant_q8_0;
        if (tab[t].act_type == HEARTH_TYPE_Q8_1) tab[t].quantize_act = quant_q8_1;
        if (tab[t].act_type == HEARTH_TYPE_Q8_K) tab[t].quantize_act = quant_q8_K;
    }
}
