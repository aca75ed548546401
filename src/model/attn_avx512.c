/*
 * attn_avx512.c: the attention kernel of attn.h with AVX-512 (F, DQ, VL;
 * compiled with those flags; called only when the kernels' dispatch chose
 * its avx512 level and hd is a multiple of 16, at most 256). The algorithm
 * of attn_avx2.c with 16-float vectors: 16 keys at a time are converted
 * once for all rows, each row's 16 dot products reduced together; the
 * weighted sum of values takes 16 value rows per pass, so each output
 * vector is loaded and stored once per 16 positions and a row of 64 floats
 * is 4 vectors, half the instructions of the AVX2 kernel there. Same
 * arithmetic as hearth_attn_ref up to summation order and the polynomial
 * exp of exp_avx2.h. A quantized cache (Q8_0 keys, Q8_0 or Q4_0 values) is
 * read the same way: load16 widens 16 int8 or 4-bit values of one block and
 * scales them, so blocks of rows become the same float tiles.
 */
#include "model/attn.h"

#if defined(__x86_64__)
#include "kernels/fp16.h"
#include "kernels/x86/exp_avx2.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

enum { KB = 16, MAXHD = 256 };

/* Elements [off, off+16) of base in type as floats; for the block types off
 * is a multiple of 16, so the 16 lie in one block of 32 (its first or
 * second half). */
static inline __m512 load16(const void *base, hearth_type type, size_t off) {
    if (type == HEARTH_TYPE_F32) return _mm512_loadu_ps((const float *)base + off);
    if (type == HEARTH_TYPE_Q8_0) {
        const hearth_block_q8_0 *b = (const hearth_block_q8_0 *)base + off / QK8_0;
        __m128i q = _mm_loadu_si128((const __m128i *)(b->qs + off % QK8_0));
        return _mm512_mul_ps(_mm512_set1_ps(hearth_f16_to_f32(b->d)), _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)));
    }
    if (type == HEARTH_TYPE_Q4_0) {
        const hearth_block_q4_0 *b = (const hearth_block_q4_0 *)base + off / QK4_0;
        __m128i q = _mm_loadu_si128((const __m128i *)b->qs);
        if (off % QK4_0) q = _mm_srli_epi16(q, 4); /* the high nibbles: x[16..31] */
        q = _mm_sub_epi8(_mm_and_si128(q, _mm_set1_epi8(15)), _mm_set1_epi8(8));
        return _mm512_mul_ps(_mm512_set1_ps(hearth_f16_to_f32(b->d)), _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)));
    }
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)base + off)));
}

/* Sums each of 8 vectors: lane k of the result is the sum of a[k]. */
static inline __m256 hsum8(const __m256 *a) {
    __m256 t0 = _mm256_hadd_ps(a[0], a[1]), t1 = _mm256_hadd_ps(a[2], a[3]);
    __m256 t2 = _mm256_hadd_ps(a[4], a[5]), t3 = _mm256_hadd_ps(a[6], a[7]);
    __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

/* Lane k of the result is the sum of the 16 lanes of a[k]. */
static inline __m512 hsum16(const __m512 *a) {
    __m256 h[KB];
#pragma GCC unroll 16
    for (int k = 0; k < KB; k++)
        h[k] = _mm256_add_ps(_mm512_castps512_ps256(a[k]), _mm512_extractf32x8_ps(a[k], 1));
    return _mm512_insertf32x8(_mm512_castps256_ps512(hsum8(h)), hsum8(h + 8), 1);
}

static inline float dot_tail(const float *q, const void *k, hearth_type type, size_t off, int nv) {
    __m512 acc = _mm512_setzero_ps();
    for (int b = 0; b < nv; b++)
        acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + b * 16), load16(k, type, off + (size_t)b * 16), acc);
    return _mm512_reduce_add_ps(acc);
}

/* Converts rows [j0, j0+KB) of base (hd each, kv_stride apart) to floats. */
static inline void load_block(const hearth_attn_args *a, const void *base, hearth_type type, int32_t j0,
                              float *dst) {
    for (int k = 0; k < KB; k++) {
        size_t off = (size_t)(j0 + k) * a->kv_stride;
        for (int b = 0; b < a->hd / 16; b++)
            _mm512_storeu_ps(dst + k * a->hd + b * 16, load16(base, type, off + (size_t)b * 16));
    }
}

void hearth_attn_avx512(const hearth_attn_args *a) {
    int hd = a->hd, group = a->group, nv = hd / 16;
    if (hd % 16 || hd > MAXHD) {
        hearth_attn_ref(a);
        return;
    }
    float blk[KB * MAXHD]; /* KB rows of keys or values as floats */
    __m512 vscale = _mm512_set1_ps(a->scale);
    int32_t j = 0;
    for (; j + KB <= a->np; j += KB) {
        load_block(a, a->k, a->type_k, j, blk);
        for (int g = 0; g < group; g++) {
            const float *qg = a->q + g * hd;
            __m512 acc[KB];
            /* unrolled: the sixteen accumulators must stay in registers */
#pragma GCC unroll 16
            for (int k = 0; k < KB; k++) acc[k] = _mm512_setzero_ps();
            for (int b = 0; b < nv; b++) {
                __m512 qv = _mm512_loadu_ps(qg + b * 16);
                const float *kb = blk + b * 16;
#pragma GCC unroll 16
                for (int k = 0; k < KB; k++) acc[k] = _mm512_fmadd_ps(qv, _mm512_loadu_ps(kb + k * hd), acc[k]);
            }
            _mm512_storeu_ps(a->scores + (size_t)g * a->score_stride + j, _mm512_mul_ps(hsum16(acc), vscale));
        }
    }
    for (; j < a->np; j++) {
        size_t off = (size_t)j * a->kv_stride;
        for (int g = 0; g < group; g++)
            a->scores[(size_t)g * a->score_stride + j] = dot_tail(a->q + g * hd, a->k, a->type_k, off, nv) * a->scale;
    }
    /* softmax per query row */
    for (int g = 0; g < group; g++) {
        float *sc = a->scores + (size_t)g * a->score_stride;
        /* the maximum in vectors: a scalar loop's compare chain cost a
         * fifth of the kernel; max_ps(x, m) keeps m where x is NaN, as the
         * reference's x > m ? x : m */
        __m512 vm = _mm512_set1_ps(-INFINITY);
        int32_t i = 0;
        for (; i + 16 <= a->np; i += 16) vm = _mm512_max_ps(_mm512_loadu_ps(sc + i), vm);
        float mx = _mm512_reduce_max_ps(vm);
        for (; i < a->np; i++) mx = sc[i] > mx ? sc[i] : mx;
        __m256 vmx = _mm256_set1_ps(mx), vs = _mm256_setzero_ps();
        i = 0;
        for (; i + 8 <= a->np; i += 8) {
            __m256 e = hearth_exp8_avx2(_mm256_sub_ps(_mm256_loadu_ps(sc + i), vmx));
            _mm256_storeu_ps(sc + i, e);
            vs = _mm256_add_ps(vs, e);
        }
        __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(vs), _mm256_extractf128_ps(vs, 1));
        s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        s4 = _mm_add_ss(s4, _mm_movehdup_ps(s4));
        float sum = _mm_cvtss_f32(s4);
        for (; i < a->np; i++) sum += (sc[i] = expf(sc[i] - mx));
        __m256 inv = _mm256_set1_ps(1.0f / sum);
        for (i = 0; i + 8 <= a->np; i += 8) _mm256_storeu_ps(sc + i, _mm256_mul_ps(_mm256_loadu_ps(sc + i), inv));
        for (; i < a->np; i++) sc[i] *= 1.0f / sum;
        if (a->ml) {
            a->ml[2 * g] = mx;
            a->ml[2 * g + 1] = sum;
        }
    }
    /* weighted values: KB rows converted once; two accumulators per output
     * vector halve the dependency chain */
    memset(a->out, 0, (size_t)group * hd * sizeof(float));
    for (j = 0; j + KB <= a->np; j += KB) {
        load_block(a, a->v, a->type_v, j, blk);
        for (int g = 0; g < group; g++) {
            const float *sc = a->scores + (size_t)g * a->score_stride + j;
            float *og = a->out + g * hd;
            for (int b = 0; b < nv; b++) {
                const float *vb = blk + b * 16;
                __m512 o0 = _mm512_loadu_ps(og + b * 16), o1 = _mm512_setzero_ps();
#pragma GCC unroll 8
                for (int k = 0; k < KB; k += 2) {
                    o0 = _mm512_fmadd_ps(_mm512_set1_ps(sc[k]), _mm512_loadu_ps(vb + k * hd), o0);
                    o1 = _mm512_fmadd_ps(_mm512_set1_ps(sc[k + 1]), _mm512_loadu_ps(vb + (k + 1) * hd), o1);
                }
                _mm512_storeu_ps(og + b * 16, _mm512_add_ps(o0, o1));
            }
        }
    }
    for (; j < a->np; j++) {
        size_t off = (size_t)j * a->kv_stride;
        for (int g = 0; g < group; g++) {
            __m512 p = _mm512_set1_ps(a->scores[(size_t)g * a->score_stride + j]);
            float *og = a->out + g * hd;
            for (int b = 0; b < nv; b++)
                _mm512_storeu_ps(og + b * 16, _mm512_fmadd_ps(p, load16(a->v, a->type_v, off + (size_t)b * 16),
                                                              _mm512_loadu_ps(og + b * 16)));
        }
    }
}
#else
void hearth_attn_avx512(const hearth_attn_args *a) { hearth_attn_ref(a); }
#endif
