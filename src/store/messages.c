/*
 * messages.c: appending messages (one or a batch in one transaction) and
 * reading them back by session, time range, id range or as the last N.
 * Messages are immutable once written; their change records come from the
 * schema's triggers.
 */
#include "store/block.h"
#include "store/store_int.h"

#include "util/error.h"
#include "util/uuid.h"

#include <stdio.h>
#include <string.h>

#define ROLE_MAX 32
#define MODEL_MAX 256
#define CONTENT_MAX ((size_t)256 << 20)

hearth_message_query hearth_message_query_default(void) {
    return (hearth_message_query){0};
}

static hearth_status check_message(const hearth_message *m, hearth_error *err) {
    hearth_status st;
    if ((st = store_check_str(m->role, 1, ROLE_MAX, "message role", err))) return st;
    if ((st = store_check_str(m->content, 0, CONTENT_MAX, "message content", err))) return st;
    if (m->model && (st = store_check_str(m->model, 1, MODEL_MAX, "message model", err))) return st;
    if (m->source && (st = store_check_str(m->source, 1, ROLE_MAX, "message source", err)))
        return st;
    if (m->n_tokens < 0) return HEARTH_FAIL(err, HEARTH_E_ARG, "message n_tokens %d < 0", (int)m->n_tokens);
    if (m->session_id <= 0)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "message session_id %lld is not a session id",
                           (long long)m->session_id);
    return HEARTH_OK;
}

/* Inserts one checked message inside an open transaction. A missing session
 * shows up as a foreign key failure, reported as HEARTH_E_NOTFOUND. */
static hearth_status insert(hearth_store *s, const hearth_message *m, int64_t now, int64_t *id,
                            hearth_error *err) {
    sqlite3_stmt *st = store_stmt(s, ST_MESSAGE_INSERT, err);
    if (!st) return err ? err->code : HEARTH_E_IO;
    sqlite3_bind_int64(st, 1, m->session_id);
    sqlite3_bind_text(st, 2, m->role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->content, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, m->n_tokens);
    if (m->model) sqlite3_bind_text(st, 5, m->model, -1, SQLITE_STATIC);
    int64_t created = m->created_ms ? m->created_ms : now;
    char gid[HEARTH_UUID_LEN + 1];
    if (!hearth_uuid7(created, gid))
        return HEARTH_FAIL(err, HEARTH_E_IO, "no random bytes for a message's global id");
    sqlite3_bind_int64(st, 6, created);
    sqlite3_bind_text(st, 9, gid, -1, SQLITE_TRANSIENT);
    if (m->source) {
        sqlite3_bind_text(st, 7, m->source, -1, SQLITE_STATIC);
        if (m->confidence >= 0.0 && m->confidence <= 1.0) sqlite3_bind_double(st, 8, m->confidence);
    }
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no session with id %lld",
                           (long long)m->session_id);
    if (rc != SQLITE_DONE) return STORE_FAIL_SQL(s, rc, err, "inserting a message");
    if (id) *id = sqlite3_last_insert_rowid(s->db);
    return HEARTH_OK;
}

hearth_status hearth_store_message_add(hearth_store *s, const hearth_message *m, int64_t *id,
                                       hearth_error *err) {
    return hearth_store_message_add_batch(s, m, 1, id, err);
}

hearth_status hearth_store_message_add_batch(hearth_store *s, const hearth_message *m, size_t n,
                                             int64_t *ids, hearth_error *err) {
    if (!s || (!m && n)) return HEARTH_FAIL(err, HEARTH_E_ARG, "store or messages NULL");
    hearth_status st;
    for (size_t i = 0; i < n; i++)
        if ((st = check_message(&m[i], err))) {
            if (n > 1) hearth_error_prefix(err, "message %zu", i);
            return st;
        }
    if (n == 0) return HEARTH_OK;
    int64_t now = store_now_ms();
    /* Inside the caller's transaction one INSERT (with its trigger) is
     * atomic by itself: no savepoint needed, which keeps a long series of
     * single adds fast. */
    if (n == 1 && s->depth > 0) return insert(s, m, now, ids, err);
    if ((st = store_tx_begin(s, err))) return st;
    for (size_t i = 0; i < n && !st; i++) st = insert(s, &m[i], now, ids ? &ids[i] : NULL, err);
    return store_tx_end(s, st, err);
}

/* Appends one message row of a SELECT (columns as in ST_MESSAGE_GET). */
static void add_row(blk *b, sqlite3_stmt *q) {
    size_t i = blk_rec(b);
    if (i == SIZE_MAX) return;
    hearth_message *r = blk_field(b, i, 0);
    r->id = sqlite3_column_int64(q, 0);
    r->session_id = sqlite3_column_int64(q, 1);
    r->n_tokens = sqlite3_column_int(q, 4);
    r->created_ms = sqlite3_column_int64(q, 6);
    const void *role = sqlite3_column_text(q, 2);
    blk_set_str(b, i, offsetof(hearth_message, role), role ? role : "",
                (size_t)sqlite3_column_bytes(q, 2));
    const void *content = sqlite3_column_text(q, 3);
    blk_set_str(b, i, offsetof(hearth_message, content), content ? content : "",
                (size_t)sqlite3_column_bytes(q, 3));
    if (sqlite3_column_type(q, 5) != SQLITE_NULL)
        blk_set_str(b, i, offsetof(hearth_message, model), sqlite3_column_text(q, 5),
                    (size_t)sqlite3_column_bytes(q, 5));
    if (sqlite3_column_type(q, 7) != SQLITE_NULL)
        blk_set_str(b, i, offsetof(hearth_message, source), sqlite3_column_text(q, 7),
                    (size_t)sqlite3_column_bytes(q, 7));
    r = blk_field(b, i, 0); /* blk_set_str may have moved the records */
    r->confidence = sqlite3_column_type(q, 8) != SQLITE_NULL ? sqlite3_column_double(q, 8) : -1.0;
}

/* Runs a prepared SELECT of message rows into an owned block. */
static hearth_status collect(hearth_store *s, sqlite3_stmt *q, hearth_message **out, size_t *n,
                             hearth_error *err) {
    blk b;
    blk_init(&b, sizeof(hearth_message));
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) add_row(&b, q);
    if (rc != SQLITE_DONE) {
        hearth_status st = STORE_FAIL_SQL(s, rc, err, "reading messages");
        blk_discard(&b);
        return st;
    }
    return blk_finish(&b, (void **)out, n, err);
}

hearth_status hearth_store_messages(hearth_store *s, const hearth_message_query *q,
                                    hearth_message **out, size_t *n, hearth_error *err) {
    if (!s || !out || !n) return HEARTH_FAIL(err, HEARTH_E_ARG, "NULL argument");
    *out = NULL;
    *n = 0;
    hearth_message_query dq = hearth_message_query_default();
    if (!q) q = &dq;
    /* The WHERE clause names only the bounds that are set, so SQLite can
     * use the session or time index; values are always bound, never
     * printed into the SQL. */
    char where[256] = "1";
    size_t w = 1;
    int64_t vals[4];
    int nv = 0;
#define BOUND(cond, text, v)                                                     \
    if (cond) {                                                                  \
        w += (size_t)snprintf(where + w, sizeof where - w, " AND " text, nv + 1); \
        vals[nv++] = (v);                                                        \
    }
    BOUND(q->session_id, "session_id = ?%d", q->session_id)
    BOUND(q->since_ms, "created_ms >= ?%d", q->since_ms)
    BOUND(q->until_ms, "created_ms < ?%d", q->until_ms)
    BOUND(q->after_id, "id > ?%d", q->after_id)
#undef BOUND
    char sqltext[640];
    const char *cols =
        "id, session_id, role, content, n_tokens, model, created_ms, source, confidence";
    if (q->last_n > 0)
        snprintf(sqltext, sizeof sqltext,
                 "SELECT * FROM (SELECT %s FROM messages WHERE %s ORDER BY id DESC LIMIT %lld)"
                 " ORDER BY id",
                 cols, where, (long long)q->last_n);
    else
        snprintf(sqltext, sizeof sqltext, "SELECT %s FROM messages WHERE %s ORDER BY id", cols,
                 where);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sqltext, -1, &st, NULL);
    if (rc != SQLITE_OK) return STORE_FAIL_SQL(s, rc, err, "preparing a message query");
    for (int i = 0; i < nv; i++) sqlite3_bind_int64(st, i + 1, vals[i]);
    hearth_status r = collect(s, st, out, n, err);
    sqlite3_finalize(st);
    return r;
}

hearth_status hearth_store_message_get(hearth_store *s, int64_t id, hearth_message **out,
                                       hearth_error *err) {
    if (!s || !out) return HEARTH_FAIL(err, HEARTH_E_ARG, "NULL argument");
    *out = NULL;
    sqlite3_stmt *q = store_stmt(s, ST_MESSAGE_GET, err);
    if (!q) return err ? err->code : HEARTH_E_IO;
    sqlite3_bind_int64(q, 1, id);
    size_t n;
    hearth_status st = collect(s, q, out, &n, err);
    sqlite3_reset(q);
    if (!st && n == 0) return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no message with id %lld", (long long)id);
    return st;
}
