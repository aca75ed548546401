/*
 * dot_i8mm.c: the AArch64 kernels (dot_arm.h) for NEON with dotprod and the
 * int8 matrix multiply (smmla, ARMv8.6 i8mm) for gemm. Built with -march=armv8.2-a+dotprod+i8mm; dot.c
 * calls hearth_dot_fill_i8mm only where the hwcaps announce both.
 * Elsewhere the fill function is an empty stub dot.c never calls.
 */
#if defined(__aarch64__)
#define HEARTH_ARM_DOTPROD 1
#define HEARTH_ARM_I8MM 1
#define HEARTH_DOT_FILL hearth_dot_fill_i8mm
#include "kernels/arm/dot_arm.h"
#else
#include "kernels/dot_int.h"
void hearth_dot_fill_i8mm(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) { (void)tab; }
#endif
