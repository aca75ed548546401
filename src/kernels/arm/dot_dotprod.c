/*
 * dot_dotprod.c: the AArch64 kernels (dot_arm.h) for NEON with the
 * dot-product extension (sdot, ARMv8.2 dotprod). Built
 * with -march=armv8.2-a+dotprod; dot.c calls hearth_dot_fill_dotprod only
 * where the hwcaps announce asimddp.
 * Elsewhere the fill function is an empty stub dot.c never calls.
 */
#if defined(__aarch64__)
#define HEARTH_ARM_DOTPROD 1
#define HEARTH_DOT_FILL hearth_dot_fill_dotprod
#include "kernels/arm/dot_arm.h"
#else
#include "kernels/dot_int.h"
void hearth_dot_fill_dotprod(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) { (void)tab; }
#endif
