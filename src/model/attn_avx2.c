/*
 * attn_avx2.c: the attention kernel of attn.h with AVX2, FMA and F16C
 * (compiled with those flags; called only when the CPU has them and hd is
 * a multiple of 8). Same arithmetic as hearth_attn_ref up to summation order
 * and a polynomial exp (relative error about 2e-7 for the arguments <= 0
 * that softmax uses).
 */
#include "model/attn.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

static inline __m256 load8(const void *base, hearth_type type, size_t off) {
    if (type == HEARTH_TYPE_F32) return _mm256_loadu_ps((const float *)base + off);
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)base + off)));
}

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* exp(x) for x <= 0 (softmax arguments): 2^n * p(r), Cephes-style. */
static inline __m256 exp8(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.3f);
    x = _mm256_max_ps(x, lo);
    __m256 fx = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f));
    fx = _mm256_floor_ps(fx);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 z = _mm256_mul_ps(x, x);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, z, x);
    y = _mm256_add_ps(y, _mm256_set1_ps(1.0f));
    __m256i n = _mm256_cvttps_epi32(fx);
    n = _mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(n));
}

enum { MAXG = 16 };

void hearth_attn_avx2(const hearth_attn_args *a) {
    int hd = a->hd, group = a->group, nv = hd / 8;
    if (group > MAXG || nv > 32) {
        hearth_attn_ref(a);
        return;
    }
    /* scores: one pass over the keys, each row loaded once for the group */
    for (int32_t j = 0; j < a->np; j++) {
        size_t off = (size_t)j * a->kv_stride;
        __m256 kr[32];
        for (int b = 0; b < nv; b++) kr[b] = load8(a->k, a->type, off + (size_t)b * 8);
        for (int g = 0; g < group; g++) {
            const float *qg = a->q + g * hd;
            __m256 acc = _mm256_mul_ps(_mm256_loadu_ps(qg), kr[0]);
            for (int b = 1; b < nv; b++) acc = _mm256_fmadd_ps(_mm256_loadu_ps(qg + b * 8), kr[b], acc);
            a->scores[(size_t)g * a->score_stride + j] = hsum(acc) * a->scale;
        }
    }
    /* softmax per query head */
    for (int g = 0; g < group; g++) {
        float *sc = a->scores + (size_t)g * a->score_stride;
        float mx = -INFINITY;
        for (int32_t j = 0; j < a->np; j++) mx = sc[j] > mx ? sc[j] : mx;
        __m256 vmx = _mm256_set1_ps(mx), vs = _mm256_setzero_ps();
        int32_t j = 0;
        for (; j + 8 <= a->np; j += 8) {
            __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(sc + j), vmx));
            _mm256_storeu_ps(sc + j, e);
            vs = _mm256_add_ps(vs, e);
        }
        float sum = hsum(vs);
        for (; j < a->np; j++) sum += (sc[j] = expf(sc[j] - mx));
        __m256 inv = _mm256_set1_ps(1.0f / sum);
        for (j = 0; j + 8 <= a->np; j += 8) _mm256_storeu_ps(sc + j, _mm256_mul_ps(_mm256_loadu_ps(sc + j), inv));
        for (; j < a->np; j++) sc[j] *= 1.0f / sum;
    }
    /* weighted values: accumulators for the whole group stay in registers
     * when they fit, else in out */
    memset(a->out, 0, (size_t)group * hd * sizeof(float));
    for (int32_t j = 0; j < a->np; j++) {
        size_t off = (size_t)j * a->kv_stride;
        __m256 vr[32];
        for (int b = 0; b < nv; b++) vr[b] = load8(a->v, a->type, off + (size_t)b * 8);
        for (int g = 0; g < group; g++) {
            __m256 p = _mm256_set1_ps(a->scores[(size_t)g * a->score_stride + j]);
            float *og = a->out + g * hd;
            for (int b = 0; b < nv; b++)
                _mm256_storeu_ps(og + b * 8, _mm256_fmadd_ps(p, vr[b], _mm256_loadu_ps(og + b * 8)));
        }
    }
}
#else
void hearth_attn_avx2(const hearth_attn_args *a) { hearth_attn_ref(a); }
#endif
