/*
 * cpu_x86.c: which x86 kernel level this CPU and OS allow (dot_int.h):
 * the feature bits from cpuid and, before any AVX level, the register state
 * the OS has enabled in XCR0 (a CPU can report AVX-512 under a kernel or
 * hypervisor that does not save the ZMM registers; running it there faults
 * or corrupts other threads' registers). The decision is a pure function so
 * that tests can feed it made-up registers on any machine.
 */
#include "kernels/dot_int.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#define ARCH_REQ_XCOMP_PERM 0x1023 /* asm/prctl.h, Linux 5.16 */
#define XFEATURE_XTILEDATA 18
#endif

enum {
    L1_FMA = 1u << 12,
    L1_OSXSAVE = 1u << 27,
    L1_AVX = 1u << 28,
    L1_F16C = 1u << 29,
    L7B_AVX2 = 1u << 5,
    L7B_AVX512F = 1u << 16,
    L7B_AVX512DQ = 1u << 17,
    L7B_AVX512BW = 1u << 30,
    L7B_AVX512VL = 1u << 31,
    L7C_AVX512VBMI = 1u << 1,
    L7C_AVX512VNNI = 1u << 11,
    L7S1A_AVXVNNI = 1u << 4,
    L7D_AMX_TILE = 1u << 24,
    L7D_AMX_INT8 = 1u << 25,
};
/* XCR0: SSE and AVX (YMM upper halves) state; AVX-512 opmask, ZMM0-15
 * upper halves, ZMM16-31. */
#define XCR0_AVX ((uint64_t)0x6)
#define XCR0_AVX512 ((uint64_t)0xe6)
/* XTILECFG and XTILEDATA (AMX's tile configuration and tile registers) */
#define XCR0_AMX ((uint64_t)0x60000)

static bool all(uint32_t reg, uint32_t bits) { return (reg & bits) == bits; }

bool hearth_dot_x86_runs(const hearth_x86_cpu *c, hearth_dot_impl impl) {
    if (c->max_leaf < 7) return false; /* no leaf 7: no AVX2 */
    bool avx2 = all(c->l1_ecx, L1_OSXSAVE | L1_AVX | L1_FMA | L1_F16C) &&
                (c->xcr0 & XCR0_AVX) == XCR0_AVX && all(c->l7_ebx, L7B_AVX2);
    switch (impl) {
    case HEARTH_DOT_SCALAR: return true;
    case HEARTH_DOT_AVX2: return avx2;
    case HEARTH_DOT_AVXVNNI: return avx2 && all(c->l7s1_eax, L7S1A_AVXVNNI);
    case HEARTH_DOT_AVX512:
        return avx2 && all(c->l7_ebx, L7B_AVX512F | L7B_AVX512DQ | L7B_AVX512BW | L7B_AVX512VL) &&
               all(c->l7_ecx, L7C_AVX512VNNI) && (c->xcr0 & XCR0_AVX512) == XCR0_AVX512;
    case HEARTH_DOT_AMX:
        /* the tiles' int32 sums are scaled in AVX-512 */
        return hearth_dot_x86_runs(c, HEARTH_DOT_AVX512) && all(c->l7_edx, L7D_AMX_TILE | L7D_AMX_INT8) &&
               (c->xcr0 & XCR0_AMX) == XCR0_AMX && c->amx_perm;
    default: return false;
    }
}

bool hearth_dot_x86_wide_int8_runs(const hearth_x86_cpu *c) {
    return hearth_dot_x86_runs(c, HEARTH_DOT_AVX512) && all(c->l7_ecx, L7C_AVX512VBMI);
}

bool hearth_dot_x86_wide_int8(const hearth_x86_cpu *c) {
    return hearth_dot_x86_wide_int8_runs(c) && c->amd && c->family >= 0x1A;
}

hearth_dot_impl hearth_dot_x86_level(const hearth_x86_cpu *c) {
    static const hearth_dot_impl order[] = {HEARTH_DOT_AMX, HEARTH_DOT_AVX512, HEARTH_DOT_AVXVNNI, HEARTH_DOT_AVX2};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (hearth_dot_x86_runs(c, order[i])) return order[i];
    return HEARTH_DOT_SCALAR;
}

bool hearth_x86_cpu_read(hearth_x86_cpu *c) {
    memset(c, 0, sizeof *c);
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, cx, d;
    if (!__get_cpuid(0, &a, &b, &cx, &d)) return true; /* no cpuid: all zero, scalar */
    c->max_leaf = a;
    c->amd = b == 0x68747541 && d == 0x69746e65 && cx == 0x444d4163; /* "Auth" "enti" "cAMD" */
    if (__get_cpuid(1, &a, &b, &cx, &d)) {
        c->l1_ecx = cx;
        uint32_t base = (a >> 8) & 0xF;
        c->family = base == 0xF ? base + ((a >> 20) & 0xFF) : base;
    }
    if (c->max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, cx, d);
        c->l7_ebx = b;
        c->l7_ecx = cx;
        c->l7_edx = d;
        if (a >= 1) { /* subleaf 1 exists: leaf 7 subleaf 0 EAX is the highest subleaf */
            __cpuid_count(7, 1, a, b, cx, d);
            c->l7s1_eax = a;
        }
    }
    if (c->l1_ecx & L1_OSXSAVE) {
        /* xgetbv with ECX = 0 (the instruction, not the intrinsic: that one
         * needs -mxsave) */
        uint32_t lo, hi;
        __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        c->xcr0 = ((uint64_t)hi << 32) | lo;
    }
#if defined(__linux__) && defined(__x86_64__)
    /* Linux enables XTILEDATA in XCR0 but gives a process the (8 KB) tile
     * state only on request; it is process-wide, so asking once here, when
     * dot.c picks the level, covers every thread, before the sandbox is
     * applied (which does not filter arch_prctl anyway). */
    if (all(c->l7_edx, L7D_AMX_TILE | L7D_AMX_INT8) && (c->xcr0 & XCR0_AMX) == XCR0_AMX)
        c->amx_perm = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#endif
    return true;
#else
    return false;
#endif
}
