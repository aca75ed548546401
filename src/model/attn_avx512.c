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
#include "kernels/x86/hsum_x86.h"

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

static inline float dot_tail(const float *q, const void *k, hearth_type type, size_t off, int nv) {
    __m512 acc = _mm512_setzero_ps();
    for (int b = 0; b < nv; b++)
        acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + b * 16), load16(k, type, off + (size_t)b * 16), acc);
    return _mm512_reduce_add_ps(acc);
}

/* Rows a block ahead of the one converted that are prefetched. A KV head's
 * rows are kv_stride apart with the other heads' rows between them, a
 * pattern the hardware prefetchers follow poorly: without this, a decode
 * step at depth 4096 read its keys and values at a few GB/s (Zen 5: 12.5 ms
 * a token for 48 MB on one thread, 4.8 ms with them in cache). */
enum { PF_ROWS = 4 * KB };

/* Converts rows [j0, j0+KB) of base (hd each, kv_stride apart) to floats,
 * and prefetches the rows PF_ROWS ahead (below np). */
static inline void load_block(const hearth_attn_args *a, const void *base, hearth_type type, int32_t j0,
                              float *dst) {
    size_t row_bytes = hearth_attn_bytes(type, (size_t)a->hd);
    for (int k = 0; k < KB && j0 + PF_ROWS + k < a->np; k++) {
        const char *p = (const char *)base + hearth_attn_bytes(type, (size_t)(j0 + PF_ROWS + k) * a->kv_stride);
        for (size_t o = 0; o < row_bytes; o += 64) _mm_prefetch(p + o, _MM_HINT_T0);
    }
    for (int k = 0; k < KB; k++) {
        size_t off = (size_t)(j0 + k) * a->kv_stride;
        for (int b = 0; b < a->hd / 16; b++)
            _mm512_storeu_ps(dst + k * a->hd + b * 16, load16(base, type, off + (size_t)b * 16));
    }
}

/* The kernel for head size hd (a multiple of 16, at most MAXHD). Inlined
 * with hd a constant for the common sizes: the offsets of a block's 16 rows
 * are then immediates; with hd in a register the sixteen row pointers did
 * not fit in registers and were reloaded from the stack before every
 * multiply-add (a third of the kernel's time on a 64-wide head). */
static inline __attribute__((always_inline)) void attn_hd(const hearth_attn_args *a, const int hd) {
    const int group = a->group, nv = hd / 16;
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
            _mm512_storeu_ps(a->scores + (size_t)g * a->score_stride + j, _mm512_mul_ps(hearth_hsum16x16_ps(acc), vscale));
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
    /* weighted values: KB rows converted once; up to VC output vectors
     * stay in registers over the KB rows, so each weight is broadcast once
     * per VC vectors; two accumulators per output vector (even and odd
     * rows) halve the dependency chain */
    memset(a->out, 0, (size_t)group * hd * sizeof(float));
    enum { VC = 4 };
    for (j = 0; j + KB <= a->np; j += KB) {
        load_block(a, a->v, a->type_v, j, blk);
        for (int g = 0; g < group; g++) {
            const float *sc = a->scores + (size_t)g * a->score_stride + j;
            float *og = a->out + g * hd;
            for (int b0 = 0; b0 < nv; b0 += VC) {
                const int nc = nv - b0 < VC ? nv - b0 : VC;
                __m512 o0[VC], o1[VC];
#pragma GCC unroll 4
                for (int c = 0; c < VC; c++) {
                    o0[c] = c < nc ? _mm512_loadu_ps(og + (b0 + c) * 16) : _mm512_setzero_ps();
                    o1[c] = _mm512_setzero_ps();
                }
#pragma GCC unroll 8
                for (int k = 0; k < KB; k += 2) {
                    __m512 p0 = _mm512_set1_ps(sc[k]), p1 = _mm512_set1_ps(sc[k + 1]);
                    const float *v0 = blk + k * hd + b0 * 16, *v1 = v0 + hd;
#pragma GCC unroll 4
                    for (int c = 0; c < VC; c++)
                        if (c < nc) {
                            o0[c] = _mm512_fmadd_ps(p0, _mm512_loadu_ps(v0 + c * 16), o0[c]);
                            o1[c] = _mm512_fmadd_ps(p1, _mm512_loadu_ps(v1 + c * 16), o1[c]);
                        }
                }
#pragma GCC unroll 4
                for (int c = 0; c < VC; c++)
                    if (c < nc) _mm512_storeu_ps(og + (b0 + c) * 16, _mm512_add_ps(o0[c], o1[c]));
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
void hearth_attn_avx512(const hearth_attn_args *a) {
    if (a->hd % 16 || a->hd > MAXHD) {
        hearth_attn_ref(a);
        return;
    }
    switch (a->hd) {
    case 64: attn_hd(a, 64); break;
    case 128: attn_hd(a, 128); break;
    default: attn_hd(a, a->hd); break;
    }
}
#else
void hearth_attn_avx512(const hearth_attn_args *a) { hearth_attn_ref(a); }
#endif
