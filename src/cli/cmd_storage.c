/*
 * cmd_storage.c: `hearth storage [--prune] [--vacuum] [--clear-cache]
 * [--json]`: how much room the local store takes, per table, and the
 * models (every version the registry keeps), against the quotas
 * models_quota_mb and cache_quota_mb; and the ways to give some back.
 *
 * --prune keeps, of every model name, the active version and the previous
 * one (what `hearth models rollback` switches to); the other versions are
 * removed oldest first, all of them when models_quota_mb is 0, else until
 * the models directory is under the quota. Blobs no name uses and stale
 * temp files go too (registry_gc). The response cache loses its least
 * recently used entries until it is under cache_quota_mb (0: no quota).
 * Saved session states (HOME/kv, kept under kv_cache_mb by the agent) are
 * shown beside them.
 */
#include "cli.h"

#include "models/registry.h"
#include "util/error.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: hearth storage [--prune] [--vacuum] [--clear-cache] [--json]\n"
    "\n"
    "Shows the size of the local store ($HEARTH_HOME/hearth.db, default\n"
    "~/.local/share/hearth): the file, its write-ahead log, and each table's rows and\n"
    "bytes (indexes included); the models directory with every version of every\n"
    "model (active, previous: the rollback target, old); and the quotas\n"
    "(settings models_quota_mb, cache_quota_mb; 0: none); and the saved session\n"
    "states in $HEARTH_HOME/kv against their bound (kv_cache_mb).\n"
    "\n"
    "options:\n"
    "  --prune         remove old model versions (never the active or the previous\n"
    "                  one of a name; all old ones without a models quota, else oldest\n"
    "                  first until under it), blobs no name uses, and least recently\n"
    "                  used cache entries down to cache_quota_mb\n"
    "  --clear-cache   remove every response cache entry first\n"
    "  --vacuum        rebuild the file to give free pages back to the disk first\n"
    "  --json          machine-readable output\n";

static void human(int64_t b, char *buf, size_t cap) {
    if (b < 0) snprintf(buf, cap, "?");
    else if (b < 1024) snprintf(buf, cap, "%lld B", (long long)b);
    else if (b < 1024 * 1024) snprintf(buf, cap, "%.1f KiB", b / 1024.0);
    else if (b < 1024LL * 1024 * 1024) snprintf(buf, cap, "%.1f MiB", b / 1048576.0);
    else snprintf(buf, cap, "%.2f GiB", b / 1073741824.0);
}

/* Bytes of the files in dir (not recursive). */
static int64_t dir_bytes(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int64_t sum = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char p[4200];
        struct stat sb;
        if (de->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (!stat(p, &sb) && S_ISREG(sb.st_mode)) sum += sb.st_size;
    }
    closedir(d);
    return sum;
}

static int64_t models_bytes(const registry *reg) {
    char p[4200];
    snprintf(p, sizeof p, "%s/blobs", registry_dir(reg));
    return dir_bytes(p) + dir_bytes(registry_tmp_dir(reg));
}

static const char *role_of(const registry_model *m, const registry_version *v) {
    if (!strcmp(v->sha256, m->active->sha256)) return "active";
    if (m->previous && !strcmp(v->sha256, m->previous->sha256)) return "previous";
    return "old";
}

typedef struct {
    char name[REGISTRY_NAME_MAX + 1];
    char sha256[65];
    uint64_t size;
} pruned_version;

/* Old versions (neither active nor previous) of every name, oldest first,
 * while quota is 0 or the directory is over it. OUT: *out (malloc'd), *n. */
static hearth_status prune_models(registry *reg, int64_t quota, pruned_version **out, size_t *n,
                                  uint64_t *freed, hearth_error *err) {
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    for (;;) {
        if (quota > 0 && models_bytes(reg) <= quota) return HEARTH_OK;
        /* the oldest old version over all names */
        const registry_model *bm = NULL;
        const registry_version *bv = NULL;
        for (size_t i = 0; i < registry_count(reg); i++) {
            const registry_model *m = registry_model_at(reg, i);
            for (size_t j = 0; j < m->n_versions; j++) {
                const registry_version *v = &m->versions[j];
                if (strcmp(role_of(m, v), "old")) continue;
                if (!bv || v->added_ms < bv->added_ms) {
                    bm = m;
                    bv = v;
                }
            }
        }
        if (!bv) return HEARTH_OK;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            pruned_version *nv = realloc(*out, cap * sizeof *nv);
            if (!nv) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
            *out = nv;
        }
        pruned_version *pv = &(*out)[(*n)++];
        snprintf(pv->name, sizeof pv->name, "%s", bm->name);
        snprintf(pv->sha256, sizeof pv->sha256, "%s", bv->sha256);
        pv->size = bv->size;
        uint64_t f = 0;
        hearth_status st = registry_remove_version(reg, pv->name, pv->sha256, &f, err);
        if (st) return st;
        *freed += f;
    }
}

static json_t *models_json(const registry *reg, int64_t used, int64_t quota) {
    json_t *o = json_object(), *names = json_array();
    json_object_set_new(o, "dir", cli_json_str(registry_dir(reg)));
    json_object_set_new(o, "bytes", json_integer(used));
    json_object_set_new(o, "quota_bytes", quota > 0 ? json_integer(quota) : json_null());
    for (size_t i = 0; i < registry_count(reg); i++) {
        const registry_model *m = registry_model_at(reg, i);
        json_t *e = json_object(), *vs = json_array();
        json_object_set_new(e, "name", cli_json_str(m->name));
        for (size_t j = 0; j < m->n_versions; j++) {
            const registry_version *v = &m->versions[j];
            json_t *x = json_object();
            char when[32];
            cli_iso_utc(v->added_ms, when, sizeof when);
            json_object_set_new(x, "sha256", json_string(v->sha256));
            json_object_set_new(x, "size", json_integer((json_int_t)v->size));
            json_object_set_new(x, "version", cli_json_str(v->version));
            json_object_set_new(x, "added", json_string(when));
            json_object_set_new(x, "role", json_string(role_of(m, v)));
            json_array_append_new(vs, x);
        }
        json_object_set_new(e, "versions", vs);
        json_array_append_new(names, e);
    }
    json_object_set_new(o, "names", names);
    return o;
}

static void models_text(const registry *reg, int64_t used, int64_t quota) {
    char a[32], b[32];
    human(used, a, sizeof a);
    fputs("\nmodels     ", stdout);
    cli_put_safe(stdout, registry_dir(reg), strlen(registry_dir(reg)), CLI_SAFE_LINE);
    if (quota > 0) {
        human(quota, b, sizeof b);
        printf("\n           %s of quota %s%s\n", a, b, used > quota ? " (over: hearth storage --prune)" : "");
    } else {
        printf("\n           %s (no quota: models_quota_mb)\n", a);
    }
    for (size_t i = 0; i < registry_count(reg); i++) {
        const registry_model *m = registry_model_at(reg, i);
        for (size_t j = 0; j < m->n_versions; j++) {
            const registry_version *v = &m->versions[j];
            char when[32];
            cli_iso_utc(v->added_ms, when, sizeof when);
            human((int64_t)v->size, a, sizeof a);
            printf("  %-32.32s %-9s %.12s %10s  %s  ", j == 0 ? m->name : "", role_of(m, v), v->sha256, a, when);
            cli_put_safe(stdout, v->version, strlen(v->version), CLI_SAFE_LINE);
            putchar('\n');
        }
    }
}

static int run(int argc, char **argv) {
    bool vacuum = false, clear = false, json = false, prune = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--vacuum")) vacuum = true;
        else if (!strcmp(argv[i], "--prune")) prune = true;
        else if (!strcmp(argv[i], "--clear-cache")) clear = true;
        else if (!strcmp(argv[i], "--json")) json = true;
        else {
            fprintf(stderr, "hearth storage: unknown argument '%s'\n(see hearth storage --help)\n", argv[i]);
            return 2;
        }
    }
    hearth_store *s = NULL;
    hearth_error e;
    hearth_settings *set = NULL;
    if (hearth_settings_load(&set, &e)) return cli_fail("storage", &e, "settings");
    double mqf = 0, cqf = 0;
    if ((hearth_settings_get_float(set, "models_quota_mb", &mqf, &e) && e.code != HEARTH_E_NOTFOUND) ||
        (hearth_settings_get_float(set, "cache_quota_mb", &cqf, &e) && e.code != HEARTH_E_NOTFOUND) ||
        !(mqf >= 0 && mqf <= 1e9) || !(cqf >= 0 && cqf <= 1e9)) {
        hearth_settings_free(set);
        return cli_fail("storage", NULL, "models_quota_mb and cache_quota_mb must be MB >= 0");
    }
    /* MB may be fractional (0.5 = 512 KiB); a quota under one byte is none */
    int64_t mq = (int64_t)(mqf * 1048576.0), cq = (int64_t)(cqf * 1048576.0);
    /* saved session states (HOME/kv): shown against their bound, which
     * the agent keeps after every answer */
    int64_t kvq = 1024;
    if (hearth_settings_get_int(set, "kv_cache_mb", &kvq, &e) && e.code != HEARTH_E_NOTFOUND) {
        hearth_settings_free(set);
        return cli_fail("storage", &e, "kv_cache_mb");
    }
    kvq = kvq > 0 && kvq < ((int64_t)1 << 40) ? kvq << 20 : 0;
    registry *reg = NULL;
    if (registry_open_settings(set, &reg, &e)) {
        hearth_settings_free(set);
        return cli_fail("storage", &e, "cannot open the model registry");
    }
    hearth_settings_free(set);
    if (hearth_store_open(NULL, &s, &e) != HEARTH_OK) {
        registry_free(reg);
        return cli_fail("storage", &e, "cannot open the store");
    }
    int rc = 0;
    pruned_version *pv = NULL;
    size_t npv = 0;
    uint64_t mfreed = 0;
    int64_t evicted = 0;
    hearth_store_stats before, st;
    int64_t entries = 0, cbytes = 0, cleared = 0;
    if (hearth_store_stats_get(s, &before, &e) != HEARTH_OK) {
        rc = cli_fail("storage", &e, "cannot read sizes");
        goto out;
    }
    if (clear) {
        if (hearth_store_cache_stats(s, &cleared, NULL, &e) != HEARTH_OK ||
            hearth_store_cache_clear(s, &e) != HEARTH_OK) {
            rc = cli_fail("storage", &e, "cannot clear the cache");
            goto out;
        }
    }
    if (prune) {
        int64_t n0 = 0, n1 = 0;
        uint64_t g = 0;
        if (prune_models(reg, mq, &pv, &npv, &mfreed, &e) || registry_gc(reg, 24 * 3600, &g, &e)) {
            rc = cli_fail("storage", &e, "cannot prune the models");
            goto out;
        }
        mfreed += g;
        if (cq > 0 && (hearth_store_cache_stats(s, &n0, NULL, &e) || hearth_store_cache_set_limits(s, 0, cq, &e) ||
                       hearth_store_cache_stats(s, &n1, NULL, &e))) {
            rc = cli_fail("storage", &e, "cannot prune the cache");
            goto out;
        }
        evicted = n0 - n1;
    }
    if (vacuum && hearth_store_vacuum(s, &e) != HEARTH_OK) {
        rc = cli_fail("storage", &e, "vacuum failed");
        goto out;
    }
    if (hearth_store_stats_get(s, &st, &e) != HEARTH_OK ||
        hearth_store_cache_stats(s, &entries, &cbytes, &e) != HEARTH_OK) {
        rc = cli_fail("storage", &e, "cannot read sizes");
        goto out;
    }
    char kvdir[4200];
    const char *dbp = hearth_store_path(s), *slash = strrchr(dbp, '/');
    snprintf(kvdir, sizeof kvdir, "%.*s/kv", slash ? (int)(slash - dbp) : 1, slash ? dbp : ".");
    int64_t kvbytes = dir_bytes(kvdir);
    if (json) {
        json_t *o = json_object(), *tables = json_object(), *cache = json_object();
        json_object_set_new(o, "path", cli_json_str(hearth_store_path(s)));
        json_object_set_new(o, "file_bytes", json_integer(st.file_bytes));
        json_object_set_new(o, "wal_bytes", json_integer(st.wal_bytes));
        json_object_set_new(o, "page_size", json_integer(st.page_size));
        json_object_set_new(o, "free_pages", json_integer(st.free_pages));
        for (size_t i = 0; i < st.n_tables; i++) {
            json_t *t = json_object();
            json_object_set_new(t, "rows", json_integer(st.tables[i].rows));
            json_object_set_new(t, "bytes", st.tables[i].bytes >= 0 ? json_integer(st.tables[i].bytes) : json_null());
            json_object_set_new(tables, st.tables[i].name, t);
        }
        json_object_set_new(o, "tables", tables);
        json_object_set_new(cache, "entries", json_integer(entries));
        json_object_set_new(cache, "bytes", json_integer(cbytes));
        json_object_set_new(o, "cache", cache);
        json_object_set_new(o, "cache_quota_bytes", cq > 0 ? json_integer(cq) : json_null());
        json_object_set_new(o, "session_states_bytes", json_integer(kvbytes));
        json_object_set_new(o, "session_states_bound_bytes", kvq > 0 ? json_integer(kvq) : json_null());
        json_object_set_new(o, "models", models_json(reg, models_bytes(reg), mq));
        if (prune) {
            json_t *p = json_object(), *arr = json_array();
            for (size_t i = 0; i < npv; i++) {
                json_t *x = json_object();
                json_object_set_new(x, "name", cli_json_str(pv[i].name));
                json_object_set_new(x, "sha256", json_string(pv[i].sha256));
                json_object_set_new(x, "size", json_integer((json_int_t)pv[i].size));
                json_array_append_new(arr, x);
            }
            json_object_set_new(p, "versions", arr);
            json_object_set_new(p, "model_bytes_freed", json_integer((json_int_t)mfreed));
            json_object_set_new(p, "cache_entries_evicted", json_integer(evicted));
            json_object_set_new(o, "pruned", p);
        }
        if (clear) json_object_set_new(o, "cache_entries_cleared", json_integer(cleared));
        if (vacuum)
            json_object_set_new(o, "bytes_reclaimed",
                                json_integer(before.file_bytes + before.wal_bytes - st.file_bytes - st.wal_bytes));
        char *text = json_dumps(o, JSON_COMPACT);
        if (text) puts(text);
        free(text);
        json_decref(o);
        goto out;
    }
    char a[32], b[32];
    fputs("database   ", stdout); /* the path comes from $HEARTH_HOME: no controls */
    cli_put_safe(stdout, hearth_store_path(s), strlen(hearth_store_path(s)), CLI_SAFE_LINE);
    putchar('\n');
    human(st.file_bytes, a, sizeof a);
    human(st.wal_bytes, b, sizeof b);
    printf("file       %s (log %s, %lld free pages of %lld bytes)\n", a, b, (long long)st.free_pages,
           (long long)st.page_size);
    printf("\n%-16s %10s %12s\n", "table", "rows", "size");
    for (size_t i = 0; i < st.n_tables; i++) {
        human(st.tables[i].bytes, a, sizeof a);
        printf("%-16s %10lld %12s\n", st.tables[i].name, (long long)st.tables[i].rows, a);
    }
    human(cbytes, a, sizeof a);
    printf("\ncache      %lld entries, %s", (long long)entries, a);
    if (cq > 0) {
        human(cq, b, sizeof b);
        printf(" of quota %s", b);
    }
    putchar('\n');
    human(kvbytes, a, sizeof a);
    if (kvq > 0) {
        human(kvq, b, sizeof b);
        printf("sessions   %s of saved states (kv_cache_mb: %s)\n", a, b);
    } else {
        printf("sessions   %s of saved states (kv_cache_mb 0: off)\n", a);
    }
    models_text(reg, models_bytes(reg), mq);
    if (prune) {
        for (size_t i = 0; i < npv; i++) {
            human((int64_t)pv[i].size, a, sizeof a);
            printf("pruned     ");
            cli_put_safe(stdout, pv[i].name, strlen(pv[i].name), CLI_SAFE_LINE);
            printf(" %.12s (%s)\n", pv[i].sha256, a);
        }
        human((int64_t)mfreed, a, sizeof a);
        printf("pruned     %zu old model versions, %s freed; %lld cache entries evicted\n", npv, a, (long long)evicted);
        if (mq > 0 && models_bytes(reg) > mq)
            printf("note       still over the models quota: active and rollback versions are kept (hearth models rm NAME)\n");
    }
    if (clear) printf("cleared    %lld cache entries\n", (long long)cleared);
    if (vacuum) {
        human(before.file_bytes + before.wal_bytes, a, sizeof a);
        human(st.file_bytes + st.wal_bytes, b, sizeof b);
        printf("vacuum     %s -> %s\n", a, b);
    }
out:
    free(pv);
    registry_free(reg);
    hearth_store_free(s);
    return rc;
}

const cli_command cli_cmd_storage = {
    .name = "storage",
    .summary = "show the local store's and the models' size; prune old versions and the cache to quota",
    .usage = usage,
    .run = run,
};
