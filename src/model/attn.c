/*
 * attn.c: the portable attention kernel (the reference the SIMD one is
 * tested against) and the choice between them.
 */
#include "model/attn.h"

#include "kernels/dot.h"
#include "kernels/fp16.h"
#include "kernels/quants.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Row j of base (keys or values in type t) as hd floats, in buf unless
 * the cache holds floats already. */
static inline const float *row(const hearth_attn_args *a, const void *base, hearth_type t, int32_t j,
                               float *buf) {
    const uint8_t *r = (const uint8_t *)base + hearth_attn_bytes(t, (size_t)j * a->kv_stride);
    switch (t) {
    case HEARTH_TYPE_F32: return (const float *)r;
    case HEARTH_TYPE_Q8_0: hearth_q8_0_to_float(r, buf, a->hd); return buf;
    case HEARTH_TYPE_Q4_0: hearth_q4_0_to_float(r, buf, a->hd); return buf;
    default: {
        const uint16_t *h = (const uint16_t *)r;
        for (int i = 0; i < a->hd; i++) buf[i] = hearth_f16_to_f32(h[i]);
        return buf;
    }
    }
}

void hearth_attn_ref(const hearth_attn_args *a) {
    int hd = a->hd, group = a->group;
    for (int32_t j = 0; j < a->np; j++) {
        const float *kr = row(a, a->k, a->type_k, j, a->rowbuf);
        for (int g = 0; g < group; g++) {
            const float *qg = a->q + g * hd;
            float dot = 0;
            for (int i = 0; i < hd; i++) dot += qg[i] * kr[i];
            a->scores[(size_t)g * a->score_stride + j] = dot * a->scale;
        }
    }
    for (int g = 0; g < group; g++) {
        float *sc = a->scores + (size_t)g * a->score_stride, mx = -INFINITY, sum = 0;
        for (int32_t j = 0; j < a->np; j++) mx = sc[j] > mx ? sc[j] : mx;
        for (int32_t j = 0; j < a->np; j++) sum += (sc[j] = expf(sc[j] - mx));
        float inv = 1.0f / sum;
        for (int32_t j = 0; j < a->np; j++) sc[j] *= inv;
        if (a->ml) {
            a->ml[2 * g] = mx;
            a->ml[2 * g + 1] = sum;
        }
    }
    memset(a->out, 0, (size_t)group * hd * sizeof(float));
    for (int32_t j = 0; j < a->np; j++) {
        const float *vr = row(a, a->v, a->type_v, j, a->rowbuf + hd);
        for (int g = 0; g < group; g++) {
            float p = a->scores[(size_t)g * a->score_stride + j];
            float *og = a->out + g * hd;
            for (int i = 0; i < hd; i++) og[i] += p * vr[i];
        }
    }
}

void hearth_attn_merge(int nq, int hd, float *out, float *ml, const float *out2, const float *ml2) {
    for (int r = 0; r < nq; r++) {
        float m1 = ml[2 * r], m2 = ml2[2 * r];
        float mx = m1 > m2 ? m1 : m2;
        /* both weights <= their sums: the larger maximum's exp is 1 */
        float w1 = ml[2 * r + 1] * expf(m1 - mx), w2 = ml2[2 * r + 1] * expf(m2 - mx);
        float inv = 1.0f / (w1 + w2), a1 = w1 * inv, a2 = w2 * inv;
        float *o = out + (size_t)r * hd;
        const float *o2 = out2 + (size_t)r * hd;
        for (int i = 0; i < hd; i++) o[i] = o[i] * a1 + o2[i] * a2;
        ml[2 * r] = mx;
        ml[2 * r + 1] = w1 + w2;
    }
}

void hearth_attn_chunked(hearth_attn_fn fn, const hearth_attn_args *a, int32_t chunk, float *tmp,
                         float *ml_tmp) {
    if (a->np <= chunk) {
        fn(a);
        return;
    }
    hearth_attn_args c = *a;
    if (!c.ml) c.ml = ml_tmp;
    float *ml = c.ml;
    c.np = chunk;
    fn(&c);
    c.out = tmp;
    c.ml = tmp + (size_t)a->group * a->hd;
    for (int32_t j0 = chunk; j0 < a->np; j0 += chunk) {
        size_t off = (size_t)j0 * a->kv_stride;
        c.k = (const uint8_t *)a->k + hearth_attn_bytes(a->type_k, off);
        c.v = (const uint8_t *)a->v + hearth_attn_bytes(a->type_v, off);
        c.np = a->np - j0 < chunk ? a->np - j0 : chunk;
        fn(&c);
        hearth_attn_merge(a->group, a->hd, a->out, ml, c.out, c.ml);
    }
}

hearth_from_float_fn hearth_f16_store_pick(void) {
#if defined(__x86_64__)
    /* every x86 level of the kernels above scalar has F16C */
    if (strcmp(hearth_dot_impl_name(), "scalar")) return hearth_f16_from_float_f16c;
#endif
    return hearth_f16_from_float_ref;
}

hearth_attn_fn hearth_attn_pick(int hd) {
#if defined(__x86_64__)
    /* Follow the kernels' one CPU-feature decision (it also honours
     * HEARTH_FORCE_SCALAR and HEARTH_KERNEL_LEVEL): its avx512 level
     * (F, BW, VL, DQ, VNNI) and the amx level above it mean the AVX-512
     * kernel here, AVX2 or better AVX2+FMA+F16C. */
    const char *level = hearth_dot_impl_name();
    if (hd % 16 == 0 && hd <= 256 && (!strcmp(level, "avx512") || !strcmp(level, "amx")))
        return hearth_attn_avx512;
    if (hd % 8 == 0 && strcmp(level, "scalar")) return hearth_attn_avx2;
#elif defined(__aarch64__)
    /* Every NEON level of the kernels (and HEARTH_FORCE_SCALAR, which makes
     * them "scalar") decides here too. */
    if (hd % 4 == 0 && hd <= 256 && strcmp(hearth_dot_impl_name(), "scalar")) return hearth_attn_neon;
#elif defined(__wasm_simd128__)
    /* the browser build's SIMD128 level (wasm128) */
    if (hd % 4 == 0 && hd <= 256 && strcmp(hearth_dot_impl_name(), "scalar")) return hearth_attn_wasm;
#endif
    (void)hd;
    return hearth_attn_ref;
}
