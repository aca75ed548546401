/*
 * quants_k_ref.c: reference dequantization and quantization of the K-quants
 * (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) and of Q8_K, the activation format their dot
 * products take. Super-blocks hold QK_K = 256 elements in sub-blocks of 16
 * or 32, each with its own scale (and min) quantized against the
 * super-block's fp16 d (and dmin). See quants.h for the layouts.
 *
 * Quantization searches, per sub-block, for the scale (and min) that
 * minimise a weighted squared error over a few candidate scales, as ggml's
 * reference does; then quantizes the sub-block scales, and finally
 * re-quantizes the values against the scales as they are stored, so that
 * what the file holds is the best code for its own scales. Deterministic.
 * The _quantize_imp variants weigh each element by an importance matrix
 * column in the sub-block searches (the scale searches are in
 * quants_fit_ref.c); with imp NULL they are the reference.
 */
#include "kernels/quants.h"

#include <math.h>
#include <string.h>

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* ---- Q2_K ------------------------------------------------------------------ */

void hearth_q2_K_to_float(const void *src, float *dst, int64_t n) {
    const hearth_block_q2_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        float d = hearth_f16_to_f32(b[i].d), dmin = hearth_f16_to_f32(b[i].dmin);
        for (int e = 0; e < QK_K; e++) {
            /* element e: byte (e/128)*32 + e%32, bits 2*((e/32)%4), sub-block e/16 */
            int q = (b[i].qs[(e / 128) * 32 + e % 32] >> (2 * ((e / 32) % 4))) & 3;
            uint8_t sc = b[i].scales[e / 16];
            *dst++ = d * (float)(sc & 0xF) * (float)q - dmin * (float)(sc >> 4);
        }
    }
}

void hearth_q2_K_from_float_ref(const float *src, void *dst, int64_t n) {
    hearth_q2_K_quantize_imp(src, dst, n, NULL);
}

void hearth_q2_K_quantize_imp(const float *src, void *dst, int64_t n, const float *imp) {
    hearth_block_q2_K *b = dst;
    uint8_t L[QK_K];
    float w[16], scales[16], mins[16];
    float sigma2 = imp ? hearth_quant_sigma2(src, n) : 0.f;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K, imp = imp ? imp + QK_K : NULL) {
        float max_scale = 0.f, max_min = 0.f;
        for (int j = 0; j < 16; j++) {
            if (imp) hearth_quant_weights(src + 16 * j, imp + 16 * j, 16, sigma2, w);
            else for (int l = 0; l < 16; l++) w[l] = fabsf(src[16 * j + l]);
            scales[j] = hearth_fit_asymmetric(16, 3, src + 16 * j, w, L + 16 * j, &mins[j], -0.5f,
                                              0.1f, 15);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        memset(&b[i], 0, sizeof b[i]);
        if (max_scale > 0.f) {
            float iscale = 15.f / max_scale;
            for (int j = 0; j < 16; j++)
                b[i].scales[j] = (uint8_t)clampi(hearth_nearest_int(iscale * scales[j]), 0, 15);
            b[i].d = hearth_f32_to_f16(max_scale / 15.f);
        }
        if (max_min > 0.f) {
            float iscale = 15.f / max_min;
            for (int j = 0; j < 16; j++)
                b[i].scales[j] |= (uint8_t)(clampi(hearth_nearest_int(iscale * mins[j]), 0, 15) << 4);
            b[i].dmin = hearth_f32_to_f16(max_min / 15.f);
        }
        for (int j = 0; j < 16; j++) {
            float d = hearth_f16_to_f32(b[i].d) * (float)(b[i].scales[j] & 0xF);
            float dm = hearth_f16_to_f32(b[i].dmin) * (float)(b[i].scales[j] >> 4);
            for (int l = 0; l < 16; l++)
                L[16 * j + l] =
                    d != 0.f ? (uint8_t)clampi(hearth_nearest_int((src[16 * j + l] + dm) / d), 0, 3) : 0;
        }
        for (int e = 0; e < QK_K; e++)
            b[i].qs[(e / 128) * 32 + e % 32] |= (uint8_t)(L[e] << (2 * ((e / 32) % 4)));
    }
}

/* ---- Q3_K ------------------------------------------------------------------ */

void hearth_q3_K_to_float(const void *src, float *dst, int64_t n) {
    const hearth_block_q3_K *b = src;
    int8_t sc[16];
    for (int64_t i = 0; i < n / QK_K; i++) {
        float d = hearth_f16_to_f32(b[i].d);
        hearth_q3_K_scales(b[i].scales, sc);
        for (int e = 0; e < QK_K; e++) {
            int lo = (b[i].qs[(e / 128) * 32 + e % 32] >> (2 * ((e / 32) % 4))) & 3;
            int hi = (b[i].hmask[e % 32] >> (e / 32)) & 1;
            *dst++ = d * (float)sc[e / 16] * (float)(lo - (hi ? 0 : 4));
        }
    }
}

void hearth_q3_K_from_float_ref(const float *src, void *dst, int64_t n) {
    hearth_q3_K_quantize_imp(src, dst, n, NULL);
}

void hearth_q3_K_quantize_imp(const float *src, void *dst, int64_t n, const float *imp) {
    hearth_block_q3_K *b = dst;
    uint8_t L[QK_K];
    float scales[16], w[16];
    float sigma2 = imp ? hearth_quant_sigma2(src, n) : 0.f;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K, imp = imp ? imp + QK_K : NULL) {
        float max_scale = 0.f, amax = 0.f;
        for (int j = 0; j < 16; j++) {
            if (imp) hearth_quant_weights(src + 16 * j, imp + 16 * j, 16, sigma2, w);
            scales[j] = hearth_fit_symmetric(16, 4, src + 16 * j, imp ? w : NULL, L + 16 * j);
            if (fabsf(scales[j]) > amax) amax = fabsf(scales[j]), max_scale = scales[j];
        }
        memset(&b[i], 0, sizeof b[i]);
        if (max_scale != 0.f) {
            float iscale = -32.f / max_scale;
            for (int j = 0; j < 16; j++) {
                int l = clampi(hearth_nearest_int(iscale * scales[j]), -32, 31) + 32;
                if (j < 8) b[i].scales[j] = (uint8_t)(l & 0xF);
                else b[i].scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
                b[i].scales[8 + j % 4] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
            }
            b[i].d = hearth_f32_to_f16(1.f / iscale);
        } else {
            /* all sub-scales 0: store the code for scale 0 (32) */
            for (int j = 0; j < 8; j++) b[i].scales[j] = 0;
            b[i].scales[8] = b[i].scales[9] = b[i].scales[10] = b[i].scales[11] = 0xAA;
        }
        int8_t sc[16];
        hearth_q3_K_scales(b[i].scales, sc);
        for (int j = 0; j < 16; j++) {
            float d = hearth_f16_to_f32(b[i].d) * (float)sc[j];
            for (int l = 0; l < 16; l++)
                L[16 * j + l] =
                    d != 0.f ? (uint8_t)(clampi(hearth_nearest_int(src[16 * j + l] / d), -4, 3) + 4) : 4;
        }
        for (int e = 0; e < QK_K; e++) {
            if (L[e] > 3) b[i].hmask[e % 32] |= (uint8_t)(1 << (e / 32));
            b[i].qs[(e / 128) * 32 + e % 32] |= (uint8_t)((L[e] & 3) << (2 * ((e / 32) % 4)));
        }
    }
}

/* ---- Q4_K / Q5_K --------------------------------------------------------------- */

/* Packs 8 6-bit scales and mins into the 12-byte layout of Q4_K/Q5_K:
 * bytes 0-3 scale 0-3 (+ top 2 bits of scale 4-7), bytes 4-7 min 0-3 (+ top
 * bits of min 4-7), bytes 8-11 low nibbles of scale/min 4-7. */
static void pack_scale_min_k4(const uint8_t ls[8], const uint8_t lm[8], uint8_t s[12]) {
    memset(s, 0, 12);
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            s[j] |= ls[j];
            s[j + 4] |= lm[j];
        } else {
            s[j + 4] = (uint8_t)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            s[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
            s[j] |= (uint8_t)((lm[j] >> 4) << 6);
        }
    }
}

/* Shared by Q4_K (nmax 15) and Q5_K (nmax 31): fits 8 sub-blocks of 32,
 * fills d, dmin, scales[12] and the final codes L[256]. */
static void quantize_k4_scales(const float *x, const float *imp, float sigma2, int nmax,
                               hearth_f16 *d_out, hearth_f16 *dmin_out, uint8_t scales_out[12],
                               uint8_t L[QK_K]) {
    float scales[8], mins[8], w[32];
    float max_scale = 0.f, max_min = 0.f;
    /* The scale search's range and steps: with importances a finer, wider
     * search; without, Q5_K (twice the levels) a narrower one than Q4_K.
     * These are the searches llama-quantize runs, so that hearth's files are
     * no worse than its at equal type and calibration: with Q4_K's search
     * for Q5_K too, Q5_K_M's KLD on the trained 256-wide demo model was 20%
     * above llama-quantize's (bench/bench_quant.sh). */
    float rmin = imp ? -0.9f : nmax == 15 ? -1.f : -0.5f;
    float rdelta = imp ? 0.05f : 0.1f;
    int nstep = imp ? 36 : nmax == 15 ? 20 : 15;
    for (int j = 0; j < 8; j++) {
        const float *xs = x + 32 * j;
        if (imp) {
            hearth_quant_weights(xs, imp + 32 * j, 32, sigma2, w);
        } else {
            float sum_x2 = 0.f;
            for (int l = 0; l < 32; l++) sum_x2 += xs[l] * xs[l];
            float av_x = sqrtf(sum_x2 / 32.f);
            for (int l = 0; l < 32; l++) w[l] = av_x + fabsf(xs[l]);
        }
        scales[j] = hearth_fit_asymmetric(32, nmax, xs, w, L + 32 * j, &mins[j], rmin, rdelta, nstep);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0.f ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0.f ? 63.f / max_min : 0.f;
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; j++) {
        ls[j] = (uint8_t)clampi(hearth_nearest_int(inv_scale * scales[j]), 0, 63);
        lm[j] = (uint8_t)clampi(hearth_nearest_int(inv_min * mins[j]), 0, 63);
    }
    pack_scale_min_k4(ls, lm, scales_out);
    *d_out = hearth_f32_to_f16(max_scale / 63.f);
    *dmin_out = hearth_f32_to_f16(max_min / 63.f);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        hearth_get_scale_min_k4(j, scales_out, &sc, &m);
        float d = hearth_f16_to_f32(*d_out) * (float)sc;
        float dm = hearth_f16_to_f32(*dmin_out) * (float)m;
        for (int l = 0; l < 32; l++)
            L[32 * j + l] =
                d != 0.f ? (uint8_t)clampi(hearth_nearest_int((x[32 * j + l] + dm) / d), 0, nmax) : 0;
    }
}

void hearth_q4_K_to_float(const void *src, float *dst, int64_t n) {
    const hearth_block_q4_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        float d = hearth_f16_to_f32(b[i].d), dmin = hearth_f16_to_f32(b[i].dmin);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            hearth_get_scale_min_k4(j, b[i].scales, &sc, &m);
            /* sub-block j: nibble (j&1) of bytes 32*(j/2) .. +31 */
            const uint8_t *q = b[i].qs + 32 * (j / 2);
            for (int l = 0; l < 32; l++) {
                int v = (j & 1) ? q[l] >> 4 : q[l] & 0xF;
                *dst++ = d * (float)sc * (float)v - dmin * (float)m;
            }
        }
    }
}

void hearth_q4_K_from_float_ref(const float *src, void *dst, int64_t n) {
    hearth_q4_K_quantize_imp(src, dst, n, NULL);
}

void hearth_q4_K_quantize_imp(const float *src, void *dst, int64_t n, const float *imp) {
    hearth_block_q4_K *b = dst;
    uint8_t L[QK_K];
    float sigma2 = imp ? hearth_quant_sigma2(src, n) : 0.f;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K, imp = imp ? imp + QK_K : NULL) {
        quantize_k4_scales(src, imp, sigma2, 15, &b[i].d, &b[i].dmin, b[i].scales, L);
        for (int j = 0; j < QK_K; j += 64)
            for (int l = 0; l < 32; l++)
                b[i].qs[j / 2 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    }
}

void hearth_q5_K_to_float(const void *src, float *dst, int64_t n) {
    const hearth_block_q5_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        float d = hearth_f16_to_f32(b[i].d), dmin = hearth_f16_to_f32(b[i].dmin);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            hearth_get_scale_min_k4(j, b[i].scales, &sc, &m);
            const uint8_t *q = b[i].qs + 32 * (j / 2);
            for (int l = 0; l < 32; l++) {
                int v = (j & 1) ? q[l] >> 4 : q[l] & 0xF;
                v |= ((b[i].qh[l] >> j) & 1) << 4;
                *dst++ = d * (float)sc * (float)v - dmin * (float)m;
            }
        }
    }
}

void hearth_q5_K_from_float_ref(const float *src, void *dst, int64_t n) {
    hearth_q5_K_quantize_imp(src, dst, n, NULL);
}

void hearth_q5_K_quantize_imp(const float *src, void *dst, int64_t n, const float *imp) {
    hearth_block_q5_K *b = dst;
    uint8_t L[QK_K];
    float sigma2 = imp ? hearth_quant_sigma2(src, n) : 0.f;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K, imp = imp ? imp + QK_K : NULL) {
        quantize_k4_scales(src, imp, sigma2, 31, &b[i].d, &b[i].dmin, b[i].scales, L);
        memset(b[i].qh, 0, sizeof b[i].qh);
        for (int j = 0; j < 8; j++)
            for (int l = 0; l < 32; l++) b[i].qh[l] |= (uint8_t)((L[32 * j + l] >> 4) << j);
        for (int j = 0; j < QK_K; j += 64)
            for (int l = 0; l < 32; l++)
                b[i].qs[j / 2 + l] = (uint8_t)((L[j + l] & 0xF) | ((L[j + l + 32] & 0xF) << 4));
    }
}

/* ---- Q6_K ------------------------------------------------------------------ */

void hearth_q6_K_to_float(const void *src, float *dst, int64_t n) {
    const hearth_block_q6_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        float d = hearth_f16_to_f32(b[i].d);
        for (int e = 0; e < QK_K; e++) {
            /* halves of 128: within one, quarter k = (e%128)/32, lane l = e%32;
             * low 4 bits: ql[64*half + 32*(k&1) + l], nibble k/2; high 2 bits:
             * qh[32*half + l] bits 2k */
            int h = e / 128, k = (e % 128) / 32, l = e % 32;
            int lo = (b[i].ql[64 * h + 32 * (k & 1) + l] >> (4 * (k / 2))) & 0xF;
            int hi = (b[i].qh[32 * h + l] >> (2 * k)) & 3;
            *dst++ = d * (float)b[i].scales[e / 16] * (float)((lo | (hi << 4)) - 32);
        }
    }
}

void hearth_q6_K_from_float_ref(const float *src, void *dst, int64_t n) {
    hearth_q6_K_quantize_imp(src, dst, n, NULL);
}

void hearth_q6_K_quantize_imp(const float *src, void *dst, int64_t n, const float *imp) {
    hearth_block_q6_K *b = dst;
    uint8_t L[QK_K];
    float scales[16], w[16];
    float sigma2 = imp ? hearth_quant_sigma2(src, n) : 0.f;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K, imp = imp ? imp + QK_K : NULL) {
        float max_scale = 0.f, amax = 0.f;
        for (int j = 0; j < 16; j++) {
            if (imp) hearth_quant_weights(src + 16 * j, imp + 16 * j, 16, sigma2, w);
            scales[j] = hearth_fit_symmetric(16, 32, src + 16 * j, imp ? w : NULL, L + 16 * j);
            if (fabsf(scales[j]) > amax) amax = fabsf(scales[j]), max_scale = scales[j];
        }
        memset(&b[i], 0, sizeof b[i]);
        if (max_scale != 0.f) {
            float iscale = -128.f / max_scale;
            b[i].d = hearth_f32_to_f16(1.f / iscale);
            for (int j = 0; j < 16; j++)
                b[i].scales[j] = (int8_t)clampi(hearth_nearest_int(iscale * scales[j]), -128, 127);
        }
        for (int j = 0; j < 16; j++) {
            float d = hearth_f16_to_f32(b[i].d) * (float)b[i].scales[j];
            for (int l = 0; l < 16; l++)
                L[16 * j + l] =
                    d != 0.f ? (uint8_t)(clampi(hearth_nearest_int(src[16 * j + l] / d), -32, 31) + 32) : 32;
        }
        for (int e = 0; e < QK_K; e++) {
            int h = e / 128, k = (e % 128) / 32, l = e % 32;
            b[i].ql[64 * h + 32 * (k & 1) + l] |= (uint8_t)((L[e] & 0xF) << (4 * (k / 2)));
            b[i].qh[32 * h + l] |= (uint8_t)((L[e] >> 4) << (2 * k));
        }
    }
}

/* ---- Q8_K ------------------------------------------------------------------ */

void hearth_q8_K_to_float(const void *src, float *dst, int64_t n) {
    const hearth_block_q8_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++)
        for (int j = 0; j < QK_K; j++) *dst++ = b[i].d * (float)b[i].qs[j];
}

void hearth_q8_K_from_float_ref(const float *src, void *dst, int64_t n) {
    hearth_block_q8_K *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        float amax = 0.f;
        for (int j = 0; j < QK_K; j++) amax = fmaxf(amax, fabsf(src[j]));
        /* d = amax/127 exactly as a float, so SIMD versions can match it bit
         * for bit (the dot products' reference uses these bytes). */
        float d = amax / 127.f, id = d != 0.f ? 1.f / d : 0.f;
        b[i].d = d;
        for (int j = 0; j < QK_K; j++) {
            int q = hearth_nearest_int(src[j] * id);
            b[i].qs[j] = (int8_t)(q < -127 ? -127 : q > 127 ? 127 : q);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            int s = 0;
            for (int l = 0; l < 16; l++) s += b[i].qs[16 * j + l];
            b[i].bsums[j] = (int16_t)s;
        }
    }
}
