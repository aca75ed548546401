/*
 * dot_int.h: private to kernels/: the implementation sets behind dot.h.
 * Each set (scalar reference; AVX2, AVX-512 on x86; NEON, NEON+dotprod,
 * NEON+dotprod+i8mm on AArch64, kernels/arm/; SIMD128 in WebAssembly,
 * kernels/wasm/) fills a table indexed by weight
 * type; dot.c builds the tables once (call_once), starting from the reference
 * and letting each SIMD set override the entries it implements, so a type
 * without a SIMD kernel still runs (on its reference kernel).
 */
#ifndef HEARTH_KERNELS_DOT_INT_H
#define HEARTH_KERNELS_DOT_INT_H

#include "kernels/dot.h"

#include <stdbool.h>

typedef enum {
    HEARTH_DOT_SCALAR = 0,
    HEARTH_DOT_AVX2,
    HEARTH_DOT_AVX512,
    HEARTH_DOT_NEON,    /* AArch64 Advanced SIMD (ARMv8.0) */
    HEARTH_DOT_DOTPROD, /* + sdot/udot (ARMv8.2 dotprod) */
    HEARTH_DOT_I8MM,    /* + smmla (ARMv8.6 i8mm) in gemm */
    HEARTH_DOT_WASM128, /* WebAssembly SIMD128 (kernels/wasm/; the browser build) */
    HEARTH_DOT_IMPL_COUNT
} hearth_dot_impl;

/* Fills tab[wtype] for every weight type hearth runs with the scalar
 * reference kernels (act_type, quantize_act, act_row_size, gemv, gemm). */
void hearth_dot_fill_ref(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
/* Override the fields they implement (non-NULL) in tab, which already holds
 * a complete set. Call only when the CPU has the instruction set. */
void hearth_dot_fill_avx2(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
void hearth_dot_fill_avx512(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
void hearth_dot_fill_neon(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
void hearth_dot_fill_dotprod(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
void hearth_dot_fill_i8mm(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
void hearth_dot_fill_wasm128(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);

/* The kernel set of one implementation (tests and benchmarks compare them),
 * or NULL if wtype is not runnable or this CPU lacks the instruction set.
 * Ignores HEARTH_FORCE_SCALAR. Any thread. */
const hearth_dot_kernel *hearth_dot_kernel_get_impl(hearth_type wtype, hearth_dot_impl impl);
/* Whether this CPU (and build) can run impl, and HEARTH_KERNEL_LEVEL does
 * not exclude it. Any thread. */
bool hearth_dot_impl_available(hearth_dot_impl impl);
/* "scalar", "avx2", "avx512", "neon", "dotprod", "i8mm", "wasm128". */
const char *hearth_dot_impl_str(hearth_dot_impl impl);

#endif
