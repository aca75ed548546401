/*
 * cmd_bench.c: `hearth bench`, measured as llama-bench measures: prompt
 * processing (pp: one batch of -p tokens into an empty context) and text
 * generation (tg: -n single-token steps from an empty context), each
 * repeated -r times after a warm-up, reported as mean ± sd tokens/s. In the
 * same run it measures the machine's memory read bandwidth (threads reading
 * a buffer far larger than the caches) and prints generation speed as a
 * fraction of the roofline: bandwidth / bytes of weights read per token.
 * Uses the public API (hearth.h), the device probe's bandwidth measurement
 * (models/device.h, run in a child process) and util/power.h for the RAPL energy counters (joules per generated token
 * where /sys/class/powercap is readable; "energy: not available" otherwise).
 */
#include "cli.h"
#include "model_trust.h"
#include "models/device.h"

#include "util/power.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: hearth bench -m MODEL [-m MODEL2 ...] [-p 512] [-n 128] [-d 0[,N...]] [-t THREADS]\n"
    "                    [-r 5] [-ctk f16[,T...]] [-ctv f16[,T...]] [--json]\n\n"
    "Measures prompt processing (pp) and generation (tg) speed, mean ± sd over -r reps,\n"
    "the memory read bandwidth, and generation speed as a fraction of the bandwidth\n"
    "roofline (bandwidth / bytes of weights read per token). With -d N both tests run\n"
    "after N tokens of context already in the KV cache (as llama-bench -d).\n\n"
    "  -m, --model FILE   model (repeat for several)\n"
    "  -p, --n-prompt N   prompt tokens (default 512; 0 skips pp)\n"
    "  -n, --n-gen N      generated tokens (default 128; 0 skips tg)\n"
    "  -t, --threads N    threads (default: number of CPUs)\n"
    "  -d, --n-depth N    tokens already in the context before each test (default 0;\n"
    "                     a comma list such as 0,4096 runs each depth in turn)\n"
    "  -r, --reps N       repetitions (default 5)\n"
    "  -c, --ctx-size N   KV cache size (default: largest d + p + n)\n"
    "  -ctk, --cache-type-k T[,T...]  KV cache type of keys: f16 (default), q8_0, f32\n"
    "  -ctv, --cache-type-v T[,T...]  of values: f16, q8_0, q4_0, f32. Lists run each\n"
    "                     pair in turn (the shorter list repeats its last type); the\n"
    "                     cache's bytes are printed with each\n"
    "  --json             one JSON object per model\n";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- memory bandwidth -------------------------------------------------------- */

/* Best of several passes over a 256 MiB buffer (8x the largest L3 here)
 * with nth threads, in GB/s; 0 if the buffer cannot be had. The device
 * probe's measurement (models/device.c), so that `models recommend`
 * predicts from the same figure this command reports. */
static double measure_bandwidth_here(int nth) { return hearth_device_bandwidth(nth, 256); }

/* The probe runs in a child process so that its buffer does not count in
 * the peak RSS reported for the models. */
static double measure_bandwidth(int nth) {
    int fd[2];
    if (pipe(fd)) return measure_bandwidth_here(nth);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return 0;
    }
    if (pid == 0) {
        close(fd[0]);
        double bw = measure_bandwidth_here(nth);
        ssize_t w = write(fd[1], &bw, sizeof bw);
        _exit(w == (ssize_t)sizeof bw ? 0 : 1);
    }
    close(fd[1]);
    double bw = 0;
    if (read(fd[0], &bw, sizeof bw) != (ssize_t)sizeof bw) bw = 0;
    close(fd[0]);
    waitpid(pid, NULL, 0);
    return bw;
}

/* ---- the model tests ---------------------------------------------------------- */

enum { MAX_DEPTHS = 16, MAX_CACHE_TYPES = 8 };

typedef struct {
    const char **models;
    int n_models;
    int32_t n_prompt, n_gen, n_ctx;
    int32_t depth[MAX_DEPTHS]; /* -d: tokens in the context before each test */
    int n_depth;
    int n_threads, reps;
    hearth_type type_k[MAX_CACHE_TYPES], type_v[MAX_CACHE_TYPES]; /* -ctk, -ctv */
    int n_type_k, n_type_v;
    bool json;
} bench_opts;

static void mean_sd(const double *v, int n, double *mean, double *sd) {
    double s = 0, q = 0;
    for (int i = 0; i < n; i++) s += v[i];
    *mean = n ? s / n : 0;
    for (int i = 0; i < n; i++) q += (v[i] - *mean) * (v[i] - *mean);
    *sd = n > 1 ? sqrt(q / (n - 1)) : 0;
}

static double rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

/* Brings sequence 0 to exactly `depth` tokens: truncated when it holds more
 * (the tokens before are the same), otherwise the missing ones evaluated in
 * n_batch pieces. toks holds at least depth tokens. */
static int set_depth(hearth_ctx *c, const int32_t *toks, int32_t depth, hearth_error *e) {
    int32_t have = hearth_ctx_seq_len(c, 0);
    if (have >= depth) return hearth_ctx_seq_truncate(c, 0, depth, e) ? 1 : 0;
    return hearth_ctx_eval(c, 0, toks + have, depth - have, e) ? 1 : 0;
}

typedef struct {
    double ppm, pps, tgm, tgs, jpt;
    bool energy;
} depth_result;

/* pp and tg, -r reps each, after `depth` tokens of context. toks: at least
 * depth + max(n_prompt, 1) tokens. */
static int bench_depth(const bench_opts *o, hearth_ctx *c, const int32_t *toks, int32_t depth,
                       int32_t nv, depth_result *res) {
    hearth_error e = {0};
    double *pp = calloc((size_t)o->reps, sizeof *pp), *tg = calloc((size_t)o->reps, sizeof *tg);
    int rc = 1;
    if (!pp || !tg) {
        cli_fail("bench", NULL, "out of memory");
        goto out;
    }
    for (int r = 0; r < o->reps && o->n_prompt > 0; r++) {
        if (set_depth(c, toks, depth, &e)) {
            cli_fail("bench", &e, "filling the context to depth %d failed", depth);
            goto out;
        }
        double t0 = now_s();
        if (hearth_ctx_eval(c, 0, toks + depth, o->n_prompt, &e)) {
            cli_fail("bench", &e, "prompt processing failed");
            goto out;
        }
        pp[r] = o->n_prompt / (now_s() - t0);
    }
    double e0 = 0, e1 = 0, erange = 0;
    if (o->n_gen > 0 && set_depth(c, toks, depth, &e)) {
        cli_fail("bench", &e, "filling the context to depth %d failed", depth);
        goto out;
    }
    res->energy = o->n_gen > 0 && hearth_energy_read(NULL, &e0, &erange);
    for (int r = 0; r < o->reps && o->n_gen > 0; r++) {
        if (set_depth(c, toks, depth, &e)) {
            cli_fail("bench", &e, "filling the context to depth %d failed", depth);
            goto out;
        }
        int32_t t = toks[depth];
        double t0 = now_s();
        for (int32_t i = 0; i < o->n_gen; i++) {
            if (hearth_ctx_eval(c, 0, &t, 1, &e)) {
                cli_fail("bench", &e, "generation failed");
                goto out;
            }
            t = (t + 1) % nv;
        }
        tg[r] = o->n_gen / (now_s() - t0);
    }
    if (res->energy) res->energy = hearth_energy_read(NULL, &e1, &erange);
    /* the whole package's energy: other processes' share is counted too */
    res->jpt = res->energy ? hearth_energy_joules(e0, e1, erange) / ((double)o->n_gen * o->reps) : 0;
    mean_sd(pp, o->n_prompt > 0 ? o->reps : 0, &res->ppm, &res->pps);
    mean_sd(tg, o->n_gen > 0 ? o->reps : 0, &res->tgm, &res->tgs);
    rc = 0;
out:
    free(pp);
    free(tg);
    return rc;
}

/* Every depth of o with cache types tk/tv on the open model m. */
static int bench_cache(const bench_opts *o, const char *path, hearth_model *m, hearth_type tk,
                       hearth_type tv, double bw) {
    hearth_error e = {0};
    int32_t max_depth = 0;
    for (int i = 0; i < o->n_depth; i++) max_depth = o->depth[i] > max_depth ? o->depth[i] : max_depth;
    hearth_ctx_params cp = hearth_ctx_default_params();
    cp.n_ctx = o->n_ctx ? o->n_ctx : max_depth + o->n_prompt + o->n_gen + 1;
    cp.n_threads = o->n_threads;
    cp.type_k = tk;
    cp.type_v = tv;
    hearth_ctx *c;
    if (hearth_ctx_new(m, &cp, &c, &e)) return cli_fail("bench", &e, "cannot make a context");
    char ctype[32];
    snprintf(ctype, sizeof ctype, "%s/%s", hearth_type_name((int)tk), hearth_type_name((int)tv));
    uint64_t kv_bytes = hearth_ctx_kv_bytes(c);
    int32_t nv = hearth_model_n_vocab(m);
    /* depth tokens, then the prompt (tg's first token: toks[depth]); one
     * more for the warm-up's single-token step */
    int32_t np = max_depth + (o->n_prompt > 0 ? o->n_prompt : 1) + 1;
    int32_t *toks = malloc((size_t)np * sizeof *toks);
    int rc = 1;
    if (!toks) {
        cli_fail("bench", NULL, "out of memory");
        goto out;
    }
    uint32_t x = 1;
    for (int32_t i = 0; i < np; i++) toks[i] = (int32_t)((x = x * 1664525u + 1013904223u) >> 8) % nv;
    /* warm-up: pages of the weights in, threads started */
    int32_t nw = np - 1 < 16 ? np - 1 : 16;
    if (hearth_ctx_eval(c, 0, toks, nw, &e) || hearth_ctx_eval(c, 0, toks + nw, 1, &e) ||
        hearth_ctx_seq_clear(c, -1, &e)) {
        cli_fail("bench", &e, "warm-up failed");
        goto out;
    }
    double wb = (double)hearth_model_weight_bytes(m);
    double roof = bw > 0 ? bw * 1e9 / wb : 0; /* tokens/s the bandwidth allows */
    double size_mb = (double)hearth_model_file_size(m) / 1048576.0;
    int nth = o->n_threads;
    if (!o->json) {
        printf("| %-40.40s | %8.1f MiB | %7s | %3d | %-14s | %16s |\n", path, size_mb,
               hearth_model_arch(m), nth, "test", "t/s");
        printf("KV cache %s (keys/values): %llu bytes for %d positions\n", ctype,
               (unsigned long long)kv_bytes, hearth_ctx_n_ctx(c));
    }
    depth_result res0 = {0};
    for (int di = 0; di < o->n_depth; di++) {
        int32_t depth = o->depth[di];
        depth_result res = {0};
        if (bench_depth(o, c, toks, depth, nv, &res)) goto out;
        if (di == 0) res0 = res;
        double frac = roof > 0 ? res.tgm / roof : 0;
        if (o->json) {
            printf("{\"model\":\"");
            for (const char *s = path; *s; s++) {
                if (*s == '"' || *s == '\\') putchar('\\');
                if ((unsigned char)*s >= 0x20) putchar(*s);
            }
            printf("\",\"arch\":\"%s\",\"size_mb\":%.1f,\"weight_bytes\":%.0f,\"threads\":%d,"
                   "\"n_prompt\":%d,\"n_gen\":%d,\"n_depth\":%d,\"reps\":%d,\"prompt_tps\":%.2f,"
                   "\"prompt_tps_sd\":%.2f,\"gen_tps\":%.2f,\"gen_tps_sd\":%.2f,\"bandwidth_gbps\":%.2f,"
                   "\"roofline_tps\":%.2f,\"roofline\":%.3f,\"rss_mb\":%.1f,\"cache_type_k\":\"%s\","
                   "\"cache_type_v\":\"%s\",\"kv_bytes\":%llu,\"n_ctx\":%d,\"joules_per_token\":",
                   hearth_model_arch(m), size_mb, wb, nth, o->n_prompt, o->n_gen, depth, o->reps,
                   res.ppm, res.pps, res.tgm, res.tgs, bw, roof, frac, rss_mb(), hearth_type_name((int)tk),
                   hearth_type_name((int)tv), (unsigned long long)kv_bytes, hearth_ctx_n_ctx(c));
            if (res.energy) printf("%.4f}\n", res.jpt);
            else printf("null}\n");
        } else {
            char at[24] = "";
            if (depth) snprintf(at, sizeof at, " @ d%d", depth);
            char name[40];
            if (o->n_prompt > 0) {
                snprintf(name, sizeof name, "pp%d%s", o->n_prompt, at);
                printf("| %-40s | %12s | %7s | %3s | %-14s | %8.2f ± %5.2f |\n", "", "", "", "", name,
                       res.ppm, res.pps);
            }
            if (o->n_gen > 0) {
                snprintf(name, sizeof name, "tg%d%s", o->n_gen, at);
                printf("| %-40s | %12s | %7s | %3s | %-14s | %8.2f ± %5.2f |\n", "", "", "", "", name,
                       res.tgm, res.tgs);
            }
        }
        fflush(stdout);
    }
    if (!o->json) {
        /* the roofline counts weights only: the first depth's figure */
        double frac = roof > 0 ? res0.tgm / roof : 0;
        printf("memory bandwidth %.1f GB/s, weights read per token %.1f MB: roofline %.1f t/s, "
               "generation%s at %.0f%% of it; peak RSS %.0f MB\n",
               bw, wb / 1e6, roof, o->depth[0] ? " (first depth)" : "", frac * 100, rss_mb());
        if (res0.energy) printf("energy: %.3f J per generated token (RAPL, whole package)\n", res0.jpt);
        else if (o->n_gen > 0) printf("energy: not available\n");
    }
    fflush(stdout);
    rc = 0;
out:
    free(toks);
    hearth_ctx_free(c);
    return rc;
}

static int bench_model(const bench_opts *o, const char *path, double bw) {
    hearth_error e = {0};
    hearth_model_params mp = hearth_model_default_params();
    mp.n_threads = o->n_threads;
    hearth_model *m;
    if (cli_model_gate("bench", NULL, path)) return 1;
    if (hearth_model_open(path, &mp, &m, &e)) return cli_fail("bench", &e, "cannot load model"); /* e names the file */
    int n = o->n_type_k > o->n_type_v ? o->n_type_k : o->n_type_v, rc = 0;
    for (int i = 0; i < n && !rc; i++)
        rc = bench_cache(o, path, m, o->type_k[i < o->n_type_k ? i : o->n_type_k - 1],
                         o->type_v[i < o->n_type_v ? i : o->n_type_v - 1], bw);
    hearth_model_free(m);
    return rc;
}

/* -d's value: N or a comma list of them, each in [0, 2^24]. */
/* A comma list of cache types into t (at most MAX_CACHE_TYPES). */
static bool parse_cache_types(const char *v, bool values, hearth_type *t, int *n, hearth_error *e) {
    *n = 0;
    for (const char *p = v;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char name[16];
        if (*n == MAX_CACHE_TYPES) {
            snprintf(e->msg, sizeof e->msg, "more than %d types", MAX_CACHE_TYPES);
            return false;
        }
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), p);
        if (len >= sizeof name || hearth_cache_type_parse(name, values, &t[(*n)++], e)) return false;
        if (!comma) return true;
        p = comma + 1;
    }
}

static bool parse_depths(const char *v, bench_opts *o) {
    o->n_depth = 0;
    for (const char *p = v;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char num[16];
        long l;
        if (!len || len >= sizeof num || o->n_depth == MAX_DEPTHS) return false;
        memcpy(num, p, len);
        num[len] = 0;
        if (!cli_parse_long(num, 0, 1 << 24, &l)) return false;
        o->depth[o->n_depth++] = (int32_t)l;
        if (!comma) return true;
        p = comma + 1;
    }
}

static int run(int argc, char **argv) {
    bench_opts o = {.n_prompt = 512, .n_gen = 128, .reps = 5, .type_k = {HEARTH_TYPE_F16},
                    .type_v = {HEARTH_TYPE_F16}, .n_type_k = 1, .n_type_v = 1};
    const char *models[64];
    o.models = models;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long l;
        if (!v && a[0] == '-' && strcmp(a, "--json")) return cli_fail("bench", NULL, "%s needs a value", a);
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (o.n_models == 64) return cli_fail("bench", NULL, "too many models");
            models[o.n_models++] = v;
            i++;
        } else if (!strcmp(a, "-p") || !strcmp(a, "--n-prompt")) {
            if (!cli_parse_long(v, 0, 1 << 20, &l)) return cli_fail("bench", NULL, "bad -p '%s'", v);
            o.n_prompt = (int32_t)l;
            i++;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--n-gen")) {
            if (!cli_parse_long(v, 0, 1 << 20, &l)) return cli_fail("bench", NULL, "bad -n '%s'", v);
            o.n_gen = (int32_t)l;
            i++;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!cli_parse_long(v, 1, 1024, &l)) return cli_fail("bench", NULL, "bad -t '%s'", v);
            o.n_threads = (int)l;
            i++;
        } else if (!strcmp(a, "-d") || !strcmp(a, "--n-depth")) {
            if (!parse_depths(v, &o)) return cli_fail("bench", NULL, "bad -d '%s' (N or N,N,... up to 16)", v);
            i++;
        } else if (!strcmp(a, "-r") || !strcmp(a, "--reps")) {
            if (!cli_parse_long(v, 1, 1000, &l)) return cli_fail("bench", NULL, "bad -r '%s'", v);
            o.reps = (int)l;
            i++;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
            if (!cli_parse_long(v, 0, 1 << 24, &l)) return cli_fail("bench", NULL, "bad -c '%s'", v);
            o.n_ctx = (int32_t)l;
            i++;
        } else if (!strcmp(a, "-ctk") || !strcmp(a, "--cache-type-k") || !strcmp(a, "-ctv") ||
                   !strcmp(a, "--cache-type-v")) {
            bool values = !strcmp(a, "-ctv") || !strcmp(a, "--cache-type-v");
            hearth_error te = {0};
            if (!parse_cache_types(v, values, values ? o.type_v : o.type_k, values ? &o.n_type_v : &o.n_type_k, &te))
                return cli_fail("bench", NULL, "bad %s '%s': %s", a, v, te.msg);
            i++;
        } else if (!strcmp(a, "--json")) {
            o.json = true;
        } else {
            return cli_fail("bench", NULL, "unknown argument '%s' (see hearth bench --help)", a);
        }
    }
    if (!o.n_models) return cli_fail("bench", NULL, "no model (-m MODEL)");
    if (!o.n_depth) o.n_depth = 1; /* depth[0] = 0: an empty context */
    if (!o.n_threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o.n_threads = n > 0 ? (int)n : 1;
    }
    double bw = measure_bandwidth(o.n_threads);
    int rc = 0;
    for (int i = 0; i < o.n_models; i++) rc |= bench_model(&o, models[i], bw);
    return rc;
}

const cli_command cli_cmd_bench = {
    .name = "bench",
    .summary = "measure prompt and generation speed against the memory-bandwidth roofline",
    .usage = USAGE,
    .run = run,
};
