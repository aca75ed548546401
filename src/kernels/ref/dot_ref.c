/*
 * dot_ref.c: the scalar reference kernels of dot.h, the specification the
 * SIMD kernels are tested against. One vec_dot per weight type, written
 * from the format's definition: per block an exact integer dot product of
 * the codes, then the float scales. gemv and gemm are plain loops over it.
 *
 * Activation formats (as ggml): F32 for F32/F16/BF16 weights; Q8_0 for
 * Q4_0/Q5_0/Q8_0; Q8_1 (with s = d*sum(qs)) for Q4_1/Q5_1; Q8_K for the
 * K-quants.
 */
#include "kernels/dot_int.h"
#include "kernels/quants.h"

#include <string.h>

typedef float (*vec_dot_fn)(int64_t n, const void *w, const void *a);

static float dot_f32(int64_t n, const void *w, const void *a) {
    const float *x = w, *y = a;
    float s = 0.f;
    for (int64_t i = 0; i < n; i++) s += x[i] * y[i];
    return s;
}

static float dot_f16(int64_t n, const void *w, const void *a) {
    const hearth_f16 *x = w;
    const float *y = a;
    float s = 0.f;
    for (int64_t i = 0; i < n; i++) s += hearth_f16_to_f32(x[i]) * y[i];
    return s;
}

static float dot_bf16(int64_t n, const void *w, const void *a) {
    const hearth_bf16 *x = w;
    const float *y = a;
    float s = 0.f;
    for (int64_t i = 0; i < n; i++) s += hearth_bf16_to_f32(x[i]) * y[i];
    return s;
}

static float dot_q4_0(int64_t n, const void *w, const void *a) {
    const hearth_block_q4_0 *x = w;
    const hearth_block_q8_0 *y = a;
    float s = 0.f;
    for (int64_t b = 0; b < n / QK4_0; b++) {
        int sumi = 0;
        for (int j = 0; j < 16; j++)
            sumi += ((x[b].qs[j] & 0xF) - 8) * y[b].qs[j] + ((x[b].qs[j] >> 4) - 8) * y[b].qs[j + 16];
        s += hearth_f16_to_f32(x[b].d) * hearth_f16_to_f32(y[b].d) * (float)sumi;
    }
    return s;
}

static float dot_q4_1(int64_t n, const void *w, const void *a) {
    const hearth_block_q4_1 *x = w;
    const hearth_block_q8_1 *y = a;
    float s = 0.f;
    for (int64_t b = 0; b < n / QK4_1; b++) {
        int sumi = 0;
        for (int j = 0; j < 16; j++)
            sumi += (x[b].qs[j] & 0xF) * y[b].qs[j] + (x[b].qs[j] >> 4) * y[b].qs[j + 16];
        s += hearth_f16_to_f32(x[b].d) * hearth_f16_to_f32(y[b].d) * (float)sumi +
             hearth_f16_to_f32(x[b].m) * hearth_f16_to_f32(y[b].s);
    }
    return s;
}

static uint32_t qh32(const uint8_t qh[4]) {
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
}

static float dot_q5_0(int64_t n, const void *w, const void *a) {
    const hearth_block_q5_0 *x = w;
    const hearth_block_q8_0 *y = a;
    float s = 0.f;
    for (int64_t b = 0; b < n / QK5_0; b++) {
        uint32_t qh = qh32(x[b].qh);
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            int q0 = ((x[b].qs[j] & 0xF) | (int)(((qh >> j) & 1) << 4)) - 16;
            int q1 = ((x[b].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4)) - 16;
            sumi += q0 * y[b].qs[j] + q1 * y[b].qs[j + 16];
        }
        s += hearth_f16_to_f32(x[b].d) * hearth_f16_to_f32(y[b].d) * (float)sumi;
    }
    return s;
}

static float dot_q5_1(int64_t n, const void *w, const void *a) {
    const hearth_block_q5_1 *x = w;
    const hearth_block_q8_1 *y = a;
    float s = 0.f;
    for (int64_t b = 0; b < n / QK5_1; b++) {
        uint32_t qh = qh32(x[b].qh);
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            int q0 = (x[b].qs[j] & 0xF) | (int)(((qh >> j) & 1) << 4);
            int q1 = (x[b].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            sumi += q0 * y[b].qs[j] + q1 * y[b].qs[j + 16];
        }
        s += hearth_f16_to_f32(x[b].d) * hearth_f16_to_f32(y[b].d) * (float)sumi +
             hearth_f16_to_f32(x[b].m) * hearth_f16_to_f32(y[b].s);
    }
    return s;
}

static float dot_q8_0(int64_t n, const void *w, const void *a) {
    const hearth_block_q8_0 *x = w;
    const hearth_block_q8_0 *y = a;
    float s = 0.f;
    for (int64_t b = 0; b < n / QK8_0; b++) {
        int sumi = 0;
        for (int j = 0; j < 32; j++) sumi += x[b].qs[j] * y[b].qs[j];
        s += hearth_f16_to_f32(x[b].d) * hearth_f16_to_f32(y[b].d) * (float)sumi;
    }
    return s;
}

/* K-quants: per super-block, sum_j scale_j * (codes . acts over sub-block j)
 * exactly in integers, then d*d_act; the mins use the activation's bsums. */

static float dot_q2_K(int64_t n, const void *w, const void *a) {
    const hearth_block_q2_K *x = w;
    const hearth_block_q8_K *y = a;
    float s = 0.f;
    for (int64_t b = 0; b < n / QK_K; b++) {
        int sumi = 0, summ = 0;
        for (int e = 0; e < QK_K; e++) {
            int q = (x[b].qs[(e / 128) * 32 + e % 32] >> (2 * ((e / 32) % 4))) & 3;
            sumi += (x[b].scales[e / 16] & 0xF) * q * y[b].qs[e];
        }
        for (int j = 0; j < 16; j++) summ += (x[b].scales[j] >> 4) * y[b].bsums[j];
        s += y[b].d * (hearth_f16_to_f32(x[b].d) * (float)sumi - hearth_f16_to_f32(x[b].dmin) * (float)summ);
    }
    return s;
}

static float dot_q3_K(int64_t n, const void *w, const void *a) {
    const hearth_block_q3_K *x = w;
    const hearth_block_q8_K *y = a;
    float s = 0.f;
    int8_t sc[16];
    for (int64_t b = 0; b < n / QK_K; b++) {
        hearth_q3_K_scales(x[b].scales, sc);
        int sumi = 0;
        for (int e = 0; e < QK_K; e++) {
            int lo = (x[b].qs[(e / 128) * 32 + e % 32] >> (2 * ((e / 32) % 4))) & 3;
            int hi = (x[b].hmask[e % 32] >> (e / 32)) & 1;
            sumi += sc[e / 16] * (lo - (hi ? 0 : 4)) * y[b].qs[e];
        }
        s += y[b].d * hearth_f16_to_f32(x[b].d) * (float)sumi;
    }
    return s;
}

static float dot_q4_K(int64_t n, const void *w, const void *a) {
    const hearth_block_q4_K *x = w;
    const hearth_block_q8_K *y = a;
    float s = 0.f;
    for (int64_t b = 0; b < n / QK_K; b++) {
        int sumi = 0, summ = 0;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            hearth_get_scale_min_k4(j, x[b].scales, &sc, &m);
            const uint8_t *q = x[b].qs + 32 * (j / 2);
            int si = 0;
            for (int l = 0; l < 32; l++) si += ((j & 1) ? q[l] >> 4 : q[l] & 0xF) * y[b].qs[32 * j + l];
            sumi += sc * si;
            summ += m * (y[b].bsums[2 * j] + y[b].bsums[2 * j + 1]);
        }
        s += y[b].d * (hearth_f16_to_f32(x[b].d) * (float)sumi - hearth_f16_to_f32(x[b].dmin) * (float)summ);
    }
    return s;
}

static float dot_q5_K(int64_t n, const void *w, const void *a) {
    const hearth_block_q5_K *x = w;
    const hearth_block_q8_K *y = a;
    float s = 0.f;
    for (int64_t b = 0; b < n / QK_K; b++) {
        int sumi = 0, summ = 0;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            hearth_get_scale_min_k4(j, x[b].scales, &sc, &m);
            const uint8_t *q = x[b].qs + 32 * (j / 2);
            int si = 0;
            for (int l = 0; l < 32; l++) {
                int v = ((j & 1) ? q[l] >> 4 : q[l] & 0xF) | (((x[b].qh[l] >> j) & 1) << 4);
                si += v * y[b].qs[32 * j + l];
            }
            sumi += sc * si;
            summ += m * (y[b].bsums[2 * j] + y[b].bsums[2 * j + 1]);
        }
        s += y[b].d * (hearth_f16_to_f32(x[b].d) * (float)sumi - hearth_f16_to_f32(x[b].dmin) * (float)summ);
    }
    return s;
}

static float dot_q6_K(int64_t n, const void *w, const void *a) {
    const hearth_block_q6_K *x = w;
    const hearth_block_q8_K *y = a;
    float s = 0.f;
    for (int64_t b = 0; b < n / QK_K; b++) {
        int sumi = 0;
        for (int e = 0; e < QK_K; e++) {
            int h = e / 128, k = (e % 128) / 32, l = e % 32;
            int lo = (x[b].ql[64 * h + 32 * (k & 1) + l] >> (4 * (k / 2))) & 0xF;
            int hi = (x[b].qh[32 * h + l] >> (2 * k)) & 3;
            sumi += x[b].scales[e / 16] * ((lo | (hi << 4)) - 32) * y[b].qs[e];
        }
        s += y[b].d * hearth_f16_to_f32(x[b].d) * (float)sumi;
    }
    return s;
}

/* ---- activations, gemv, gemm ----------------------------------------------------- */

static void act_f32(const float *x, void *dst, int64_t n) { memcpy(dst, x, (size_t)n * sizeof(float)); }
static size_t act_f32_size(int64_t n) { return (size_t)n * sizeof(float); }
static size_t act_q8_0_size(int64_t n) { return (size_t)(n / QK8_0) * sizeof(hearth_block_q8_0); }
static size_t act_q8_1_size(int64_t n) { return (size_t)(n / QK8_1) * sizeof(hearth_block_q8_1); }
static size_t act_q8_K_size(int64_t n) { return (size_t)(n / QK_K) * sizeof(hearth_block_q8_K); }

#define REF_KERNELS(name, fn)                                                                \
    static void gemv_##name(int64_t n, int64_t nrows, float *out, const void *w,             \
                            size_t w_stride, const void *act) {                              \
        const uint8_t *wb = w;                                                               \
        for (int64_t r = 0; r < nrows; r++) out[r] = fn(n, wb + (size_t)r * w_stride, act);  \
    }                                                                                        \
    HEARTH_DOT_GEMM_BY_GEMV(name)

REF_KERNELS(f32, dot_f32)
REF_KERNELS(f16, dot_f16)
REF_KERNELS(bf16, dot_bf16)
REF_KERNELS(q4_0, dot_q4_0)
REF_KERNELS(q4_1, dot_q4_1)
REF_KERNELS(q5_0, dot_q5_0)
REF_KERNELS(q5_1, dot_q5_1)
REF_KERNELS(q8_0, dot_q8_0)
REF_KERNELS(q2_K, dot_q2_K)
REF_KERNELS(q3_K, dot_q3_K)
REF_KERNELS(q4_K, dot_q4_K)
REF_KERNELS(q5_K, dot_q5_K)
REF_KERNELS(q6_K, dot_q6_K)

void hearth_dot_fill_ref(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) {
#define SET(T, name, at, qa, asz)                                                         \
    tab[HEARTH_TYPE_##T] = (hearth_dot_kernel){.act_type = HEARTH_TYPE_##at,              \
                                               .quantize_act = qa,                        \
                                               .act_row_size = asz,                       \
                                               .gemv = gemv_##name,                       \
                                               .gemm = gemm_##name}
    SET(F32, f32, F32, act_f32, act_f32_size);
    SET(F16, f16, F32, act_f32, act_f32_size);
    SET(BF16, bf16, F32, act_f32, act_f32_size);
    SET(Q4_0, q4_0, Q8_0, hearth_q8_0_from_float_ref, act_q8_0_size);
    SET(Q4_1, q4_1, Q8_1, hearth_q8_1_from_float_ref, act_q8_1_size);
    SET(Q5_0, q5_0, Q8_0, hearth_q8_0_from_float_ref, act_q8_0_size);
    SET(Q5_1, q5_1, Q8_1, hearth_q8_1_from_float_ref, act_q8_1_size);
    SET(Q8_0, q8_0, Q8_0, hearth_q8_0_from_float_ref, act_q8_0_size);
    SET(Q2_K, q2_K, Q8_K, hearth_q8_K_from_float_ref, act_q8_K_size);
    SET(Q3_K, q3_K, Q8_K, hearth_q8_K_from_float_ref, act_q8_K_size);
    SET(Q4_K, q4_K, Q8_K, hearth_q8_K_from_float_ref, act_q8_K_size);
    SET(Q5_K, q5_K, Q8_K, hearth_q8_K_from_float_ref, act_q8_K_size);
    SET(Q6_K, q6_K, Q8_K, hearth_q8_K_from_float_ref, act_q8_K_size);
#undef SET
}
