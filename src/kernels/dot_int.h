/*
 * dot_int.h: private to kernels/: the implementation sets behind dot.h.
 * Each set (scalar reference; AVX2, AVX2+AVX-VNNI, AVX-512, AVX-512+AMX on x86; NEON, NEON+dotprod,
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
#include <stdint.h>

typedef enum {
    HEARTH_DOT_SCALAR = 0,
    HEARTH_DOT_AVX2,
    HEARTH_DOT_AVXVNNI, /* AVX2 + AVX-VNNI (VEX vpdpbusd), no AVX-512 needed */
    HEARTH_DOT_AVX512,
    HEARTH_DOT_AMX,     /* AVX-512 + AMX-INT8 tiles in the Q4_0/Q5_0/Q8_0 gemm (x86/dot_amx.c) */
    HEARTH_DOT_NEON,    /* AArch64 Advanced SIMD (ARMv8.0) */
    HEARTH_DOT_DOTPROD, /* + sdot/udot (ARMv8.2 dotprod) */
    HEARTH_DOT_I8MM,    /* + smmla (ARMv8.6 i8mm) in gemm */
    HEARTH_DOT_WASM128, /* WebAssembly SIMD128 (kernels/wasm/; the browser build) */
    HEARTH_DOT_WASM_RELAXED, /* the relaxed-SIMD modules of the browser build (dot_relaxed.c) */
    HEARTH_DOT_IMPL_COUNT
} hearth_dot_impl;

/* Fills tab[wtype] for every weight type hearth runs with the scalar
 * reference kernels (act_type, quantize_act, act_row_size, gemv, gemm). */
void hearth_dot_fill_ref(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
/* Override the fields they implement (non-NULL) in tab, which already holds
 * a complete set. Call only when the CPU has the instruction set. */
void hearth_dot_fill_avx2(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
void hearth_dot_fill_avxvnni(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
void hearth_dot_fill_avx512(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
/* Over the AVX-512 table where hearth_dot_x86_wide_int8 or HEARTH_WIDE_INT8
 * asks: the Q4_0, Q5_0, Q8_0, Q4_K, Q5_K and Q6_K gemm on 512-bit vectors
 * (x86/gemm512.h), and the Q4_0, Q5_0 and Q8_0 gemv with AVX512-VBMI
 * (x86/gemv_vbmi.c; call only where the CPU has VBMI). */
void hearth_dot_fill_avx512_wide(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
void hearth_dot_fill_gemv_vbmi(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
/* Over the AVX-512 table: only the gemm of Q4_0, Q5_0 and Q8_0 (which keep
 * the AVX-512 one below a few columns). */
void hearth_dot_fill_amx(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
void hearth_dot_fill_neon(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
void hearth_dot_fill_dotprod(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
void hearth_dot_fill_i8mm(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
void hearth_dot_fill_wasm128(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
/* Over the SIMD128 table: the relaxed-SIMD kernels (kernels/wasm/dot_relaxed.c),
 * which exist only where hearth_dot_wasm_relaxed_built() (that file compiled
 * with relaxed SIMD: the browser build's relaxed modules); elsewhere a stub. */
void hearth_dot_fill_wasm_relaxed(hearth_dot_kernel tab[HEARTH_TYPE_COUNT]);
bool hearth_dot_wasm_relaxed_built(void);

/* Defines gemm_NAME as gemv_NAME (defined before) per activation column:
 * for kernel sets that reuse no weights across columns (the reference, the
 * wasm levels). */
#define HEARTH_DOT_GEMM_BY_GEMV(name)                                                         \
    static void gemm_##name(int64_t n, int64_t nrows, int64_t ncols, float *out,             \
                            int64_t out_stride, const void *w, size_t w_stride,              \
                            const void *act, size_t act_stride) {                            \
        const uint8_t *ab = act;                                                             \
        for (int64_t c = 0; c < ncols; c++)                                                  \
            gemv_##name(n, nrows, out + c * out_stride, w, w_stride,                         \
                        ab + (size_t)c * act_stride);                                        \
    }

/* x86 CPU features as cpuid and xgetbv report them, the input of the
 * level decision (read once at start; tests make up their own). */
typedef struct {
    uint32_t max_leaf; /* cpuid leaf 0 EAX: the highest standard leaf */
    bool amd;          /* leaf 0's vendor string is "AuthenticAMD" */
    uint32_t family;   /* leaf 1 EAX: the family as displayed (base, plus the
                          extended family where the base is 0xF): 0x19 Zen 3/4,
                          0x1A Zen 5 */
    uint32_t l1_ecx;   /* leaf 1 ECX: FMA (bit 12), OSXSAVE (27), AVX (28), F16C (29) */
    uint32_t l7_ebx;   /* leaf 7 subleaf 0 EBX: AVX2 (5), AVX512F (16), AVX512DQ (17),
                          AVX512BW (30), AVX512VL (31); 0 if max_leaf < 7 */
    uint32_t l7_ecx;   /* leaf 7 subleaf 0 ECX: AVX512_VBMI (1), AVX512_VNNI (11) */
    uint32_t l7_edx;   /* leaf 7 subleaf 0 EDX: AMX-BF16 (22), AMX-TILE (24), AMX-INT8 (25) */
    uint32_t l7s1_eax; /* leaf 7 subleaf 1 EAX: AVX-VNNI (4); 0 if that subleaf is absent */
    uint64_t xcr0;     /* XCR0 (xgetbv 0) if OSXSAVE is set, else 0: the register
                          state the OS saves: SSE (bit 1), AVX (2), AVX-512's
                          opmask (5), ZMM_Hi256 (6), Hi16_ZMM (7), AMX's
                          XTILECFG (17) and XTILEDATA (18) */
    bool amx_perm;     /* Linux granted this process the tile data state
                          (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)
                          returned 0): without it the first tile instruction
                          raises SIGILL */
} hearth_x86_cpu;

/* Whether a CPU with these features can run x86 implementation impl, the
 * OS permitting: HEARTH_DOT_AVX2 needs AVX, AVX2, FMA, F16C, OSXSAVE and
 * XCR0 bits 1 and 2; HEARTH_DOT_AVXVNNI those and AVX-VNNI;
 * HEARTH_DOT_AVX512 the AVX2 level's and AVX-512 F, BW, VL, DQ and VNNI,
 * and XCR0 bits 5, 6, 7 (AVX-512 CPUs without AVX-VNNI, such as Zen 4, run
 * it but not HEARTH_DOT_AVXVNNI); HEARTH_DOT_AMX the AVX-512 level's and
 * AMX-TILE and AMX-INT8, XCR0 bits 17 and 18, and amx_perm.
 * HEARTH_DOT_SCALAR: always; others: never.
 * An instruction set the CPU has but whose registers the OS does not save
 * (XCR0 clear) would fault or corrupt state, so it is never allowed. Pure:
 * any thread, any architecture (tests run it on made-up values). */
bool hearth_dot_x86_runs(const hearth_x86_cpu *c, hearth_dot_impl impl);
/* The highest of those it runs: AMX, else AVX512, else AVXVNNI, else AVX2,
 * else SCALAR. Pure, as above. */
hearth_dot_impl hearth_dot_x86_level(const hearth_x86_cpu *c);
/* Whether the CPU can run the wide int8 kernels (the AVX-512 level and
 * AVX512-VBMI), and whether they should be its default: where 512-bit
 * vpdpbusd runs at the 256-bit instruction rate, i.e. twice the
 * multiply-adds per cycle: AMD family 0x1A (Zen 5) and later. Not Zen 4 (two
 * 256-bit halves) nor the Xeons measured (one 512-bit unit: the wide gemm
 * slower at n = 896); HEARTH_WIDE_INT8=1 turns them on there. Pure, as above. */
bool hearth_dot_x86_wide_int8_runs(const hearth_x86_cpu *c);
bool hearth_dot_x86_wide_int8(const hearth_x86_cpu *c);
/* Fills *c from this CPU (cpuid, xgetbv). Where cpuid and XCR0 announce
 * AMX it also asks Linux for the tile data permission (process-wide,
 * idempotent; arch_prctl must not be filtered: hearth's sandbox, applied
 * after the kernels are chosen, allows it) and records the answer in
 * amx_perm. Returns false, with *c zeroed, on other architectures. Any
 * thread. */
bool hearth_x86_cpu_read(hearth_x86_cpu *c);

/* The kernel set of one implementation (tests and benchmarks compare them),
 * or NULL if wtype is not runnable or this CPU lacks the instruction set.
 * Ignores HEARTH_FORCE_SCALAR. Any thread. */
const hearth_dot_kernel *hearth_dot_kernel_get_impl(hearth_type wtype, hearth_dot_impl impl);
/* Whether this CPU (and build) can run impl, and HEARTH_KERNEL_LEVEL does
 * not exclude it. Any thread. */
bool hearth_dot_impl_available(hearth_dot_impl impl);
/* "scalar", "avx2", "avxvnni", "avx512", "amx", "neon", "dotprod", "i8mm", "wasm128", "wasm-relaxed". */
const char *hearth_dot_impl_str(hearth_dot_impl impl);

#endif
