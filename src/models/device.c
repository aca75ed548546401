/*
 * device.c: the device probe (device.h): memory bandwidth, per-type kernel
 * rates through the same kernels and the same chunked thread-pool split the
 * forward pass uses, and the device.json cache.
 *
 * Probe matrices are rows of 4096 elements (a multiple of every block size),
 * each row one quantized random row copied over the whole buffer: the bytes
 * are valid blocks (no NaN or denormal scales that would slow the float
 * units), and a gemv streams them from memory exactly as a decode step
 * streams a layer.
 */
#include "models/device.h"

#include "kernels/dot.h"
#include "kernels/types.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/threadpool.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define PROBE_N 4096   /* elements per probe row */
#define SHORT_N 1024   /* elements per row of the short-row probe */
#define GEMM_COLS 64   /* columns of the prompt probe (a prefill batch) */
#define GEMM_ROWS 256  /* rows of the prompt probe: cache resident */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hearth_device_cpu_name(char *buf, size_t cap) {
    if (!cap) return;
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    /* x86: "model name"; ARM boards (Raspberry Pi): "Model", the board,
     * taken only if no "model name" comes. */
    while (fgets(line, sizeof line, f)) {
        bool x86 = !strncmp(line, "model name", 10);
        if (!x86 && strncmp(line, "Model\t", 6) && strncmp(line, "Model:", 6)) continue;
        const char *c = strchr(line, ':');
        if (!c) break;
        c++;
        while (*c == ' ' || *c == '\t') c++;
        size_t n = strcspn(c, "\r\n");
        if (n >= cap) n = cap - 1;
        memcpy(buf, c, n);
        buf[n] = '\0';
        if (x86) break;
    }
    fclose(f);
}

/* ---- bandwidth ------------------------------------------------------------- */

typedef struct {
    const uint64_t *p;
    size_t n;          /* uint64 words */
    atomic_llong next; /* next chunk */
    int64_t n_chunks;
    uint64_t sink[64];
} bw_job;

#if defined(__x86_64__)
__attribute__((target("avx2"))) static uint64_t read_avx2(const uint64_t *p, size_t n) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_xor_si256(a0, _mm256_load_si256((const __m256i *)(p + i)));
        a1 = _mm256_xor_si256(a1, _mm256_load_si256((const __m256i *)(p + i + 4)));
        a2 = _mm256_xor_si256(a2, _mm256_load_si256((const __m256i *)(p + i + 8)));
        a3 = _mm256_xor_si256(a3, _mm256_load_si256((const __m256i *)(p + i + 12)));
    }
    a0 = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
    uint64_t r[4];
    _mm256_storeu_si256((__m256i *)r, a0);
    uint64_t s = r[0] ^ r[1] ^ r[2] ^ r[3];
    for (; i < n; i++) s ^= p[i];
    return s;
}
#endif

static uint64_t read_plain(const uint64_t *p, size_t n) {
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 ^= p[i];
        s1 ^= p[i + 1];
        s2 ^= p[i + 2];
        s3 ^= p[i + 3];
    }
    for (; i < n; i++) s0 ^= p[i];
    return s0 ^ s1 ^ s2 ^ s3;
}

/* 1 MiB chunks from a shared counter: the pool's contract (any thread may
 * do all of it) and the same split the forward pass uses. */
static void bw_task(void *arg, int ith, int nth) {
    (void)nth;
    bw_job *j = arg;
    const size_t words = (size_t)1 << 17;
    uint64_t s = 0;
    for (int64_t c; (c = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < j->n_chunks;) {
        size_t off = (size_t)c * words, n = off + words <= j->n ? words : j->n - off;
#if defined(__x86_64__)
        if (__builtin_cpu_supports("avx2")) {
            s ^= read_avx2(j->p + off, n);
            continue;
        }
#endif
        s ^= read_plain(j->p + off, n);
    }
    j->sink[ith & 63] ^= s;
}

static double bandwidth_with(hearth_threadpool *pool, int probe_mb) {
    size_t bytes = (size_t)probe_mb << 20, n = bytes / 8;
    uint64_t *buf = NULL;
    if (posix_memalign((void **)&buf, 64, bytes)) return 0;
    for (size_t i = 0; i < n; i++) buf[i] = i * 0x9e3779b97f4a7c15ull; /* fault every page in */
    bw_job *j = hearth_calloc(1, sizeof *j);
    double best = 0;
    if (j) {
        j->p = buf;
        j->n = n;
        j->n_chunks = (int64_t)((n + ((size_t)1 << 17) - 1) >> 17);
        for (int pass = 0; pass < 5; pass++) {
            atomic_store(&j->next, 0);
            double t0 = now_s();
            hearth_threadpool_run(pool, bw_task, j);
            double gbps = (double)bytes / (now_s() - t0) / 1e9;
            if (gbps > best) best = gbps;
        }
        uint64_t s = 0;
        for (int i = 0; i < 64; i++) s ^= j->sink[i];
        if (s == 42) best += 1e-12; /* keeps the reads */
    }
    hearth_free(j);
    free(buf);
    return best;
}

double hearth_device_bandwidth(int n_threads, int probe_mb) {
    hearth_threadpool *pool;
    if (n_threads < 1 || probe_mb < 1 || hearth_threadpool_new(n_threads, &pool, NULL)) return 0;
    double bw = bandwidth_with(pool, probe_mb);
    hearth_threadpool_free(pool);
    return bw;
}

/* ---- per-type kernel rates -------------------------------------------------- */

typedef struct {
    const hearth_dot_kernel *k;
    int64_t n;       /* elements per row */
    const uint8_t *w;
    size_t row_size;
    int64_t nrows, row_chunk;
    const void *act;
    size_t act_stride;
    int64_t ncols;   /* 1: gemv */
    float *out;      /* (ncols, nrows) */
    atomic_llong next;
    int64_t n_chunks;
} mm_job;

static void mm_task(void *arg, int ith, int nth) {
    (void)ith;
    (void)nth;
    mm_job *j = arg;
    for (int64_t c; (c = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < j->n_chunks;) {
        int64_t r0 = c * j->row_chunk, r1 = r0 + j->row_chunk < j->nrows ? r0 + j->row_chunk : j->nrows;
        const uint8_t *w = j->w + (size_t)r0 * j->row_size;
        if (j->ncols == 1)
            j->k->gemv(j->n, r1 - r0, j->out + r0, w, j->row_size, j->act);
        else
            j->k->gemm(j->n, r1 - r0, j->ncols, j->out + r0, j->nrows, w, j->row_size, j->act,
                       j->act_stride);
    }
}

static double run_job(hearth_threadpool *pool, mm_job *j, int passes) {
    double best = 1e30;
    for (int p = 0; p < passes; p++) {
        atomic_store(&j->next, 0);
        double t0 = now_s();
        hearth_threadpool_run(pool, mm_task, j);
        double dt = now_s() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

/* Fills buf (bytes) with rows of type t, each a copy of one quantized row of
 * random floats; returns the row count (0: no row fits or no memory). */
static int64_t fill_rows(int t, int64_t n, uint8_t *buf, size_t bytes, size_t row_size) {
    const hearth_type_traits *tr = hearth_type_traits_get(t);
    float *x = hearth_malloc(PROBE_N * sizeof *x);
    if (!x || !tr || !tr->from_float_ref) {
        hearth_free(x);
        return 0;
    }
    uint32_t s = 12345u + (uint32_t)t;
    for (int i = 0; i < PROBE_N; i++) x[i] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    tr->from_float_ref(x, buf, n);
    hearth_free(x);
    int64_t rows = (int64_t)(bytes / row_size);
    for (int64_t r = 1; r < rows; r++) memcpy(buf + (size_t)r * row_size, buf, row_size);
    return rows;
}

static hearth_status measure_type(hearth_threadpool *pool, int t, uint8_t *buf, size_t bytes,
                                  hearth_device_type *out, hearth_error *err) {
    memset(out, 0, sizeof *out);
    const hearth_type_traits *tr = hearth_type_traits_get(t);
    const hearth_dot_kernel *k = hearth_dot_kernel_get((hearth_type)t);
    if (!k || !tr || !tr->supported || !tr->from_float_ref || PROBE_N % tr->blck_size) return HEARTH_OK;
    size_t act_size = k->act_row_size(PROBE_N);
    float *x = hearth_malloc(PROBE_N * sizeof *x);
    uint8_t *act = hearth_malloc(act_size * GEMM_COLS);
    size_t max_rows = bytes / hearth_type_row_size(t, SHORT_N) + 1;
    float *o = hearth_malloc((max_rows > GEMM_ROWS * GEMM_COLS ? max_rows : GEMM_ROWS * GEMM_COLS) * sizeof *o);
    mm_job *j = hearth_calloc(1, sizeof *j);
    if (!x || !act || !o || !j) {
        hearth_free(x);
        hearth_free(act);
        hearth_free(o);
        hearth_free(j);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "device probe: out of memory");
    }
    for (int c = 0; c < GEMM_COLS; c++) {
        uint32_t s = 777u + (uint32_t)c;
        for (int i = 0; i < PROBE_N; i++) x[i] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
        k->quantize_act(x, act + (size_t)c * act_size, PROBE_N);
    }
    /* gemv over the whole buffer, chunked as forward.c chunks one matrix,
     * with long rows and with short ones: time = bytes * a + rows * b
     * separates the streaming cost (a) from the per-row cost (b: the
     * horizontal sum and store of each output), which matters for models
     * with short rows (Qwen2.5-0.5B: 896) */
    double tt[2], bb[2], rr[2];
    const int64_t lens[2] = {PROBE_N, SHORT_N};
    j->k = k;
    j->w = buf;
    j->act = act;
    j->act_stride = act_size;
    j->ncols = 1;
    j->out = o;
    j->row_chunk = 64;
    size_t row_size = 0;
    for (int li = 0; li < 2; li++) {
        j->n = lens[li];
        j->row_size = row_size = hearth_type_row_size(t, lens[li]);
        j->nrows = fill_rows(t, lens[li], buf, bytes, j->row_size);
        if (j->nrows < GEMM_ROWS) break;
        j->n_chunks = (j->nrows + j->row_chunk - 1) / j->row_chunk;
        tt[li] = run_job(pool, j, 3);
        bb[li] = (double)j->nrows * (double)j->row_size;
        rr[li] = (double)j->nrows;
    }
    if (j->nrows < GEMM_ROWS) {
        hearth_free(x);
        hearth_free(act);
        hearth_free(o);
        hearth_free(j);
        return HEARTH_OK;
    }
    double b = (tt[1] * bb[0] - tt[0] * bb[1]) / (rr[1] * bb[0] - rr[0] * bb[1]);
    if (!(b > 0)) b = 0;
    double a = (tt[0] - b * rr[0]) / bb[0];
    if (!(a > 0)) a = tt[0] / bb[0];
    out->gemv_gbps = 1.0 / a / 1e9;
    out->row_ns = b * 1e9;
    /* the prompt probe below uses long rows again */
    j->n = PROBE_N;
    j->row_size = row_size = hearth_type_row_size(t, PROBE_N);
    fill_rows(t, PROBE_N, buf, (size_t)GEMM_ROWS * row_size, row_size);
    /* gemm: GEMM_ROWS rows (a cache-resident slab), GEMM_COLS columns */
    j->nrows = GEMM_ROWS;
    j->ncols = GEMM_COLS;
    j->n_chunks = (GEMM_ROWS + j->row_chunk - 1) / j->row_chunk;
    double dt = run_job(pool, j, 5);
    out->gemm_gflops = 2.0 * PROBE_N * GEMM_ROWS * GEMM_COLS / dt / 1e9;
    out->measured = true;
    hearth_free(x);
    hearth_free(act);
    hearth_free(o);
    hearth_free(j);
    return HEARTH_OK;
}

hearth_status hearth_device_measure(int n_threads, int probe_mb, hearth_device *d, hearth_error *err) {
    if (!d || n_threads < 1 || n_threads > 1024 || probe_mb < 4 || probe_mb > 65536)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "device probe: bad threads %d or size %d MiB", n_threads,
                           probe_mb);
    memset(d, 0, sizeof *d);
    hearth_device_cpu_name(d->cpu, sizeof d->cpu);
    snprintf(d->impl, sizeof d->impl, "%s", hearth_dot_impl_name());
    d->n_threads = n_threads;
    d->probe_mb = probe_mb;
    hearth_threadpool *pool;
    hearth_status st = hearth_threadpool_new(n_threads, &pool, err);
    if (st) return st;
    d->bandwidth_gbps = bandwidth_with(pool, probe_mb);
    size_t bytes = (size_t)probe_mb << 20;
    uint8_t *buf = NULL;
    if (d->bandwidth_gbps <= 0 || posix_memalign((void **)&buf, 64, bytes)) {
        hearth_threadpool_free(pool);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "device probe: no %d MiB buffer", probe_mb);
    }
    for (int t = 0; t < HEARTH_TYPE_COUNT && !st; t++) st = measure_type(pool, t, buf, bytes, &d->types[t], err);
    free(buf);
    hearth_threadpool_free(pool);
    d->measured_ms = now_ms();
    return st;
}

/* ---- cache -------------------------------------------------------------- */

static bool read_cache(const char *path, const hearth_device *want, hearth_device *d) {
    json_t *o = json_load_file(path, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return false;
    }
    bool ok = false;
    const char *cpu = json_string_value(json_object_get(o, "cpu"));
    const char *impl = json_string_value(json_object_get(o, "impl"));
    json_t *th = json_object_get(o, "threads"), *pm = json_object_get(o, "probe_mb");
    json_t *bw = json_object_get(o, "bandwidth_gbps"), *at = json_object_get(o, "measured_ms");
    json_t *types = json_object_get(o, "types");
    if (cpu && impl && !strcmp(cpu, want->cpu) && !strcmp(impl, want->impl) && json_is_integer(th) &&
        json_integer_value(th) == want->n_threads && json_is_integer(pm) &&
        json_integer_value(pm) == want->probe_mb && json_is_number(bw) && json_number_value(bw) > 0 &&
        json_is_integer(at) && json_is_object(types)) {
        *d = *want;
        d->bandwidth_gbps = json_number_value(bw);
        d->measured_ms = json_integer_value(at);
        ok = true;
        const char *name;
        json_t *v;
        json_object_foreach(types, name, v) {
            int t = 0;
            while (t < HEARTH_TYPE_COUNT && !(hearth_type_name(t) && !strcmp(hearth_type_name(t), name))) t++;
            json_t *gv = json_object_get(v, "gemv_gbps"), *gm = json_object_get(v, "gemm_gflops");
            json_t *rn = json_object_get(v, "row_ns");
            if (t == HEARTH_TYPE_COUNT || !json_is_number(gv) || !json_is_number(gm) || !json_is_number(rn) ||
                json_number_value(gv) <= 0 || json_number_value(gm) <= 0 || json_number_value(rn) < 0) {
                ok = false;
                break;
            }
            d->types[t].measured = true;
            d->types[t].gemv_gbps = json_number_value(gv);
            d->types[t].gemm_gflops = json_number_value(gm);
            d->types[t].row_ns = json_number_value(rn);
        }
    }
    json_decref(o);
    return ok;
}

static void write_cache(const char *path, const hearth_device *d) {
    json_t *o = json_object(), *types = json_object();
    if (!o || !types) {
        json_decref(o);
        json_decref(types);
        return;
    }
    json_object_set_new(o, "cpu", json_string(d->cpu));
    json_object_set_new(o, "impl", json_string(d->impl));
    json_object_set_new(o, "threads", json_integer(d->n_threads));
    json_object_set_new(o, "probe_mb", json_integer(d->probe_mb));
    json_object_set_new(o, "measured_ms", json_integer(d->measured_ms));
    json_object_set_new(o, "bandwidth_gbps", json_real(d->bandwidth_gbps));
    for (int t = 0; t < HEARTH_TYPE_COUNT; t++) {
        if (!d->types[t].measured) continue;
        json_t *v = json_object();
        json_object_set_new(v, "gemv_gbps", json_real(d->types[t].gemv_gbps));
        json_object_set_new(v, "gemm_gflops", json_real(d->types[t].gemm_gflops));
        json_object_set_new(v, "row_ns", json_real(d->types[t].row_ns));
        json_object_set_new(types, hearth_type_name(t), v);
    }
    json_object_set_new(o, "types", types);
    size_t n = strlen(path) + 32;
    char *tmp = hearth_malloc(n);
    if (tmp) {
        snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
        if (json_dump_file(o, tmp, JSON_INDENT(1)) == 0) {
            if (rename(tmp, path)) unlink(tmp);
        } else {
            unlink(tmp);
        }
        hearth_free(tmp);
    }
    json_decref(o);
}

hearth_status hearth_device_get(const char *cache_path, int n_threads, int probe_mb, bool remeasure,
                                hearth_device *d, hearth_error *err) {
    if (!d) return HEARTH_FAIL(err, HEARTH_E_ARG, "device: NULL output");
    hearth_device want;
    memset(&want, 0, sizeof want);
    hearth_device_cpu_name(want.cpu, sizeof want.cpu);
    snprintf(want.impl, sizeof want.impl, "%s", hearth_dot_impl_name());
    want.n_threads = n_threads;
    want.probe_mb = probe_mb;
    if (cache_path && !remeasure && read_cache(cache_path, &want, d)) {
        d->from_cache = true;
        return HEARTH_OK;
    }
    hearth_status st = hearth_device_measure(n_threads, probe_mb, d, err);
    if (st) return st;
    d->from_cache = false;
    if (cache_path) write_cache(cache_path, d);
    return HEARTH_OK;
}
