/*
 * dot.c: picks the kernel implementation once per process (see dot.h,
 * dot_int.h). The tables are built inside call_once and never written again;
 * they are the only global state here.
 */
#include "kernels/dot_int.h"

#include <stdlib.h>
#include <string.h>
#include <threads.h>

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1UL << 13)
#endif
#endif

static hearth_dot_kernel tables[HEARTH_DOT_IMPL_COUNT][HEARTH_TYPE_COUNT];
static bool available[HEARTH_DOT_IMPL_COUNT];
static hearth_dot_impl chosen;
static once_flag once = ONCE_FLAG_INIT;

/* Rank of an implementation within its family (x86, ARM or wasm): the level
 * HEARTH_KERNEL_LEVEL caps. */
static int rank(hearth_dot_impl impl) {
    switch (impl) {
    case HEARTH_DOT_AVX2: case HEARTH_DOT_NEON: case HEARTH_DOT_WASM128: return 1;
    case HEARTH_DOT_AVXVNNI: case HEARTH_DOT_DOTPROD: case HEARTH_DOT_WASM_RELAXED: return 2;
    case HEARTH_DOT_AVX512: case HEARTH_DOT_I8MM: return 3;
    case HEARTH_DOT_AMX: return 4;
    default: return 0;
    }
}

/* Adds impl (filled over a copy of base) to the available sets. */
static void add(hearth_dot_impl impl, hearth_dot_impl base, void (*fill)(hearth_dot_kernel *)) {
    memcpy(tables[impl], tables[base], sizeof tables[0]);
    fill(tables[impl]);
    available[impl] = true;
    chosen = impl;
}

static void init(void) {
    hearth_dot_fill_ref(tables[HEARTH_DOT_SCALAR]);
    available[HEARTH_DOT_SCALAR] = true;
    chosen = HEARTH_DOT_SCALAR;
#if defined(__x86_64__) || defined(__i386__)
    /* cpuid's features and the OS's enabled register state (XCR0): see
     * cpu_x86.c */
    hearth_x86_cpu cpu;
    hearth_x86_cpu_read(&cpu);
    /* each level over the AVX2 one (an AVX-512 CPU may lack AVX-VNNI: Zen
     * 4); added in rank order, so the highest is chosen */
    if (hearth_dot_x86_runs(&cpu, HEARTH_DOT_AVX2)) add(HEARTH_DOT_AVX2, HEARTH_DOT_SCALAR, hearth_dot_fill_avx2);
    if (hearth_dot_x86_runs(&cpu, HEARTH_DOT_AVXVNNI))
        add(HEARTH_DOT_AVXVNNI, HEARTH_DOT_AVX2, hearth_dot_fill_avxvnni);
    if (hearth_dot_x86_runs(&cpu, HEARTH_DOT_AVX512)) {
        add(HEARTH_DOT_AVX512, HEARTH_DOT_AVX2, hearth_dot_fill_avx512);
        /* HEARTH_WIDE_INT8=1 or 0 overrides the CPU's default where it can
         * run them (tests run both on every such machine) */
        const char *wide = getenv("HEARTH_WIDE_INT8");
        if (hearth_dot_x86_wide_int8_runs(&cpu) &&
            (wide && *wide ? strcmp(wide, "0") != 0 : hearth_dot_x86_wide_int8(&cpu))) {
            hearth_dot_fill_avx512_wide(tables[HEARTH_DOT_AVX512]);
            hearth_dot_fill_gemv_vbmi(tables[HEARTH_DOT_AVX512]);
        }
    }
    /* AMX: the AVX-512 set with AMX gemms for some types */
    if (available[HEARTH_DOT_AVX512] && hearth_dot_x86_runs(&cpu, HEARTH_DOT_AMX))
        add(HEARTH_DOT_AMX, HEARTH_DOT_AVX512, hearth_dot_fill_amx);
#elif defined(__aarch64__)
    /* Advanced SIMD is part of every AArch64 CPU Linux runs on; the two
     * extensions are announced in the hwcaps. Elsewhere (no getauxval) only
     * the base level is used. */
    bool neon = true, dotprod = false, i8mm = false;
#if defined(__linux__)
    unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    neon = (hw & HWCAP_ASIMD) != 0;
    dotprod = neon && (hw & HWCAP_ASIMDDP);
    i8mm = dotprod && (hw2 & HWCAP2_I8MM);
#endif
    if (neon) add(HEARTH_DOT_NEON, HEARTH_DOT_SCALAR, hearth_dot_fill_neon);
    if (dotprod) add(HEARTH_DOT_DOTPROD, HEARTH_DOT_NEON, hearth_dot_fill_dotprod);
    if (i8mm) add(HEARTH_DOT_I8MM, HEARTH_DOT_DOTPROD, hearth_dot_fill_i8mm);
#elif defined(__wasm_simd128__)
    /* compiled with -msimd128: a browser without SIMD128 refuses the whole
     * module, so the level is known at build time */
    add(HEARTH_DOT_WASM128, HEARTH_DOT_SCALAR, hearth_dot_fill_wasm128);
    /* likewise relaxed SIMD, in the modules built with it (a browser
     * without it refuses them; the worker then loads the SIMD128 ones) */
    if (hearth_dot_wasm_relaxed_built())
        add(HEARTH_DOT_WASM_RELAXED, HEARTH_DOT_WASM128, hearth_dot_fill_wasm_relaxed);
#endif
    /* HEARTH_KERNEL_LEVEL=<name>: nothing above that level is offered. An
     * unknown name changes nothing. */
    const char *cap = getenv("HEARTH_KERNEL_LEVEL");
    if (cap && *cap) {
        for (int i = 0; i < HEARTH_DOT_IMPL_COUNT; i++) {
            if (strcmp(cap, hearth_dot_impl_str((hearth_dot_impl)i))) continue;
            int lim = rank((hearth_dot_impl)i);
            chosen = HEARTH_DOT_SCALAR;
            for (int j = 1; j < HEARTH_DOT_IMPL_COUNT; j++) {
                if (rank((hearth_dot_impl)j) > lim) available[j] = false;
                if (available[j]) chosen = (hearth_dot_impl)j;
            }
        }
    }
    const char *force = getenv("HEARTH_FORCE_SCALAR");
    if (force && *force && strcmp(force, "0") != 0) chosen = HEARTH_DOT_SCALAR;
}

const hearth_dot_kernel *hearth_dot_kernel_get_impl(hearth_type wtype, hearth_dot_impl impl) {
    call_once(&once, init);
    if ((int)wtype < 0 || wtype >= HEARTH_TYPE_COUNT || (int)impl < 0 ||
        impl >= HEARTH_DOT_IMPL_COUNT || !available[impl])
        return NULL;
    const hearth_dot_kernel *k = &tables[impl][wtype];
    return k->gemv ? k : NULL;
}

bool hearth_dot_impl_available(hearth_dot_impl impl) {
    call_once(&once, init);
    return (int)impl >= 0 && impl < HEARTH_DOT_IMPL_COUNT && available[impl];
}

const char *hearth_dot_impl_str(hearth_dot_impl impl) {
    switch (impl) {
    case HEARTH_DOT_SCALAR: return "scalar";
    case HEARTH_DOT_AVX2: return "avx2";
    case HEARTH_DOT_AVXVNNI: return "avxvnni";
    case HEARTH_DOT_AVX512: return "avx512";
    case HEARTH_DOT_AMX: return "amx";
    case HEARTH_DOT_NEON: return "neon";
    case HEARTH_DOT_DOTPROD: return "dotprod";
    case HEARTH_DOT_I8MM: return "i8mm";
    case HEARTH_DOT_WASM128: return "wasm128";
    case HEARTH_DOT_WASM_RELAXED: return "wasm-relaxed";
    default: return "?";
    }
}

const hearth_dot_kernel *hearth_dot_kernel_get(hearth_type wtype) {
    call_once(&once, init);
    return hearth_dot_kernel_get_impl(wtype, chosen);
}

const char *hearth_dot_impl_name(void) {
    call_once(&once, init);
    return hearth_dot_impl_str(chosen);
}
