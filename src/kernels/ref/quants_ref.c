/*
 * quants_ref.c: reference dequantization and quantization of the float types
 * (F32, F16, BF16) and the 32-element block formats (Q4_0, Q4_1, Q5_0, Q5_1,
 * Q8_0, Q8_1). This is the specification the SIMD kernels are tested
 * against; it favors clarity over speed. See quants.h for the layouts.
 * The _quantize_imp variants (end of file) weigh the elements of each block
 * by an importance matrix column in a scale search (quants_fit_ref.c).
 */
#include "kernels/quants.h"

#include <math.h>
#include <string.h>

void hearth_f32_to_float(const void *src, float *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void hearth_f16_to_float(const void *src, float *dst, int64_t n) {
    const hearth_f16 *h = src;
    for (int64_t i = 0; i < n; i++) dst[i] = hearth_f16_to_f32(h[i]);
}

void hearth_bf16_to_float(const void *src, float *dst, int64_t n) {
    const hearth_bf16 *h = src;
    for (int64_t i = 0; i < n; i++) dst[i] = hearth_bf16_to_f32(h[i]);
}

void hearth_f32_from_float_ref(const float *src, void *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void hearth_f16_from_float_ref(const float *src, void *dst, int64_t n) {
    hearth_f16 *h = dst;
    for (int64_t i = 0; i < n; i++) h[i] = hearth_f32_to_f16(src[i]);
}

void hearth_bf16_from_float_ref(const float *src, void *dst, int64_t n) {
    hearth_bf16 *h = dst;
    for (int64_t i = 0; i < n; i++) h[i] = hearth_f32_to_bf16(src[i]);
}

/* ---- Q4_0 / Q4_1 ---------------------------------------------------------- */

void hearth_q4_0_to_float(const void *src, float *dst, int64_t n) {
    const hearth_block_q4_0 *b = src;
    for (int64_t i = 0; i < n / QK4_0; i++, dst += QK4_0) {
        float d = hearth_f16_to_f32(b[i].d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            dst[j] = d * (float)((b[i].qs[j] & 0xF) - 8);
            dst[j + QK4_0 / 2] = d * (float)((b[i].qs[j] >> 4) - 8);
        }
    }
}

void hearth_q4_0_from_float_ref(const float *src, void *dst, int64_t n) {
    hearth_block_q4_0 *b = dst;
    for (int64_t i = 0; i < n / QK4_0; i++, src += QK4_0) {
        /* The value of largest magnitude maps to -8, so the full range of the
         * 4-bit code is used on the side that has it. */
        float amax = 0.f, max = 0.f;
        for (int j = 0; j < QK4_0; j++)
            if (fabsf(src[j]) > amax) amax = fabsf(src[j]), max = src[j];
        float d = max / -8.f, id = d != 0.f ? 1.f / d : 0.f;
        b[i].d = hearth_f32_to_f16(d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            int q0 = hearth_nearest_int(src[j] * id) + 8;
            int q1 = hearth_nearest_int(src[j + QK4_0 / 2] * id) + 8;
            q0 = q0 < 0 ? 0 : q0 > 15 ? 15 : q0;
            q1 = q1 < 0 ? 0 : q1 > 15 ? 15 : q1;
            b[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void hearth_q4_1_to_float(const void *src, float *dst, int64_t n) {
    const hearth_block_q4_1 *b = src;
    for (int64_t i = 0; i < n / QK4_1; i++, dst += QK4_1) {
        float d = hearth_f16_to_f32(b[i].d), m = hearth_f16_to_f32(b[i].m);
        for (int j = 0; j < QK4_1 / 2; j++) {
            dst[j] = d * (float)(b[i].qs[j] & 0xF) + m;
            dst[j + QK4_1 / 2] = d * (float)(b[i].qs[j] >> 4) + m;
        }
    }
}

void hearth_q4_1_from_float_ref(const float *src, void *dst, int64_t n) {
    hearth_block_q4_1 *b = dst;
    for (int64_t i = 0; i < n / QK4_1; i++, src += QK4_1) {
        float min = src[0], max = src[0];
        for (int j = 1; j < QK4_1; j++) {
            if (src[j] < min) min = src[j];
            if (src[j] > max) max = src[j];
        }
        float d = (max - min) / 15.f, id = d != 0.f ? 1.f / d : 0.f;
        b[i].d = hearth_f32_to_f16(d);
        b[i].m = hearth_f32_to_f16(min);
        /* Quantize against the fp16-rounded minimum actually stored. */
        float m = hearth_f16_to_f32(b[i].m);
        for (int j = 0; j < QK4_1 / 2; j++) {
            int q0 = hearth_nearest_int((src[j] - m) * id);
            int q1 = hearth_nearest_int((src[j + QK4_1 / 2] - m) * id);
            q0 = q0 < 0 ? 0 : q0 > 15 ? 15 : q0;
            q1 = q1 < 0 ? 0 : q1 > 15 ? 15 : q1;
            b[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

/* ---- Q5_0 / Q5_1 ---------------------------------------------------------- */

static uint32_t load_qh(const uint8_t qh[4]) {
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
}

static void store_qh(uint8_t qh[4], uint32_t v) {
    for (int k = 0; k < 4; k++) qh[k] = (uint8_t)(v >> (8 * k));
}

void hearth_q5_0_to_float(const void *src, float *dst, int64_t n) {
    const hearth_block_q5_0 *b = src;
    for (int64_t i = 0; i < n / QK5_0; i++, dst += QK5_0) {
        float d = hearth_f16_to_f32(b[i].d);
        uint32_t qh = load_qh(b[i].qh);
        for (int j = 0; j < QK5_0 / 2; j++) {
            int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
            dst[j] = d * (float)(((b[i].qs[j] & 0xF) | (h0 << 4)) - 16);
            dst[j + 16] = d * (float)(((b[i].qs[j] >> 4) | (h1 << 4)) - 16);
        }
    }
}

void hearth_q5_0_from_float_ref(const float *src, void *dst, int64_t n) {
    hearth_block_q5_0 *b = dst;
    for (int64_t i = 0; i < n / QK5_0; i++, src += QK5_0) {
        float amax = 0.f, max = 0.f;
        for (int j = 0; j < QK5_0; j++)
            if (fabsf(src[j]) > amax) amax = fabsf(src[j]), max = src[j];
        float d = max / -16.f, id = d != 0.f ? 1.f / d : 0.f;
        b[i].d = hearth_f32_to_f16(d);
        uint32_t qh = 0;
        for (int j = 0; j < QK5_0 / 2; j++) {
            int q0 = hearth_nearest_int(src[j] * id) + 16;
            int q1 = hearth_nearest_int(src[j + 16] * id) + 16;
            q0 = q0 < 0 ? 0 : q0 > 31 ? 31 : q0;
            q1 = q1 < 0 ? 0 : q1 > 31 ? 31 : q1;
            b[i].qs[j] = (uint8_t)((q0 & 0xF) | ((q1 & 0xF) << 4));
            qh |= (uint32_t)(q0 >> 4) << j;
            qh |= (uint32_t)(q1 >> 4) << (j + 16);
        }
        store_qh(b[i].qh, qh);
    }
}

void hearth_q5_1_to_float(const void *src, float *dst, int64_t n) {
    const hearth_block_q5_1 *b = src;
    for (int64_t i = 0; i < n / QK5_1; i++, dst += QK5_1) {
        float d = hearth_f16_to_f32(b[i].d), m = hearth_f16_to_f32(b[i].m);
        uint32_t qh = load_qh(b[i].qh);
        for (int j = 0; j < QK5_1 / 2; j++) {
            int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
            dst[j] = d * (float)((b[i].qs[j] & 0xF) | (h0 << 4)) + m;
            dst[j + 16] = d * (float)((b[i].qs[j] >> 4) | (h1 << 4)) + m;
        }
    }
}

void hearth_q5_1_from_float_ref(const float *src, void *dst, int64_t n) {
    hearth_block_q5_1 *b = dst;
    for (int64_t i = 0; i < n / QK5_1; i++, src += QK5_1) {
        float min = src[0], max = src[0];
        for (int j = 1; j < QK5_1; j++) {
            if (src[j] < min) min = src[j];
            if (src[j] > max) max = src[j];
        }
        float d = (max - min) / 31.f, id = d != 0.f ? 1.f / d : 0.f;
        b[i].d = hearth_f32_to_f16(d);
        b[i].m = hearth_f32_to_f16(min);
        float m = hearth_f16_to_f32(b[i].m);
        uint32_t qh = 0;
        for (int j = 0; j < QK5_1 / 2; j++) {
            int q0 = hearth_nearest_int((src[j] - m) * id);
            int q1 = hearth_nearest_int((src[j + 16] - m) * id);
            q0 = q0 < 0 ? 0 : q0 > 31 ? 31 : q0;
            q1 = q1 < 0 ? 0 : q1 > 31 ? 31 : q1;
            b[i].qs[j] = (uint8_t)((q0 & 0xF) | ((q1 & 0xF) << 4));
            qh |= (uint32_t)(q0 >> 4) << j;
            qh |= (uint32_t)(q1 >> 4) << (j + 16);
        }
        store_qh(b[i].qh, qh);
    }
}

/* ---- Q8_0 / Q8_1 ---------------------------------------------------------- */

void hearth_q8_0_to_float(const void *src, float *dst, int64_t n) {
    const hearth_block_q8_0 *b = src;
    for (int64_t i = 0; i < n / QK8_0; i++, dst += QK8_0) {
        float d = hearth_f16_to_f32(b[i].d);
        for (int j = 0; j < QK8_0; j++) dst[j] = d * (float)b[i].qs[j];
    }
}

void hearth_q8_0_from_float_ref(const float *src, void *dst, int64_t n) {
    hearth_block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK8_0; i++, src += QK8_0) {
        float amax = 0.f;
        for (int j = 0; j < QK8_0; j++) amax = fmaxf(amax, fabsf(src[j]));
        float d = amax / 127.f, id = d != 0.f ? 1.f / d : 0.f;
        b[i].d = hearth_f32_to_f16(d);
        for (int j = 0; j < QK8_0; j++) {
            int q = hearth_nearest_int(src[j] * id);
            b[i].qs[j] = (int8_t)(q < -127 ? -127 : q > 127 ? 127 : q);
        }
    }
}

void hearth_q8_1_to_float(const void *src, float *dst, int64_t n) {
    const hearth_block_q8_1 *b = src;
    for (int64_t i = 0; i < n / QK8_1; i++, dst += QK8_1) {
        float d = hearth_f16_to_f32(b[i].d);
        for (int j = 0; j < QK8_1; j++) dst[j] = d * (float)b[i].qs[j];
    }
}

void hearth_q8_1_from_float_ref(const float *src, void *dst, int64_t n) {
    hearth_block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK8_1; i++, src += QK8_1) {
        float amax = 0.f;
        for (int j = 0; j < QK8_1; j++) amax = fmaxf(amax, fabsf(src[j]));
        float d = amax / 127.f, id = d != 0.f ? 1.f / d : 0.f;
        b[i].d = hearth_f32_to_f16(d);
        int sum = 0;
        for (int j = 0; j < QK8_1; j++) {
            int q = hearth_nearest_int(src[j] * id);
            q = q < -127 ? -127 : q > 127 ? 127 : q;
            b[i].qs[j] = (int8_t)q;
            sum += q;
        }
        /* s uses the fp16-rounded d, as the dot products see it. */
        b[i].s = hearth_f32_to_f16(hearth_f16_to_f32(b[i].d) * (float)sum);
    }
}

/* ---- importance-weighted Q4_0 / Q4_1 / Q5_0 / Q5_1 ------------------------------- */

/* Codes of one 32-block against the stored (fp16-rounded) d and m:
 * q = clamp(round((x - m) / d) + off, 0, qmax). */
static void block_codes(const float *x, float d, float m, int off, int qmax, int q[32]) {
    float id = d != 0.f ? 1.f / d : 0.f;
    for (int j = 0; j < 32; j++) {
        int v = hearth_nearest_int((x[j] - m) * id) + off;
        q[j] = v < 0 ? 0 : v > qmax ? qmax : v;
    }
}

/* One block of a symmetric type (Q4_0: nmax 8, Q5_0: nmax 16): the weighted
 * scale search, then codes against the stored d. */
static hearth_f16 sym_block(const float *x, const float *imp, float sigma2, int nmax, int q[32]) {
    float w[32];
    uint8_t L[32];
    hearth_quant_weights(x, imp, 32, sigma2, w);
    hearth_f16 d = hearth_f32_to_f16(hearth_fit_symmetric(32, nmax, x, w, L));
    block_codes(x, hearth_f16_to_f32(d), 0.f, nmax, 2 * nmax - 1, q);
    return d;
}

/* One block of an asymmetric type (Q4_1: nmax 15, Q5_1: 31). */
static void asym_block(const float *x, const float *imp, float sigma2, int nmax, hearth_f16 *d,
                       hearth_f16 *m, int q[32]) {
    float w[32], mn;
    uint8_t L[32];
    hearth_quant_weights(x, imp, 32, sigma2, w);
    float scale = hearth_fit_asymmetric(32, nmax, x, w, L, &mn, -1.f, 0.1f, 20);
    *d = hearth_f32_to_f16(scale);
    *m = hearth_f32_to_f16(-mn);
    block_codes(x, hearth_f16_to_f32(*d), hearth_f16_to_f32(*m), 0, nmax, q);
}

static void pack4(uint8_t qs[16], const int q[32]) {
    for (int j = 0; j < 16; j++) qs[j] = (uint8_t)(q[j] | (q[j + 16] << 4));
}

static void pack5(uint8_t qs[16], uint8_t qhb[4], const int q[32]) {
    uint32_t qh = 0;
    for (int j = 0; j < 16; j++) {
        qs[j] = (uint8_t)((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4));
        qh |= (uint32_t)(q[j] >> 4) << j;
        qh |= (uint32_t)(q[j + 16] >> 4) << (j + 16);
    }
    store_qh(qhb, qh);
}

void hearth_q4_0_quantize_imp(const float *src, void *dst, int64_t n, const float *imp) {
    if (!imp) {
        hearth_q4_0_from_float_ref(src, dst, n);
        return;
    }
    hearth_block_q4_0 *b = dst;
    float sigma2 = hearth_quant_sigma2(src, n);
    int q[32];
    for (int64_t i = 0; i < n / QK4_0; i++, src += QK4_0, imp += QK4_0) {
        b[i].d = sym_block(src, imp, sigma2, 8, q);
        pack4(b[i].qs, q);
    }
}

void hearth_q5_0_quantize_imp(const float *src, void *dst, int64_t n, const float *imp) {
    if (!imp) {
        hearth_q5_0_from_float_ref(src, dst, n);
        return;
    }
    hearth_block_q5_0 *b = dst;
    float sigma2 = hearth_quant_sigma2(src, n);
    int q[32];
    for (int64_t i = 0; i < n / QK5_0; i++, src += QK5_0, imp += QK5_0) {
        b[i].d = sym_block(src, imp, sigma2, 16, q);
        pack5(b[i].qs, b[i].qh, q);
    }
}

void hearth_q4_1_quantize_imp(const float *src, void *dst, int64_t n, const float *imp) {
    if (!imp) {
        hearth_q4_1_from_float_ref(src, dst, n);
        return;
    }
    hearth_block_q4_1 *b = dst;
    float sigma2 = hearth_quant_sigma2(src, n);
    int q[32];
    for (int64_t i = 0; i < n / QK4_1; i++, src += QK4_1, imp += QK4_1) {
        asym_block(src, imp, sigma2, 15, &b[i].d, &b[i].m, q);
        pack4(b[i].qs, q);
    }
}

void hearth_q5_1_quantize_imp(const float *src, void *dst, int64_t n, const float *imp) {
    if (!imp) {
        hearth_q5_1_from_float_ref(src, dst, n);
        return;
    }
    hearth_block_q5_1 *b = dst;
    float sigma2 = hearth_quant_sigma2(src, n);
    int q[32];
    for (int64_t i = 0; i < n / QK5_1; i++, src += QK5_1, imp += QK5_1) {
        asym_block(src, imp, sigma2, 31, &b[i].d, &b[i].m, q);
        pack5(b[i].qs, b[i].qh, q);
    }
}
