/*
 * cmd_storage.c: `hearth storage [--vacuum] [--clear-cache] [--json]`: how
 * much room the local store takes, per table, and the two ways to give
 * some back.
 */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: hearth storage [--vacuum] [--clear-cache] [--json]\n"
    "\n"
    "Shows the size of the local store ($HEARTH_HOME/hearth.db, default\n"
    "~/.local/share/hearth): the file, its write-ahead log, and each table's rows and\n"
    "bytes (indexes included).\n"
    "\n"
    "options:\n"
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

static int run(int argc, char **argv) {
    bool vacuum = false, clear = false, json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--vacuum")) vacuum = true;
        else if (!strcmp(argv[i], "--clear-cache")) clear = true;
        else if (!strcmp(argv[i], "--json")) json = true;
        else {
            fprintf(stderr, "hearth storage: unknown argument '%s'\n(see hearth storage --help)\n", argv[i]);
            return 2;
        }
    }
    hearth_store *s = NULL;
    hearth_error e;
    if (hearth_store_open(NULL, &s, &e) != HEARTH_OK) return cli_fail("storage", &e, "cannot open the store");
    int rc = 0;
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
    if (vacuum && hearth_store_vacuum(s, &e) != HEARTH_OK) {
        rc = cli_fail("storage", &e, "vacuum failed");
        goto out;
    }
    if (hearth_store_stats_get(s, &st, &e) != HEARTH_OK ||
        hearth_store_cache_stats(s, &entries, &cbytes, &e) != HEARTH_OK) {
        rc = cli_fail("storage", &e, "cannot read sizes");
        goto out;
    }
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
    printf("\ncache      %lld entries, %s\n", (long long)entries, a);
    if (clear) printf("cleared    %lld cache entries\n", (long long)cleared);
    if (vacuum) {
        human(before.file_bytes + before.wal_bytes, a, sizeof a);
        human(st.file_bytes + st.wal_bytes, b, sizeof b);
        printf("vacuum     %s -> %s\n", a, b);
    }
out:
    hearth_store_free(s);
    return rc;
}

const cli_command cli_cmd_storage = {
    .name = "storage",
    .summary = "show the local store's size; vacuum it, clear the cache",
    .usage = usage,
    .run = run,
};
