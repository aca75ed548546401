/*
 * dot_neon.c: the AArch64 kernels (dot_arm.h) for ARMv8.0 Advanced SIMD,
 * which every AArch64 CPU has; no extra flags.
 * Elsewhere the fill function is an empty stub dot.c never calls.
 */
#if defined(__aarch64__)
#define HEARTH_DOT_FILL hearth_dot_fill_neon
#include "kernels/arm/dot_arm.h"
#else
#include "kernels/dot_int.h"
void hearth_dot_fill_neon(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) { (void)tab; }
#endif
