/*
 * dot.h: the compute kernels the forward pass runs on quantized weights,
 * straight from the file's own layout (no repacked copy).
 *
 * For each weight type the table gives the activation format its dot product
 * wants (e.g. Q8_0 activations for Q4_0 weights, Q8_K for the K-quants) and
 * the kernels. An implementation set is chosen once per process (call_once)
 * from the CPU's features: AVX-512/VNNI with AMX-INT8 tiles in the Q4_0/Q5_0/
 * Q8_0 gemm ("amx": Sapphire Rapids and later, where Linux grants the tile
 * state), AVX-512/VNNI, AVX2 with AVX-VNNI, AVX2/FMA on x86
 * (cpuid, and only if the OS saves the AVX or AVX-512 registers: XCR0); NEON with
 * i8mm, with dotprod, or plain NEON on AArch64 (getauxval's hwcaps); SIMD128
 * in the browser build (WebAssembly, chosen at build time); else the
 * scalar reference in kernels/ref/ (also forced by HEARTH_FORCE_SCALAR=1).
 * HEARTH_KERNEL_LEVEL=<name> caps the choice at that implementation (e.g.
 * "neon" on a CPU with dotprod, "avx2", "avxvnni" or "avx512" on one with AVX-512
 * or AMX; "scalar" is
 * HEARTH_FORCE_SCALAR): higher ones are neither chosen nor offered, so each
 * path can be run on one machine. Every SIMD kernel has a reference twin and
 * a test comparing them.
 *
 * Layouts: a weight matrix is nrows rows of n elements, each row
 * hearth_type_row_size(wtype, n) bytes, rows w_stride bytes apart (the
 * file's own layout: w_stride = row size). Activations are float rows
 * quantized once per step with quantize_act into act_row_size(n) bytes each.
 * Activation formats (act_type), as ggml's: F32 for F32/F16/BF16 weights,
 * Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 (d, s = d*sum(qs), qs) for Q4_1/Q5_1,
 * Q8_K for the K-quants.
 *
 * Alignment: w, act, w_stride and act_stride must keep every element or
 * block at its natural alignment (4 bytes for F32 and Q8_K, 2 for the other
 * types), as GGUF's data section (aligned, rows back to back) always does.
 *
 * Results: the per-block integer dot products are exact in every
 * implementation except one: the x86 gemv of Q4_0 and Q5_0 (AVX2 and
 * AVX-512) multiplies the unsigned codes and subtracts the offset (8 or 16
 * times the block's activation sum, times d_act) in float, so each block's
 * value is rounded once before the subtraction. Otherwise implementations
 * (and gemv vs gemm of one implementation) differ only in the order of
 * float additions. Either way they agree to float rounding (~1e-6
 * relative; test_dot states the tolerances). All functions are pure and may run
 * concurrently on disjoint outputs (e.g. threads splitting the rows).
 */
#ifndef HEARTH_KERNELS_DOT_H
#define HEARTH_KERNELS_DOT_H

#include "hearth.h"

#include <stddef.h>
#include <stdint.h>

/* A gemm (hearth_dot_kernel.gemm below); also how kernel sets that wrap
 * another set's gemm keep the one they replace. */
typedef void (*hearth_dot_gemm_fn)(int64_t n, int64_t nrows, int64_t ncols, float *out, int64_t out_stride,
                                   const void *w, size_t w_stride, const void *act, size_t act_stride);

typedef struct {
    hearth_type act_type; /* format of the quantized activation row */
    /* Quantizes n floats (n a multiple of the weight's block size) into dst,
     * act_row_size(n) bytes. */
    void (*quantize_act)(const float *x, void *dst, int64_t n);
    size_t (*act_row_size)(int64_t n);
    /* out[r] = dot(weight row r, act) for r in [0, nrows); w_stride is the
     * byte distance between weight rows. */
    void (*gemv)(int64_t n, int64_t nrows, float *out, const void *w, size_t w_stride,
                 const void *act);
    /* Batched (prefill): out[c*out_stride + r] = dot(weight row r, act column
     * c) for r in [0, nrows), c in [0, ncols); act columns are act_stride
     * bytes apart. Reuses each weight block across the columns. */
    hearth_dot_gemm_fn gemm;
    /* A gemm of at most this many columns gives each column bit for bit what
     * gemv gives it (0: no such promise, only the agreement above). */
    int32_t gemv_exact_cols;
} hearth_dot_kernel;

/* The kernel set for weights of type wtype, or NULL if hearth cannot run it
 * (types outside the enum, unsupported types, and Q8_K, which is only an
 * activation format).
 * The returned table is immutable and lives for the whole process. Any thread. */
const hearth_dot_kernel *hearth_dot_kernel_get(hearth_type wtype);

/* Name of the implementation chosen ("amx", "avx512", "avxvnni", "avx2", "i8mm", "dotprod",
 * "neon", "wasm-relaxed", "wasm128", "scalar"). Any thread. */
const char *hearth_dot_impl_name(void);

#endif
