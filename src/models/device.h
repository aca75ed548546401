/*
 * device.h: what this machine can do for a decoder, measured once and
 * remembered: the memory read bandwidth (threads streaming a buffer far
 * larger than the caches, as `hearth bench` measures it) and, for every
 * weight type hearth runs, how fast the real kernels go through weights of
 * that type: gemv (one token: GB/s of weight bytes streamed from memory)
 * and gemm (a prompt batch: GFLOP/s on cache-resident weights). Decode of a
 * quantized model is bound by whichever of bandwidth and unpacking is
 * slower, which a per-type gemv rate captures and raw bandwidth alone does
 * not (see docs/recommend.md).
 *
 * The figures are cached as JSON in $HEARTH_HOME/device.json together with
 * the CPU model, the kernel implementation, the thread count and the probe
 * size; a cache whose four keys differ from this machine's is measured
 * again. Library code: no printing; timing is what it is for.
 */
#ifndef HEARTH_MODELS_DEVICE_H
#define HEARTH_MODELS_DEVICE_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    bool measured;       /* false: hearth cannot run this type here */
    double gemv_gbps;    /* weight bytes per second / 1e9, one token, streaming cost only */
    double row_ns;       /* gemv cost per output row on top of the bytes (ns) */
    double gemm_gflops;  /* 2*n*rows*cols / s / 1e9, a 64-column batch */
} hearth_device_type;

typedef struct {
    char cpu[128];          /* /proc/cpuinfo "model name", or "unknown" */
    char impl[16];          /* kernel set: "avx512", "avx2", "scalar" */
    int n_threads;          /* threads the figures were measured with */
    int probe_mb;           /* buffer size of the probe */
    int64_t measured_ms;    /* Unix epoch ms of the measurement */
    double bandwidth_gbps;  /* memory read bandwidth */
    hearth_device_type types[HEARTH_TYPE_COUNT];
    bool from_cache;        /* OUT of hearth_device_get: read from the cache */
} hearth_device;

/* Memory read bandwidth in GB/s: best of 5 passes with n_threads threads
 * over a probe_mb MiB buffer (1 MiB chunks from a shared counter on the
 * forward pass's thread pool); 0 when the buffer can not be had. Measured
 * as `hearth bench` measures it. Any thread (it starts its own). */
double hearth_device_bandwidth(int n_threads, int probe_mb);

/* Measures everything (bandwidth and each runnable type) with n_threads
 * threads and probe_mb MiB buffers (>= 4: every row type still fills the
 * GEMM_ROWS rows its probe needs). OUT: *d. Errors: HEARTH_E_NOMEM,
 * HEARTH_E_ARG. Takes a few seconds at the default 256 MiB. Any thread. */
hearth_status hearth_device_measure(int n_threads, int probe_mb, hearth_device *d,
                                    hearth_error *err);

/* The figures for this machine: from cache_path (a device.json) when it
 * holds a measurement for this CPU, kernel set, n_threads and probe_mb and
 * remeasure is false; otherwise measured now and written there (atomically:
 * a temp file renamed; a failed write is not an error, the figures are still
 * returned). cache_path NULL: no cache. OUT: *d (d->from_cache says which).
 * Errors as hearth_device_measure. Not thread-safe for one cache_path. */
hearth_status hearth_device_get(const char *cache_path, int n_threads, int probe_mb, bool remeasure,
                                hearth_device *d, hearth_error *err);

/* The CPU's model name into buf (cap bytes): /proc/cpuinfo's "model name",
 * else its "Model" (ARM boards name the board there), else "unknown". Any
 * thread. */
void hearth_device_cpu_name(char *buf, size_t cap);

#endif
