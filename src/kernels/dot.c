/*
 * dot.c: picks the kernel implementation once per process (see dot.h,
 * dot_int.h). The tables are built inside call_once and never written again;
 * they are the only global state here.
 */
#include "kernels/dot_int.h"

#include <stdlib.h>
#include <string.h>
#include <threads.h>

static hearth_dot_kernel tables[HEARTH_DOT_IMPL_COUNT][HEARTH_TYPE_COUNT];
static bool available[HEARTH_DOT_IMPL_COUNT];
static hearth_dot_impl chosen;
static once_flag once = ONCE_FLAG_INIT;

static void init(void) {
    hearth_dot_fill_ref(tables[HEARTH_DOT_SCALAR]);
    available[HEARTH_DOT_SCALAR] = true;
    chosen = HEARTH_DOT_SCALAR;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    /* F16C has no name in clang 14's __builtin_cpu_supports; every CPU with
     * AVX2+FMA has it. */
    if (avx2) {
        memcpy(tables[HEARTH_DOT_AVX2], tables[HEARTH_DOT_SCALAR], sizeof tables[0]);
        hearth_dot_fill_avx2(tables[HEARTH_DOT_AVX2]);
        available[HEARTH_DOT_AVX2] = true;
        chosen = HEARTH_DOT_AVX2;
    }
    if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vnni")) {
        memcpy(tables[HEARTH_DOT_AVX512], tables[HEARTH_DOT_AVX2], sizeof tables[0]);
        hearth_dot_fill_avx512(tables[HEARTH_DOT_AVX512]);
        available[HEARTH_DOT_AVX512] = true;
        chosen = HEARTH_DOT_AVX512;
    }
#endif
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
    case HEARTH_DOT_AVX512: return "avx512";
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
