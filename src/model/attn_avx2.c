/*
 * attn_avx2.c: the attention kernel of attn.h with AVX2, FMA and F16C
 * (compiled with those flags; called only when the CPU has them and hd is
 * a multiple of 8). Same arithmetic as hearth_attn_ref up to summation order
 * and a polynomial exp (relative error about 2e-7 for the arguments <= 0
 * that softmax uses). A quantized cache (Q8_0 keys, Q8_0 or Q4_0 values) is
 * read through load8, which widens 8 values of one block and scales them.
 */
#include "model/attn.h"

#if defined(__x86_64__)
#include "kernels/fp16.h"
#include "kernels/x86/exp_avx2.h"

#include "kernels/x86/hsum_x86.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

/* Elements [off, off+8) of base in type as floats; for the block types off
 * is a multiple of 8, so the 8 lie in one block of 32. */
static inline __m256 load8(const void *base, hearth_type type, size_t off) {
    if (type == HEARTH_TYPE_F32) return _mm256_loadu_ps((const float *)base + off);
    if (type == HEARTH_TYPE_Q8_0) {
        const hearth_block_q8_0 *b = (const hearth_block_q8_0 *)base + off / QK8_0;
        __m128i q = _mm_loadl_epi64((const __m128i *)(b->qs + off % QK8_0));
        return _mm256_mul_ps(_mm256_set1_ps(hearth_f16_to_f32(b->d)), _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)));
    }
    if (type == HEARTH_TYPE_Q4_0) {
        const hearth_block_q4_0 *b = (const hearth_block_q4_0 *)base + off / QK4_0;
        size_t e = off % QK4_0;
        __m128i q = _mm_loadl_epi64((const __m128i *)(b->qs + e % 16));
        if (e >= 16) q = _mm_srli_epi16(q, 4); /* the high nibbles: x[16..31] */
        q = _mm_sub_epi8(_mm_and_si128(q, _mm_set1_epi8(15)), _mm_set1_epi8(8));
        return _mm256_mul_ps(_mm256_set1_ps(hearth_f16_to_f32(b->d)), _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)));
    }
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)base + off)));
}

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

enum { MAXG = 128, KB = 8 }; /* KB: the unrolled code below assumes 8 */

/* Converts rows [j0, j0+KB) of base (hd each, kv_stride apart) to floats. */
static inline void load_block(const hearth_attn_args *a, const void *base, hearth_type type, int32_t j0,
                              float *dst) {
    for (int k = 0; k < KB; k++) {
        size_t off = (size_t)(j0 + k) * a->kv_stride;
        for (int b = 0; b < a->hd / 8; b++)
            _mm256_storeu_ps(dst + k * a->hd + b * 8, load8(base, type, off + (size_t)b * 8));
    }
}

void hearth_attn_avx2(const hearth_attn_args *a) {
    int hd = a->hd, group = a->group, nv = hd / 8;
    if (group > MAXG || nv > 32) {
        hearth_attn_ref(a);
        return;
    }
    float blk[KB * 256]; /* KB rows of keys or values as floats */
    __m256 vscale = _mm256_set1_ps(a->scale);
    /* scores: KB keys at a time, converted once for the whole group, eight
     * dot products reduced together */
    int32_t j = 0;
    for (; j + KB <= a->np; j += KB) {
        load_block(a, a->k, a->type_k, j, blk);
        for (int g = 0; g < group; g++) {
            const float *qg = a->q + g * hd;
            __m256 acc[KB];
            for (int k = 0; k < KB; k++) acc[k] = _mm256_setzero_ps();
            for (int b = 0; b < nv; b++) {
                /* written out: the eight accumulators must stay in registers */
                __m256 qv = _mm256_loadu_ps(qg + b * 8);
                const float *kb = blk + b * 8;
                acc[0] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kb + 0 * hd), acc[0]);
                acc[1] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kb + 1 * hd), acc[1]);
                acc[2] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kb + 2 * hd), acc[2]);
                acc[3] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kb + 3 * hd), acc[3]);
                acc[4] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kb + 4 * hd), acc[4]);
                acc[5] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kb + 5 * hd), acc[5]);
                acc[6] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kb + 6 * hd), acc[6]);
                acc[7] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kb + 7 * hd), acc[7]);
            }
            _mm256_storeu_ps(a->scores + (size_t)g * a->score_stride + j, _mm256_mul_ps(hearth_hsum8x8_ps(acc), vscale));
        }
    }
    for (; j < a->np; j++) {
        size_t off = (size_t)j * a->kv_stride;
        for (int g = 0; g < group; g++) {
            const float *qg = a->q + g * hd;
            __m256 acc = _mm256_setzero_ps();
            for (int b = 0; b < nv; b++)
                acc = _mm256_fmadd_ps(_mm256_loadu_ps(qg + b * 8), load8(a->k, a->type_k, off + (size_t)b * 8), acc);
            a->scores[(size_t)g * a->score_stride + j] = hsum(acc) * a->scale;
        }
    }
    /* softmax per query head */
    for (int g = 0; g < group; g++) {
        float *sc = a->scores + (size_t)g * a->score_stride;
        /* the maximum in vectors: a scalar loop's compare chain cost a
         * fifth of the kernel; max_ps(x, m) keeps m where x is NaN, as the
         * reference's x > m ? x : m */
        __m256 vm = _mm256_set1_ps(-INFINITY);
        int32_t i = 0;
        for (; i + 8 <= a->np; i += 8) vm = _mm256_max_ps(_mm256_loadu_ps(sc + i), vm);
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vm), _mm256_extractf128_ps(vm, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        float mx = _mm_cvtss_f32(m4);
        for (; i < a->np; i++) mx = sc[i] > mx ? sc[i] : mx;
        __m256 vmx = _mm256_set1_ps(mx), vs = _mm256_setzero_ps();
        i = 0;
        for (; i + 8 <= a->np; i += 8) {
            __m256 e = hearth_exp8_avx2(_mm256_sub_ps(_mm256_loadu_ps(sc + i), vmx));
            _mm256_storeu_ps(sc + i, e);
            vs = _mm256_add_ps(vs, e);
        }
        float sum = hsum(vs);
        for (; i < a->np; i++) sum += (sc[i] = expf(sc[i] - mx));
        __m256 inv = _mm256_set1_ps(1.0f / sum);
        for (i = 0; i + 8 <= a->np; i += 8) _mm256_storeu_ps(sc + i, _mm256_mul_ps(_mm256_loadu_ps(sc + i), inv));
        for (; i < a->np; i++) sc[i] *= 1.0f / sum;
        if (a->ml) {
            a->ml[2 * g] = mx;
            a->ml[2 * g + 1] = sum;
        }
    }
    /* weighted values: KB rows converted once; each output vector is loaded
     * and stored once per block instead of once per row */
    memset(a->out, 0, (size_t)group * hd * sizeof(float));
    for (j = 0; j + KB <= a->np; j += KB) {
        load_block(a, a->v, a->type_v, j, blk);
        for (int g = 0; g < group; g++) {
            const float *sc = a->scores + (size_t)g * a->score_stride + j;
            __m256 p[KB];
            for (int k = 0; k < KB; k++) p[k] = _mm256_set1_ps(sc[k]);
            float *og = a->out + g * hd;
            for (int b = 0; b < nv; b++) {
                const float *vb = blk + b * 8;
                __m256 o0 = _mm256_loadu_ps(og + b * 8), o1 = _mm256_setzero_ps();
                o0 = _mm256_fmadd_ps(p[0], _mm256_loadu_ps(vb + 0 * hd), o0);
                o1 = _mm256_mul_ps(p[1], _mm256_loadu_ps(vb + 1 * hd));
                o0 = _mm256_fmadd_ps(p[2], _mm256_loadu_ps(vb + 2 * hd), o0);
                o1 = _mm256_fmadd_ps(p[3], _mm256_loadu_ps(vb + 3 * hd), o1);
                o0 = _mm256_fmadd_ps(p[4], _mm256_loadu_ps(vb + 4 * hd), o0);
                o1 = _mm256_fmadd_ps(p[5], _mm256_loadu_ps(vb + 5 * hd), o1);
                o0 = _mm256_fmadd_ps(p[6], _mm256_loadu_ps(vb + 6 * hd), o0);
                o1 = _mm256_fmadd_ps(p[7], _mm256_loadu_ps(vb + 7 * hd), o1);
                _mm256_storeu_ps(og + b * 8, _mm256_add_ps(o0, o1));
            }
        }
    }
    for (; j < a->np; j++) {
        size_t off = (size_t)j * a->kv_stride;
        for (int g = 0; g < group; g++) {
            __m256 p = _mm256_set1_ps(a->scores[(size_t)g * a->score_stride + j]);
            float *og = a->out + g * hd;
            for (int b = 0; b < nv; b++)
                _mm256_storeu_ps(og + b * 8, _mm256_fmadd_ps(p, load8(a->v, a->type_v, off + (size_t)b * 8),
                                                             _mm256_loadu_ps(og + b * 8)));
        }
    }
}

/* vcvtps2ph with an immediate rounding mode (nearest even, not MXCSR's) is
 * IEEE conversion: hearth_f32_to_f16's bytes, NaNs quieted with their
 * payload's top bits as there (test_attn checks both on sampled bit
 * patterns of every kind). */
void hearth_f16_from_float_f16c(const float *src, void *dst, int64_t n) {
    uint16_t *h = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(h + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    hearth_f16_from_float_ref(src + i, h + i, n - i);
}
#else
void hearth_attn_avx2(const hearth_attn_args *a) { hearth_attn_ref(a); }
void hearth_f16_from_float_f16c(const float *src, void *dst, int64_t n) { hearth_f16_from_float_ref(src, dst, n); }
#endif
