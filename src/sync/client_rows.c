/*
 * client_rows.c: a synced row's content as JSON (what is sealed into a
 * payload), and writing pulled or merged content back into the local
 * tables. Content holds only fields that mean the same on every device: no
 * local integer ids, no local timestamps (created_ms of a message is the
 * message's own time and travels; a task's created/updated times do not).
 *
 *   tasks:    {title, notes, status, priority, due_ms, tags, payload}
 *   sessions: {kind: "session", name}
 *   messages: {kind: "message", session: GID, role, content, n_tokens,
 *              model, created_ms, source, confidence}
 *   settings: {value}
 *
 * Content from another device is untrusted: each field is type-checked and
 * bounded before it is written; a field of the wrong type takes its
 * default. Writes run inside the caller's transaction.
 */
#include "sync/client_int.h"

#include "store/store_int.h"
#include "util/alloc.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

#define TEXT_MAX ((size_t)1 << 20)

static hearth_status sqlfail(hearth_sync *s, hearth_error *err, const char *what) {
    return HEARTH_FAIL(err, HEARTH_E_IO, "sync: %s: %s", what, sqlite3_errmsg(s->db));
}

static json_t *col_text(sqlite3_stmt *q, int i) {
    if (sqlite3_column_type(q, i) == SQLITE_NULL) return json_null();
    const char *t = (const char *)sqlite3_column_text(q, i);
    json_t *v = json_stringn(t ? t : "", (size_t)sqlite3_column_bytes(q, i));
    return v ? v : json_string("\xef\xbf\xbd"); /* invalid UTF-8 stored by a foreign writer */
}

static json_t *col_int(sqlite3_stmt *q, int i) {
    if (sqlite3_column_type(q, i) == SQLITE_NULL) return json_null();
    return json_integer(sqlite3_column_int64(q, i));
}

static json_t *col_json(sqlite3_stmt *q, int i, json_t *dflt) {
    const char *t = (const char *)sqlite3_column_text(q, i);
    json_t *v = t ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
    if (v) {
        json_decref(dflt);
        return v;
    }
    return dflt;
}

hearth_status sync_row_content(hearth_sync *s, const char *tbl, const char *gid, json_t **out,
                               hearth_error *err) {
    *out = NULL;
    const char *sql;
    if (!strcmp(tbl, "tasks"))
        sql = "SELECT title, notes, status, priority, due_ms, tags, payload FROM tasks WHERE gid = ?1";
    else if (!strcmp(tbl, "sessions"))
        sql = "SELECT name FROM sessions WHERE gid = ?1 UNION ALL SELECT s.name FROM sync_alias a"
              " JOIN sessions s ON s.id = a.session_id WHERE a.gid = ?1 LIMIT 1";
    else if (!strcmp(tbl, "messages"))
        sql = "SELECT m.role, m.content, m.n_tokens, m.model, m.created_ms, m.source,"
              " m.confidence, s.gid FROM messages m JOIN sessions s ON s.id = m.session_id"
              " WHERE m.gid = ?1";
    else if (!strcmp(tbl, "settings"))
        sql = "SELECT value FROM settings WHERE key = ?1";
    else
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sync: no table '%s'", tbl);
    sqlite3_stmt *q;
    if (!(q = sync_prepare(s, sql)))
        return sqlfail(s, err, "reading a row");
    sqlite3_bind_text(q, 1, gid, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    hearth_status st = HEARTH_OK;
    if (rc == SQLITE_ROW) {
        json_t *o = json_object();
        if (!strcmp(tbl, "tasks")) {
            json_object_set_new(o, "title", col_text(q, 0));
            json_object_set_new(o, "notes", col_text(q, 1));
            json_object_set_new(o, "status", col_text(q, 2));
            json_object_set_new(o, "priority", col_int(q, 3));
            json_object_set_new(o, "due_ms", col_int(q, 4));
            json_object_set_new(o, "tags", col_json(q, 5, json_array()));
            json_object_set_new(o, "payload", col_json(q, 6, json_null()));
        } else if (!strcmp(tbl, "sessions")) {
            json_object_set_new(o, "kind", json_string("session"));
            json_object_set_new(o, "name", col_text(q, 0));
        } else if (!strcmp(tbl, "messages")) {
            json_object_set_new(o, "kind", json_string("message"));
            json_object_set_new(o, "role", col_text(q, 0));
            json_object_set_new(o, "content", col_text(q, 1));
            json_object_set_new(o, "n_tokens", col_int(q, 2));
            json_object_set_new(o, "model", col_text(q, 3));
            json_object_set_new(o, "created_ms", col_int(q, 4));
            json_object_set_new(o, "source", col_text(q, 5));
            json_object_set_new(o, "confidence", sqlite3_column_type(q, 6) == SQLITE_NULL
                                                     ? json_null()
                                                     : json_real(sqlite3_column_double(q, 6)));
            json_object_set_new(o, "session", col_text(q, 7));
        } else {
            json_object_set_new(o, "value", col_text(q, 0));
        }
        *out = o;
        if (!o) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    } else if (rc != SQLITE_DONE) {
        st = sqlfail(s, err, "reading a row");
    }
    sync_release(s, q);
    return st;
}

/* A string field of at most max bytes, or dflt. */
static const char *str_field(const json_t *c, const char *k, size_t max, const char *dflt) {
    json_t *v = json_object_get(c, k);
    if (!json_is_string(v) || json_string_length(v) > max) return dflt;
    const char *t = json_string_value(v);
    return strlen(t) == json_string_length(v) ? t : dflt; /* no embedded NUL */
}

static bool int_field(const json_t *c, const char *k, int64_t *out) {
    json_t *v = json_object_get(c, k);
    if (!json_is_integer(v)) return false;
    *out = json_integer_value(v);
    return true;
}

static bool status_ok(const char *st) {
    size_t n = strlen(st);
    if (n < 1 || n > 32) return false;
    for (size_t i = 0; i < n; i++)
        if (!((st[i] >= 'a' && st[i] <= 'z') || st[i] == '_')) return false;
    return true;
}

/* Runs a prepared statement to completion and finalizes it. */
static hearth_status done(hearth_sync *s, sqlite3_stmt *q, hearth_error *err, const char *what) {
    int rc = sqlite3_step(q);
    while (rc == SQLITE_ROW) rc = sqlite3_step(q);
    sync_release(s, q);
    return rc == SQLITE_DONE ? HEARTH_OK : sqlfail(s, err, what);
}

static hearth_status write_task(hearth_sync *s, const char *gid, const json_t *c,
                                hearth_error *err) {
    const char *title = str_field(c, "title", 4096, "");
    if (!*title) title = "(untitled)";
    const char *notes = str_field(c, "notes", TEXT_MAX, "");
    const char *status = str_field(c, "status", 32, "open");
    if (!status_ok(status)) status = "open";
    int64_t prio = 0, due = 0;
    int_field(c, "priority", &prio);
    if (prio < INT32_MIN || prio > INT32_MAX) prio = 0;
    bool has_due = int_field(c, "due_ms", &due) && due != 0;
    /* tags: an array of distinct strings of 1..64 bytes, at most 64 */
    json_t *tags = json_array();
    json_t *in = json_object_get(c, "tags");
    size_t i;
    json_t *t;
    if (json_is_array(in))
        json_array_foreach(in, i, t) {
            if (!json_is_string(t) || json_string_length(t) < 1 || json_string_length(t) > 64 ||
                json_array_size(tags) >= 64)
                continue;
            bool dup = false;
            size_t j;
            json_t *u;
            json_array_foreach(tags, j, u) dup |= json_equal(t, u);
            if (!dup) json_array_append(tags, t);
        }
    char *tags_s = json_dumps(tags, JSON_COMPACT);
    json_decref(tags);
    json_t *pl = json_object_get(c, "payload");
    char *pl_s = pl && !json_is_null(pl) ? json_dumps(pl, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    hearth_status st = HEARTH_OK;
    if (!tags_s) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    sqlite3_stmt *q = NULL;
    if (!st && !(q = sync_prepare(s, "UPDATE tasks SET title = ?2, notes = ?3, status = ?4,"
                                  " priority = ?5, due_ms = ?6, tags = ?7, payload = ?8,"
                                  " updated_ms = ?9, version = version + 1 WHERE gid = ?1")))
        st = sqlfail(s, err, "updating a task");
    for (int pass = 0; !st && pass < 2; pass++) {
        sqlite3_bind_text(q, 1, gid, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, title, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, notes, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 4, status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 5, prio);
        if (has_due) sqlite3_bind_int64(q, 6, due);
        sqlite3_bind_text(q, 7, tags_s, -1, SQLITE_STATIC);
        if (pl_s) sqlite3_bind_text(q, 8, pl_s, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 9, store_now_ms());
        st = done(s, q, err, "writing a task");
        q = NULL;
        if (st || pass == 1 || sqlite3_changes(s->db) > 0) break;
        /* no such row yet: insert it */
        if (!(q = sync_prepare(s, "INSERT INTO tasks (gid, title, notes, status, priority, due_ms,"
                               " tags, payload, updated_ms, created_ms)"
                               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)")))
            st = sqlfail(s, err, "inserting a task");
    }
    free(tags_s);
    free(pl_s);
    return st;
}

/* The local session id named by gid, directly or through an alias; 0 when none. */
static int64_t session_of(hearth_sync *s, const char *gid) {
    int64_t id = sync_query_int(s, 0, "SELECT id FROM sessions WHERE gid = ?1", 1, gid);
    if (!id) id = sync_query_int(s, 0, "SELECT session_id FROM sync_alias WHERE gid = ?1", 1, gid);
    return id;
}

static hearth_status write_message(hearth_sync *s, const char *gid, const json_t *c,
                                   hearth_error *err);

/* Messages pulled before their session was known here (kept as content in
 * sync_rows) are written once it is. */
static hearth_status attach_waiting(hearth_sync *s, const char *session_gid, hearth_error *err) {
    sqlite3_stmt *q;
    if (!(q = sync_prepare(s, "SELECT r.gid, r.base FROM sync_rows r WHERE r.tbl = 'messages'"
                           " AND r.deleted = 0 AND r.base IS NOT NULL AND json_valid(r.base)"
                           " AND json_extract(r.base, '$.session') = ?1"
                           " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.gid = r.gid)")))
        return sqlfail(s, err, "finding waiting messages");
    sqlite3_bind_text(q, 1, session_gid, -1, SQLITE_STATIC);
    typedef struct { char *gid; json_t *c; } waiting;
    waiting *w = NULL;
    size_t n = 0, cap = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            waiting *x = realloc(w, cap * sizeof *x);
            if (!x) break;
            w = x;
        }
        w[n].gid = hearth_strdup((const char *)sqlite3_column_text(q, 0));
        w[n].c = json_loads((const char *)sqlite3_column_text(q, 1), 0, NULL);
        n++;
    }
    sync_release(s, q);
    hearth_status st = HEARTH_OK;
    for (size_t i = 0; i < n; i++) {
        if (!st && w[i].gid && w[i].c) st = write_message(s, w[i].gid, w[i].c, err);
        hearth_free(w[i].gid);
        json_decref(w[i].c);
    }
    free(w);
    return st;
}

static hearth_status write_session(hearth_sync *s, const char *gid, const json_t *c,
                                   hearth_error *err) {
    int64_t id = session_of(s, gid);
    if (!c) {
        if (!id) return HEARTH_OK;
        char ids[24];
        snprintf(ids, sizeof ids, "%lld", (long long)id);
        hearth_status st = sync_exec(s, err, "DELETE FROM messages WHERE session_id = ?1", 1, ids);
        if (!st) st = sync_exec(s, err, "DELETE FROM sync_alias WHERE session_id = ?1", 1, ids);
        if (!st) st = sync_exec(s, err, "DELETE FROM sessions WHERE id = ?1", 1, ids);
        return st;
    }
    if (id) return HEARTH_OK; /* a session's only content is its name, which never changes */
    const char *name = str_field(c, "name", 256, "");
    if (!*name) return HEARTH_OK;
    int64_t same = sync_query_int(s, 0, "SELECT id FROM sessions WHERE name = ?1", 1, name);
    if (same) {
        /* this device already has a conversation of that name: one local
         * session answers to both ids */
        char ids[24];
        snprintf(ids, sizeof ids, "%lld", (long long)same);
        hearth_status st = sync_exec(s, err, "INSERT OR REPLACE INTO sync_alias (gid, session_id) VALUES (?1, ?2)",
                                     2, gid, ids);
        return st ? st : attach_waiting(s, gid, err);
    }
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)store_now_ms());
    hearth_status st = sync_exec(s, err,
                                 "INSERT INTO sessions (gid, name, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?3)",
                                 3, gid, name, now);
    return st ? st : attach_waiting(s, gid, err);
}

static hearth_status write_message(hearth_sync *s, const char *gid, const json_t *c,
                                   hearth_error *err) {
    if (!c) return sync_exec(s, err, "DELETE FROM messages WHERE gid = ?1", 1, gid);
    if (sync_query_int(s, 0, "SELECT 1 FROM messages WHERE gid = ?1", 1, gid)) return HEARTH_OK;
    const char *sgid = str_field(c, "session", SYNC_MAX_ID, "");
    int64_t sid = *sgid ? session_of(s, sgid) : 0;
    if (!sid) return HEARTH_OK; /* its session is not here (yet): kept in sync_rows, attached when it comes */
    const char *role = str_field(c, "role", 32, "");
    if (!*role) role = "user";
    const char *content = str_field(c, "content", (size_t)256 << 20, "");
    const char *model = str_field(c, "model", 256, NULL);
    const char *source = str_field(c, "source", 32, NULL);
    int64_t ntok = 0, created = 0;
    int_field(c, "n_tokens", &ntok);
    if (ntok < 0 || ntok > INT32_MAX) ntok = 0;
    if (!int_field(c, "created_ms", &created) || created <= 0) created = store_now_ms();
    json_t *conf = json_object_get(c, "confidence");
    sqlite3_stmt *q;
    if (!(q = sync_prepare(s, "INSERT INTO messages (gid, session_id, role, content, n_tokens, model,"
                           " created_ms, source, confidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")))
        return sqlfail(s, err, "inserting a message");
    sqlite3_bind_text(q, 1, gid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, sid);
    sqlite3_bind_text(q, 3, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, content, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, ntok);
    if (model && *model) sqlite3_bind_text(q, 6, model, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, created);
    if (source && *source) {
        sqlite3_bind_text(q, 8, source, -1, SQLITE_STATIC);
        if (json_is_number(conf)) {
            double d = json_number_value(conf);
            if (d >= 0.0 && d <= 1.0) sqlite3_bind_double(q, 9, d);
        }
    }
    return done(s, q, err, "inserting a message");
}

static hearth_status write_setting(hearth_sync *s, const char *key, const json_t *c,
                                   hearth_error *err) {
    if (!sync_setting_shared(key)) return HEARTH_OK; /* never overwrite a device-local one */
    if (!c) return sync_exec(s, err, "DELETE FROM settings WHERE key = ?1", 1, key);
    const char *v = str_field(c, "value", TEXT_MAX, NULL);
    if (!v) return HEARTH_OK;
    return sync_exec(s, err,
                     "INSERT INTO settings (key, value) VALUES (?1, ?2)"
                     " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                     " WHERE value IS NOT excluded.value",
                     2, key, v);
}

hearth_status sync_row_write(hearth_sync *s, const char *tbl, const char *gid,
                             const json_t *content, hearth_error *err) {
    if (content && !json_is_object(content)) content = NULL;
    if (!strcmp(tbl, "tasks")) {
        if (!content) return sync_exec(s, err, "DELETE FROM tasks WHERE gid = ?1", 1, gid);
        return write_task(s, gid, content, err);
    }
    if (!strcmp(tbl, "sessions")) return write_session(s, gid, content, err);
    if (!strcmp(tbl, "messages")) return write_message(s, gid, content, err);
    if (!strcmp(tbl, "settings")) return write_setting(s, gid, content, err);
    return HEARTH_FAIL(err, HEARTH_E_ARG, "sync: no table '%s'", tbl);
}

const char *sync_conversation_table(hearth_sync *s, const char *gid, const json_t *content) {
    const char *kind = content ? str_field(content, "kind", 16, "") : "";
    if (!strcmp(kind, "session")) return "sessions";
    if (!strcmp(kind, "message")) return "messages";
    char *t = sync_query_text(s, "SELECT tbl FROM sync_rows WHERE gid = ?1 AND tbl IN"
                                 " ('sessions', 'messages')", 1, gid);
    if (t) {
        const char *r = !strcmp(t, "sessions") ? "sessions" : "messages";
        hearth_free(t);
        return r;
    }
    if (session_of(s, gid)) return "sessions";
    if (sync_query_int(s, 0, "SELECT 1 FROM messages WHERE gid = ?1", 1, gid)) return "messages";
    return NULL;
}
