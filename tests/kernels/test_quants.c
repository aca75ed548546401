/*
 * test_quants.c: tests of the block formats (kernels/quants.h, ref/quants_*.c)
 * and the fp16/bf16 conversions (kernels/fp16.h).
 *  - fp16/bf16: exhaustive round trip of every 16-bit pattern, rounding
 *    ties, overflow, subnormals, NaN; against the CPU's F16C when present.
 *  - quantize -> dequantize on random data: an error bound per type (stated
 *    in the table below; measured error printed).
 *  - hand-built blocks: dequantized value by value against the format's
 *    definition, written here as ggml's nested loops (a second derivation,
 *    independent of the reference's per-element formulas).
 */
#include "kernels/quants.h"
#include "test.h"

#include <stdbool.h>
#include <stdint.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd_u32(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}
static float rnd_unit(void) { return (float)(rnd_u32() & 0xFFFFFF) / 16777216.f; } /* [0,1) */
static float rnd_gauss(void) { /* Irwin-Hall: close enough to normal, deterministic */
    float s = 0.f;
    for (int i = 0; i < 12; i++) s += rnd_unit();
    return s - 6.f;
}

/* ---- fp16 / bf16 ---------------------------------------------------------- */

/* The CPU's own float -> fp16 conversion, where there is one to compare
 * with: F16C on x86 (when CPUID says so), fcvt on every AArch64 CPU. */
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define HW_F16_NAME "F16C"
__attribute__((target("f16c"))) static uint16_t hw_f32_to_f16(float f) {
    return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
}

static bool have_f16c(void) { /* CPUID.1:ECX bit 29 (clang 14 lacks the builtin's name) */
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
}
#elif defined(__aarch64__)
#include <arm_neon.h>
#define HW_F16_NAME "fcvt"
static uint16_t hw_f32_to_f16(float f) {
    return vget_lane_u16(vreinterpret_u16_f16(vcvt_f16_f32(vdupq_n_f32(f))), 0);
}
static bool have_f16c(void) { return true; }
#else
#define HW_F16_NAME "none"
static uint16_t hw_f32_to_f16(float f) { return hearth_f32_to_f16(f); }
static bool have_f16c(void) { return false; }
#endif

static void test_fp16(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = hearth_f16_to_f32((uint16_t)h);
        bool nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        if (nan) {
            if (!isnan(f)) bad++;
            if ((hearth_f32_to_f16(f) & 0x7fff) <= 0x7c00) bad++;
        } else if (hearth_f32_to_f16(f) != h) {
            bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(hearth_f16_to_f32(0x3c00) == 1.f);
    CHECK(hearth_f16_to_f32(0xc000) == -2.f);
    CHECK(hearth_f16_to_f32(0x7bff) == 65504.f);
    CHECK(hearth_f16_to_f32(0x0001) == 0x1p-24f);
    CHECK(hearth_f16_to_f32(0x0400) == 0x1p-14f);
    CHECK(isinf(hearth_f16_to_f32(0x7c00)));
    CHECK_EQ_INT(hearth_f32_to_f16(65519.f), 0x7bff);
    CHECK_EQ_INT(hearth_f32_to_f16(65520.f), 0x7c00);       /* tie -> even = inf */
    CHECK_EQ_INT(hearth_f32_to_f16(1e10f), 0x7c00);
    CHECK_EQ_INT(hearth_f32_to_f16(-1e10f), 0xfc00);
    CHECK_EQ_INT(hearth_f32_to_f16(1.f + 0x1p-11f), 0x3c00); /* tie -> even */
    CHECK_EQ_INT(hearth_f32_to_f16(1.f + 3 * 0x1p-11f), 0x3c02);
    CHECK_EQ_INT(hearth_f32_to_f16(1.f + 0x1p-11f + 0x1p-20f), 0x3c01);
    CHECK_EQ_INT(hearth_f32_to_f16(0x1p-25f), 0x0000);      /* tie -> even = 0 */
    CHECK_EQ_INT(hearth_f32_to_f16(0x1.8p-25f), 0x0001);
    CHECK_EQ_INT(hearth_f32_to_f16(0x1.8p-24f), 0x0002);    /* tie 1.5 units -> 2 */
    CHECK_EQ_INT(hearth_f32_to_f16(0x1.ffcp-15f), 0x0400);  /* rounds up into normal */
    CHECK_EQ_INT(hearth_f32_to_f16(-0.f), 0x8000);
    CHECK(isnan(hearth_f16_to_f32(hearth_f32_to_f16(NAN))));
    if (have_f16c()) {
        int mism = 0;
        for (int i = 0; i < 200000; i++) {
            uint32_t u = rnd_u32() ^ (rnd_u32() << 16);
            float f = hearth_bits_f32(u);
            if (isnan(f)) continue;
            if (hearth_f32_to_f16(f) != hw_f32_to_f16(f)) mism++;
        }
        fprintf(stderr, "fp16: 200000 random floats vs " HW_F16_NAME ": %d mismatches\n", mism);
        CHECK_EQ_INT(mism, 0);
    }
    /* bf16 */
    bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = hearth_bf16_to_f32((uint16_t)h);
        if (isnan(f)) continue;
        if (hearth_f32_to_bf16(f) != h) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(hearth_f32_to_bf16(1.f), 0x3f80);
    CHECK_EQ_INT(hearth_f32_to_bf16(hearth_bits_f32(0x3f808000u)), 0x3f80); /* tie -> even */
    CHECK_EQ_INT(hearth_f32_to_bf16(hearth_bits_f32(0x3f818000u)), 0x3f82); /* tie -> even */
    CHECK_EQ_INT(hearth_f32_to_bf16(hearth_bits_f32(0x3f808001u)), 0x3f81);
    CHECK_EQ_INT(hearth_f32_to_bf16(hearth_bits_f32(0x7f7fffffu)), 0x7f80); /* -> inf */
    CHECK(isnan(hearth_bf16_to_f32(hearth_f32_to_bf16(NAN))));
    CHECK(isnan(hearth_bf16_to_f32(hearth_f32_to_bf16(hearth_bits_f32(0x7f800001u)))));
}

/* ---- quantize -> dequantize error ------------------------------------------ */

typedef struct {
    hearth_type type;
    /* per-block bound: max |x - deq(q(x))| <= blk_bound * max|x| over the block */
    double blk_bound;
    /* global bound: rms(x - deq(q(x))) <= rms_bound * rms(x) */
    double rms_bound;
} err_case;

/* Bounds, derived from the formats (per-block) or from ggml's reference
 * quality on Gaussian data with some headroom (rms):
 *  F16 2^-11 relative; BF16 2^-8; Q8_0 half a step of amax/127 (+fp16 d);
 *  Q4_0/Q5_0 code range -8..7 / -16..15 with the extreme value on the
 *  -8/-16 side, so the other side may clip by one step: 1/8, 1/16;
 *  Q4_1/Q5_1 half a step of range/15, range/31 (range <= 2 max|x|);
 *  Q8_K half a step of amax/127 (float d); rms: a uniform error of step
 *  s has rms s/sqrt(12), and with 256-element blocks and outliers the step
 *  is large next to the data's rms;
 *  K-quants: no closed form (sub-block scales are themselves quantized and
 *  searched), so both bounds are ~1.3x what ggml-style quantization reaches
 *  on this data: Q2_K 0.30, Q3_K 0.16, Q4_K 0.075, Q5_K 0.04, Q6_K 0.02. */
static const err_case err_cases[] = {
    {HEARTH_TYPE_F32, 0.0, 0.0},
    {HEARTH_TYPE_F16, 0x1p-11, 0x1p-11},
    {HEARTH_TYPE_BF16, 0x1p-8, 0x1p-8},
    {HEARTH_TYPE_Q8_0, 0.5 / 127 + 0x1p-10, 0.008},
    {HEARTH_TYPE_Q4_0, 1.0 / 8 + 0x1p-9, 0.12},
    {HEARTH_TYPE_Q4_1, 1.0 / 15 + 0x1p-9, 0.09},
    {HEARTH_TYPE_Q5_0, 1.0 / 16 + 0x1p-9, 0.06},
    {HEARTH_TYPE_Q5_1, 1.0 / 31 + 0x1p-9, 0.045},
    {HEARTH_TYPE_Q2_K, 0.40, 0.35},
    {HEARTH_TYPE_Q3_K, 0.22, 0.20},
    {HEARTH_TYPE_Q4_K, 0.10, 0.09},
    {HEARTH_TYPE_Q5_K, 0.055, 0.045},
    {HEARTH_TYPE_Q6_K, 0.025, 0.025},
    {HEARTH_TYPE_Q8_K, 0.5 / 127 + 1e-5, 0.015},
};

static void test_roundtrip(void) {
    enum { N = 256 * 64 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    void *q = malloc(N * 4), *q2 = malloc(N * 4);
    REQUIRE(x && y && q && q2);
    for (int i = 0; i < N; i++) x[i] = rnd_gauss();
    for (int i = 0; i < 32; i++) x[rnd_u32() % N] *= 8.f; /* a few outliers */
    for (int i = 0; i < 32; i++) x[256 * 5 + i] = 0.f;    /* an all-zero block */
    for (int i = 0; i < 256; i++) x[256 * 7 + i] = 1.f;   /* a constant super-block */
    for (int i = 0; i < 256; i++) x[256 * 9 + i] = -0.25f + 0.001f * (float)i;
    for (size_t c = 0; c < sizeof err_cases / sizeof err_cases[0]; c++) {
        const err_case *ec = &err_cases[c];
        const hearth_type_traits *t = hearth_type_traits_get(ec->type);
        REQUIRE(t && t->to_float && t->from_float_ref);
        size_t bytes = (size_t)(N / t->blck_size) * t->type_size;
        memset(q, 0xA5, N * 4);
        memset(q2, 0x5A, N * 4);
        t->from_float_ref(x, q, N);
        t->from_float_ref(x, q2, N);
        CHECKF(!memcmp(q, q2, bytes), "%s: quantization not deterministic", t->name);
        t->to_float(q, y, N);
        int64_t blk = t->blck_size < 32 ? 32 : t->blck_size;
        double worst_blk = 0, se = 0, sx = 0;
        for (int64_t b = 0; b < N / blk; b++) {
            double amax = 0, emax = 0;
            for (int64_t i = b * blk; i < (b + 1) * blk; i++) {
                double e = fabs((double)x[i] - y[i]);
                if (fabs(x[i]) > amax) amax = fabs(x[i]);
                if (e > emax) emax = e;
                se += e * e;
                sx += (double)x[i] * x[i];
            }
            double r = amax > 0 ? emax / amax : emax;
            if (r > worst_blk) worst_blk = r;
        }
        double rms = sqrt(se / sx);
        fprintf(stderr, "%-5s block max err/amax %.5f (bound %.5f)  rms err/rms %.5f (bound %.5f)\n",
                t->name, worst_blk, ec->blk_bound, rms, ec->rms_bound);
        CHECKF(worst_blk <= ec->blk_bound, "%s per-block error %g > %g", t->name, worst_blk,
               ec->blk_bound);
        CHECKF(rms <= ec->rms_bound, "%s rms error %g > %g", t->name, rms, ec->rms_bound);
        /* an all-zero block comes back exactly zero in every format */
        for (int i = 0; i < 32; i++) CHECKF(y[256 * 5 + i] == 0.f, "%s zero block", t->name);
    }
    free(x), free(y), free(q), free(q2);
}

/* ---- hand-built blocks ---------------------------------------------------- */

static void fill_random(void *p, size_t n) {
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)rnd_u32();
}

static int count_mismatch(const float *got, const float *want, int n, const char *what) {
    int bad = 0;
    for (int i = 0; i < n; i++)
        if (got[i] != want[i]) {
            if (bad < 5) fprintf(stderr, "%s[%d]: got %g want %g\n", what, i, got[i], want[i]);
            bad++;
        }
    return bad;
}

static void test_handbuilt_32(void) {
    float got[32], want[32];
    { /* Q4_0: d = 0.5 */
        hearth_block_q4_0 b = {.d = 0x3800};
        for (int j = 0; j < 16; j++) b.qs[j] = (uint8_t)(j | ((15 - j) << 4));
        hearth_q4_0_to_float(&b, got, 32);
        for (int j = 0; j < 16; j++) want[j] = 0.5f * (float)(j - 8), want[j + 16] = 0.5f * (float)(7 - j);
        CHECK_EQ_INT(count_mismatch(got, want, 32, "Q4_0"), 0);
        CHECK(got[0] == -4.f && got[15] == 3.5f && got[16] == 3.5f && got[31] == -4.f);
    }
    { /* Q4_1: d = 2, m = -1 */
        hearth_block_q4_1 b = {.d = 0x4000, .m = 0xbc00};
        for (int j = 0; j < 16; j++) b.qs[j] = (uint8_t)(j | ((15 - j) << 4));
        hearth_q4_1_to_float(&b, got, 32);
        for (int j = 0; j < 16; j++) want[j] = 2.f * (float)j - 1.f, want[j + 16] = 2.f * (float)(15 - j) - 1.f;
        CHECK_EQ_INT(count_mismatch(got, want, 32, "Q4_1"), 0);
    }
    { /* Q5_0: d = 0.5; qh = 0xFF008001: 5th bit for x[0], x[15], x[24..31] */
        hearth_block_q5_0 b = {.d = 0x3800, .qh = {0x01, 0x80, 0x00, 0xFF}};
        for (int j = 0; j < 16; j++) b.qs[j] = (uint8_t)(j | ((15 - j) << 4));
        hearth_q5_0_to_float(&b, got, 32);
        for (int j = 0; j < 16; j++) {
            int h0 = (j == 0 || j == 15) ? 16 : 0, h1 = (j >= 8) ? 16 : 0;
            want[j] = 0.5f * (float)((j + h0) - 16);
            want[j + 16] = 0.5f * (float)((15 - j + h1) - 16);
        }
        CHECK_EQ_INT(count_mismatch(got, want, 32, "Q5_0"), 0);
        CHECK(got[0] == 0.f && got[1] == -7.5f && got[15] == 7.5f && got[31] == 0.f && got[23] == -4.f);
    }
    { /* Q5_1: d = 1, m = 0.5; same bits */
        hearth_block_q5_1 b = {.d = 0x3c00, .m = 0x3800, .qh = {0x01, 0x80, 0x00, 0xFF}};
        for (int j = 0; j < 16; j++) b.qs[j] = (uint8_t)(j | ((15 - j) << 4));
        hearth_q5_1_to_float(&b, got, 32);
        for (int j = 0; j < 16; j++) {
            int h0 = (j == 0 || j == 15) ? 16 : 0, h1 = (j >= 8) ? 16 : 0;
            want[j] = (float)(j + h0) + 0.5f;
            want[j + 16] = (float)(15 - j + h1) + 0.5f;
        }
        CHECK_EQ_INT(count_mismatch(got, want, 32, "Q5_1"), 0);
        CHECK(got[15] == 31.5f && got[16] == 15.5f && got[31] == 16.5f);
    }
    { /* Q8_0: d = -0.25 */
        hearth_block_q8_0 b = {.d = 0xb400};
        for (int j = 0; j < 32; j++) b.qs[j] = (int8_t)(j * 8 - 128);
        hearth_q8_0_to_float(&b, got, 32);
        for (int j = 0; j < 32; j++) want[j] = -0.25f * (float)(j * 8 - 128);
        CHECK_EQ_INT(count_mismatch(got, want, 32, "Q8_0"), 0);
    }
}

static void test_handbuilt_k(void) {
    float got[256], want[256];
    { /* Q2_K, ggml's loop nest: 2 halves of 128, 4 shifts, 2 x 16 per shift */
        hearth_block_q2_K b;
        fill_random(&b, sizeof b);
        b.d = 0x3c00;    /* 1 */
        b.dmin = 0x3800; /* 0.5 */
        hearth_q2_K_to_float(&b, got, 256);
        float *y = want;
        const uint8_t *q = b.qs;
        int is = 0;
        for (int n = 0; n < 256; n += 128) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    uint8_t sc = b.scales[is++];
                    float dl = (float)(sc & 0xF), ml = 0.5f * (float)(sc >> 4);
                    for (int l = 0; l < 16; l++) *y++ = dl * (float)((q[l + 16 * half] >> shift) & 3) - ml;
                }
            }
            q += 32;
        }
        CHECK_EQ_INT(count_mismatch(got, want, 256, "Q2_K"), 0);
    }
    { /* Q3_K: literal scale bytes, 6-bit scales worked out by hand */
        hearth_block_q3_K b;
        fill_random(&b, sizeof b);
        static const uint8_t s[12] = {0x10, 0x32, 0x54, 0x76, 0x98, 0xBA,
                                      0xDC, 0xFE, 0xE4, 0x1B, 0x00, 0xFF};
        static const int8_t sc_want[16] = {-32, 18, -28, 22, -8, 10, -20, 30,
                                           1,   -13, -27, 23, 25, -21, -19, 31};
        memcpy(b.scales, s, 12);
        b.d = 0x3400; /* 0.25 */
        int8_t sc[16];
        hearth_q3_K_scales(b.scales, sc);
        for (int j = 0; j < 16; j++) CHECKF(sc[j] == sc_want[j], "Q3_K scale %d: %d != %d", j, sc[j], sc_want[j]);
        hearth_q3_K_to_float(&b, got, 256);
        float *y = want;
        const uint8_t *q = b.qs;
        uint8_t m = 1;
        int is = 0;
        for (int n = 0; n < 256; n += 128) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    float dl = 0.25f * (float)sc_want[is++];
                    for (int l = 16 * half; l < 16 * half + 16; l++)
                        *y++ = dl * (float)(((q[l] >> shift) & 3) - ((b.hmask[l] & m) ? 0 : 4));
                }
                m = (uint8_t)(m << 1);
            }
            q += 32;
        }
        CHECK_EQ_INT(count_mismatch(got, want, 256, "Q3_K"), 0);
    }
    static const uint8_t k4s[12] = {0x41, 0x82, 0xC3, 0x04, 0x45, 0x86,
                                    0xC7, 0x08, 0x21, 0x43, 0x65, 0x87};
    static const uint8_t k4_sc[8] = {1, 2, 3, 4, 17, 35, 53, 7};
    static const uint8_t k4_m[8] = {5, 6, 7, 8, 18, 36, 54, 8};
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        hearth_get_scale_min_k4(j, k4s, &sc, &m);
        CHECKF(sc == k4_sc[j] && m == k4_m[j], "K4 scale %d: %d/%d", j, sc, m);
    }
    { /* Q4_K: d = 0.5, dmin = 0.25 */
        hearth_block_q4_K b;
        fill_random(&b, sizeof b);
        b.d = 0x3800;
        b.dmin = 0x3400;
        memcpy(b.scales, k4s, 12);
        hearth_q4_K_to_float(&b, got, 256);
        float *y = want;
        const uint8_t *q = b.qs;
        for (int j = 0; j < 8; j += 2) {
            for (int l = 0; l < 32; l++) *y++ = 0.5f * k4_sc[j] * (q[l] & 0xF) - 0.25f * k4_m[j];
            for (int l = 0; l < 32; l++) *y++ = 0.5f * k4_sc[j + 1] * (q[l] >> 4) - 0.25f * k4_m[j + 1];
            q += 32;
        }
        CHECK_EQ_INT(count_mismatch(got, want, 256, "Q4_K"), 0);
    }
    { /* Q5_K: high bits u1/u2 walking two bits per 64 */
        hearth_block_q5_K b;
        fill_random(&b, sizeof b);
        b.d = 0x3800;
        b.dmin = 0x3400;
        memcpy(b.scales, k4s, 12);
        hearth_q5_K_to_float(&b, got, 256);
        float *y = want;
        const uint8_t *ql = b.qs;
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0; j < 8; j += 2) {
            for (int l = 0; l < 32; l++)
                *y++ = 0.5f * k4_sc[j] * (float)((ql[l] & 0xF) + (b.qh[l] & u1 ? 16 : 0)) - 0.25f * k4_m[j];
            for (int l = 0; l < 32; l++)
                *y++ = 0.5f * k4_sc[j + 1] * (float)((ql[l] >> 4) + (b.qh[l] & u2 ? 16 : 0)) -
                       0.25f * k4_m[j + 1];
            ql += 32;
            u1 = (uint8_t)(u1 << 2);
            u2 = (uint8_t)(u2 << 2);
        }
        CHECK_EQ_INT(count_mismatch(got, want, 256, "Q5_K"), 0);
    }
    { /* Q6_K: ggml's loop nest over halves of 128 */
        hearth_block_q6_K b;
        fill_random(&b, sizeof b);
        b.d = 0x3000; /* 0.125 */
        hearth_q6_K_to_float(&b, got, 256);
        float *y = want;
        const uint8_t *ql = b.ql, *qh = b.qh;
        const int8_t *sc = b.scales;
        for (int n = 0; n < 256; n += 128) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = 0.125f * sc[is] * q1;
                y[l + 32] = 0.125f * sc[is + 2] * q2;
                y[l + 64] = 0.125f * sc[is + 4] * q3;
                y[l + 96] = 0.125f * sc[is + 6] * q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
        CHECK_EQ_INT(count_mismatch(got, want, 256, "Q6_K"), 0);
    }
    { /* Q8_K: float d, and bsums from quantization */
        hearth_block_q8_K b;
        fill_random(&b, sizeof b);
        b.d = 0.375f;
        hearth_q8_K_to_float(&b, got, 256);
        for (int j = 0; j < 256; j++) want[j] = 0.375f * (float)b.qs[j];
        CHECK_EQ_INT(count_mismatch(got, want, 256, "Q8_K"), 0);
        float x[256];
        for (int j = 0; j < 256; j++) x[j] = rnd_gauss();
        hearth_q8_K_from_float_ref(x, &b, 256);
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int l = 0; l < 16; l++) s += b.qs[16 * g + l];
            CHECK_EQ_INT(b.bsums[g], s);
        }
    }
}

/* Quantizing a block that is exactly representable gives it back exactly. */
static void test_exact(void) {
    float x[32], y[32];
    hearth_block_q8_0 b8;
    for (int j = 0; j < 32; j++) x[j] = (float)(j - 16) * 0.5f; /* amax 8 -> d = 8/127 */
    x[0] = -63.5f;                                             /* d = 0.5 exactly */
    hearth_q8_0_from_float_ref(x, &b8, 32);
    hearth_q8_0_to_float(&b8, y, 32);
    CHECK_EQ_INT(count_mismatch(y, x, 32, "Q8_0 exact"), 0);
    hearth_block_q4_0 b4;
    for (int j = 0; j < 32; j++) x[j] = (float)((j % 16) - 8); /* -8..7, d = 1 */
    hearth_q4_0_from_float_ref(x, &b4, 32);
    hearth_q4_0_to_float(&b4, y, 32);
    CHECK_EQ_INT(count_mismatch(y, x, 32, "Q4_0 exact"), 0);
    hearth_block_q5_0 b5;
    for (int j = 0; j < 32; j++) x[j] = (float)(j - 16) * 0.25f;
    hearth_q5_0_from_float_ref(x, &b5, 32);
    hearth_q5_0_to_float(&b5, y, 32);
    CHECK_EQ_INT(count_mismatch(y, x, 32, "Q5_0 exact"), 0);
}

static void test_traits(void) {
    static const struct { hearth_type t; size_t sz; } sizes[] = {
        {HEARTH_TYPE_Q4_0, sizeof(hearth_block_q4_0)}, {HEARTH_TYPE_Q4_1, sizeof(hearth_block_q4_1)},
        {HEARTH_TYPE_Q5_0, sizeof(hearth_block_q5_0)}, {HEARTH_TYPE_Q5_1, sizeof(hearth_block_q5_1)},
        {HEARTH_TYPE_Q8_0, sizeof(hearth_block_q8_0)}, {HEARTH_TYPE_Q8_1, sizeof(hearth_block_q8_1)},
        {HEARTH_TYPE_Q2_K, sizeof(hearth_block_q2_K)}, {HEARTH_TYPE_Q3_K, sizeof(hearth_block_q3_K)},
        {HEARTH_TYPE_Q4_K, sizeof(hearth_block_q4_K)}, {HEARTH_TYPE_Q5_K, sizeof(hearth_block_q5_K)},
        {HEARTH_TYPE_Q6_K, sizeof(hearth_block_q6_K)}, {HEARTH_TYPE_Q8_K, sizeof(hearth_block_q8_K)},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const hearth_type_traits *t = hearth_type_traits_get(sizes[i].t);
        REQUIRE(t);
        CHECKF(t->type_size == sizes[i].sz, "%s: table %zu, struct %zu", t->name, t->type_size,
               sizes[i].sz);
    }
    for (int ty = 0; ty < HEARTH_TYPE_COUNT; ty++) {
        const hearth_type_traits *t = hearth_type_traits_get(ty);
        if (!t) continue;
        CHECKF(!!t->to_float == t->supported && !!t->from_float_ref == t->supported,
               "%s: to_float/from_float_ref present exactly when supported", t->name);
    }
}

int main(void) {
    test_fp16();
    test_traits();
    test_handbuilt_32();
    test_handbuilt_k();
    test_exact();
    test_roundtrip();
    return test_done();
}
