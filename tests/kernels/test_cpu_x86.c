/*
 * test_cpu_x86.c: the x86 kernel level decision (kernels/cpu_x86.c) on
 * made-up cpuid and XCR0 values, on every architecture: each feature and
 * each XCR0 bit the AVX2 and AVX-512 levels need, taken away one at a time,
 * lowers the level; AVX-VNNI without AVX-512 (a client CPU) is the avxvnni
 * level, AVX-512 without AVX-VNNI (Zen 4) runs avx512 but not avxvnni; an OS that saves only the SSE/AVX state (XCR0 0x7) keeps
 * a CPU with AVX-512 at AVX2, one that saves no AVX state keeps it scalar;
 * AMX needs AMX-TILE and AMX-INT8, XCR0 bits 17 and 18 and the OS's
 * permission (each taken away: avx512), and the AVX-512 level under it.
 * On x86 also: this CPU's registers give the level dot.c offers (unless
 * HEARTH_KERNEL_LEVEL caps it), and it agrees with the
 * compiler runtime's own detection.
 */
#include "test.h"

#include "kernels/dot_int.h"

/* A Zen 4-like CPU under an OS that saves everything. */
static hearth_x86_cpu full(void) {
    hearth_x86_cpu c = {
        .max_leaf = 0x10,
        .l1_ecx = (1u << 12) | (1u << 27) | (1u << 28) | (1u << 29),
        .l7_ebx = (1u << 5) | (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31),
        .l7_ecx = 1u << 11,
        .xcr0 = 0xe7,
    };
    return c;
}

static const char *name(hearth_dot_impl i) { return hearth_dot_impl_str(i); }

#if defined(__x86_64__) || defined(__i386__)
/* 1 if the first "flags" line of /proc/cpuinfo lists flag, 0 if not, -1
 * without /proc/cpuinfo. */
static int cpuinfo_flag(const char *flag) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return -1;
    char line[8192];
    int found = -1;
    while (found < 0 && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5)) continue;
        found = 0;
        for (char *t = strtok(strchr(line, ':') ? strchr(line, ':') + 1 : line, " \n"); t; t = strtok(NULL, " \n"))
            if (!strcmp(t, flag)) found = 1;
    }
    fclose(f);
    return found;
}

/* The first "key : value" line's value (without its newline) in buf;
 * false without /proc/cpuinfo or such a line. */
static bool cpuinfo_value(const char *key, char *buf, size_t size) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return false;
    char line[8192];
    bool found = false;
    size_t kl = strlen(key);
    while (!found && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, key, kl) || !colon || strspn(line + kl, " \t") != (size_t)(colon - line - (ptrdiff_t)kl))
            continue;
        const char *v = colon + 1 + strspn(colon + 1, " ");
        snprintf(buf, size, "%.*s", (int)strcspn(v, "\n"), v);
        found = true;
    }
    fclose(f);
    return found;
}
#endif

#define CHECK_LEVEL(c, want)                                                              \
    do {                                                                                  \
        hearth_dot_impl got_ = hearth_dot_x86_level(&(c));                                \
        CHECKF(got_ == (want), "%s: got %s, want %s", what, name(got_), name(want));      \
    } while (0)

int main(void) {
    const char *what = "full";
    hearth_x86_cpu c = full();
    CHECK_LEVEL(c, HEARTH_DOT_AVX512);

    /* every AVX2-level requirement: without it, scalar */
    struct { const char *what; int reg; uint32_t bit; } avx2_needs[] = {
        {"no FMA", 1, 1u << 12},     {"no OSXSAVE", 1, 1u << 27}, {"no AVX", 1, 1u << 28},
        {"no F16C", 1, 1u << 29},    {"no AVX2", 7, 1u << 5},
    };
    for (size_t i = 0; i < sizeof avx2_needs / sizeof avx2_needs[0]; i++) {
        c = full();
        if (avx2_needs[i].reg == 1) c.l1_ecx &= ~avx2_needs[i].bit;
        else c.l7_ebx &= ~avx2_needs[i].bit;
        what = avx2_needs[i].what;
        CHECK_LEVEL(c, HEARTH_DOT_SCALAR);
    }
    /* every AVX-512-level feature: without it, AVX2 */
    struct { const char *what; int ecx; uint32_t bit; } avx512_needs[] = {
        {"no AVX512F", 0, 1u << 16},  {"no AVX512DQ", 0, 1u << 17}, {"no AVX512BW", 0, 1u << 30},
        {"no AVX512VL", 0, 1u << 31}, {"no AVX512_VNNI", 1, 1u << 11},
    };
    for (size_t i = 0; i < sizeof avx512_needs / sizeof avx512_needs[0]; i++) {
        c = full();
        if (avx512_needs[i].ecx) c.l7_ecx &= ~avx512_needs[i].bit;
        else c.l7_ebx &= ~avx512_needs[i].bit;
        what = avx512_needs[i].what;
        CHECK_LEVEL(c, HEARTH_DOT_AVX2);
    }
    /* the OS's register state: each XCR0 bit taken away */
    for (int bit = 0; bit < 8; bit++) {
        c = full();
        c.xcr0 &= ~((uint64_t)1 << bit);
        char buf[32];
        snprintf(buf, sizeof buf, "XCR0 without bit %d", bit);
        what = buf;
        hearth_dot_impl want = bit == 1 || bit == 2   ? HEARTH_DOT_SCALAR
                               : bit >= 5              ? HEARTH_DOT_AVX2
                                                       : HEARTH_DOT_AVX512;
        CHECK_LEVEL(c, want);
    }
    what = "AVX-512 CPU, OS saves SSE/AVX only (XCR0 7)";
    c = full();
    c.xcr0 = 0x7;
    CHECK_LEVEL(c, HEARTH_DOT_AVX2);
    what = "AVX-512 CPU, OS saves x87/SSE only (XCR0 3)";
    c.xcr0 = 0x3;
    CHECK_LEVEL(c, HEARTH_DOT_SCALAR);
    what = "OSXSAVE clear (xcr0 not read: 0)";
    c = full();
    c.l1_ecx &= ~(1u << 27);
    c.xcr0 = 0;
    CHECK_LEVEL(c, HEARTH_DOT_SCALAR);
    what = "XCR0 with higher bits (AMX, PKRU) too";
    c = full();
    c.xcr0 = 0x602e7;
    CHECK_LEVEL(c, HEARTH_DOT_AVX512);
    what = "max leaf 6 (leaf 7 not there)";
    c = full();
    c.max_leaf = 6;
    CHECK_LEVEL(c, HEARTH_DOT_SCALAR);
    what = "AVX2 CPU without AVX-512 (Zen 3)";
    c = full();
    c.l7_ebx = 1u << 5;
    c.l7_ecx = 0;
    c.xcr0 = 0x7;
    CHECK_LEVEL(c, HEARTH_DOT_AVX2);
    /* AVX-VNNI (leaf 7 subleaf 1 EAX bit 4) */
    what = "AVX2 + AVX-VNNI, no AVX-512 (Alder Lake)";
    c = full();
    c.l7_ebx = 1u << 5;
    c.l7_ecx = 0;
    c.l7s1_eax = 1u << 4;
    c.xcr0 = 0x7;
    CHECK_LEVEL(c, HEARTH_DOT_AVXVNNI);
    CHECK(hearth_dot_x86_runs(&c, HEARTH_DOT_AVX2));
    CHECK(!hearth_dot_x86_runs(&c, HEARTH_DOT_AVX512));
    what = "AVX-VNNI without AVX2";
    c.l7_ebx = 0;
    CHECK_LEVEL(c, HEARTH_DOT_SCALAR);
    CHECK(!hearth_dot_x86_runs(&c, HEARTH_DOT_AVXVNNI));
    what = "AVX-VNNI, OS saves no AVX state";
    c.l7_ebx = 1u << 5;
    c.xcr0 = 0x3;
    CHECK_LEVEL(c, HEARTH_DOT_SCALAR);
    what = "AVX-512 and AVX-VNNI (Sapphire Rapids, Zen 5)";
    c = full();
    c.l7s1_eax = 1u << 4;
    CHECK_LEVEL(c, HEARTH_DOT_AVX512);
    CHECK(hearth_dot_x86_runs(&c, HEARTH_DOT_AVXVNNI) && hearth_dot_x86_runs(&c, HEARTH_DOT_AVX2));
    what = "AVX-512 without AVX-VNNI (Zen 4)";
    c = full();
    CHECK(!hearth_dot_x86_runs(&c, HEARTH_DOT_AVXVNNI) && hearth_dot_x86_runs(&c, HEARTH_DOT_AVX512));
    what = "other subleaf 1 bits only";
    c = full();
    c.l7_ebx = 1u << 5;
    c.l7_ecx = 0;
    c.l7s1_eax = ~(1u << 4);
    CHECK_LEVEL(c, HEARTH_DOT_AVX2);
    CHECK(!hearth_dot_x86_runs(&c, HEARTH_DOT_IMPL_COUNT));
    CHECK(hearth_dot_x86_runs(&c, HEARTH_DOT_SCALAR));
    /* AMX (leaf 7 EDX bits 24, 25; XCR0 bits 17, 18; the OS's permission) */
    what = "AMX: tiles, int8, XCR0 and permission (Sapphire Rapids)";
    hearth_x86_cpu amx = full();
    amx.l7_edx = (1u << 24) | (1u << 25);
    amx.xcr0 = 0x602e7;
    amx.amx_perm = true;
    CHECK_LEVEL(amx, HEARTH_DOT_AMX);
    CHECK(hearth_dot_x86_runs(&amx, HEARTH_DOT_AVX512));
    struct { const char *what; uint32_t edx_off; uint64_t xcr0_off; bool perm; hearth_dot_impl want; } amx_needs[] = {
        {"AMX without AMX-TILE", 1u << 24, 0, true, HEARTH_DOT_AVX512},
        {"AMX without AMX-INT8 (BF16 only)", 1u << 25, 0, true, HEARTH_DOT_AVX512},
        {"AMX bits, XCR0 without XTILECFG (17)", 0, 1ull << 17, true, HEARTH_DOT_AVX512},
        {"AMX bits, XCR0 without XTILEDATA (18)", 0, 1ull << 18, true, HEARTH_DOT_AVX512},
        {"AMX bits, XCR0 without either", 0, 3ull << 17, true, HEARTH_DOT_AVX512},
        {"AMX bits and XCR0, permission refused", 0, 0, false, HEARTH_DOT_AVX512},
        {"AMX, OS without AVX-512 state", 0, 0xe0, true, HEARTH_DOT_AVX2},
    };
    for (size_t i = 0; i < sizeof amx_needs / sizeof amx_needs[0]; i++) {
        c = amx;
        c.l7_edx &= ~amx_needs[i].edx_off;
        c.xcr0 &= ~amx_needs[i].xcr0_off;
        c.amx_perm = amx_needs[i].perm;
        what = amx_needs[i].what;
        CHECK_LEVEL(c, amx_needs[i].want);
        CHECK(!hearth_dot_x86_runs(&c, HEARTH_DOT_AMX));
    }
    what = "AMX without AVX-512 (no AVX-512 VNNI)";
    c = amx;
    c.l7_ecx = 0;
    CHECK_LEVEL(c, HEARTH_DOT_AVX2);
    CHECK(!hearth_dot_x86_runs(&c, HEARTH_DOT_AMX));
    what = "all zero";
    hearth_x86_cpu z = {0};
    CHECK_LEVEL(z, HEARTH_DOT_SCALAR);

    /* the wide int8 kernels: run with the AVX-512 level and VBMI; the
     * default on AMD family 0x1A and later; not Zen 4 (0x19), not Intel */
    hearth_x86_cpu w = full();
    CHECK(!hearth_dot_x86_wide_int8_runs(&w)); /* no VBMI */
    w.l7_ecx |= 1u << 1;
    CHECK(hearth_dot_x86_wide_int8_runs(&w) && !hearth_dot_x86_wide_int8(&w)); /* not AMD */
    w.amd = true, w.family = 0x1A;
    CHECK(hearth_dot_x86_wide_int8(&w));
    w.family = 0x1B;
    CHECK(hearth_dot_x86_wide_int8(&w));
    w.family = 0x19;
    CHECK(!hearth_dot_x86_wide_int8(&w));
    w.family = 0x1A, w.amd = false;
    CHECK(!hearth_dot_x86_wide_int8(&w));
    w.amd = true, w.l7_ecx &= ~(1u << 11); /* no AVX512_VNNI: no AVX-512 level */
    CHECK(!hearth_dot_x86_wide_int8(&w) && !hearth_dot_x86_wide_int8_runs(&w));

    /* this machine */
    hearth_x86_cpu me;
    bool x86 = hearth_x86_cpu_read(&me);
#if defined(__x86_64__) || defined(__i386__)
    CHECK(x86);
    hearth_dot_impl lvl = hearth_dot_x86_level(&me);
    fprintf(stderr, "this CPU: max leaf %#x, leaf 1 ecx %#x, leaf 7 ebx %#x ecx %#x edx %#x, leaf 7.1 eax %#x, "
            "XCR0 %#llx, AMX permission %d, %s family %#x -> %s%s\n",
            me.max_leaf, me.l1_ecx, me.l7_ebx, me.l7_ecx, me.l7_edx, me.l7s1_eax, (unsigned long long)me.xcr0,
            me.amx_perm, me.amd ? "AMD" : "not AMD", me.family, name(lvl),
            hearth_dot_x86_wide_int8(&me) ? " (wide int8 kernels)" : "");
    /* vendor and family as /proc/cpuinfo has them */
    char vendor[64], family[16];
    if (cpuinfo_value("vendor_id", vendor, sizeof vendor) && cpuinfo_value("cpu family", family, sizeof family)) {
        CHECK(me.amd == !strcmp(vendor, "AuthenticAMD"));
        CHECKF(me.family == (uint32_t)atoi(family), "family %#x, /proc/cpuinfo says %s", me.family, family);
    }
    /* the compiler runtime checks the same bits its own way */
    __builtin_cpu_init();
    bool rt_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    bool rt_avx512 = rt_avx2 && __builtin_cpu_supports("avx512f") &&
                     __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                     __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni");
    CHECK(rt_avx2 == (lvl != HEARTH_DOT_SCALAR));
    CHECK(rt_avx512 == (lvl == HEARTH_DOT_AVX512 || lvl == HEARTH_DOT_AMX));
    /* AMX: /proc/cpuinfo's flags (the kernel lists them only where it
     * enabled the state) decide whether the permission was asked for */
    int has_amx = cpuinfo_flag("amx_tile") == 1 && cpuinfo_flag("amx_int8") == 1;
    if (rt_avx512 && has_amx) CHECK(lvl == HEARTH_DOT_AMX && me.amx_perm);
    if (!has_amx) CHECK(lvl != HEARTH_DOT_AMX);
    /* AVX-VNNI: the kernel's own view (clang 14's runtime does not know
     * the feature), where /proc/cpuinfo is there */
    int has_vnni = cpuinfo_flag("avx_vnni");
    bool rt_avxvnni = rt_avx2 && has_vnni == 1;
    if (has_vnni >= 0) CHECK(rt_avxvnni == hearth_dot_x86_runs(&me, HEARTH_DOT_AVXVNNI));
    else rt_avxvnni = hearth_dot_x86_runs(&me, HEARTH_DOT_AVXVNNI);
    const char *cap = getenv("HEARTH_KERNEL_LEVEL");
    if (!cap || !*cap) {
        CHECK(hearth_dot_impl_available(HEARTH_DOT_AVX2) == (lvl != HEARTH_DOT_SCALAR));
        CHECK(hearth_dot_impl_available(HEARTH_DOT_AVXVNNI) == rt_avxvnni);
        CHECK(hearth_dot_impl_available(HEARTH_DOT_AVX512) == (lvl == HEARTH_DOT_AVX512 || lvl == HEARTH_DOT_AMX));
        CHECK(hearth_dot_impl_available(HEARTH_DOT_AMX) == (lvl == HEARTH_DOT_AMX));
    }
#else
    CHECK(!x86);
    CHECK(me.max_leaf == 0 && me.xcr0 == 0);
#endif
    return test_done();
}
