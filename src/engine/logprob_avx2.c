/*
 * logprob_avx2.c: the two passes of logprob.c over a whole vocabulary
 * (151,936 logits for Qwen2.5) with AVX2 + FMA: the largest finite logit,
 * and the sum of exp(l - max). Called only when the CPU has them (the
 * kernels' one dispatch decision, which HEARTH_FORCE_SCALAR overrides).
 * Same results as the scalar loops up to summation order and the polynomial
 * exp (relative error about 2e-7 per term).
 */
#include "engine/logprob_int.h"

#if defined(__x86_64__)
#include "kernels/x86/exp_avx2.h"

#include <immintrin.h>
#include <math.h>

float logprob_max_avx2(const float *l, int32_t n) {
    /* +inf and NaN never win: they are masked to -inf before the max */
    const __m256 inf = _mm256_set1_ps(INFINITY), ninf = _mm256_set1_ps(-INFINITY);
    __m256 m0 = ninf, m1 = ninf;
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_loadu_ps(l + i), b = _mm256_loadu_ps(l + i + 8);
        a = _mm256_blendv_ps(ninf, a, _mm256_cmp_ps(a, inf, _CMP_LT_OQ));
        b = _mm256_blendv_ps(ninf, b, _mm256_cmp_ps(b, inf, _CMP_LT_OQ));
        m0 = _mm256_max_ps(m0, a);
        m1 = _mm256_max_ps(m1, b);
    }
    m0 = _mm256_max_ps(m0, m1);
    float t[8];
    _mm256_storeu_ps(t, m0);
    float mx = -INFINITY;
    for (int k = 0; k < 8; k++) mx = t[k] > mx ? t[k] : mx;
    for (; i < n; i++)
        if (isfinite(l[i]) && l[i] > mx) mx = l[i];
    return mx;
}

double logprob_sumexp_avx2(const float *l, int32_t n, float mx) {
    const __m256 vmx = _mm256_set1_ps(mx), inf = _mm256_set1_ps(INFINITY);
    const __m256 zero = _mm256_setzero_ps();
    __m256 s0 = zero, s1 = zero;
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_loadu_ps(l + i), b = _mm256_loadu_ps(l + i + 8);
        /* non-finite logits are impossible tokens: they add nothing */
        __m256 fa = _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a), inf, _CMP_LT_OQ);
        __m256 fb = _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), b), inf, _CMP_LT_OQ);
        __m256 ea = hearth_exp8_avx2(_mm256_sub_ps(a, vmx));
        __m256 eb = hearth_exp8_avx2(_mm256_sub_ps(b, vmx));
        s0 = _mm256_add_ps(s0, _mm256_and_ps(ea, fa));
        s1 = _mm256_add_ps(s1, _mm256_and_ps(eb, fb));
    }
    float t[8];
    _mm256_storeu_ps(t, _mm256_add_ps(s0, s1));
    double sum = 0;
    for (int k = 0; k < 8; k++) sum += t[k];
    for (; i < n; i++)
        if (isfinite(l[i])) sum += exp((double)l[i] - mx);
    return sum;
}
#endif
