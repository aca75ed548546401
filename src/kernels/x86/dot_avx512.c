/*
 * dot_avx512.c: the x86 kernels (dot_x86.h) with AVX-512 VL/BW + VNNI:
 * vpdpbusd for the int8 dot products, mask registers for Q5's high bits, and
 * 32 vector registers, so gemm tiles are larger: 2 rows x 4 columns (the
 * K-quants' generic tiles), 4 x 4 (float weights), 1 row x 16 columns (the
 * transposed Q4_0/Q5_0/Q8_0 tiles and the Q4_K/Q5_K/Q6_K ones: a speculative
 * verify batch of up to 16 tokens unpacks each weight block once; the
 * K-quant tiles at 16 rather than 8 columns: 12-21% faster at 9 to 64
 * columns, Q4_K and Q6_K at n = 4864). Float weights (F32, F16) use the
 * 512-bit tiles of float512.h instead of dot_x86.h's 256-bit ones, and on
 * CPUs with full-rate 512-bit vpdpbusd (Zen 5) dot.c puts gemm512.h's
 * wide gemm over the Q4_0/Q5_0/Q8_0 and K-quant tiles
 * (hearth_dot_fill_avx512_wide) and gemv_vbmi.c's gemvs over GEMV8's.
 * dot.c calls these fill functions only on CPUs that have the extensions.
 */
#if defined(__x86_64__)
#define HEARTH_X86_VNNI 1   /* vpdpbusd */
#define HEARTH_X86_AVX512 1 /* mask registers, 32 vector registers */
#define HEARTH_DOT_FILL dot_fill_avx512_256
#include "kernels/dot_int.h"
void dot_fill_avx512_256(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]); /* dot_x86.h's part */
#define GEMV_R 4
#define GEMM_R 2
#define GEMM_C 4
#define GEMM8_C 8
#define GEMM8_QC 16
#define GEMM8_KC 16
#define GEMM_RF 4
#include "kernels/x86/dot_x86.h"
#include "kernels/x86/float512.h"
#include "kernels/x86/gemm512.h"

void hearth_dot_fill_avx512(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) {
    dot_fill_avx512_256(tab);
    float512_fill(tab);
}
#else
#include "kernels/dot_int.h"
void hearth_dot_fill_avx512(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) { (void)tab; }
void hearth_dot_fill_avx512_wide(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]) { (void)tab; }
#endif
