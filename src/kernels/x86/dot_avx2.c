/*
 * dot_avx2.c: the x86 kernels (dot_x86.h) for AVX2+FMA+F16C. Built with
 * -mavx2 -mfma -mf16c; dot.c calls hearth_dot_fill_avx2 only on CPUs that
 * have them.
 */
#if defined(__x86_64__)
#define HEARTH_DOT_FILL hearth_dot_fill_avx2
#define GEMV_R 4
#define GEMM_R 1
#define GEMM_C 4
#define GEMM8_C 4
#define GEMM_RF 1
#include "kernels/x86/dot_x86.h"
#else
#include "kernels/dot_int.h"
void hearth_dot_fill_avx2(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) { (void)tab; }
#endif
