/*
 * bench_kernels.c: speed of the dot-product kernels (kernels/dot.h) on one
 * thread, next to the machine's memory read bandwidth measured in the same
 * run (decode is bandwidth bound, so the ratio is the figure that matters).
 *  - read bandwidth: a SIMD sum over a 256 MB buffer read as 4 streams, best
 *    of several passes;
 *  - gemv: a weight matrix of about 64 MB (out of cache), rows of 4864
 *    (Qwen2.5-0.5B's ffn_down) and of 896 (its attention/ffn_up inputs),
 *    GB/s of weight bytes streamed, best and median of the repetitions,
 *    by wall time and by this thread's CPU time (the machine may be shared),
 *    and the same kernel on 512 KB of rows that stay in L2 (its compute
 *    ceiling: if that is not well above the read bandwidth, decode is
 *    compute bound);
 *  - gemm: 896 x 4864 weights times 64 activation columns, GFLOP/s, in one
 *    call, in 16-row calls as the engine's prefill makes them and in 64-row
 *    calls (the chunk size that would amortize the activation prep; also for
 *    4864 x 896, Qwen2.5-0.5B's ffn_up shape).
 *  - --gemm-cols: one gemm per column count, several implementations
 *    side by side (bench_gemm_cols).
 * Usage: bench_kernels [--impl scalar|avx2|avx512|amx] [--reps N] [--types Q4_0,Q8_0,...]
 *        bench_kernels --gemm-cols 9,16,64,512 [--impls avx512,amx] [--types ...] [--reps N]
 * Default impl: the one dispatch picks. Pins nothing; run it on an idle machine.
 */
#include "kernels/dot_int.h"
#include "kernels/quants.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of this thread: on a shared machine, the time the kernel
 * actually ran (wall time also counts time other processes held the core). */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sums the buffer as 4 interleaved streams (one per quarter): a single
 * sequential stream is held back by the prefetcher, and gemv itself reads
 * several rows at once. */
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) static long long read_sum(const uint8_t *p, size_t n) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t q = n / 4;
    const uint8_t *p0 = p, *p1 = p + q, *p2 = p + 2 * q, *p3 = p + 3 * q;
    for (size_t i = 0; i + 64 <= q; i += 64) {
        a0 = _mm256_add_epi64(a0, _mm256_add_epi64(_mm256_loadu_si256((const __m256i *)(p0 + i)),
                                                   _mm256_loadu_si256((const __m256i *)(p0 + i + 32))));
        a1 = _mm256_add_epi64(a1, _mm256_add_epi64(_mm256_loadu_si256((const __m256i *)(p1 + i)),
                                                   _mm256_loadu_si256((const __m256i *)(p1 + i + 32))));
        a2 = _mm256_add_epi64(a2, _mm256_add_epi64(_mm256_loadu_si256((const __m256i *)(p2 + i)),
                                                   _mm256_loadu_si256((const __m256i *)(p2 + i + 32))));
        a3 = _mm256_add_epi64(a3, _mm256_add_epi64(_mm256_loadu_si256((const __m256i *)(p3 + i)),
                                                   _mm256_loadu_si256((const __m256i *)(p3 + i + 32))));
    }
    __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    long long o[4];
    memcpy(o, &s, sizeof o);
    return o[0] + o[1] + o[2] + o[3];
}
#elif defined(__aarch64__)
static long long read_sum(const uint8_t *p, size_t n) {
    uint64x2_t a0 = vdupq_n_u64(0), a1 = a0, a2 = a0, a3 = a0;
    size_t q = n / 4;
    const uint8_t *p0 = p, *p1 = p + q, *p2 = p + 2 * q, *p3 = p + 3 * q;
    for (size_t i = 0; i + 32 <= q; i += 32) {
        a0 = vaddq_u64(a0, vaddq_u64(vld1q_u64((const uint64_t *)(p0 + i)), vld1q_u64((const uint64_t *)(p0 + i + 16))));
        a1 = vaddq_u64(a1, vaddq_u64(vld1q_u64((const uint64_t *)(p1 + i)), vld1q_u64((const uint64_t *)(p1 + i + 16))));
        a2 = vaddq_u64(a2, vaddq_u64(vld1q_u64((const uint64_t *)(p2 + i)), vld1q_u64((const uint64_t *)(p2 + i + 16))));
        a3 = vaddq_u64(a3, vaddq_u64(vld1q_u64((const uint64_t *)(p3 + i)), vld1q_u64((const uint64_t *)(p3 + i + 16))));
    }
    uint64x2_t s = vaddq_u64(vaddq_u64(a0, a1), vaddq_u64(a2, a3));
    return (long long)(vgetq_lane_u64(s, 0) + vgetq_lane_u64(s, 1));
}
#else
static long long read_sum(const uint8_t *p, size_t n) {
    uint64_t s = 0, w;
    for (size_t i = 0; i + 8 <= n; i += 8) memcpy(&w, p + i, 8), s += w;
    return (long long)s;
}
#endif

static double measure_bandwidth(int reps) {
    size_t n = (size_t)256 << 20;
    uint8_t *buf = malloc(n);
    if (!buf) return 0;
    for (size_t i = 0; i < n; i += 64) buf[i] = (uint8_t)i; /* fault every page in */
    memset(buf, 1, n);
    double best = 0;
    volatile long long sink = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        sink += read_sum(buf, n);
        double gbs = (double)n / (now() - t0) / 1e9;
        if (gbs > best) best = gbs;
    }
    (void)sink;
    free(buf);
    return best;
}

/* A weight matrix (nrows, n) of type t: 64 real quantized rows repeated. */
static uint8_t *make_weights(hearth_type t, int64_t n, int64_t nrows, size_t *rs_out) {
    const hearth_type_traits *tt = hearth_type_traits_get(t);
    size_t rs = hearth_type_row_size(t, n);
    uint8_t *w = aligned_alloc(64, (rs * (size_t)nrows + 63) / 64 * 64);
    float *x = malloc((size_t)n * sizeof(float));
    if (!w || !x) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    uint32_t s = 12345;
    int64_t seed_rows = nrows < 64 ? nrows : 64;
    for (int64_t r = 0; r < seed_rows; r++) {
        for (int64_t i = 0; i < n; i++) {
            s = s * 1664525u + 1013904223u;
            x[i] = ((float)(s >> 8) / 16777216.f - 0.5f) * 0.1f;
        }
        tt->from_float_ref(x, w + (size_t)r * rs, n);
    }
    for (int64_t r = seed_rows; r < nrows; r++) memcpy(w + (size_t)r * rs, w + (size_t)(r % 64) * rs, rs);
    free(x);
    *rs_out = rs;
    return w;
}

static uint8_t *make_act(const hearth_dot_kernel *k, int64_t n, int64_t ncols, size_t *as_out) {
    size_t as = k->act_row_size(n);
    uint8_t *a = malloc(as * (size_t)ncols);
    float *x = malloc((size_t)n * sizeof(float));
    if (!a || !x) exit(1);
    for (int64_t c = 0; c < ncols; c++) {
        for (int64_t i = 0; i < n; i++) x[i] = (float)((i * 7 + c * 13) % 31) / 15.f - 1.f;
        k->quantize_act(x, a + (size_t)c * as, n);
    }
    free(x);
    *as_out = as;
    return a;
}

static void bench_gemv(hearth_type t, const hearth_dot_kernel *k, int64_t n, int reps, double bw) {
    size_t rs;
    int64_t nrows = ((int64_t)64 << 20) / (int64_t)hearth_type_row_size(t, n);
    uint8_t *w = make_weights(t, n, nrows, &rs);
    size_t as;
    uint8_t *a = make_act(k, n, 1, &as);
    float *out = malloc((size_t)nrows * sizeof(float));
    double *g = malloc((size_t)reps * sizeof(double)), *gc = malloc((size_t)reps * sizeof(double));
    k->gemv(n, nrows, out, w, rs, a); /* warm up */
    for (int r = 0; r < reps; r++) {
        double t0 = now(), c0 = cpu_now();
        k->gemv(n, nrows, out, w, rs, a);
        double bytes = (double)rs * (double)nrows;
        gc[r] = bytes / (cpu_now() - c0) / 1e9;
        g[r] = bytes / (now() - t0) / 1e9;
    }
    qsort(g, (size_t)reps, sizeof *g, cmp_d);
    qsort(gc, (size_t)reps, sizeof *gc, cmp_d);
    /* compute ceiling: the first ~512 KB of rows (in L2), repeated */
    int64_t crow = ((int64_t)512 << 10) / (int64_t)rs;
    if (crow < 1) crow = 1;
    int64_t crep = nrows / crow;
    double cc0 = cpu_now();
    for (int64_t i = 0; i < crep; i++) k->gemv(n, crow, out, w, rs, a);
    double cache_gbs = (double)rs * (double)(crow * crep) / (cpu_now() - cc0) / 1e9;
    printf("  gemv %-5s n=%-5lld %5.1f MB  wall: best %6.2f median %6.2f GB/s (%5.1f%% of read bw)  cpu-time: "
           "median %6.2f GB/s  in-L2 %6.2f GB/s\n",
           hearth_type_name(t), (long long)n, (double)rs * (double)nrows / 1e6, g[reps - 1], g[reps / 2],
           100.0 * g[reps - 1] / bw, gc[reps / 2], cache_gbs);
    free(w), free(a), free(out), free(g), free(gc);
}

/* gemm of (nrows, n) weights times 64 columns, called on row_chunk rows at a
 * time (forward.c's prefill tasks use 16-row chunks; 0: the whole matrix). */
static void bench_gemm(hearth_type t, const hearth_dot_kernel *k, int reps, int64_t n, int64_t nrows,
                       int64_t row_chunk) {
    int64_t ncols = 64;
    size_t rs, as;
    uint8_t *w = make_weights(t, n, nrows, &rs);
    uint8_t *a = make_act(k, n, ncols, &as);
    float *out = malloc((size_t)(nrows * ncols) * sizeof(float));
    int64_t rc = row_chunk ? row_chunk : nrows;
    double best = 1e30, best_cpu = 1e30;
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
        double t0 = now(), c0 = cpu_now();
        for (int64_t r0 = 0; r0 < nrows; r0 += rc)
            k->gemm(n, nrows - r0 < rc ? nrows - r0 : rc, ncols, out + r0, nrows, w + (size_t)r0 * rs, rs, a, as);
        double dt = now() - t0, dc = cpu_now() - c0;
        if (r >= 0 && dt < best) best = dt;
        if (r >= 0 && dc < best_cpu) best_cpu = dc;
    }
    double flop = 2.0 * (double)n * (double)nrows * (double)ncols;
    printf("  gemm %-5s %lldx%lld x %lld cols, %lld-row calls: wall %7.1f GFLOP/s  cpu-time %7.1f GFLOP/s\n",
           hearth_type_name(t), (long long)nrows, (long long)n, (long long)ncols, (long long)rc, flop / best / 1e9,
           flop / best_cpu / 1e9);
    free(w), free(a), free(out);
}

/* --gemm-cols: the gemm of each implementation in impls (comma-separated)
 * at each column count, 64-row calls of all the columns at once, for the
 * shapes 896 x 4864 and 4864 x 896 (rows x n); the implementations take
 * turns within each repetition, so that a shared machine's load falls on
 * both alike, and the best CPU time of each gives GMAC/s and the ratio to
 * the first. */
static void bench_gemm_cols(hearth_type t, const char *impls, const char *cols, int reps) {
    hearth_dot_impl im[4];
    int ni = 0;
    for (const char *p = impls; *p && ni < 4;) {
        size_t l = strcspn(p, ",");
        for (int i = 0; i < HEARTH_DOT_IMPL_COUNT; i++)
            if (strlen(hearth_dot_impl_str((hearth_dot_impl)i)) == l &&
                !strncmp(p, hearth_dot_impl_str((hearth_dot_impl)i), l) &&
                hearth_dot_kernel_get_impl(t, (hearth_dot_impl)i))
                im[ni++] = (hearth_dot_impl)i;
        p += l + (p[l] == ',');
    }
    if (!ni) return;
    static const int64_t shapes[2][2] = {{896, 4864}, {4864, 896}}; /* (nrows, n) */
    for (int si = 0; si < 2; si++) {
        int64_t nrows = shapes[si][0], n = shapes[si][1];
        if (n % hearth_type_traits_get(t)->blck_size) continue;
        for (const char *p = cols; *p;) {
            int64_t ncols = atoll(p);
            p += strcspn(p, ",");
            p += *p == ',';
            if (ncols < 1) continue;
            const hearth_dot_kernel *k0 = hearth_dot_kernel_get_impl(t, im[0]);
            size_t rs, as;
            uint8_t *w = make_weights(t, n, nrows, &rs);
            uint8_t *a = make_act(k0, n, ncols, &as);
            float *out = malloc((size_t)(nrows * ncols) * sizeof(float));
            double best[4] = {1e30, 1e30, 1e30, 1e30};
            for (int r = -1; r < reps; r++)
                for (int i = 0; i < ni; i++) {
                    const hearth_dot_kernel *k = hearth_dot_kernel_get_impl(t, im[i]);
                    double c0 = cpu_now();
                    for (int64_t r0 = 0; r0 < nrows; r0 += 64)
                        k->gemm(n, nrows - r0 < 64 ? nrows - r0 : 64, ncols, out + r0, nrows, w + (size_t)r0 * rs,
                                rs, a, as);
                    double dc = cpu_now() - c0;
                    if (r >= 0 && dc < best[i]) best[i] = dc;
                }
            double mac = (double)n * (double)nrows * (double)ncols;
            printf("  gemm %-5s %lldx%lld x %3lld cols:", hearth_type_name(t), (long long)nrows, (long long)n,
                   (long long)ncols);
            for (int i = 0; i < ni; i++)
                printf("  %s %7.1f GMAC/s", hearth_dot_impl_str(im[i]), mac / best[i] / 1e9);
            for (int i = 1; i < ni; i++)
                printf("  %s/%s %.2fx", hearth_dot_impl_str(im[i]), hearth_dot_impl_str(im[0]), best[0] / best[i]);
            printf("\n");
            free(w), free(a), free(out);
        }
    }
}

int main(int argc, char **argv) {
    const char *impl_name = NULL, *types = NULL, *gemm_cols = NULL, *impls = NULL;
    int reps = 10;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--impl") && i + 1 < argc) impl_name = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--types") && i + 1 < argc) types = argv[++i];
        else if (!strcmp(argv[i], "--gemm-cols") && i + 1 < argc) gemm_cols = argv[++i];
        else if (!strcmp(argv[i], "--impls") && i + 1 < argc) impls = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--impl scalar|avx2|avx512|amx] [--reps N] [--types Q4_0,...]\n"
                    "       %s --gemm-cols 9,16,64,512 [--impls avx512,amx] [--types ...] [--reps N]\n",
                    argv[0], argv[0]);
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    hearth_dot_impl impl = HEARTH_DOT_SCALAR;
    const char *chosen = impl_name ? impl_name : hearth_dot_impl_name();
    for (int i = 0; i < HEARTH_DOT_IMPL_COUNT; i++)
        if (!strcmp(chosen, hearth_dot_impl_str((hearth_dot_impl)i))) impl = (hearth_dot_impl)i;
    if (!hearth_dot_impl_available(impl)) {
        fprintf(stderr, "implementation %s not available here\n", chosen);
        return 1;
    }
    if (gemm_cols) {
        printf("gemm, 1 thread, 64-row calls of all the columns, best CPU time of %d (interleaved)\n", reps);
        static const hearth_type gt[] = {HEARTH_TYPE_Q4_0, HEARTH_TYPE_Q8_0, HEARTH_TYPE_Q5_0, HEARTH_TYPE_Q4_K,
                                         HEARTH_TYPE_Q6_K, HEARTH_TYPE_F16};
        for (size_t i = 0; i < sizeof gt / sizeof gt[0]; i++) {
            const char *nm = hearth_type_name(gt[i]);
            if (types) {
                const char *p = strstr(types, nm);
                size_t l = strlen(nm);
                if (!p || (p != types && p[-1] != ',') || (p[l] && p[l] != ',')) continue;
            }
            bench_gemm_cols(gt[i], impls ? impls : "avx512,amx", gemm_cols, reps);
        }
        return 0;
    }
    double bw = measure_bandwidth(16);
    printf("kernels: %s, 1 thread; memory read bandwidth (1 thread, 256 MB): %.2f GB/s\n",
           hearth_dot_impl_str(impl), bw);
    static const hearth_type order[] = {HEARTH_TYPE_Q4_0, HEARTH_TYPE_Q8_0, HEARTH_TYPE_F16,  HEARTH_TYPE_Q4_K,
                                        HEARTH_TYPE_Q6_K, HEARTH_TYPE_Q5_0, HEARTH_TYPE_Q4_1, HEARTH_TYPE_Q5_1,
                                        HEARTH_TYPE_Q5_K, HEARTH_TYPE_Q3_K, HEARTH_TYPE_Q2_K, HEARTH_TYPE_BF16,
                                        HEARTH_TYPE_F32};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        hearth_type t = order[i];
        const char *nm = hearth_type_name(t);
        if (types) {
            const char *p = strstr(types, nm);
            size_t l = strlen(nm);
            if (!p || (p != types && p[-1] != ',') || (p[l] && p[l] != ',')) continue;
        }
        const hearth_dot_kernel *k = hearth_dot_kernel_get_impl(t, impl);
        if (!k) continue;
        bench_gemv(t, k, 4864, reps, bw);
        if (hearth_type_block_size(t) <= 32) bench_gemv(t, k, 896, reps, bw);
        bench_gemm(t, k, reps < 3 ? reps : 3, 4864, 896, 0);
        bench_gemm(t, k, reps < 3 ? reps : 3, 4864, 896, 16);
        bench_gemm(t, k, reps < 3 ? reps : 3, 4864, 896, 64);
        if (896 % hearth_type_traits_get(t)->blck_size == 0) /* not for the K-quants */
            bench_gemm(t, k, reps < 3 ? reps : 3, 896, 4864, 16);
    }
    double bw2 = measure_bandwidth(8);
    printf("memory read bandwidth measured again at the end: %.2f GB/s (the percentages above use the first)\n",
           bw2);
    return 0;
}
