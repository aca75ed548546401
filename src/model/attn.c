/*
 * attn.c: the portable attention kernel (the reference the SIMD one is
 * tested against) and the choice between them.
 */
#include "model/attn.h"

#include "model/fp16.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static inline const float *row(const hearth_attn_args *a, const void *base, int32_t j, float *buf) {
    if (a->type == HEARTH_TYPE_F32) return (const float *)base + (size_t)j * a->kv_stride;
    const uint16_t *h = (const uint16_t *)base + (size_t)j * a->kv_stride;
    for (int i = 0; i < a->hd; i++) buf[i] = hearth_h2f(h[i]);
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
    const char *fs = getenv("HEARTH_FORCE_SCALAR");
    if (fs && *fs && strcmp(fs, "0")) return hearth_attn_ref;
#if defined(__x86_64__)
    __builtin_cpu_init();
    /* F16C through cpuid (leaf 1, ecx bit 29): clang 14's builtin does not know it */
    unsigned eax, ebx, ecx = 0, edx;
    bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx >> 29 & 1);
    if (hd % 8 == 0 && f16c && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return hearth_attn_avx2;
#endif
    (void)hd;
    return hearth_attn_ref;
}
