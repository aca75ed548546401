/*
 * bench_insns.c: one kernel's calls and nothing else, for counting the
 * instructions they execute under an emulator (bench/arm_insns.sh runs it
 * under qemu-aarch64 and counts; an emulator's time says nothing about a
 * real CPU's, its instruction count does say how much work a kernel asks
 * for). Builds a (rows x n) weight matrix of one type from random floats,
 * quantizes cols activation columns, then makes `calls` gemv (cols = 1) or
 * gemm (cols > 1) calls of the chosen implementation. Counting with calls
 * = 1 and calls = 3 and halving the difference leaves exactly one call's
 * instructions, without the set-up.
 * Usage: bench_insns [--type Q4_0] [--impl scalar|neon|dotprod|i8mm|avx2|avx512]
 *                    [--rows 64] [--n 4096] [--cols 1] [--calls 1]
 * Prints (stdout) the weight bytes one call reads; nothing is timed.
 */
#include "kernels/dot_int.h"
#include "kernels/quants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *tname = "Q4_0", *iname = NULL;
    long long rows = 64, n = 4096, cols = 1, calls = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--type") && i + 1 < argc) tname = argv[++i];
        else if (!strcmp(argv[i], "--impl") && i + 1 < argc) iname = argv[++i];
        else if (!strcmp(argv[i], "--rows") && i + 1 < argc) rows = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--n") && i + 1 < argc) n = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--cols") && i + 1 < argc) cols = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--calls") && i + 1 < argc) calls = atoll(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--type T] [--impl I] [--rows R] [--n N] [--cols C] [--calls K]\n", argv[0]);
            return 2;
        }
    }
    hearth_type t = HEARTH_TYPE_COUNT;
    for (int i = 0; i < HEARTH_TYPE_COUNT; i++) {
        const hearth_type_traits *tt = hearth_type_traits_get(i);
        if (tt && !strcmp(tt->name, tname)) t = (hearth_type)i;
    }
    hearth_dot_impl impl = HEARTH_DOT_IMPL_COUNT;
    const char *want = iname ? iname : hearth_dot_impl_name();
    for (int i = 0; i < HEARTH_DOT_IMPL_COUNT; i++)
        if (!strcmp(want, hearth_dot_impl_str((hearth_dot_impl)i))) impl = (hearth_dot_impl)i;
    const hearth_dot_kernel *k = t < HEARTH_TYPE_COUNT && impl < HEARTH_DOT_IMPL_COUNT
                                     ? hearth_dot_kernel_get_impl(t, impl) : NULL;
    const hearth_type_traits *tt = t < HEARTH_TYPE_COUNT ? hearth_type_traits_get(t) : NULL;
    if (!k || !tt || rows < 1 || cols < 1 || calls < 0 || n < 1 || n % tt->blck_size) {
        fprintf(stderr, "bench_insns: type %s / implementation %s not runnable here (or bad sizes)\n", tname, want);
        return 1;
    }
    size_t rs = hearth_type_row_size(t, n), as = k->act_row_size(n);
    uint8_t *w = malloc(rs * (size_t)rows), *a = malloc(as * (size_t)cols);
    float *x = malloc((size_t)n * sizeof(float)), *out = malloc((size_t)(rows * cols) * sizeof(float));
    if (!w || !a || !x || !out) return 1;
    uint32_t s = 12345;
    for (long long r = 0; r < rows + cols; r++) {
        for (long long i = 0; i < n; i++) {
            s = s * 1664525u + 1013904223u;
            x[i] = ((float)(s >> 8) / 16777216.f - 0.5f);
        }
        if (r < rows) tt->from_float_ref(x, w + (size_t)r * rs, n);
        else k->quantize_act(x, a + (size_t)(r - rows) * as, n);
    }
    volatile float sink = 0;
    for (long long c = 0; c < calls; c++) {
        if (cols == 1) k->gemv(n, rows, out, w, rs, a);
        else k->gemm(n, rows, cols, out, rows, w, rs, a, as);
        sink += out[0];
    }
    (void)sink;
    printf("%zu\n", rs * (size_t)rows);
    free(w), free(a), free(x), free(out);
    return 0;
}
