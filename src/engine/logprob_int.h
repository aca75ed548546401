/*
 * logprob_int.h: the SIMD passes of engine/logprob.c (logprob_avx2.c).
 */
#ifndef HEARTH_ENGINE_LOGPROB_INT_H
#define HEARTH_ENGINE_LOGPROB_INT_H

#include <stdint.h>

/* The largest finite value of l[0..n); -inf if none. */
float logprob_max_avx2(const float *l, int32_t n);
/* Sum of exp(l[i] - mx) over the finite l[i]. */
double logprob_sumexp_avx2(const float *l, int32_t n, float mx);

#endif
