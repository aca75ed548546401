/*
 * attn_wasm.c: the attention kernel of attn.h in WebAssembly SIMD128 (the
 * browser build, -msimd128), called where the kernels chose wasm128 and hd
 * is a multiple of 4. The structure of attn_neon.c: KB keys or values
 * converted to floats once for the whole group of query heads. Same
 * arithmetic as hearth_attn_ref up to summation order (and no fused
 * multiply-add: SIMD128 has none); the softmax's exp is libm's expf, as in
 * the reference. Elsewhere it is the reference.
 * A quantized cache (Q8_0 keys, Q8_0 or Q4_0 values) goes to hearth_attn_ref.
 */
#include "model/attn.h"

#if defined(__wasm_simd128__)
#include "kernels/wasm/f16_wasm.h"

#include <math.h>
#include <string.h>

static inline v128_t load4(const void *base, hearth_type type, size_t off) {
    if (type == HEARTH_TYPE_F32) return wasm_v128_load((const float *)base + off);
    return hearth_wasm_load_f16x4((const uint16_t *)base + off);
}

static inline v128_t madd(v128_t acc, v128_t a, v128_t b) {
    return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b));
}

enum { MAXG = 16, KB = 4, MAXHD = 256 };

/* Converts rows [j0, j0+KB) of base (hd each, kv_stride apart) to floats. */
static inline void load_block(const hearth_attn_args *a, const void *base, hearth_type type, int32_t j0,
                              float *dst) {
    for (int k = 0; k < KB; k++) {
        size_t off = (size_t)(j0 + k) * a->kv_stride;
        float *d = dst + k * a->hd;
        int b = 0;
        if (type == HEARTH_TYPE_F16) /* 8 values per inf/NaN check */
            for (; b + 8 <= a->hd; b += 8) {
                v128_t h = wasm_v128_load((const uint16_t *)base + off + b), lo, hi;
                if (__builtin_expect(hearth_wasm_f16x8_any_infnan(h), 0)) {
                    lo = hearth_wasm_f16x4_to_f32(wasm_u32x4_extend_low_u16x8(h));
                    hi = hearth_wasm_f16x4_to_f32(wasm_u32x4_extend_high_u16x8(h));
                } else {
                    lo = hearth_wasm_f16x8_lo_finite(h);
                    hi = hearth_wasm_f16x8_hi_finite(h);
                }
                wasm_v128_store(d + b, lo);
                wasm_v128_store(d + b + 4, hi);
            }
        for (; b < a->hd; b += 4) wasm_v128_store(d + b, load4(base, type, off + (size_t)b));
    }
}

/* {sum(a), sum(b), sum(c), sum(d)} */
static inline v128_t hsum4(v128_t a, v128_t b, v128_t c, v128_t d) {
    v128_t ab = wasm_f32x4_add(wasm_i32x4_shuffle(a, b, 0, 1, 4, 5), wasm_i32x4_shuffle(a, b, 2, 3, 6, 7));
    v128_t cd = wasm_f32x4_add(wasm_i32x4_shuffle(c, d, 0, 1, 4, 5), wasm_i32x4_shuffle(c, d, 2, 3, 6, 7));
    return wasm_f32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 2, 4, 6), wasm_i32x4_shuffle(ab, cd, 1, 3, 5, 7));
}

static inline float hsum(v128_t v) {
    return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
           (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

void hearth_attn_wasm(const hearth_attn_args *a) {
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
            v128_t acc0 = wasm_f32x4_splat(0.f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (int b = 0; b < nv; b++) {
                v128_t qv = wasm_v128_load(qg + b * 4);
                const float *kb = blk + b * 4;
                acc0 = madd(acc0, qv, wasm_v128_load(kb + 0 * hd));
                acc1 = madd(acc1, qv, wasm_v128_load(kb + 1 * hd));
                acc2 = madd(acc2, qv, wasm_v128_load(kb + 2 * hd));
                acc3 = madd(acc3, qv, wasm_v128_load(kb + 3 * hd));
            }
            v128_t s = hsum4(acc0, acc1, acc2, acc3);
            wasm_v128_store(a->scores + (size_t)g * a->score_stride + j,
                            wasm_f32x4_mul(s, wasm_f32x4_splat(a->scale)));
        }
    }
    for (; j < a->np; j++) {
        size_t off = (size_t)j * a->kv_stride;
        for (int g = 0; g < group; g++) {
            const float *qg = a->q + g * hd;
            v128_t acc = wasm_f32x4_splat(0.f);
            for (int b = 0; b < nv; b++)
                acc = madd(acc, wasm_v128_load(qg + b * 4), load4(a->k, a->type_k, off + (size_t)b * 4));
            a->scores[(size_t)g * a->score_stride + j] = hsum(acc) * a->scale;
        }
    }
    /* softmax per query head */
    for (int g = 0; g < group; g++) {
        float *sc = a->scores + (size_t)g * a->score_stride, mx = -INFINITY, sum = 0;
        for (int32_t i = 0; i < a->np; i++) mx = sc[i] > mx ? sc[i] : mx;
        for (int32_t i = 0; i < a->np; i++) sum += (sc[i] = expf(sc[i] - mx));
        if (a->ml) { /* for merging with other position ranges (attn.h) */
            a->ml[2 * g] = mx;
            a->ml[2 * g + 1] = sum;
        }
        float inv = 1.0f / sum;
        int32_t i = 0;
        for (; i + 4 <= a->np; i += 4)
            wasm_v128_store(sc + i, wasm_f32x4_mul(wasm_v128_load(sc + i), wasm_f32x4_splat(inv)));
        for (; i < a->np; i++) sc[i] *= inv;
    }
    /* weighted values: KB rows converted once; each output vector is loaded
     * and stored once per block instead of once per row */
    memset(a->out, 0, (size_t)group * hd * sizeof(float));
    for (j = 0; j + KB <= a->np; j += KB) {
        load_block(a, a->v, a->type_v, j, blk);
        for (int g = 0; g < group; g++) {
            const float *pp = a->scores + (size_t)g * a->score_stride + j;
            v128_t p0 = wasm_f32x4_splat(pp[0]), p1 = wasm_f32x4_splat(pp[1]);
            v128_t p2 = wasm_f32x4_splat(pp[2]), p3 = wasm_f32x4_splat(pp[3]);
            float *og = a->out + g * hd;
            for (int b = 0; b < nv; b++) {
                const float *vb = blk + b * 4;
                v128_t o0 = wasm_v128_load(og + b * 4);
                v128_t o1 = wasm_f32x4_mul(wasm_v128_load(vb + 1 * hd), p1);
                o0 = madd(o0, wasm_v128_load(vb + 0 * hd), p0);
                o0 = madd(o0, wasm_v128_load(vb + 2 * hd), p2);
                o1 = madd(o1, wasm_v128_load(vb + 3 * hd), p3);
                wasm_v128_store(og + b * 4, wasm_f32x4_add(o0, o1));
            }
        }
    }
    for (; j < a->np; j++) {
        size_t off = (size_t)j * a->kv_stride;
        for (int g = 0; g < group; g++) {
            v128_t p = wasm_f32x4_splat(a->scores[(size_t)g * a->score_stride + j]);
            float *og = a->out + g * hd;
            for (int b = 0; b < nv; b++)
                wasm_v128_store(og + b * 4, madd(wasm_v128_load(og + b * 4),
                                                 load4(a->v, a->type_v, off + (size_t)b * 4), p));
        }
    }
}
#else
void hearth_attn_wasm(const hearth_attn_args *a) { hearth_attn_ref(a); }
#endif
