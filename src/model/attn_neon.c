/*
 * attn_neon.c: the attention kernel of attn.h with AArch64 Advanced SIMD
 * (ARMv8.0: fmla, and fcvtl for the F16 cache), called where the kernels
 * chose a NEON level and hd is a multiple of 4. Same arithmetic as
 * hearth_attn_ref up to summation order; the softmax's exp is libm's expf,
 * as in the reference (it is np values per head against the hd*np of the
 * two products).
 * A quantized cache (Q8_0 keys, Q8_0 or Q4_0 values) goes to hearth_attn_ref.
 */
#include "model/attn.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <math.h>
#include <string.h>

static inline float32x4_t load4(const void *base, hearth_type type, size_t off) {
    if (type == HEARTH_TYPE_F32) return vld1q_f32((const float *)base + off);
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)base + off)));
}

enum { MAXG = 128, KB = 4, MAXHD = 256 };

/* Converts rows [j0, j0+KB) of base (hd each, kv_stride apart) to floats. */
static inline void load_block(const hearth_attn_args *a, const void *base, hearth_type type, int32_t j0,
                              float *dst) {
    for (int k = 0; k < KB; k++) {
        size_t off = (size_t)(j0 + k) * a->kv_stride;
        for (int b = 0; b < a->hd / 4; b++) vst1q_f32(dst + k * a->hd + b * 4, load4(base, type, off + (size_t)b * 4));
    }
}

void hearth_attn_neon(const hearth_attn_args *a) {
    int hd = a->hd, group = a->group, nv = hd / 4;
    if (group > MAXG || hd > MAXHD || hd % 4 || hearth_attn_blocks(a)) { /* block types: the reference */
        hearth_attn_ref(a);
        return;
    }
    float blk[KB * MAXHD]; /* KB rows of keys or values as floats */
    /* scores: KB keys at a time, converted once for the whole group */
    int32_t j = 0;
    for (; j + KB <= a->np; j += KB) {
        load_block(a, a->k, a->type_k, j, blk);
        for (int g = 0; g < group; g++) {
            const float *qg = a->q + g * hd;
            float32x4_t acc0 = vdupq_n_f32(0.f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (int b = 0; b < nv; b++) {
                float32x4_t qv = vld1q_f32(qg + b * 4);
                const float *kb = blk + b * 4;
                acc0 = vfmaq_f32(acc0, qv, vld1q_f32(kb + 0 * hd));
                acc1 = vfmaq_f32(acc1, qv, vld1q_f32(kb + 1 * hd));
                acc2 = vfmaq_f32(acc2, qv, vld1q_f32(kb + 2 * hd));
                acc3 = vfmaq_f32(acc3, qv, vld1q_f32(kb + 3 * hd));
            }
            /* lane k: the sum of acc_k */
            float32x4_t s = vpaddq_f32(vpaddq_f32(acc0, acc1), vpaddq_f32(acc2, acc3));
            vst1q_f32(a->scores + (size_t)g * a->score_stride + j, vmulq_n_f32(s, a->scale));
        }
    }
    for (; j < a->np; j++) {
        size_t off = (size_t)j * a->kv_stride;
        for (int g = 0; g < group; g++) {
            const float *qg = a->q + g * hd;
            float32x4_t acc = vdupq_n_f32(0.f);
            for (int b = 0; b < nv; b++)
                acc = vfmaq_f32(acc, vld1q_f32(qg + b * 4), load4(a->k, a->type_k, off + (size_t)b * 4));
            a->scores[(size_t)g * a->score_stride + j] = vaddvq_f32(acc) * a->scale;
        }
    }
    /* softmax per query head */
    for (int g = 0; g < group; g++) {
        float *sc = a->scores + (size_t)g * a->score_stride, mx = -INFINITY, sum = 0;
        for (int32_t i = 0; i < a->np; i++) mx = sc[i] > mx ? sc[i] : mx;
        for (int32_t i = 0; i < a->np; i++) sum += (sc[i] = expf(sc[i] - mx));
        float inv = 1.0f / sum;
        int32_t i = 0;
        for (; i + 4 <= a->np; i += 4) vst1q_f32(sc + i, vmulq_n_f32(vld1q_f32(sc + i), inv));
        for (; i < a->np; i++) sc[i] *= inv;
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
            float32x4_t p = vld1q_f32(a->scores + (size_t)g * a->score_stride + j);
            float *og = a->out + g * hd;
            for (int b = 0; b < nv; b++) {
                const float *vb = blk + b * 4;
                float32x4_t o0 = vld1q_f32(og + b * 4), o1 = vmulq_laneq_f32(vld1q_f32(vb + 1 * hd), p, 1);
                o0 = vfmaq_laneq_f32(o0, vld1q_f32(vb + 0 * hd), p, 0);
                o0 = vfmaq_laneq_f32(o0, vld1q_f32(vb + 2 * hd), p, 2);
                o1 = vfmaq_laneq_f32(o1, vld1q_f32(vb + 3 * hd), p, 3);
                vst1q_f32(og + b * 4, vaddq_f32(o0, o1));
            }
        }
    }
    for (; j < a->np; j++) {
        size_t off = (size_t)j * a->kv_stride;
        for (int g = 0; g < group; g++) {
            float p = a->scores[(size_t)g * a->score_stride + j];
            float *og = a->out + g * hd;
            for (int b = 0; b < nv; b++)
                vst1q_f32(og + b * 4, vfmaq_n_f32(vld1q_f32(og + b * 4), load4(a->v, a->type_v, off + (size_t)b * 4), p));
        }
    }
}
#else
void hearth_attn_neon(const hearth_attn_args *a) { hearth_attn_ref(a); }
#endif
