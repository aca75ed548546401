/*
 * dot_relaxed.c: the relaxed-SIMD level of the browser build (issue 19), over
 * the SIMD128 one (dot_wasm.c): the gemv and gemm of every integer type
 * (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K to Q6_K) on
 * i32x4.relaxed_dot_i8x16_i7x16_add_s (16 int8 products summed
 * into 4 int32 lanes in one instruction: on x86 a pmaddubsw + pmaddwd pair,
 * or vpdpbusd; SIMD128 needs two widenings and two i32x4.dot_i16x8 for the
 * same products), and of F32 (the browser
 * build's F16 models, widened at open) on f32x4.relaxed_madd (see rows_f32
 * for what that changes).
 *
 * Relaxed SIMD lets an engine pick among several results in some cases;
 * the integer kernels never enter them, so their results are exact and the
 * same in every browser: the instruction is implementation-defined only
 * where a byte of its second operand has its top bit set, and here that
 * operand is always in 0..127 - unsigned weight codes (Q2_K 0..3, Q3_K
 * 0..7, Q4_0, Q4_1 and Q4_K 0..15, Q5_0, Q5_1 and Q5_K 0..31, Q6_K 0..63; the
 * biases of 4, 8, 16 and 32 come off through the activation's sums), or for
 * Q8_0, whose weights and activations are both
 * signed, the activation split as a = (a & 127) - 128 * (a < 0), two
 * products per weight. Its intermediate pair sums (at most 2 x 128 x 127)
 * fit int16 unsaturated. So every block's integer sum is the reference's,
 * and the float expression around it the reference's too: results
 * bit-identical to kernels/ref/, as the SIMD128 level's (test_dot checks
 * both against it).
 *
 * Compiled only by the relaxed modules of the browser build with a clang
 * that knows the final opcodes (web/CMakeLists.txt: emscripten 3.1.6's clang
 * 14 emits pre-standard ones browsers refuse); everywhere else, the SIMD128
 * modules included, this file is the two stubs at the end. F16 and BF16
 * keep the SIMD128 kernels. gemm is gemv per activation column.
 */
#include "kernels/dot_int.h"

#if defined(__wasm_relaxed_simd__)
#include "kernels/quants.h"
#include "kernels/wasm/simd_wasm.h"

#include <string.h>

#define INLINE HEARTH_WASM_INLINE

/* acc + the dot product of a (16 int8) and b (16 bytes in 0..127), in 4
 * int32 lanes (lane j: elements 4j..4j+3). */
INLINE v128_t dot_u7(v128_t acc, v128_t a, v128_t b) {
    return wasm_i32x4_relaxed_dot_i8x16_i7x16_add(a, b, acc);
}

/* The R rows' int32 sums as lanes: {sum(acc[0]), ...} (R = 4), or sum(acc[0])
 * in lane 0 (R = 1). */
INLINE v128_t row_sums(int R, const v128_t acc[4]) {
    return R == 4 ? hearth_wasm_hsum4_i32(acc[0], acc[1], acc[2], acc[3])
                  : wasm_i32x4_splat(hearth_wasm_hsum_i32(acc[0]));
}

/* Q4_0, Q5_0 and Q8_0: the weight types with Q8_0 activations. Each
 * activation block is made ready once per gemv for all the rows (it used to
 * be per group of 4 rows, and V8 rebuilds every vector constant where it is
 * used): the relaxed dot's operands and the block's scale. */
enum { W_Q4_0, W_Q5_0, W_Q8_0 };

typedef struct {
    /* Q4_0, Q5_0: the signed codes (two vectors) and the row sums' start,
     * minus the bias (8 or 16) times the codes; Q8_0: the codes' 7-bit
     * parts (a & 127) and signs (a < 0), see block_sums */
    v128_t v[4];
    float d;    /* the scale */
    float d112; /* and times 2^112, for scales_fast */
} act_block;

/* Activation blocks per chunk: rows of up to 16384 elements in one (40 KB
 * on the stack), longer ones in several, with the rows' sums carried over. */
enum { MAXB = 512 };

INLINE void prepare(int kind, const hearth_block_q8_0 *y, int64_t nb, act_block *p) {
    const v128_t zero = wasm_i32x4_splat(0), m7 = wasm_i8x16_splat(0x7F);
    const v128_t bias = wasm_i8x16_splat(kind == W_Q4_0 ? 8 : 16);
    for (int64_t b = 0; b < nb; b++) {
        v128_t a0 = wasm_v128_load(y[b].qs), a1 = wasm_v128_load(y[b].qs + 16);
        if (kind == W_Q8_0) {
            p[b].v[0] = wasm_v128_and(a0, m7);
            p[b].v[1] = wasm_v128_and(a1, m7);
            p[b].v[2] = wasm_u8x16_shr(a0, 7);
            p[b].v[3] = wasm_u8x16_shr(a1, 7);
        } else {
            p[b].v[0] = a0;
            p[b].v[1] = a1;
            p[b].v[2] = wasm_i32x4_sub(zero, dot_u7(dot_u7(zero, a0, bias), a1, bias));
        }
        p[b].d = hearth_f16_to_f32(y[b].d);
        p[b].d112 = p[b].d * 0x1p112f;
    }
}

/* One weight block x against its activation block: 4 int32 lanes summing
 * to their exact integer dot product. Q4_0: the nibbles as unsigned codes
 * (low: elements 0..15, high: 16..31), the bias off through the start;
 * Q5_0: hearth_wasm_codes5 the same way; Q8_0: w * a = w * (a & 127) -
 * 128 * w * (a < 0), both products with the weight as the signed operand
 * (so -128 is fine there too). */
INLINE v128_t block_sums(int kind, const uint8_t *x, const act_block *p) {
    if (kind == W_Q4_0) {
        const v128_t m4 = wasm_i8x16_splat(0x0F);
        v128_t v = wasm_v128_load(((const hearth_block_q4_0 *)x)->qs);
        return dot_u7(dot_u7(p->v[2], p->v[0], wasm_v128_and(v, m4)), p->v[1],
                      wasm_v128_and(wasm_u16x8_shr(v, 4), m4));
    }
    if (kind == W_Q5_0) {
        const hearth_block_q5_0 *q = (const hearth_block_q5_0 *)x;
        v128_t lo, hi;
        hearth_wasm_codes5(q->qs, q->qh, &lo, &hi);
        return dot_u7(dot_u7(p->v[2], p->v[0], lo), p->v[1], hi);
    }
    const v128_t zero = wasm_i32x4_splat(0);
    const int8_t *qs = ((const hearth_block_q8_0 *)x)->qs;
    v128_t w0 = wasm_v128_load(qs), w1 = wasm_v128_load(qs + 16);
    v128_t lo = dot_u7(dot_u7(zero, w0, p->v[0]), w1, p->v[1]);
    v128_t neg = dot_u7(dot_u7(zero, w0, p->v[2]), w1, p->v[3]);
    return wasm_i32x4_sub(lo, wasm_i32x4_shl(neg, 7));
}

/* R rows (1 or 4) of nb blocks of bsize bytes from w (ws apart) against
 * the prepared blocks p: out[i] = sum over blocks of (d_w[i] * d_a) *
 * (float)sum[i], the reference's expression and order, added to out's
 * values when carry (a chunk after the first). The 4 rows' weight scales:
 * - exact: hearth_wasm_scales4 (a branch for inf/NaN per block), times d;
 * - fast: hearth_wasm_scales4_fast times d112, the same products bit for
 *   bit. It leaves inf/NaN wrong: then it returns false, storing nothing,
 *   and the caller computes the rows exactly. */
INLINE bool rows_q(int kind, int R, bool exact, int64_t nb, float *out, const uint8_t *w, size_t ws,
                   size_t bsize, const act_block *p, bool carry) {
    v128_t s4 = R == 4 && carry ? wasm_v128_load(out) : wasm_f32x4_splat(0.f);
    v128_t top = wasm_i16x8_splat(0);
    float s1 = R == 1 && carry ? out[0] : 0.f;
    for (int64_t b = 0; b < nb; b++) {
        v128_t acc[4];
        hearth_f16 d[4];
        for (int i = 0; i < R; i++) {
            const uint8_t *x = w + (size_t)i * ws + (size_t)b * bsize;
            acc[i] = block_sums(kind, x, p + b);
            memcpy(&d[i], x, sizeof d[i]); /* every block starts with its scale */
        }
        v128_t sum = row_sums(R, acc);
        if (R == 1) {
            s1 += hearth_f16_to_f32(d[0]) * p[b].d * (float)wasm_i32x4_extract_lane(sum, 0);
            continue;
        }
        v128_t t = exact ? wasm_f32x4_mul(hearth_wasm_scales4(d[0], d[1], d[2], d[3]), wasm_f32x4_splat(p[b].d))
                         : wasm_f32x4_mul(hearth_wasm_scales4_fast(d, &top), wasm_f32x4_splat(p[b].d112));
        s4 = wasm_f32x4_add(s4, wasm_f32x4_mul(t, wasm_f32x4_convert_i32x4(sum)));
    }
    if (R == 1) {
        out[0] = s1;
        return true;
    }
    if (!exact && hearth_wasm_scales_nonfinite(top)) return false;
    wasm_v128_store(out, s4);
    return true;
}

/* gemv: per chunk of MAXB blocks, the activation prepared, then 4 rows at a
 * time (fast scales, exact if a row has an inf/NaN scale), then one at a
 * time (the same arithmetic per row, so every row's result is the same
 * whichever group it falls in). */
INLINE void gemv_q(int kind, int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    const size_t bsize = kind == W_Q4_0 ? sizeof(hearth_block_q4_0)
                       : kind == W_Q5_0 ? sizeof(hearth_block_q5_0) : sizeof(hearth_block_q8_0);
    const hearth_block_q8_0 *y = act;
    act_block p[MAXB];
    int64_t nb = n / QK8_0;
    for (int64_t b0 = 0; b0 < nb; b0 += MAXB) {
        int64_t cb = nb - b0 < MAXB ? nb - b0 : MAXB;
        prepare(kind, y + b0, cb, p);
        const uint8_t *wb = (const uint8_t *)w + (size_t)b0 * bsize;
        int64_t r = 0;
        for (; r + 4 <= nrows; r += 4) {
            const uint8_t *wr = wb + (size_t)r * ws;
            if (!rows_q(kind, 4, false, cb, out + r, wr, ws, bsize, p, b0 > 0))
                rows_q(kind, 4, true, cb, out + r, wr, ws, bsize, p, b0 > 0);
        }
        for (; r < nrows; r++) rows_q(kind, 1, true, cb, out + r, wb + (size_t)r * ws, ws, bsize, p, b0 > 0);
    }
}

/* Q4_1 / Q5_1 (q5), R rows (1 or 4) against Q8_1 activations: unsigned
 * codes, the min through the activation's s = d * sum(qs), the reference's
 * expression (4 rows': in the lanes of one vector, their d and m converted
 * together). ys: the activation blocks' d and s as floats (2 per block,
 * converted once per gemv). Added to out's values when carry. */
INLINE void rows_qx_1(int R, bool q5, int64_t nb, float *out, const uint8_t *w, size_t ws,
                      const hearth_block_q8_1 *y, const float *ys, bool carry) {
    const v128_t m4 = wasm_i8x16_splat(0x0F), zero = wasm_i32x4_splat(0);
    const size_t bsize = q5 ? sizeof(hearth_block_q5_1) : sizeof(hearth_block_q4_1);
    float s1 = R == 1 && carry ? out[0] : 0.f;
    v128_t s4 = R == 4 && carry ? wasm_v128_load(out) : wasm_f32x4_splat(0.f);
    for (int64_t b = 0; b < nb; b++) {
        v128_t a0 = wasm_v128_load(y[b].qs), a1 = wasm_v128_load(y[b].qs + 16), acc[4];
        hearth_f16 dm[8]; /* the rows' d, then their m */
        for (int i = 0; i < R; i++) {
            const uint8_t *blk = w + (size_t)i * ws + (size_t)b * bsize;
            v128_t lo, hi;
            if (q5) {
                const hearth_block_q5_1 *x = (const hearth_block_q5_1 *)blk;
                hearth_wasm_codes5(x->qs, x->qh, &lo, &hi);
                dm[i] = x->d, dm[4 + i] = x->m;
            } else {
                const hearth_block_q4_1 *x = (const hearth_block_q4_1 *)blk;
                v128_t q = wasm_v128_load(x->qs);
                lo = wasm_v128_and(q, m4), hi = wasm_v128_and(wasm_u16x8_shr(q, 4), m4);
                dm[i] = x->d, dm[4 + i] = x->m;
            }
            acc[i] = dot_u7(dot_u7(zero, a0, lo), a1, hi);
        }
        float da = ys[2 * b], sa = ys[2 * b + 1];
        if (R == 1) {
            s1 += hearth_f16_to_f32(dm[0]) * da * (float)hearth_wasm_hsum_i32(acc[0]) + hearth_f16_to_f32(dm[4]) * sa;
            continue;
        }
        v128_t d, m, h = wasm_v128_load(dm);
        if (__builtin_expect(hearth_wasm_f16x8_any_infnan(h), 0)) {
            d = hearth_wasm_f16x4_to_f32(wasm_u32x4_extend_low_u16x8(h));
            m = hearth_wasm_f16x4_to_f32(wasm_u32x4_extend_high_u16x8(h));
        } else {
            d = hearth_wasm_f16x8_lo_finite(h);
            m = hearth_wasm_f16x8_hi_finite(h);
        }
        v128_t sumi = wasm_f32x4_convert_i32x4(hearth_wasm_hsum4_i32(acc[0], acc[1], acc[2], acc[3]));
        v128_t t = wasm_f32x4_mul(wasm_f32x4_mul(d, wasm_f32x4_splat(da)), sumi);
        s4 = wasm_f32x4_add(s4, wasm_f32x4_add(t, wasm_f32x4_mul(m, wasm_f32x4_splat(sa))));
    }
    if (R == 4) wasm_v128_store(out, s4);
    else out[0] = s1;
}

/* gemv: per chunk of MAXB blocks, the activation's d and s converted, then
 * 4 rows at a time, then one (the same arithmetic per row either way). */
INLINE void gemv_qx_1(bool q5, int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    const size_t bsize = q5 ? sizeof(hearth_block_q5_1) : sizeof(hearth_block_q4_1);
    const hearth_block_q8_1 *y = act;
    float ys[2 * MAXB];
    int64_t nb = n / QK4_1;
    for (int64_t b0 = 0; b0 < nb; b0 += MAXB) {
        int64_t cb = nb - b0 < MAXB ? nb - b0 : MAXB;
        for (int64_t b = 0; b < cb; b++) {
            ys[2 * b] = hearth_f16_to_f32(y[b0 + b].d);
            ys[2 * b + 1] = hearth_f16_to_f32(y[b0 + b].s);
        }
        const uint8_t *wb = (const uint8_t *)w + (size_t)b0 * bsize;
        int64_t r = 0;
        for (; r + 4 <= nrows; r += 4) rows_qx_1(4, q5, cb, out + r, wb + (size_t)r * ws, ws, y + b0, ys, b0 > 0);
        for (; r < nrows; r++) rows_qx_1(1, q5, cb, out + r, wb + (size_t)r * ws, ws, y + b0, ys, b0 > 0);
    }
}

/* The 16 group sums gs[g] (4 lanes each) weighted by 16 int32 scales given
 * as 4 vectors of 4 (sc[j]: groups 4j..4j+3), in 4 lanes. */
INLINE v128_t weigh16(const v128_t gs[16], const v128_t sc[4]) {
    v128_t acc = wasm_i32x4_mul(hearth_wasm_hsum4_i32(gs[0], gs[1], gs[2], gs[3]), sc[0]);
    acc = wasm_i32x4_add(acc, wasm_i32x4_mul(hearth_wasm_hsum4_i32(gs[4], gs[5], gs[6], gs[7]), sc[1]));
    acc = wasm_i32x4_add(acc, wasm_i32x4_mul(hearth_wasm_hsum4_i32(gs[8], gs[9], gs[10], gs[11]), sc[2]));
    return wasm_i32x4_add(acc, wasm_i32x4_mul(hearth_wasm_hsum4_i32(gs[12], gs[13], gs[14], gs[15]), sc[3]));
}

/* 16 int8 or uint8 scales as 4 vectors of 4 int32. */
INLINE void scales16(v128_t s8, bool is_signed, v128_t out[4]) {
    v128_t l = is_signed ? wasm_i16x8_extend_low_i8x16(s8) : wasm_u16x8_extend_low_u8x16(s8);
    v128_t h = is_signed ? wasm_i16x8_extend_high_i8x16(s8) : wasm_u16x8_extend_high_u8x16(s8);
    out[0] = wasm_i32x4_extend_low_i16x8(l), out[1] = wasm_i32x4_extend_high_i16x8(l);
    out[2] = wasm_i32x4_extend_low_i16x8(h), out[3] = wasm_i32x4_extend_high_i16x8(h);
}

/* Q2_K / Q3_K (q3), one row: per group of 16 the 2-bit codes (Q3_K: with
 * the high bit from hmask, 0..7, its bias of 4 off as 4 x sum(scale x group
 * sum of the activation)) against the Q8_K codes, weighted by the group's
 * scale in int32; Q2_K's mins through the group sums; the reference's float
 * expression. */
INLINE float dot_k23(bool q3, int64_t nb, const uint8_t *w, const hearth_block_q8_K *y) {
    const v128_t m3 = wasm_i8x16_splat(3), b3 = wasm_i8x16_splat(4), zero = wasm_i32x4_splat(0);
    float s = 0.f;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *qs, *hmask = NULL;
        v128_t sc[4];
        v128_t sc3 = wasm_i32x4_splat(0);
        if (q3) {
            const hearth_block_q3_K *x = (const hearth_block_q3_K *)w + b;
            qs = x->qs, hmask = x->hmask;
            sc3 = hearth_wasm_scales_q3_K(x->scales);
            scales16(sc3, true, sc);
        } else {
            const hearth_block_q2_K *x = (const hearth_block_q2_K *)w + b;
            qs = x->qs;
            scales16(wasm_v128_and(wasm_v128_load(x->scales), wasm_i8x16_splat(0x0F)), false, sc);
        }
        v128_t gs[16];
        for (int h = 0; h < 2; h++) {
            for (int l0 = 0; l0 < 32; l0 += 16) {
                v128_t q2 = wasm_v128_load(qs + 32 * h + l0);
                v128_t hm = q3 ? wasm_v128_load(hmask + l0) : zero;
                for (int k = 0; k < 4; k++) {
                    v128_t q = wasm_v128_and(wasm_u16x8_shr(q2, 2 * k), m3);
                    if (q3) {
                        /* bit 4h + k of hmask to bit 2 */
                        int j = 4 * h + k;
                        v128_t hb = j >= 2 ? wasm_u16x8_shr(hm, j - 2) : wasm_i16x8_shl(hm, 2 - j);
                        q = wasm_v128_or(q, wasm_v128_and(hb, b3));
                    }
                    int g = (128 * h + 32 * k + l0) / 16;
                    gs[g] = dot_u7(zero, wasm_v128_load(y[b].qs + 16 * g), q);
                }
            }
        }
        int32_t sumi = hearth_wasm_hsum_i32(weigh16(gs, sc));
        v128_t bs0 = wasm_v128_load(y[b].bsums), bs1 = wasm_v128_load(y[b].bsums + 8);
        if (q3) {
            /* 4 x sum(scale x group sum): the codes' bias */
            v128_t sl = wasm_i16x8_extend_low_i8x16(sc3);
            v128_t sh = wasm_i16x8_extend_high_i8x16(sc3);
            sumi -= 4 * hearth_wasm_hsum_i32(wasm_i32x4_add(wasm_i32x4_dot_i16x8(sl, bs0), wasm_i32x4_dot_i16x8(sh, bs1)));
            s += y[b].d * hearth_f16_to_f32(((const hearth_block_q3_K *)w + b)->d) * (float)sumi;
        } else {
            const hearth_block_q2_K *x = (const hearth_block_q2_K *)w + b;
            v128_t mn = wasm_u8x16_shr(wasm_v128_load(x->scales), 4);
            v128_t ml = wasm_u16x8_extend_low_u8x16(mn), mh = wasm_u16x8_extend_high_u8x16(mn);
            int32_t summ = hearth_wasm_hsum_i32(wasm_i32x4_add(wasm_i32x4_dot_i16x8(ml, bs0), wasm_i32x4_dot_i16x8(mh, bs1)));
            s += y[b].d * (hearth_f16_to_f32(x->d) * (float)sumi - hearth_f16_to_f32(x->dmin) * (float)summ);
        }
    }
    return s;
}

/* Bit j (0..7) of each byte of h, moved to bit 4 and alone (u16 shifts,
 * cheaper than u8 ones in V8: the mask drops what crosses a byte). */
INLINE v128_t bit_to_4(v128_t h, int j) {
    return wasm_v128_and(j <= 4 ? wasm_i16x8_shl(h, 4 - j) : wasm_u16x8_shr(h, j - 4), wasm_i8x16_splat(0x10));
}

/* Q4_K / Q5_K (q5: with the 5th bit from qh), R rows: per sub-block j of 32 the
 * unsigned codes against the activation, the 8 sums weighted by the 6-bit
 * scales in int32 and the mins through the activation's group sums, then
 * the reference's float expression (4 rows': in the lanes of one vector,
 * their scales converted together). Q4_K/Q5_K layout: each 32 bytes of qs
 * hold sub-block 2p in their low nibbles and 2p+1 in their high ones;
 * qh[l] bit j is the 5th bit of element l of sub-block j. */
INLINE void rows_q45_K(int R, bool q5, int64_t nb, float *out, const uint8_t *w, size_t ws,
                       size_t bsize, const hearth_block_q8_K *y) {
    const v128_t m4 = wasm_i8x16_splat(0x0F), zero = wasm_i32x4_splat(0);
    float s1 = 0.f;                    /* R = 1 */
    v128_t s4 = wasm_f32x4_splat(0.f); /* R = 4: lane i is row i's sum */
    for (int64_t b = 0; b < nb; b++) {
        v128_t sumi[4], summ[4];
        hearth_f16 dd4[8]; /* R = 4: the rows' d, then their dmin */
        /* the 8 sub-blocks' activation sums (|sum| <= 32 * 128: int16) */
        v128_t bs0 = wasm_v128_load(y[b].bsums), bs1 = wasm_v128_load(y[b].bsums + 8);
        v128_t bs = wasm_i16x8_add(wasm_i16x8_shuffle(bs0, bs1, 0, 2, 4, 6, 8, 10, 12, 14),
                                   wasm_i16x8_shuffle(bs0, bs1, 1, 3, 5, 7, 9, 11, 13, 15));
        for (int i = 0; i < R; i++) {
            const uint8_t *blk = w + (size_t)i * ws + (size_t)b * bsize;
            const hearth_f16 *dd; /* d, dmin */
            const uint8_t *scales, *qs, *qh = NULL;
            if (q5) {
                const hearth_block_q5_K *x = (const hearth_block_q5_K *)blk;
                dd = &x->d, scales = x->scales, qs = x->qs, qh = x->qh;
            } else {
                const hearth_block_q4_K *x = (const hearth_block_q4_K *)blk;
                dd = &x->d, scales = x->scales, qs = x->qs;
            }
            v128_t h0 = q5 ? wasm_v128_load(qh) : zero, h1 = q5 ? wasm_v128_load(qh + 16) : zero;
            v128_t d[8]; /* sub-block j's integer dot product, in 4 lanes */
            for (int p = 0; p < 4; p++) {
                v128_t v0 = wasm_v128_load(qs + 32 * p), v1 = wasm_v128_load(qs + 32 * p + 16);
                v128_t c[4] = {wasm_v128_and(v0, m4), wasm_v128_and(v1, m4),
                               wasm_v128_and(wasm_u16x8_shr(v0, 4), m4),
                               wasm_v128_and(wasm_u16x8_shr(v1, 4), m4)};
                if (q5) {
                    c[0] = wasm_v128_or(c[0], bit_to_4(h0, 2 * p));
                    c[1] = wasm_v128_or(c[1], bit_to_4(h1, 2 * p));
                    c[2] = wasm_v128_or(c[2], bit_to_4(h0, 2 * p + 1));
                    c[3] = wasm_v128_or(c[3], bit_to_4(h1, 2 * p + 1));
                }
                const int8_t *a = y[b].qs + 64 * p;
                d[2 * p] = dot_u7(dot_u7(zero, wasm_v128_load(a), c[0]), wasm_v128_load(a + 16), c[1]);
                d[2 * p + 1] = dot_u7(dot_u7(zero, wasm_v128_load(a + 32), c[2]), wasm_v128_load(a + 48), c[3]);
            }
            v128_t sc, m;
            hearth_wasm_scales_q4_K(scales, &sc, &m);
            v128_t acc = wasm_i32x4_add(
                wasm_i32x4_mul(hearth_wasm_hsum4_i32(d[0], d[1], d[2], d[3]), wasm_u32x4_extend_low_u16x8(sc)),
                wasm_i32x4_mul(hearth_wasm_hsum4_i32(d[4], d[5], d[6], d[7]), wasm_u32x4_extend_high_u16x8(sc)));
            sumi[i] = acc;
            summ[i] = wasm_i32x4_dot_i16x8(m, bs);
            dd4[i] = dd[0];
            dd4[4 + i] = dd[1];
        }
        if (R == 1) {
            s1 += y[b].d * (hearth_f16_to_f32(dd4[0]) * (float)hearth_wasm_hsum_i32(sumi[0]) -
                            hearth_f16_to_f32(dd4[4]) * (float)hearth_wasm_hsum_i32(summ[0]));
            continue;
        }
        /* the 4 rows' scalar tail in the lanes: the same float operations */
        v128_t d, dmin, h = wasm_v128_load(dd4);
        if (__builtin_expect(hearth_wasm_f16x8_any_infnan(h), 0)) {
            d = hearth_wasm_f16x4_to_f32(wasm_u32x4_extend_low_u16x8(h));
            dmin = hearth_wasm_f16x4_to_f32(wasm_u32x4_extend_high_u16x8(h));
        } else {
            d = hearth_wasm_f16x8_lo_finite(h);
            dmin = hearth_wasm_f16x8_hi_finite(h);
        }
        v128_t fi = wasm_f32x4_convert_i32x4(hearth_wasm_hsum4_i32(sumi[0], sumi[1], sumi[2], sumi[3]));
        v128_t fm = wasm_f32x4_convert_i32x4(hearth_wasm_hsum4_i32(summ[0], summ[1], summ[2], summ[3]));
        v128_t t = wasm_f32x4_sub(wasm_f32x4_mul(d, fi), wasm_f32x4_mul(dmin, fm));
        s4 = wasm_f32x4_add(s4, wasm_f32x4_mul(wasm_f32x4_splat(y[b].d), t));
    }
    if (R == 4) wasm_v128_store(out, s4);
    else out[0] = s1;
}

/* Q6_K, R rows: per group of 16 the 6-bit codes (0..63, rebuilt from ql's
 * nibble and qh's 2 bits with u16 shifts and byte masks) against the
 * activation, weighted by the group's int8 scale; the bias of 32 off as 32 x
 * sum(scale x group sum of the activation), all in int32 (exact); the
 * reference's float expression. */
INLINE void rows_q6_K(int R, int64_t nb, float *out, const uint8_t *w, size_t ws,
                      const hearth_block_q8_K *y) {
    const v128_t m4 = wasm_i8x16_splat(0x0F), m30 = wasm_i8x16_splat(0x30), zero = wasm_i32x4_splat(0);
    float s[4] = {0.f, 0.f, 0.f, 0.f};
    for (int64_t b = 0; b < nb; b++) {
        v128_t bs0 = wasm_v128_load(y[b].bsums), bs1 = wasm_v128_load(y[b].bsums + 8);
        for (int i = 0; i < R; i++) {
            const hearth_block_q6_K *x = (const hearth_block_q6_K *)(w + (size_t)i * ws) + b;
            v128_t gs[16]; /* group g's integer dot product, in 4 lanes */
            for (int h = 0; h < 2; h++) {
                for (int l0 = 0; l0 < 32; l0 += 16) {
                    v128_t ql0 = wasm_v128_load(x->ql + 64 * h + l0);
                    v128_t ql1 = wasm_v128_load(x->ql + 64 * h + 32 + l0);
                    v128_t qh = wasm_v128_load(x->qh + 32 * h + l0);
                    for (int k = 0; k < 4; k++) {
                        v128_t ql = (k & 1) ? ql1 : ql0;
                        v128_t lo = wasm_v128_and(k < 2 ? ql : wasm_u16x8_shr(ql, 4), m4);
                        /* bits 2k, 2k+1 of qh to bits 4, 5 */
                        v128_t hs = k < 2 ? wasm_i16x8_shl(qh, 4 - 2 * k) : k == 2 ? qh : wasm_u16x8_shr(qh, 2);
                        int g = (128 * h + 32 * k + l0) / 16;
                        gs[g] = dot_u7(zero, wasm_v128_load(y[b].qs + 16 * g),
                                       wasm_v128_or(lo, wasm_v128_and(hs, m30)));
                    }
                }
            }
            v128_t sc = wasm_v128_load(x->scales);
            v128_t sl = wasm_i16x8_extend_low_i8x16(sc), sh = wasm_i16x8_extend_high_i8x16(sc);
            v128_t acc = wasm_i32x4_mul(hearth_wasm_hsum4_i32(gs[0], gs[1], gs[2], gs[3]), wasm_i32x4_extend_low_i16x8(sl));
            acc = wasm_i32x4_add(acc, wasm_i32x4_mul(hearth_wasm_hsum4_i32(gs[4], gs[5], gs[6], gs[7]),
                                                     wasm_i32x4_extend_high_i16x8(sl)));
            acc = wasm_i32x4_add(acc, wasm_i32x4_mul(hearth_wasm_hsum4_i32(gs[8], gs[9], gs[10], gs[11]),
                                                     wasm_i32x4_extend_low_i16x8(sh)));
            acc = wasm_i32x4_add(acc, wasm_i32x4_mul(hearth_wasm_hsum4_i32(gs[12], gs[13], gs[14], gs[15]),
                                                     wasm_i32x4_extend_high_i16x8(sh)));
            v128_t bias = wasm_i32x4_add(wasm_i32x4_dot_i16x8(sl, bs0), wasm_i32x4_dot_i16x8(sh, bs1));
            int32_t sumi = hearth_wasm_hsum_i32(acc) - 32 * hearth_wasm_hsum_i32(bias);
            s[i] += y[b].d * hearth_f16_to_f32(x->d) * (float)sumi;
        }
    }
    memcpy(out, s, (size_t)R * sizeof s[0]);
}

/* F32, R rows: dot_wasm.c's float gemv (two accumulators per row, 8
 * elements a step, the tail in scalar code) with f32x4.relaxed_madd, which
 * an engine runs fused (one rounding, as the native FMA kernels) or as a
 * multiply and an add: so, unlike the integer kernels, its last bits may
 * differ between machines, as the native float kernels' do between x86
 * levels; each agrees with the reference to rounding. */
INLINE void rows_f32(int R, int64_t n, float *out, const uint8_t *w, size_t ws, const float *y) {
    v128_t a[4], b[4];
    for (int i = 0; i < R; i++) a[i] = b[i] = wasm_f32x4_splat(0.f);
    int64_t n8 = n & ~(int64_t)7;
    for (int64_t k = 0; k < n8; k += 8) {
        v128_t ylo = wasm_v128_load(y + k), yhi = wasm_v128_load(y + k + 4);
        for (int i = 0; i < R; i++) {
            const float *x = (const float *)(w + (size_t)i * ws) + k;
            a[i] = wasm_f32x4_relaxed_madd(wasm_v128_load(x), ylo, a[i]);
            b[i] = wasm_f32x4_relaxed_madd(wasm_v128_load(x + 4), yhi, b[i]);
        }
    }
    for (int i = 0; i < R; i++) {
        v128_t v = wasm_f32x4_add(a[i], b[i]);
        float s = (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
                  (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
        const float *x = (const float *)(w + (size_t)i * ws);
        for (int64_t k = n8; k < n; k++) s += x[k] * y[k];
        out[i] = s;
    }
}

/* gemv: 4 rows at a time, then one at a time (the same arithmetic per row,
 * so every row's result is the same whichever group it falls in). */
static void gemv_f32(int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    const uint8_t *wb = w;
    int64_t r = 0;
    for (; r + 4 <= nrows; r += 4) rows_f32(4, n, out + r, wb + (size_t)r * ws, ws, act);
    for (; r < nrows; r++) rows_f32(1, n, out + r, wb + (size_t)r * ws, ws, act);
}
static void gemv_q4_0(int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    gemv_q(W_Q4_0, n, nrows, out, w, ws, act);
}
static void gemv_q5_0(int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    gemv_q(W_Q5_0, n, nrows, out, w, ws, act);
}
static void gemv_q8_0(int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    gemv_q(W_Q8_0, n, nrows, out, w, ws, act);
}
static void gemv_q4_1(int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    gemv_qx_1(false, n, nrows, out, w, ws, act);
}
static void gemv_q5_1(int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    gemv_qx_1(true, n, nrows, out, w, ws, act);
}
static void gemv_q2_K(int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    for (int64_t r = 0; r < nrows; r++) out[r] = dot_k23(false, n / QK_K, (const uint8_t *)w + (size_t)r * ws, act);
}
static void gemv_q3_K(int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    for (int64_t r = 0; r < nrows; r++) out[r] = dot_k23(true, n / QK_K, (const uint8_t *)w + (size_t)r * ws, act);
}
static void gemv_q4_K(int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    const uint8_t *wb = w;
    int64_t r = 0;
    for (; r + 4 <= nrows; r += 4)
        rows_q45_K(4, false, n / QK_K, out + r, wb + (size_t)r * ws, ws, sizeof(hearth_block_q4_K), act);
    for (; r < nrows; r++)
        rows_q45_K(1, false, n / QK_K, out + r, wb + (size_t)r * ws, ws, sizeof(hearth_block_q4_K), act);
}
static void gemv_q5_K(int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    const uint8_t *wb = w;
    int64_t r = 0;
    for (; r + 4 <= nrows; r += 4)
        rows_q45_K(4, true, n / QK_K, out + r, wb + (size_t)r * ws, ws, sizeof(hearth_block_q5_K), act);
    for (; r < nrows; r++)
        rows_q45_K(1, true, n / QK_K, out + r, wb + (size_t)r * ws, ws, sizeof(hearth_block_q5_K), act);
}
static void gemv_q6_K(int64_t n, int64_t nrows, float *out, const void *w, size_t ws, const void *act) {
    const uint8_t *wb = w;
    int64_t r = 0;
    for (; r + 4 <= nrows; r += 4) rows_q6_K(4, n / QK_K, out + r, wb + (size_t)r * ws, ws, act);
    for (; r < nrows; r++) rows_q6_K(1, n / QK_K, out + r, wb + (size_t)r * ws, ws, act);
}

/* gemm as gemv per activation column */
HEARTH_DOT_GEMM_BY_GEMV(f32)
HEARTH_DOT_GEMM_BY_GEMV(q4_0)
HEARTH_DOT_GEMM_BY_GEMV(q8_0)
HEARTH_DOT_GEMM_BY_GEMV(q5_0)
HEARTH_DOT_GEMM_BY_GEMV(q4_1)
HEARTH_DOT_GEMM_BY_GEMV(q5_1)
HEARTH_DOT_GEMM_BY_GEMV(q2_K)
HEARTH_DOT_GEMM_BY_GEMV(q3_K)
HEARTH_DOT_GEMM_BY_GEMV(q4_K)
HEARTH_DOT_GEMM_BY_GEMV(q5_K)
HEARTH_DOT_GEMM_BY_GEMV(q6_K)

bool hearth_dot_wasm_relaxed_built(void) { return true; }

void hearth_dot_fill_wasm_relaxed(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) {
#define SET(T, name)                                                                     \
    do {                                                                                 \
        tab[HEARTH_TYPE_##T].gemv = gemv_##name;                                         \
        tab[HEARTH_TYPE_##T].gemm = gemm_##name;                                         \
    } while (0)
    SET(F32, f32);
    SET(Q8_0, q8_0);
    SET(Q4_0, q4_0);
    SET(Q4_1, q4_1);
    SET(Q5_0, q5_0);
    SET(Q5_1, q5_1);
    SET(Q2_K, q2_K);
    SET(Q3_K, q3_K);
    SET(Q4_K, q4_K);
    SET(Q5_K, q5_K);
    SET(Q6_K, q6_K);
#undef SET
}
#else
bool hearth_dot_wasm_relaxed_built(void) { return false; }
void hearth_dot_fill_wasm_relaxed(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) { (void)tab; }
#endif
