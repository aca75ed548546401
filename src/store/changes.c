/*
 * changes.c: reading the change log (written by the schema's triggers in
 * the same transaction as each change to sessions, messages and tasks);
 * the sync layer replays it.
 */
#include "store/block.h"
#include "store/store_int.h"

#include "util/error.h"

hearth_status hearth_store_changes(hearth_store *s, int64_t after_seq, int64_t limit,
                                   hearth_change **out, size_t *n, hearth_error *err) {
    if (!s || !out || !n) return HEARTH_FAIL(err, HEARTH_E_ARG, "NULL argument");
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q = store_stmt(s, ST_CHANGES, err);
    if (!q) return err ? err->code : HEARTH_E_IO;
    sqlite3_bind_int64(q, 1, after_seq);
    sqlite3_bind_int64(q, 2, limit > 0 ? limit : -1);
    blk b;
    blk_init(&b, sizeof(hearth_change));
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        size_t i = blk_rec(&b);
        if (i == SIZE_MAX) break;
        hearth_change *c = blk_field(&b, i, 0);
        c->seq = sqlite3_column_int64(q, 0);
        c->key = sqlite3_column_int64(q, 2);
        c->version = sqlite3_column_int64(q, 3);
        c->time_ms = sqlite3_column_int64(q, 5);
        const void *t = sqlite3_column_text(q, 1), *op = sqlite3_column_text(q, 4);
        blk_set_str(&b, i, offsetof(hearth_change, table), t ? t : "", (size_t)sqlite3_column_bytes(q, 1));
        blk_set_str(&b, i, offsetof(hearth_change, op), op ? op : "", (size_t)sqlite3_column_bytes(q, 4));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        hearth_status st = STORE_FAIL_SQL(s, rc, err, "reading the change log");
        sqlite3_reset(q);
        blk_discard(&b);
        return st;
    }
    sqlite3_reset(q);
    return blk_finish(&b, (void **)out, n, err);
}
