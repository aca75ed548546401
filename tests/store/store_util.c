/*
 * store_util.c: helpers shared by the store tests (see store_util.h).
 */
#include "store_util.h"

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #c); exit(1); } } while (0)

static char dir[512];
static pid_t owner;

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f) {
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

static void cleanup(void) {
    /* forked children exit through _exit, but be safe: only the creator removes */
    if (dir[0] && getpid() == owner && !getenv("HEARTH_KEEP_TMP"))
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *tu_tmpdir(void) {
    if (dir[0]) return dir;
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/hearth-store-XXXXXX", t && *t ? t : "/tmp");
    REQUIRE(mkdtemp(dir) != NULL);
    owner = getpid();
    atexit(cleanup);
    return dir;
}

const char *tu_path(const char *name) {
    static char bufs[4][1024];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", tu_tmpdir(), name);
    return b;
}

hearth_store *tu_open(const char *path) {
    hearth_store_params p = hearth_store_default_params();
    p.path = path;
    hearth_store *s = NULL;
    hearth_error e;
    hearth_status st = hearth_store_open(&p, &s, &e);
    if (st) fprintf(stderr, "open %s: %s\n", path, e.msg);
    REQUIRE(st == HEARTH_OK && s);
    return s;
}

long long tu_sql_int(const char *path, const char *sql) {
    sqlite3 *db;
    long long v = -1;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW)
            if (v == -1) v = sqlite3_column_int64(q, 0);
        if (rc != SQLITE_DONE) fprintf(stderr, "sql '%s': %s\n", sql, sqlite3_errmsg(db));
        sqlite3_finalize(q);
    } else {
        fprintf(stderr, "sql '%s': %s\n", sql, sqlite3_errmsg(db));
    }
    sqlite3_close(db);
    return v;
}
