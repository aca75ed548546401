/*
 * dot_avx2.c: the x86 kernels (dot_x86.h) for AVX2+FMA+F16C. Built with
 * -mavx2 -mfma -mf16c; dot.c calls hearth_dot_fill_avx2 only on CPUs that
 * have them.
 * The transposed gemm tiles (Q4_0/Q5_0/Q8_0: GEMM8_QC; Q4_K/Q5_K/Q6_K:
 * GEMM8_KC, 7-30% faster there) take 8 columns: the 8
 * weight vectors and 8 accumulators exceed the 16 registers, but the spills
 * cost less than unpacking each weight block for every 4 columns (10-20%
 * faster in 64-row calls of 5 to 64 columns on a Sapphire Rapids core, the
 * P-core of Alder Lake; not measured on Zen 2/3).
 */
#if defined(__x86_64__)
#define HEARTH_DOT_FILL hearth_dot_fill_avx2
#define GEMV_R 4
#define GEMM_R 1
#define GEMM_C 4
#define GEMM8_C 4
#define GEMM8_QC 8
#define GEMM8_KC 8
#define GEMM_RF 1
#include "kernels/x86/dot_x86.h"
#else
#include "kernels/dot_int.h"
void hearth_dot_fill_avx2(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) { (void)tab; }
#endif
