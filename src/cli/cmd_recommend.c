/*
 * cmd_recommend.c: `hearth models recommend` (and `hearth recommend`): for
 * every installed model (the registry's active versions, plus -m FILE) and every
 * entry of the shipped catalog (models/catalog.json), the expected size,
 * parameters, speed on this device, RAM for the configured context and
 * accuracy; then the best model within --max-latency-ms and --max-ram.
 *
 * The speed comes from the device probe (models/device.h, cached in
 * $HEARTH_HOME/device.json) and the bytes each decode step reads
 * (models/estimate.h); docs/recommend.md says how and how close it is.
 * "Best" is the model with the most parameters that fits, then the lowest
 * perplexity increase, then the fastest: a bigger model at 4 bits beats a
 * smaller one at 8 bits on every published comparison.
 */
#include "cli.h"
#include "quant_text.h"
#include "recommend.h"

#include "agent/power_settings.h"
#include "models/catalog.h"
#include "models/device.h"
#include "models/estimate.h"
#include "models/registry.h"
#include "models/variant.h"
#include "util/power.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: hearth models recommend [--max-latency-ms N] [--max-ram MB] [-m FILE ...]\n"
    "                               [-c N] [-p N] [-t N] [--catalog FILE] [--no-catalog]\n"
    "                               [--remeasure] [--json]\n\n"
    "For each installed model and each catalog entry: size, parameters, expected\n"
    "ms per token and tokens/s on this device, the time of a prompt, minimum RAM for\n"
    "the context, and the perplexity increase against F16; then the best model that\n"
    "fits the limits (most parameters, then least perplexity increase, then speed).\n\n"
    "  --max-latency-ms N  most ms per generated token (default: setting\n"
    "                      recommend_max_latency_ms, 250)\n"
    "  --max-ram MB        most RAM (default: MemAvailable of /proc/meminfo)\n"
    "  -m, --model FILE    also consider this GGUF file (repeatable)\n"
    "  -c, --ctx-size N    context the RAM is sized for (default: setting max_context)\n"
    "  -ctk, --cache-type-k T, -ctv, --cache-type-v T\n"
    "                      KV cache types the RAM and speed are for (default:\n"
    "                      settings cache_type_k and cache_type_v, f16)\n"
    "  -p, --n-prompt N    prompt tokens of the prompt-time column (default 512)\n"
    "  -t, --threads N     threads (default: setting threads, else all CPUs; on\n"
    "                      battery the battery policy's count)\n"
    "  --catalog FILE      catalog to read (default: models/catalog.json of hearth)\n"
    "  --no-catalog        installed models only (the catalog still gives accuracy)\n"
    "  --remeasure         measure the device again (else $HEARTH_HOME/device.json)\n"
    "  --json              one JSON object\n"
    "A file made by hearth quantize also shows the ppl ratio and KLD quantize stated\n"
    "in its metadata (hearth.quantize.*); they do not change the ranking.\n";

typedef struct {
    char name[128];
    char path[1024];   /* "" for catalog entries */
    char family[64];
    const char *source; /* "file", "installed", "catalog" */
    hearth_model_desc desc;
    bool has_ppl;
    double ppl_delta;
    char ppl_source[96];
    quant_stated stated; /* files: what hearth quantize measured at write time */
    hearth_estimate est;
    bool fits;
    char why[96]; /* why it does not fit */
} row;

typedef struct {
    row *v;
    size_t n, cap;
} rows;

static row *rows_add(rows *r) {
    if (r->n == r->cap) {
        size_t c = r->cap ? r->cap * 2 : 32;
        row *nv = realloc(r->v, c * sizeof *nv);
        if (!nv) return NULL;
        r->v = nv;
        r->cap = c;
    }
    row *x = &r->v[r->n++];
    memset(x, 0, sizeof *x);
    return x;
}

static int64_t mem_available_mb(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return -1;
    char line[256];
    long long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1) break;
    fclose(f);
    return kb < 0 ? -1 : kb / 1024;
}

/* The directory of the default model, where catalog.json ships. */
static void default_catalog(char *buf, size_t cap) {
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", HEARTH_DEFAULT_MODEL);
    snprintf(buf, cap, "%s/catalog.json", dirname(tmp));
}

static bool add_file(rows *r, const char *path, const char *source, const char *catalog, char *errbuf,
                     size_t ecap) {
    row *x = rows_add(r);
    hearth_error e = {0};
    if (!x) {
        snprintf(errbuf, ecap, "out of memory");
        return false;
    }
    if (hearth_model_desc_from_file(path, &x->desc, &e)) {
        r->n--;
        snprintf(errbuf, ecap, "%s", e.msg);
        return false;
    }
    const char *base = strrchr(path, '/');
    snprintf(x->name, sizeof x->name, "%s", base ? base + 1 : path);
    snprintf(x->path, sizeof x->path, "%s", path);
    quant_stated_read(path, &x->stated);
    x->source = source;
    if (catalog)
        x->has_ppl = hearth_catalog_ppl_delta(catalog, x->desc.quant, &x->ppl_delta, x->ppl_source,
                                              sizeof x->ppl_source);
    return true;
}

/* Installed models: the active version of every name in the registry
 * ($HEARTH_HOME/models, `hearth models list`). */
static void add_installed(rows *r, const hearth_settings *set, const char *catalog) {
    registry *reg;
    hearth_error e = {0};
    if (registry_open_settings(set, &reg, &e)) {
        fprintf(stderr, "hearth models recommend: no installed models: %s\n", e.msg);
        return;
    }
    for (size_t i = 0; i < registry_count(reg); i++) {
        const registry_model *m = registry_model_at(reg, i);
        char p[4096], eb[300];
        if (!registry_blob_path(reg, m->active->sha256, p, sizeof p)) continue;
        size_t before = r->n;
        if (!add_file(r, p, "installed", catalog, eb, sizeof eb)) {
            fprintf(stderr, "hearth models recommend: skipping %s: %s\n", m->name, eb);
            continue;
        }
        if (r->n > before) snprintf(r->v[r->n - 1].name, sizeof r->v[r->n - 1].name, "%s", m->name);
    }
    registry_free(reg);
}

/* a better than b? (both fit) */
static bool better(const row *a, const row *b) {
    if (a->desc.n_params != b->desc.n_params) return a->desc.n_params > b->desc.n_params;
    double da = a->has_ppl ? a->ppl_delta : 1e9, db = b->has_ppl ? b->ppl_delta : 1e9;
    if (da != db) return da < db;
    return a->est.decode_ms < b->est.decode_ms;
}

static void human_params(int64_t p, char *buf, size_t cap) {
    if (p >= 1000000000) snprintf(buf, cap, "%.2fB", p / 1e9);
    else snprintf(buf, cap, "%.0fM", p / 1e6);
}

int cli_models_recommend(int argc, char **argv) {
    const char *files[64];
    int n_files = 0;
    long max_lat = -1, max_ram = -1, n_ctx = -1, n_prompt = 512, threads = -1;
    bool json = false, remeasure = false, no_catalog = false;
    const char *catalog = NULL, *ctk = NULL, *ctv = NULL;
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool flag = !strcmp(a, "--json") || !strcmp(a, "--remeasure") || !strcmp(a, "--no-catalog");
        if (!flag && !v) {
            fprintf(stderr, "hearth models recommend: %s needs a value\n", a);
            return 2;
        }
        long *dst = NULL, lo = 0, hi = 0;
        if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--remeasure")) remeasure = true;
        else if (!strcmp(a, "--no-catalog")) no_catalog = true;
        else if (!strcmp(a, "--catalog")) catalog = argv[++i];
        else if (!strcmp(a, "-ctk") || !strcmp(a, "--cache-type-k")) ctk = argv[++i];
        else if (!strcmp(a, "-ctv") || !strcmp(a, "--cache-type-v")) ctv = argv[++i];
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (n_files == 64) return cli_fail("models recommend", NULL, "too many models");
            files[n_files++] = argv[++i];
        } else if (!strcmp(a, "--max-latency-ms")) dst = &max_lat, lo = 1, hi = 100000000;
        else if (!strcmp(a, "--max-ram")) dst = &max_ram, lo = 1, hi = 1L << 30;
        else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) dst = &n_ctx, lo = 1, hi = 1 << 24;
        else if (!strcmp(a, "-p") || !strcmp(a, "--n-prompt")) dst = &n_prompt, lo = 0, hi = 1 << 20;
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) dst = &threads, lo = 1, hi = 1024;
        else {
            fprintf(stderr, "hearth models recommend: unknown argument '%s'\n(see hearth models recommend --help)\n", a);
            return 2;
        }
        if (dst) {
            if (!cli_parse_long(v, lo, hi, dst)) {
                fprintf(stderr, "hearth models recommend: bad %s '%s'\n", a, v);
                return 2;
            }
            i++;
        }
    }

    hearth_settings *set = NULL;
    hearth_error e = {0};
    if (hearth_settings_load(&set, &e)) return cli_fail("models recommend", &e, "settings");
    int64_t x;
    if (max_lat < 0) max_lat = !hearth_settings_get_int(set, "recommend_max_latency_ms", &x, NULL) && x > 0 ? x : 250;
    if (n_ctx < 0) n_ctx = !hearth_settings_get_int(set, "max_context", &x, NULL) && x > 0 ? x : 4096;
    hearth_type type_k, type_v;
    if (!ctk) ctk = hearth_settings_get(set, "cache_type_k", NULL);
    if (!ctv) ctv = hearth_settings_get(set, "cache_type_v", NULL);
    if (hearth_cache_type_parse(ctk ? ctk : "f16", false, &type_k, &e) ||
        hearth_cache_type_parse(ctv ? ctv : "f16", true, &type_v, &e)) {
        hearth_settings_free(set);
        return cli_fail("models recommend", &e, "bad cache type");
    }
    int probe_mb = !hearth_settings_get_int(set, "device_probe_mb", &x, NULL) && x >= 4 && x <= 65536 ? (int)x : 256;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int normal = threads > 0 ? (int)threads
                 : !hearth_settings_get_int(set, "threads", &x, NULL) && x > 0 ? (int)x
                                                                                : (ncpu > 0 ? (int)ncpu : 1);
    hearth_power_policy pol;
    hearth_power_state pst;
    hearth_power_read(NULL, &pst);
    if (hearth_power_policy_from_settings(set, &pol, &e)) {
        hearth_settings_free(set);
        return cli_fail("models recommend", &e, "settings");
    }
    hearth_power_decision dec = hearth_power_decide(&pst, &pol, normal);
    int nth = threads > 0 ? (int)threads : dec.threads;
    int64_t avail = mem_available_mb();
    if (max_ram < 0) max_ram = avail > 0 ? avail : 1L << 30;

    char home[1024], cache[1100], cat[1024];
    if (hearth_store_default_dir(home, sizeof home, &e)) {
        hearth_settings_free(set);
        return cli_fail("models recommend", &e, "no home directory");
    }
    mkdir(home, 0700); /* it may exist; the cache is optional anyway */
    snprintf(cache, sizeof cache, "%s/device.json", home);
    if (!catalog) {
        default_catalog(cat, sizeof cat);
        catalog = cat;
    }

    rows r = {0};
    int rc = 1;
    hearth_catalog_entry *ce = NULL;
    size_t nce = 0;
    char eb[300];
    for (int i = 0; i < n_files; i++)
        if (!add_file(&r, files[i], "file", catalog, eb, sizeof eb)) {
            cli_fail("models recommend", NULL, "%s", eb);
            goto out;
        }
    add_installed(&r, set, catalog);
    if (!no_catalog) {
        if (hearth_catalog_load(catalog, &ce, &nce, &e)) {
            cli_fail("models recommend", &e, "cannot read the catalog");
            goto out;
        }
        for (size_t i = 0; i < nce; i++) {
            row *y = rows_add(&r);
            if (!y) {
                cli_fail("models recommend", NULL, "out of memory");
                goto out;
            }
            snprintf(y->name, sizeof y->name, "%s", ce[i].name);
            snprintf(y->family, sizeof y->family, "%s", ce[i].family);
            y->source = "catalog";
            y->desc = ce[i].desc;
            y->has_ppl = ce[i].has_ppl;
            y->ppl_delta = ce[i].ppl_delta;
            snprintf(y->ppl_source, sizeof y->ppl_source, "%s", ce[i].ppl_source);
        }
    }
    if (r.n == 0) {
        cli_fail("models recommend", NULL, "no models: none installed, no -m FILE, no catalog");
        goto out;
    }

    hearth_device dev;
    if (!json && (remeasure || access(cache, R_OK)))
        fprintf(stderr, "measuring this device (memory bandwidth, kernel speed per weight type)...\n");
    if (hearth_device_get(cache, nth, probe_mb, remeasure, &dev, &e)) {
        cli_fail("models recommend", &e, "cannot measure the device");
        goto out;
    }

    const row *best = NULL, *best_inst = NULL;
    for (size_t i = 0; i < r.n; i++) {
        row *y = &r.v[i];
        /* decode at position 64: the middle of bench's default 128 generated tokens */
        y->est = hearth_estimate_model(&y->desc, &dev, (int32_t)n_ctx, 64, (int32_t)n_prompt,
                                       hearth_kv_elem_bytes(type_k, type_v));
        uint64_t ram_mb = y->est.ram_bytes >> 20;
        if (!y->est.runnable) snprintf(y->why, sizeof y->why, "a weight type hearth cannot run here");
        else if ((long)ram_mb > max_ram) snprintf(y->why, sizeof y->why, "needs %llu MB RAM > %ld", (unsigned long long)ram_mb, max_ram);
        else if (y->est.decode_ms > (double)max_lat) snprintf(y->why, sizeof y->why, "%.0f ms/token > %ld", y->est.decode_ms, max_lat);
        else y->fits = true;
        if (!y->fits) continue;
        if (!best || better(y, best)) best = y;
        if (strcmp(y->source, "catalog") && (!best_inst || better(y, best_inst))) best_inst = y;
    }
    /* on battery below the level: the smallest installed variant (same
     * shape, another quantization) of the best installed model: the one
     * run, chat and serve switch to (models/variant.h) */
    const row *battery_pick = NULL;
    if (dec.prefer_smaller && best_inst) {
        battery_pick = best_inst;
        registry *reg = NULL;
        hearth_error ve;
        char vn[REGISTRY_NAME_MAX + 1], vp[4096];
        if (!registry_open_settings(set, &reg, &ve) &&
            !models_smaller_variant(reg, &best_inst->desc, vn, sizeof vn, vp, sizeof vp, NULL, &ve))
            for (size_t i = 0; i < r.n; i++)
                if (!strcmp(r.v[i].source, "installed") && !strcmp(r.v[i].path, vp)) battery_pick = &r.v[i];
        registry_free(reg);
    }

    char when[32];
    cli_iso_utc(dev.measured_ms, when, sizeof when);
    if (json) {
        json_t *o = json_object(), *arr = json_array(), *d = json_object(), *lim = json_object(), *pw = json_object();
        json_object_set_new(d, "cpu", cli_json_str(dev.cpu));
        json_object_set_new(d, "kernels", json_string(dev.impl));
        json_object_set_new(d, "threads", json_integer(dev.n_threads));
        json_object_set_new(d, "bandwidth_gbps", json_real(dev.bandwidth_gbps));
        json_object_set_new(d, "measured_at", json_string(when));
        json_object_set_new(d, "cached", json_boolean(dev.from_cache));
        json_object_set_new(o, "device", d);
        json_object_set_new(lim, "max_latency_ms", json_integer(max_lat));
        json_object_set_new(lim, "max_ram_mb", json_integer(max_ram));
        json_object_set_new(lim, "n_ctx", json_integer(n_ctx));
        json_object_set_new(lim, "n_prompt", json_integer(n_prompt));
        json_object_set_new(o, "limits", lim);
        json_object_set_new(pw, "source", json_string(hearth_power_source_name(pst.source)));
        json_object_set_new(pw, "percent", pst.percent >= 0 ? json_integer(pst.percent) : json_null());
        json_object_set_new(pw, "policy_applies", json_boolean(dec.on_battery));
        json_object_set_new(o, "power", pw);
        for (size_t i = 0; i < r.n; i++) {
            const row *y = &r.v[i];
            json_t *m = json_object();
            json_object_set_new(m, "name", cli_json_str(y->name));
            json_object_set_new(m, "source", json_string(y->source));
            json_object_set_new(m, "path", y->path[0] ? cli_json_str(y->path) : json_null());
            json_object_set_new(m, "arch", json_string(y->desc.shape.arch));
            json_object_set_new(m, "quant", json_string(y->desc.quant));
            json_object_set_new(m, "size_mb", json_real((double)y->desc.file_bytes / 1048576.0));
            json_object_set_new(m, "params", json_integer(y->desc.n_params));
            uint64_t rb = 0;
            for (int t = 0; t < HEARTH_TYPE_COUNT; t++) rb += y->desc.read_bytes[t];
            json_object_set_new(m, "bytes_per_token", json_integer((json_int_t)rb));
            json_object_set_new(m, "ms_per_token", json_real(y->est.decode_ms));
            json_object_set_new(m, "tokens_per_s", json_real(y->est.tokens_per_s));
            json_object_set_new(m, "prompt_ms", json_real(y->est.prompt_ms));
            json_object_set_new(m, "min_ram_mb", json_integer((json_int_t)(y->est.ram_bytes >> 20)));
            json_object_set_new(m, "kv_cache_mb", json_real((double)y->est.kv_bytes / 1048576.0));
            json_object_set_new(m, "ppl_delta", y->has_ppl ? json_real(y->ppl_delta) : json_null());
            json_object_set_new(m, "accuracy_source", y->has_ppl ? cli_json_str(y->ppl_source) : json_null());
            json_object_set_new(m, "fits", json_boolean(y->fits));
            if (!y->fits) json_object_set_new(m, "why", json_string(y->why));
            if (y->stated.present) {
                json_t *st = json_object();
                json_object_set_new(st, "ppl_ratio", json_real(y->stated.ppl_ratio));
                json_object_set_new(st, "kld_mean", json_real(y->stated.kld_mean));
                json_object_set_new(st, "top1", json_real(y->stated.top1));
                json_object_set_new(st, "eval_tokens", json_integer(y->stated.eval_tokens));
                json_object_set_new(m, "stated_by_quantize", st);
            }
            json_array_append_new(arr, m);
        }
        json_object_set_new(o, "models", arr);
        json_object_set_new(o, "best", best ? cli_json_str(best->path[0] ? best->path : best->name) : json_null());
        json_object_set_new(o, "best_quant", best ? json_string(best->desc.quant) : json_null());
        json_object_set_new(o, "best_installed", best_inst ? cli_json_str(best_inst->path) : json_null());
        if (battery_pick) json_object_set_new(o, "battery_pick", cli_json_str(battery_pick->path));
        if (!best)
            json_object_set_new(o, "reason", json_string("no model fits the limits"));
        cli_print_json(o);
    } else {
        printf("device: ");
        cli_put_safe(stdout, dev.cpu, strlen(dev.cpu), CLI_SAFE_LINE);
        printf(", %d threads, %s kernels, memory %.1f GB/s (%s %s; --remeasure to redo)\n", dev.n_threads,
               dev.impl, dev.bandwidth_gbps, dev.from_cache ? "measured" : "measured now,", when);
        printf("power: %s", hearth_power_source_name(pst.source));
        if (pst.percent >= 0) printf(" %d%%", pst.percent);
        printf("%s\n", dec.on_battery ? (dec.low ? " (battery policy: fewer threads, smaller model)" : " (battery policy: fewer threads)") : "");
        printf("limits: %ld ms/token, %ld MB RAM, context %ld, prompt %ld tokens\n\n", max_lat, max_ram, n_ctx,
               n_prompt);
        printf("%-30s %-7s %-9s %8s %7s %8s %7s %9s %8s %7s  %s\n", "model", "quant", "source", "size MB", "params",
               "ms/tok", "tok/s", "prompt s", "RAM MB", "+ppl", "fits");
        for (size_t i = 0; i < r.n; i++) {
            const row *y = &r.v[i];
            char pp[16], ppl[16];
            human_params(y->desc.n_params, pp, sizeof pp);
            if (y->has_ppl) snprintf(ppl, sizeof ppl, "%.4f", y->ppl_delta);
            else snprintf(ppl, sizeof ppl, "?");
            char nm[31];
            char *safe = cli_safe_dup(y->name, CLI_SAFE_LINE);
            snprintf(nm, sizeof nm, "%s", safe ? safe : "?");
            free(safe);
            printf("%-30s %-7s %-9s %8.0f %7s %8.1f %7.2f %9.2f %8llu %7s  %s\n", nm, y->desc.quant, y->source,
                   (double)y->desc.file_bytes / 1048576.0, pp, y->est.decode_ms, y->est.tokens_per_s,
                   y->est.prompt_ms / 1e3, (unsigned long long)(y->est.ram_bytes >> 20), ppl,
                   y->fits ? "yes" : y->why);
        }
        for (size_t i = 0; i < r.n; i++) {
            const row *y = &r.v[i];
            if (!y->stated.present) continue;
            char *safe = cli_safe_dup(y->name, CLI_SAFE_LINE);
            printf("stated by hearth quantize at write time: %s: ppl ratio %.4f, KLD %.6f over %lld tokens\n",
                   safe ? safe : "?", y->stated.ppl_ratio, y->stated.kld_mean, (long long)y->stated.eval_tokens);
            free(safe);
        }
        putchar('\n');
        if (!best) {
            printf("no model fits: none runs under %ld ms/token within %ld MB RAM; raise --max-latency-ms or "
                   "--max-ram, or lower -c\n", max_lat, max_ram);
        } else {
            printf("best: %s %s (%s, %.1f tok/s, %llu MB RAM)\n", best->name, best->desc.quant, best->source,
                   best->est.tokens_per_s, (unsigned long long)(best->est.ram_bytes >> 20));
            if (best_inst && best_inst != best)
                printf("best installed: %s %s (%.1f tok/s)\n", best_inst->name, best_inst->desc.quant,
                       best_inst->est.tokens_per_s);
            if (battery_pick) printf("on battery below %d%%: %s\n", pol.low_percent, battery_pick->name);
        }
    }
    rc = best ? 0 : 1;
out:
    free(r.v);
    hearth_free(ce);
    hearth_settings_free(set);
    return rc;
}

static int run(int argc, char **argv) { return cli_models_recommend(argc, argv); }

const cli_command cli_cmd_recommend = {
    .name = "recommend",
    .summary = "which model fits this device: expected speed, RAM and accuracy (also `hearth models recommend`)",
    .usage = USAGE,
    .run = run,
};
