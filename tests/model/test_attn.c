/*
 * test_attn.c: the SIMD attention kernels (attn_avx512.c, attn_avx2.c,
 * attn_neon.c: the one chosen here and, under AVX-512, the AVX2 one too)
 * against the portable one (attn.c) on random queries, keys and values:
 * head sizes 64, 128, 80 and 72, group sizes 1..7, position counts that are
 * and are not multiples of the vector widths and key blocks (8, 16), F32,
 * F16, Q8_0 and Q8_0 keys with Q4_0 values (the block types at head sizes
 * 64 and 128: multiples of 32); outputs and each row's maximum and exp-sum. Tolerance |got-ref| <= 1e-5 + 1e-4*|ref|
 * (summation order and the polynomial exp differ); the max error is printed.
 * Both kernels are also checked against softmax(scale q.k) v computed here in
 * double, so the test checks something on every CPU, with HEARTH_FORCE_SCALAR
 * too (it used to report 0 checks there and pass).
 * Then hearth_attn_chunked (the forward pass's pieces of positions, merged
 * through each piece's maxima and sums) against one call of the same
 * kernel at long lengths (300, 1000, 1531 positions) with pieces of 1, 7,
 * 37, 256 and 1531 positions, so the last piece is short or the whole
 * range: outputs within |d| <= 1e-6 + 1e-4*|ref| (measured max printed), and
 * the merged maxima within 1e-6, the merged sums within 1e-5 relative; and a merge
 * of two halves split at an odd point.
 * And the F16 store the forward pass puts keys and values in the cache
 * with (hearth_f16_store_pick: F16C on x86) against hearth_f32_to_f16,
 * byte for byte, on bit patterns of every kind (check_f16_store).
 */
#include "test.h"

#include "kernels/fp16.h"
#include "model/attn.h"

#include <stdint.h>
#include <string.h>

static float frand(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* The cache types tested: keys, values. */
enum { NTY = 4 };
static const hearth_type TK[NTY] = {HEARTH_TYPE_F32, HEARTH_TYPE_F16, HEARTH_TYPE_Q8_0, HEARTH_TYPE_Q8_0};
static const hearth_type TV[NTY] = {HEARTH_TYPE_F32, HEARTH_TYPE_F16, HEARTH_TYPE_Q8_0, HEARTH_TYPE_Q4_0};
static const char *TNAME[NTY] = {"F32", "F16", "Q8_0", "Q8_0/Q4_0"};

/* n floats (a multiple of 32 for the block types) into dst in type t */
static void store(hearth_type t, const float *x, void *dst, size_t n) {
    if (t == HEARTH_TYPE_F32) memcpy(dst, x, n * sizeof(float));
    else if (t == HEARTH_TYPE_Q8_0) hearth_q8_0_from_float_ref(x, dst, (int64_t)n);
    else if (t == HEARTH_TYPE_Q4_0) hearth_q4_0_from_float_ref(x, dst, (int64_t)n);
    else
        for (size_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = hearth_f32_to_f16(x[i]);
}

/* Element at of rows in type t, as the cache holds it. */
static double elem(hearth_type t, const void *rows, size_t at) {
    if (t == HEARTH_TYPE_F32) return ((const float *)rows)[at];
    if (t == HEARTH_TYPE_F16) return hearth_f16_to_f32(((const uint16_t *)rows)[at]);
    const uint8_t *blk = (const uint8_t *)rows + hearth_attn_bytes(t, at / 32 * 32);
    int j = (int)(at % 32);
    if (t == HEARTH_TYPE_Q8_0) {
        const hearth_block_q8_0 *b = (const hearth_block_q8_0 *)blk;
        return (double)hearth_f16_to_f32(b->d) * b->qs[j];
    }
    const hearth_block_q4_0 *b = (const hearth_block_q4_0 *)blk;
    int nib = j < 16 ? b->qs[j] & 15 : b->qs[j - 16] >> 4;
    return (double)hearth_f16_to_f32(b->d) * (nib - 8);
}

/* softmax(scale q_g . k_p) v_p over positions p, for each query head g, in
 * double from the cache's own values (F16 rows widened, blocks dequantized) */
static double cache_at(const hearth_attn_args *a, const void *rows, int p, int i) {
    size_t at = (size_t)p * a->kv_stride + (size_t)i;
    return elem(rows == a->k ? a->type_k : a->type_v, rows, at);
}

static void attn_double(const hearth_attn_args *a, double *out) {
    double sc[100];
    for (int g = 0; g < a->group; g++) {
        const float *q = a->q + (size_t)g * a->hd;
        double mx = -1e300, sum = 0;
        for (int p = 0; p < a->np; p++) {
            double dot = 0;
            for (int i = 0; i < a->hd; i++) dot += (double)q[i] * cache_at(a, a->k, p, i);
            sc[p] = dot * a->scale;
            if (sc[p] > mx) mx = sc[p];
        }
        for (int p = 0; p < a->np; p++) sum += sc[p] = exp(sc[p] - mx);
        for (int i = 0; i < a->hd; i++) {
            double o = 0;
            for (int p = 0; p < a->np; p++) o += sc[p] * cache_at(a, a->v, p, i);
            out[(size_t)g * a->hd + (size_t)i] = o / sum;
        }
    }
}

/* chunked vs one call of fn, at long lengths; returns the worst error as a
 * fraction of the tolerance */
static double check_chunked(hearth_attn_fn fn, const char *fname) {
    enum { NPMAX = 1531, HD = 64, G = 7 };
    enum { STRIDE = 160 }; /* a multiple of 32: the block types' rows */
    static float kf[NPMAX * STRIDE], vf[NPMAX * STRIDE], sc[G * NPMAX];
    static uint8_t kc[NTY][NPMAX * STRIDE * 4], vc[NTY][NPMAX * STRIDE * 4];
    float q[G * HD], o1[G * HD], o2[G * HD], ml1[2 * G], ml2[2 * G], tmp[G * HD + 2 * G], mlt[2 * G],
        rb[2 * HD];
    size_t stride = STRIDE;
    uint32_t seed = 5;
    for (size_t i = 0; i < (size_t)NPMAX * stride; i++) {
        kf[i] = frand(&seed) * 2;
        vf[i] = frand(&seed);
    }
    for (int ty = 0; ty < NTY; ty++) {
        store(TK[ty], kf, kc[ty], (size_t)NPMAX * stride);
        store(TV[ty], vf, vc[ty], (size_t)NPMAX * stride);
    }
    double worst = 0;
    const int nps[] = {300, 1000, NPMAX}, chunks[] = {1, 7, 37, 256, NPMAX};
    for (int pi = 0; pi < 3; pi++)
        for (int ty = 0; ty < NTY; ty++) {
            int np = nps[pi];
            for (int i = 0; i < G * HD; i++) q[i] = frand(&seed) * 2;
            hearth_attn_args a = {.q = q, .k = kc[ty], .v = vc[ty],
                                  .kv_stride = stride, .type_k = TK[ty], .type_v = TV[ty],
                                  .np = np, .hd = HD, .group = G, .scale = 0.125f, .scores = sc,
                                  .score_stride = NPMAX, .rowbuf = rb, .out = o1, .ml = ml1};
            fn(&a);
            for (int ci = 0; ci < 5; ci++) {
                hearth_attn_args c = a;
                c.out = o2;
                c.ml = ml2;
                c.score_stride = (size_t)chunks[ci]; /* what the pieces need */
                hearth_attn_chunked(fn, &c, chunks[ci], tmp, mlt);
                for (int i = 0; i < G * HD; i++) {
                    double d = fabs((double)o2[i] - o1[i]), lim = 1e-6 + 1e-4 * fabs(o1[i]);
                    worst = d / lim > worst ? d / lim : worst;
                    CHECKF(d <= lim, "%s chunked: np %d pieces of %d %s: [%d] %g vs %g", fname, np,
                           chunks[ci], TNAME[ty], i, o2[i], o1[i]);
                }
                for (int g = 0; g < G; g++) {
                    /* the same score sums in another order where a piece
                     * moves the 8-key blocks */
                    CHECKF(fabs(ml2[2 * g] - ml1[2 * g]) <= 1e-6 * (1 + fabs(ml1[2 * g])),
                           "%s chunked: max %g vs %g", fname, ml2[2 * g], ml1[2 * g]);
                    CHECKF(fabs(ml2[2 * g + 1] - ml1[2 * g + 1]) <= 1e-5 * ml1[2 * g + 1],
                           "%s chunked: sum %g vs %g", fname, ml2[2 * g + 1], ml1[2 * g + 1]);
                }
            }
            /* two ranges split at an odd point, merged by hand */
            int cut = np / 3 + 1;
            hearth_attn_args h1 = a, h2 = a;
            float oa[G * HD], ob[G * HD], mla[2 * G], mlb[2 * G];
            h1.np = cut;
            h1.out = oa;
            h1.ml = mla;
            h2.k = (const uint8_t *)a.k + hearth_attn_bytes(a.type_k, (size_t)cut * stride);
            h2.v = (const uint8_t *)a.v + hearth_attn_bytes(a.type_v, (size_t)cut * stride);
            h2.np = np - cut;
            h2.out = ob;
            h2.ml = mlb;
            fn(&h1);
            fn(&h2);
            hearth_attn_merge(G, HD, oa, mla, ob, mlb);
            for (int i = 0; i < G * HD; i++) {
                double d = fabs((double)oa[i] - o1[i]), lim = 1e-6 + 1e-4 * fabs(o1[i]);
                worst = d / lim > worst ? d / lim : worst;
                CHECKF(d <= lim, "%s merge at %d of %d: [%d] %g vs %g", fname, cut, np, i, oa[i], o1[i]);
            }
        }
    fprintf(stderr, "attention %s, chunked vs one call: max error %.2f of tolerance\n", fname, worst);
    return worst;
}

/* Every 65,537th float bit pattern (all exponents, both signs), and the
 * neighbourhoods of each conversion boundary (the smallest half subnormal's
 * half 2^-25, the smallest normal half 2^-14, the overflow threshold 65520,
 * inf and NaN: quiet and signalling, payloads in high and low bits), in rows
 * of 8 and with tails of 1-7. */
static void check_f16_store(void) {
    hearth_from_float_fn f = hearth_f16_store_pick();
    fprintf(stderr, "f16 store: %s\n", f == hearth_f16_from_float_ref ? "reference" : "f16c");
    enum { N = 65536 };
    static float x[N];
    static uint16_t got[N], want[N];
    int n = 0;
    for (uint64_t u = 0; u < 0x100000000ull && n < N - 512; u += 65537) x[n++] = hearth_bits_f32((uint32_t)u);
    static const uint32_t edges[] = {0x33000000u, 0x33800000u, 0x387fe000u, 0x38800000u, 0x477fe000u,
                                     0x477ff000u, 0x7f7fffffu, 0x7f800000u, 0x7fc00000u, 0x7f800001u,
                                     0x7fbfffffu, 0x7fe00000u, 0x00000001u, 0x00800000u};
    for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++)
        for (int d = -8; d <= 8; d++)
            for (int neg = 0; neg < 2; neg++)
                x[n++] = hearth_bits_f32((edges[e] + (uint32_t)d) | (neg ? 0x80000000u : 0u));
    hearth_f16_from_float_ref(x, want, n);
    for (int i = 0; i < n; i++) CHECKF(want[i] == hearth_f32_to_f16(x[i]), "reference store, pattern %d", i);
    int diff = 0;
    for (int tail = 0; tail < 8; tail++) {
        memset(got, 0xAA, sizeof got);
        f(x, got, n - tail);
        for (int i = 0; i < n - tail; i++) diff += got[i] != want[i];
        for (int i = n - tail; i < n; i++) diff += got[i] != 0xAAAA; /* nothing past n written */
    }
    CHECKF(diff == 0, "f16 store: %d of %d conversions differ from hearth_f32_to_f16", diff, 8 * n);
}

int main(void) {
    check_f16_store();
    int simd = hearth_attn_pick(64) != hearth_attn_ref;
    if (!simd)
        fprintf(stderr, "no SIMD attention kernel on this CPU (or forced scalar): "
                        "the reference kernel against double only\n");
    uint32_t seed = 1;
    double worst = 0, worst_ref = 0;
    const int hds[] = {64, 128, 80, 72}, nps[] = {1, 7, 8, 9, 15, 16, 17, 33, 100};
    for (int hi = 0; hi < 4; hi++)
        for (int group = 1; group <= 7; group += 3)
            for (int pi = 0; pi < 9; pi++)
                for (int ty = 0; ty < NTY; ty++) {
                    int hd = hds[hi], np = nps[pi];
                    if (ty >= 2 && hd % 32) continue; /* blocks of 32 along a head */
                    /* another head's data between rows */
                    size_t stride = (size_t)hd * 2 + (ty >= 2 ? 32 : 8);
                    float q[7 * 128], out_ref[7 * 128], out_simd[7 * 128], sc[7 * 128], rb[256];
                    static float kf[100 * 288], vf[100 * 288];
                    static uint8_t kc[100 * 288 * 4], vc[100 * 288 * 4];
                    for (int i = 0; i < group * hd; i++) q[i] = frand(&seed) * 2;
                    for (size_t i = 0; i < (size_t)np * stride; i++) {
                        kf[i] = frand(&seed) * 2;
                        vf[i] = frand(&seed);
                    }
                    store(TK[ty], kf, kc, (size_t)np * stride);
                    store(TV[ty], vf, vc, (size_t)np * stride);
                    hearth_attn_args a = {.q = q, .k = kc, .v = vc, .kv_stride = stride,
                                          .type_k = TK[ty], .type_v = TV[ty], .np = np,
                                          .hd = hd, .group = group, .scale = 0.125f, .scores = sc,
                                          .score_stride = 128, .rowbuf = rb, .out = out_ref};
                    float ml_ref[14], ml_simd[14];
                    a.ml = ml_ref;
                    hearth_attn_ref(&a);
                    static double exact[7 * 128];
                    attn_double(&a, exact);
                    for (int i = 0; i < group * hd; i++) {
                        double d = fabs((double)out_ref[i] - exact[i]);
                        double lim = 1e-5 + 1e-4 * fabs(exact[i]);
                        if (d / lim > worst_ref) worst_ref = d / lim;
                        CHECKF(d <= lim, "reference vs double: hd %d group %d np %d %s: [%d] %g vs %g",
                               hd, group, np, TNAME[ty], i, out_ref[i], exact[i]);
                    }
                    if (!simd) continue;
                    /* the kernel chosen for hd and, where that is the
                     * AVX-512 one, the AVX2 one it replaces */
                    hearth_attn_fn fns[2] = {hearth_attn_pick(hd), NULL};
                    if (fns[0] == hearth_attn_avx512) fns[1] = hearth_attn_avx2;
                    for (int fi = 0; fi < 2 && fns[fi]; fi++) {
                        const char *fname = fns[fi] == hearth_attn_avx512 ? "avx512"
                                            : fns[fi] == hearth_attn_avx2   ? "avx2"
                                                                            : "neon";
                        a.out = out_simd;
                        a.ml = ml_simd;
                        fns[fi](&a);
                        for (int i = 0; i < group * hd; i++) {
                            double d = fabs((double)out_simd[i] - out_ref[i]);
                            double lim = 1e-5 + 1e-4 * fabs(out_ref[i]);
                            if (d / lim > worst) worst = d / lim;
                            CHECKF(d <= lim, "%s hd %d group %d np %d %s: [%d] %g vs %g", fname, hd, group,
                                   np, TNAME[ty], i, out_simd[i], out_ref[i]);
                        }
                        for (int g = 0; g < group; g++) {
                            CHECKF(fabs(ml_simd[2 * g] - ml_ref[2 * g]) <= 1e-5 * (1 + fabs(ml_ref[2 * g])),
                                   "%s hd %d np %d: max %g vs %g", fname, hd, np, ml_simd[2 * g], ml_ref[2 * g]);
                            CHECKF(fabs(ml_simd[2 * g + 1] - ml_ref[2 * g + 1]) <= 1e-5 * ml_ref[2 * g + 1],
                                   "%s hd %d np %d: sum %g vs %g", fname, hd, np, ml_simd[2 * g + 1],
                                   ml_ref[2 * g + 1]);
                        }
                    }
                }
    fprintf(stderr, "attention reference vs double: max error %.3f of tolerance\n", worst_ref);
    if (simd) fprintf(stderr, "attention SIMD vs reference: max error %.2f of tolerance\n", worst);
    check_chunked(hearth_attn_ref, "reference");
    if (simd) check_chunked(hearth_attn_pick(64), "SIMD");
    if (hearth_attn_pick(64) == hearth_attn_avx512) check_chunked(hearth_attn_avx2, "avx2");
    return test_done();
}
