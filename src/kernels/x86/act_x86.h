/*
 * act_x86.h: the activation quantizers of dot.h (quantize_act) on 256-bit
 * vectors, included by dot_x86.h (so compiled for AVX2 and for AVX-512).
 *
 * Invariant: the bytes are identical to the reference's
 * (hearth_q8_0/q8_1/q8_K_from_float_ref) for every input, as test_dot checks:
 *  - amax: max(|x|, m) returns m when |x| is NaN, as fmaxf(amax, NaN) does, and
 *    a max is exact in any order;
 *  - d = amax/127 and id = 1/d are the same scalar float operations;
 *  - q = round(x*id) to nearest even (vroundps under the default rounding
 *    mode) equals hearth_nearest_int, whose |arg| <= ~128 here; a NaN product
 *    (NaN input, or inf*0) gives 0 there, so NaN lanes are zeroed first; +-inf
 *    converts to INT_MIN, clamped to -127 in both;
 *  - the multiply is never fused with anything (a round follows it), so
 *    -ffp-contract cannot change it.
 */

/* 8 floats x * id, rounded to nearest even, clamped to [-127, 127]. */
INLINE __m256i q8_round8(__m256 x, __m256 id) {
    __m256 v = _mm256_mul_ps(x, id);
    v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
    v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256i i = _mm256_cvtps_epi32(v);
    i = _mm256_max_epi32(i, _mm256_set1_epi32(-127));
    return _mm256_min_epi32(i, _mm256_set1_epi32(127));
}

/* 32 int32 lanes (each in [-127,127]) in element order -> 32 bytes. */
INLINE __m256i q8_pack32(__m256i i0, __m256i i1, __m256i i2, __m256i i3) {
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

INLINE int hsum8_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

INLINE float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* max |x| over 8*nv floats at x (the reference's fmaxf loop). */
INLINE float q8_amax(const float *x, int nv) {
    const __m256 sign = _mm256_set1_ps(-0.f);
    __m256 m = _mm256_setzero_ps();
    for (int k = 0; k < nv; k++) m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + 8 * k)), m);
    return hmax8(m);
}

/* One 32-element group: 32 bytes to q; returns the sum of the codes. */
INLINE __m256i q8_group32(const float *x, __m256 id, uint8_t *q, __m256i *sum) {
    __m256i i0 = q8_round8(_mm256_loadu_ps(x), id), i1 = q8_round8(_mm256_loadu_ps(x + 8), id);
    __m256i i2 = q8_round8(_mm256_loadu_ps(x + 16), id), i3 = q8_round8(_mm256_loadu_ps(x + 24), id);
    _mm256_storeu_si256((__m256i *)q, q8_pack32(i0, i1, i2, i3));
    if (sum) *sum = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
    return _mm256_add_epi32(i0, i1); /* the first 16 elements (Q8_K's bsums) */
}

/* Q8_0: (n/32) blocks of {fp16 d, int8 qs[32]}. */
static void quant_q8_0(const float *x, void *dst, int64_t n) {
    uint8_t *o = dst;
    for (int64_t b = 0; b < n / 32; b++, x += 32, o += 34) {
        float amax = q8_amax(x, 4);
        float d = amax / 127.f, id = d != 0.f ? 1.f / d : 0.f;
        uint16_t h = hearth_f32_to_f16(d);
        memcpy(o, &h, 2);
        q8_group32(x, _mm256_set1_ps(id), o + 2, NULL);
    }
}

/* Q8_1: (n/32) blocks of {fp16 d, fp16 s = d16 * sum(qs), int8 qs[32]}. */
static void quant_q8_1(const float *x, void *dst, int64_t n) {
    uint8_t *o = dst;
    for (int64_t b = 0; b < n / 32; b++, x += 32, o += 36) {
        float amax = q8_amax(x, 4);
        float d = amax / 127.f, id = d != 0.f ? 1.f / d : 0.f;
        uint16_t h = hearth_f32_to_f16(d);
        memcpy(o, &h, 2);
        __m256i sum;
        q8_group32(x, _mm256_set1_ps(id), o + 4, &sum);
        uint16_t s = hearth_f32_to_f16(hearth_f16_to_f32(h) * (float)hsum8_i32(sum));
        memcpy(o + 2, &s, 2);
    }
}

/* Q8_K: (n/256) blocks of {float d, int8 qs[256], int16 bsums[16]}. */
static void quant_q8_K(const float *x, void *dst, int64_t n) {
    uint8_t *o = dst;
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K, o += sizeof(hearth_block_q8_K)) {
        float amax = q8_amax(x, QK_K / 8);
        float d = amax / 127.f, id = d != 0.f ? 1.f / d : 0.f;
        memcpy(o, &d, 4);
        __m256 idv = _mm256_set1_ps(id);
        int16_t bs[QK_K / 16];
        for (int g = 0; g < QK_K / 32; g++) {
            __m256i all;
            __m256i lo = q8_group32(x + 32 * g, idv, o + 4 + 32 * g, &all);
            int s0 = hsum8_i32(lo);
            bs[2 * g] = (int16_t)s0;
            bs[2 * g + 1] = (int16_t)(hsum8_i32(all) - s0);
        }
        memcpy(o + 4 + QK_K, bs, sizeof bs);
    }
}
