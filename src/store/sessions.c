/*
 * sessions.c: named conversations, their stored summaries, clearing and
 * deletion. Change records come from the schema's triggers.
 */
#include "store/block.h"
#include "store/store_int.h"

#include "util/alloc.h"
#include "util/error.h"
#include "util/uuid.h"

#include <stddef.h>
#include <string.h>

#define NAME_MAX_LEN 256

/* Looks the name up; HEARTH_E_NOTFOUND (without filling err) if absent. */
static hearth_status find(hearth_store *s, const char *name, int64_t *id, hearth_error *err) {
    sqlite3_stmt *st = store_stmt(s, ST_SESSION_FIND, err);
    if (!st) return err ? err->code : HEARTH_E_IO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    hearth_status r = HEARTH_E_NOTFOUND;
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        r = HEARTH_OK;
    } else if (rc != SQLITE_DONE) {
        r = STORE_FAIL_SQL(s, rc, err, "finding a session");
    }
    sqlite3_reset(st);
    return r;
}

hearth_status store_session_exists(hearth_store *s, int64_t id, hearth_error *err) {
    sqlite3_stmt *st = store_stmt(s, ST_SESSION_EXISTS, err);
    if (!st) return err ? err->code : HEARTH_E_IO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return HEARTH_OK;
    if (rc == SQLITE_DONE) return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no session with id %lld", (long long)id);
    return STORE_FAIL_SQL(s, rc, err, "looking up a session");
}

hearth_status hearth_store_session_find(hearth_store *s, const char *name, int64_t *id,
                                        hearth_error *err) {
    if (!s || !id) return HEARTH_FAIL(err, HEARTH_E_ARG, "store or id is NULL");
    hearth_status st = store_check_str(name, 1, NAME_MAX_LEN, "session name", err);
    if (st) return st;
    st = find(s, name, id, err);
    if (st == HEARTH_E_NOTFOUND) return HEARTH_FAIL(err, st, "no session named '%s'", name);
    return st;
}

hearth_status hearth_store_session_ensure(hearth_store *s, const char *name, int64_t *id,
                                          hearth_error *err) {
    if (!s || !id) return HEARTH_FAIL(err, HEARTH_E_ARG, "store or id is NULL");
    hearth_status st = store_check_str(name, 1, NAME_MAX_LEN, "session name", err);
    if (st) return st;
    st = find(s, name, id, err);
    if (st != HEARTH_E_NOTFOUND) return st;
    /* Absent: look again under the write lock (another process may be
     * creating it right now), then insert. */
    if ((st = store_tx_begin(s, err))) return st;
    st = find(s, name, id, err);
    if (st == HEARTH_E_NOTFOUND) {
        sqlite3_stmt *q = store_stmt(s, ST_SESSION_INSERT, err);
        st = q ? HEARTH_OK : (err ? err->code : HEARTH_E_IO);
        if (!st) {
            int64_t now = store_now_ms();
            char gid[HEARTH_UUID_LEN + 1];
            if (!hearth_uuid7(now, gid)) {
                st = HEARTH_FAIL(err, HEARTH_E_IO, "no random bytes for a session's global id");
            } else {
                sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
                sqlite3_bind_int64(q, 2, now);
                sqlite3_bind_text(q, 3, gid, -1, SQLITE_TRANSIENT);
                st = store_step_done(s, q, err, "creating a session");
            }
            if (!st) *id = sqlite3_last_insert_rowid(s->db);
        }
    }
    return store_tx_end(s, st, err);
}

hearth_status hearth_store_session_list(hearth_store *s, hearth_session **out, size_t *n,
                                        hearth_error *err) {
    if (!s || !out || !n) return HEARTH_FAIL(err, HEARTH_E_ARG, "NULL argument");
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, ST_SESSION_LIST, err);
    if (!st) return err ? err->code : HEARTH_E_IO;
    blk b;
    blk_init(&b, sizeof(hearth_session));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t i = blk_rec(&b);
        if (i == SIZE_MAX) break;
        hearth_session *r = blk_field(&b, i, 0);
        r->id = sqlite3_column_int64(st, 0);
        r->created_ms = sqlite3_column_int64(st, 2);
        r->updated_ms = sqlite3_column_int64(st, 3);
        r->n_messages = sqlite3_column_int64(st, 4);
        r->version = sqlite3_column_int64(st, 5);
        const void *name = sqlite3_column_text(st, 1);
        blk_set_str(&b, i, offsetof(hearth_session, name), name ? name : "",
                    (size_t)sqlite3_column_bytes(st, 1));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        hearth_status r = STORE_FAIL_SQL(s, rc, err, "listing sessions");
        sqlite3_reset(st);
        blk_discard(&b);
        return r;
    }
    sqlite3_reset(st);
    return blk_finish(&b, (void **)out, n, err);
}

static hearth_status clear_or_delete(hearth_store *s, int64_t id, bool delete_session,
                                     hearth_error *err) {
    if (!s) return HEARTH_FAIL(err, HEARTH_E_ARG, "store is NULL");
    hearth_status st = store_tx_begin(s, err);
    if (st) return st;
    st = store_session_exists(s, id, err);
    if (!st) st = store_run_id(s, ST_SESSION_DELETE_MESSAGES, id, NULL, err, "deleting messages");
    if (!st && delete_session)
        st = store_run_id(s, ST_SESSION_DELETE, id, NULL, err, "deleting a session");
    if (!st && !delete_session) {
        sqlite3_stmt *q = store_stmt(s, ST_SESSION_CLEAR_SUMMARY, err);
        if (!q) st = err ? err->code : HEARTH_E_IO;
        else {
            sqlite3_bind_int64(q, 1, id);
            sqlite3_bind_int64(q, 2, store_now_ms());
            st = store_step_done(s, q, err, "clearing a summary");
        }
    }
    return store_tx_end(s, st, err);
}

hearth_status hearth_store_session_clear(hearth_store *s, int64_t id, hearth_error *err) {
    return clear_or_delete(s, id, false, err);
}

hearth_status hearth_store_session_delete(hearth_store *s, int64_t id, hearth_error *err) {
    return clear_or_delete(s, id, true, err);
}

hearth_status hearth_store_summary_set(hearth_store *s, int64_t session_id, const char *text,
                                       int64_t through_id, hearth_error *err) {
    if (!s || !text) return HEARTH_FAIL(err, HEARTH_E_ARG, "store or text is NULL");
    hearth_status st = store_tx_begin(s, err);
    if (st) return st;
    st = store_session_exists(s, session_id, err);
    if (!st) {
        sqlite3_stmt *q = store_stmt(s, ST_SESSION_SET_SUMMARY, err);
        if (!q) st = err ? err->code : HEARTH_E_IO;
        else {
            sqlite3_bind_int64(q, 1, session_id);
            sqlite3_bind_text(q, 2, text, -1, SQLITE_STATIC);
            sqlite3_bind_int64(q, 3, through_id);
            sqlite3_bind_int64(q, 4, store_now_ms());
            st = store_step_done(s, q, err, "storing a summary");
        }
    }
    return store_tx_end(s, st, err);
}

hearth_status hearth_store_summary_get(hearth_store *s, int64_t session_id, char **text,
                                       int64_t *through_id, hearth_error *err) {
    if (!s || !text) return HEARTH_FAIL(err, HEARTH_E_ARG, "store or text is NULL");
    *text = NULL;
    sqlite3_stmt *q = store_stmt(s, ST_SESSION_GET_SUMMARY, err);
    if (!q) return err ? err->code : HEARTH_E_IO;
    sqlite3_bind_int64(q, 1, session_id);
    int rc = sqlite3_step(q);
    hearth_status st;
    if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        *text = hearth_strndup(t ? t : "", (size_t)sqlite3_column_bytes(q, 0));
        if (through_id) *through_id = sqlite3_column_int64(q, 1);
        st = *text ? HEARTH_OK : HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    } else if (rc == SQLITE_ROW) {
        st = HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "session %lld has no summary", (long long)session_id);
    } else if (rc == SQLITE_DONE) {
        st = HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no session with id %lld", (long long)session_id);
    } else {
        st = STORE_FAIL_SQL(s, rc, err, "reading a summary");
    }
    sqlite3_reset(q);
    return st;
}
