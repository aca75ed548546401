/*
 * stats.c: storage management: the size of the file, its log and each
 * table (rows, and bytes of the table's pages plus its indexes' pages from
 * SQLite's dbstat table), and vacuum.
 */
#include "store/store_int.h"

#include "util/error.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The tables a user cares about, in the order they are reported. */
static const char *const tables[] = {
    "sessions", "messages", "tasks", "embeddings", "response_cache", "settings", "changes",
};
_Static_assert(sizeof tables / sizeof tables[0] <= HEARTH_STORE_MAX_TABLES, "stats table room");

static int64_t file_size(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

static hearth_status one_int(hearth_store *s, const char *sqltext, int64_t *out, hearth_error *err) {
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(s->db, sqltext, -1, &q, NULL);
    if (rc != SQLITE_OK) return STORE_FAIL_SQL(s, rc, err, sqltext);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? HEARTH_OK : STORE_FAIL_SQL(s, rc, err, sqltext);
}

hearth_status hearth_store_stats_get(hearth_store *s, hearth_store_stats *st, hearth_error *err) {
    if (!s || !st) return HEARTH_FAIL(err, HEARTH_E_ARG, "store or stats is NULL");
    memset(st, 0, sizeof *st);
    hearth_status r;
    if ((r = one_int(s, "PRAGMA page_size", &st->page_size, err)) ||
        (r = one_int(s, "PRAGMA freelist_count", &st->free_pages, err)))
        return r;
    st->file_bytes = file_size(s->path);
    char wal[4096];
    if (snprintf(wal, sizeof wal, "%s-wal", s->path) < (int)sizeof wal) st->wal_bytes = file_size(wal);

    /* Bytes per table from dbstat, when this SQLite has it; an index's
     * pages count towards its table. */
    sqlite3_stmt *q = NULL;
    bool have_dbstat = sqlite3_prepare_v2(s->db,
                                          "SELECT m.tbl_name, sum(d.pgsize) FROM dbstat AS d"
                                          " JOIN sqlite_schema AS m ON m.name = d.name"
                                          " GROUP BY m.tbl_name",
                                          -1, &q, NULL) == SQLITE_OK;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        hearth_store_table_stat *t = &st->tables[st->n_tables++];
        t->name = tables[i];
        t->bytes = have_dbstat ? 0 : -1;
        char sqltext[96];
        snprintf(sqltext, sizeof sqltext, "SELECT count(*) FROM %s", tables[i]);
        if ((r = one_int(s, sqltext, &t->rows, err))) {
            sqlite3_finalize(q);
            return r;
        }
    }
    if (have_dbstat) {
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(q, 0);
            for (size_t i = 0; name && i < st->n_tables; i++)
                if (!strcmp(name, st->tables[i].name)) st->tables[i].bytes = sqlite3_column_int64(q, 1);
        }
        sqlite3_finalize(q);
        if (rc != SQLITE_DONE) return STORE_FAIL_SQL(s, rc, err, "reading dbstat");
    }
    return HEARTH_OK;
}

hearth_status hearth_store_vacuum(hearth_store *s, hearth_error *err) {
    if (!s) return HEARTH_FAIL(err, HEARTH_E_ARG, "store is NULL");
    if (s->depth > 0) return HEARTH_FAIL(err, HEARTH_E_STATE, "vacuum inside a transaction");
    int rc = sqlite3_exec(s->db, "VACUUM", NULL, NULL, NULL);
    if (rc != SQLITE_OK) return STORE_FAIL_SQL(s, rc, err, "vacuum");
    /* Fold the log into the file and cut it to zero bytes; if a reader
     * holds it this is partial, which is fine (it is reclaimed later). */
    rc = sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    if (rc != SQLITE_OK) return STORE_FAIL_SQL(s, rc, err, "checkpoint");
    return HEARTH_OK;
}
