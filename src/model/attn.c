/*
 * attn.c: the portable attention kernel (the reference the SIMD one is
 * tested against) and the choice between them.
 */
#include "model/attn.h"

#include "kernels/dot.h"
#include "kernels/fp16.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline const float *row(const hearth_attn_args *a, const void *base, int32_t j, float *buf) {
    if (a->type == HEARTH_TYPE_F32) return (const float *)base + (size_t)j * a->kv_stride;
    const uint16_t *h = (const uint16_t *)base + (size_t)j * a->kv_stride;
    for (int i = 0; i < a->hd; i++) buf[i] = hearth_f16_to_f32(h[i]);
    return buf;
}

void hearth_attn_ref(const hearth_attn_args *a) {
    int hd = a->hd, group = a->group;
    for (int32_t j = 0; j < a->np; j++) {
        const float *kr = row(a, a->k, j, a->rowbuf);
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
    }
    memset(a->out, 0, (size_t)group * hd * sizeof(float));
    for (int32_t j = 0; j < a->np; j++) {
        const float *vr = row(a, a->v, j, a->rowbuf + hd);
        for (int g = 0; g < group; g++) {
            float p = a->scores[(size_t)g * a->score_stride + j];
            float *og = a->out + g * hd;
            for (int i = 0; i < hd; i++) og[i] += p * vr[i];
        }
    }
}

hearth_attn_fn hearth_attn_pick(int hd) {
#if defined(__x86_64__)
    /* Follow the kernels' one CPU-feature decision (it also honours
     * HEARTH_FORCE_SCALAR): AVX2 or better there means AVX2+FMA+F16C here. */
    if (hd % 8 == 0 && strcmp(hearth_dot_impl_name(), "scalar")) return hearth_attn_avx2;
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
