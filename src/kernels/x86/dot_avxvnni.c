/*
 * dot_avxvnni.c: the x86 kernels (dot_x86.h) for AVX2+FMA+F16C with
 * AVX-VNNI (the VEX-encoded vpdpbusd of client CPUs without AVX-512: Intel
 * Alder Lake and later, AMD Zen 5). Built with -mavx2 -mfma -mf16c
 * -mavxvnni; the AVX2 level's tile shapes (16 vector registers, no mask
 * registers), with the int8 dot products in one vpdpbusd instead of
 * maddubs + madd + add, and Q8_0 weights made unsigned by x ^ 0x80 as the
 * AVX-512 level does. dot.c calls hearth_dot_fill_avxvnni only on CPUs that
 * announce AVX-VNNI.
 * The transposed gemm tiles (Q4_0/Q5_0/Q8_0: GEMM8_QC; Q4_K/Q5_K/Q6_K:
 * GEMM8_KC, 7-30% faster there) take 8 columns: the 8
 * weight vectors and 8 accumulators exceed the 16 registers, but the spills
 * cost less than unpacking each weight block for every 4 columns (10-20%
 * faster in 64-row calls of 5 to 64 columns on a Sapphire Rapids core, the
 * P-core of Alder Lake; not measured on Zen 2/3).
 */
#if defined(__x86_64__)
#define HEARTH_X86_VNNI 1
#define HEARTH_DOT_FILL hearth_dot_fill_avxvnni
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
void hearth_dot_fill_avxvnni(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) { (void)tab; }
#endif
