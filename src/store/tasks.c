/*
 * tasks.c: the task list: add, update (optimistic, by version), status,
 * delete, get, and queries by status, tag, priority, due range and text.
 *
 * Tags are stored as a JSON array of strings in tasks.tags (queried with
 * json_each); the payload is any JSON value, checked before it is stored.
 * Every change bumps the row's version; the schema's triggers log it.
 */
#include "store/block.h"
#include "store/store_int.h"

#include "util/alloc.h"
#include "util/error.h"
#include "util/uuid.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define TITLE_MAX 4096
#define NOTES_MAX ((size_t)1 << 20)
#define STATUS_MAX 32
#define TAG_MAX 64
#define TAGS_MAX 64
#define PAYLOAD_MAX ((size_t)16 << 20)
#define TEXT_MAX 1024

static hearth_status check_status(const char *status, hearth_error *err) {
    hearth_status st = store_check_str(status, 1, STATUS_MAX, "task status", err);
    if (st) return st;
    for (const char *p = status; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
            return HEARTH_FAIL(err, HEARTH_E_ARG, "task status '%s': only a-z and _ allowed", status);
    return HEARTH_OK;
}

/* Checks the caller's fields and renders the tags as JSON. OUT: *tags_json
 * (owned by jansson's allocator: free with free()). */
static hearth_status check_task(const hearth_task *t, char **tags_json, hearth_error *err) {
    hearth_status st;
    *tags_json = NULL;
    if ((st = store_check_str(t->title, 1, TITLE_MAX, "task title", err))) return st;
    if (t->notes && (st = store_check_str(t->notes, 0, NOTES_MAX, "task notes", err))) return st;
    if (t->status && (st = check_status(t->status, err))) return st;
    if (t->n_tags > TAGS_MAX)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "task has %zu tags, more than %d", t->n_tags, TAGS_MAX);
    if (t->n_tags && !t->tags) return HEARTH_FAIL(err, HEARTH_E_ARG, "task tags is NULL");
    for (size_t i = 0; i < t->n_tags; i++) {
        if ((st = store_check_str(t->tags[i], 1, TAG_MAX, "task tag", err))) return st;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(t->tags[i], t->tags[j]))
                return HEARTH_FAIL(err, HEARTH_E_ARG, "task tag '%s' given twice", t->tags[i]);
    }
    if (t->payload_json) {
        if ((st = store_check_str(t->payload_json, 1, PAYLOAD_MAX, "task payload", err))) return st;
        json_error_t je;
        json_t *v = json_loads(t->payload_json, JSON_DECODE_ANY, &je);
        if (!v)
            return HEARTH_FAIL(err, HEARTH_E_ARG, "task payload: invalid JSON at line %d column %d: %s",
                               je.line, je.column, je.text);
        json_decref(v);
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < t->n_tags; i++)
        if (json_array_append_new(arr, json_string(t->tags[i])) != 0) {
            /* json_string rejects invalid UTF-8 */
            json_decref(arr);
            return HEARTH_FAIL(err, HEARTH_E_ARG, "task tag %zu is not valid UTF-8", i);
        }
    *tags_json = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!*tags_json) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    return HEARTH_OK;
}

/* Binds the shared columns: title, notes, status, priority, due, tags,
 * payload at parameters first..first+6. */
static void bind_fields(sqlite3_stmt *q, int first, const hearth_task *t, const char *status,
                        const char *tags_json) {
    sqlite3_bind_text(q, first, t->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, first + 1, t->notes ? t->notes : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, first + 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, first + 3, t->priority);
    if (t->due_ms) sqlite3_bind_int64(q, first + 4, t->due_ms);
    sqlite3_bind_text(q, first + 5, tags_json, -1, SQLITE_STATIC);
    if (t->payload_json) sqlite3_bind_text(q, first + 6, t->payload_json, -1, SQLITE_STATIC);
}

hearth_status hearth_store_task_add(hearth_store *s, const hearth_task *t, int64_t *id,
                                    hearth_error *err) {
    if (!s || !t) return HEARTH_FAIL(err, HEARTH_E_ARG, "store or task is NULL");
    char *tags;
    hearth_status st = check_task(t, &tags, err);
    if (st) return st;
    if ((st = store_tx_begin(s, err))) {
        free(tags);
        return st;
    }
    sqlite3_stmt *q = store_stmt(s, ST_TASK_INSERT, err);
    if (!q) st = err ? err->code : HEARTH_E_IO;
    else {
        int64_t now = store_now_ms();
        char gid[HEARTH_UUID_LEN + 1];
        if (!hearth_uuid7(now, gid)) {
            st = HEARTH_FAIL(err, HEARTH_E_IO, "no random bytes for a task's global id");
        } else {
            bind_fields(q, 1, t, t->status ? t->status : "open", tags);
            sqlite3_bind_int64(q, 8, now);
            sqlite3_bind_text(q, 9, gid, -1, SQLITE_TRANSIENT);
            st = store_step_done(s, q, err, "inserting a task");
        }
        if (!st && id) *id = sqlite3_last_insert_rowid(s->db);
    }
    st = store_tx_end(s, st, err);
    free(tags);
    return st;
}

/* Reads the version and status of task id (inside a transaction). OUT:
 * *status (owned, hearth_free). HEARTH_E_NOTFOUND if there is no such task. */
static hearth_status current(hearth_store *s, int64_t id, int64_t *version, char **status,
                             hearth_error *err) {
    sqlite3_stmt *q = store_stmt(s, ST_TASK_VERSION, err);
    if (!q) return err ? err->code : HEARTH_E_IO;
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q);
    hearth_status st = HEARTH_OK;
    if (rc == SQLITE_ROW) {
        *version = sqlite3_column_int64(q, 0);
        const char *t = (const char *)sqlite3_column_text(q, 1);
        if (status && !(*status = hearth_strdup(t ? t : "open")))
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    } else if (rc == SQLITE_DONE) {
        st = HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no task with id %lld", (long long)id);
    } else {
        st = STORE_FAIL_SQL(s, rc, err, "reading a task");
    }
    sqlite3_reset(q);
    return st;
}

hearth_status hearth_store_task_update(hearth_store *s, const hearth_task *t, int64_t *version,
                                       hearth_error *err) {
    if (!s || !t) return HEARTH_FAIL(err, HEARTH_E_ARG, "store or task is NULL");
    char *tags;
    hearth_status st = check_task(t, &tags, err);
    if (st) return st;
    if ((st = store_tx_begin(s, err))) {
        free(tags);
        return st;
    }
    int64_t cur = 0;
    char *old_status = NULL;
    st = current(s, t->id, &cur, &old_status, err);
    if (!st && t->version && t->version != cur)
        st = HEARTH_FAIL(err, HEARTH_E_STATE,
                         "task %lld: version %lld expected, but it is at %lld (changed meanwhile)",
                         (long long)t->id, (long long)t->version, (long long)cur);
    if (!st) {
        sqlite3_stmt *q = store_stmt(s, ST_TASK_UPDATE, err);
        if (!q) st = err ? err->code : HEARTH_E_IO;
        else {
            sqlite3_bind_int64(q, 1, t->id);
            bind_fields(q, 2, t, t->status ? t->status : old_status, tags);
            sqlite3_bind_int64(q, 9, store_now_ms());
            int rc = sqlite3_step(q);
            if (rc == SQLITE_ROW) {
                if (version) *version = sqlite3_column_int64(q, 0);
                rc = sqlite3_step(q);
            }
            if (rc != SQLITE_DONE) st = STORE_FAIL_SQL(s, rc, err, "updating a task");
            sqlite3_reset(q);
        }
    }
    hearth_free(old_status);
    st = store_tx_end(s, st, err);
    free(tags);
    return st;
}

hearth_status hearth_store_task_set_status(hearth_store *s, int64_t id, const char *status,
                                           hearth_error *err) {
    if (!s) return HEARTH_FAIL(err, HEARTH_E_ARG, "store is NULL");
    hearth_status st = check_status(status, err);
    if (st) return st;
    if ((st = store_tx_begin(s, err))) return st;
    sqlite3_stmt *q = store_stmt(s, ST_TASK_SET_STATUS, err);
    if (!q) st = err ? err->code : HEARTH_E_IO;
    else {
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_text(q, 2, status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, store_now_ms());
        st = store_step_done(s, q, err, "setting a task's status");
        if (!st && sqlite3_changes(s->db) == 0)
            st = HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no task with id %lld", (long long)id);
    }
    return store_tx_end(s, st, err);
}

hearth_status hearth_store_task_delete(hearth_store *s, int64_t id, hearth_error *err) {
    if (!s) return HEARTH_FAIL(err, HEARTH_E_ARG, "store is NULL");
    hearth_status st = store_tx_begin(s, err);
    if (st) return st;
    int changed = 0;
    st = store_run_id(s, ST_TASK_DELETE, id, &changed, err, "deleting a task");
    if (!st && changed == 0) st = HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no task with id %lld", (long long)id);
    return store_tx_end(s, st, err);
}

/* Appends one task row (columns as in ST_TASK_GET). A tags column that is
 * not an array of strings (a damaged or foreign row) reads as no tags. */
static void add_row(blk *b, sqlite3_stmt *q) {
    size_t i = blk_rec(b);
    if (i == SIZE_MAX) return;
    hearth_task *r = blk_field(b, i, 0);
    r->id = sqlite3_column_int64(q, 0);
    r->priority = sqlite3_column_int(q, 4);
    r->due_ms = sqlite3_column_type(q, 5) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 5);
    r->created_ms = sqlite3_column_int64(q, 8);
    r->updated_ms = sqlite3_column_int64(q, 9);
    r->version = sqlite3_column_int64(q, 10);
    static const struct { int col; size_t off; } strs[] = {
        {1, offsetof(hearth_task, title)},
        {2, offsetof(hearth_task, notes)},
        {3, offsetof(hearth_task, status)},
    };
    for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++) {
        const void *t = sqlite3_column_text(q, strs[k].col);
        blk_set_str(b, i, strs[k].off, t ? t : "", (size_t)sqlite3_column_bytes(q, strs[k].col));
    }
    if (sqlite3_column_type(q, 7) != SQLITE_NULL)
        blk_set_str(b, i, offsetof(hearth_task, payload_json), sqlite3_column_text(q, 7),
                    (size_t)sqlite3_column_bytes(q, 7));
    const char *tags = (const char *)sqlite3_column_text(q, 6);
    json_t *arr = tags ? json_loads(tags, 0, NULL) : NULL;
    size_t nt = json_is_array(arr) ? json_array_size(arr) : 0;
    if (nt) {
        size_t at = blk_set_ptr_array(b, i, offsetof(hearth_task, tags), nt);
        size_t kept = 0;
        for (size_t k = 0; k < nt; k++) {
            json_t *e = json_array_get(arr, k);
            if (!json_is_string(e)) continue;
            blk_set_array_str(b, at, kept++, json_string_value(e), json_string_length(e));
        }
        ((hearth_task *)blk_field(b, i, 0))->n_tags = kept;
    }
    json_decref(arr);
}

static hearth_status collect(hearth_store *s, sqlite3_stmt *q, hearth_task **out, size_t *n,
                             hearth_error *err) {
    blk b;
    blk_init(&b, sizeof(hearth_task));
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) add_row(&b, q);
    if (rc != SQLITE_DONE) {
        hearth_status st = STORE_FAIL_SQL(s, rc, err, "reading tasks");
        blk_discard(&b);
        return st;
    }
    return blk_finish(&b, (void **)out, n, err);
}

hearth_status hearth_store_task_get(hearth_store *s, int64_t id, hearth_task **out,
                                    hearth_error *err) {
    if (!s || !out) return HEARTH_FAIL(err, HEARTH_E_ARG, "NULL argument");
    *out = NULL;
    sqlite3_stmt *q = store_stmt(s, ST_TASK_GET, err);
    if (!q) return err ? err->code : HEARTH_E_IO;
    sqlite3_bind_int64(q, 1, id);
    size_t n;
    hearth_status st = collect(s, q, out, &n, err);
    sqlite3_reset(q);
    if (!st && n == 0) return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no task with id %lld", (long long)id);
    return st;
}

hearth_task_query hearth_task_query_default(void) {
    return (hearth_task_query){.priority_min = INT32_MIN, .priority_max = INT32_MAX};
}

/* LIKE pattern matching text anywhere: %text% with %, _ and \ escaped. */
static char *like_pattern(const char *text) {
    size_t n = strlen(text);
    char *p = hearth_malloc(2 * n + 3);
    if (!p) return NULL;
    size_t j = 0;
    p[j++] = '%';
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '%' || text[i] == '_' || text[i] == '\\') p[j++] = '\\';
        p[j++] = text[i];
    }
    p[j++] = '%';
    p[j] = '\0';
    return p;
}

hearth_status hearth_store_tasks(hearth_store *s, const hearth_task_query *q, hearth_task **out,
                                 size_t *n, hearth_error *err) {
    if (!s || !out || !n) return HEARTH_FAIL(err, HEARTH_E_ARG, "NULL argument");
    *out = NULL;
    *n = 0;
    hearth_task_query dq = hearth_task_query_default();
    if (!q) q = &dq;
    hearth_status st;
    if (q->status && (st = check_status(q->status, err))) return st;
    if (q->tag && (st = store_check_str(q->tag, 1, TAG_MAX, "tag filter", err))) return st;
    if (q->text && (st = store_check_str(q->text, 0, TEXT_MAX, "text filter", err))) return st;

    /* Only the filters that are set appear in the SQL; every value is bound. */
    char sqltext[1024];
    size_t w = (size_t)snprintf(sqltext, sizeof sqltext,
                                "SELECT id, title, notes, status, priority, due_ms, tags, payload,"
                                " created_ms, updated_ms, version FROM tasks WHERE 1");
#define CLAUSE(text) w += (size_t)snprintf(sqltext + w, sizeof sqltext - w, " AND " text)
    if (q->status) CLAUSE("status = :status");
    if (q->tag) CLAUSE("EXISTS (SELECT 1 FROM json_each(tasks.tags) WHERE json_each.value = :tag)");
    if (q->priority_min != INT32_MIN) CLAUSE("priority >= :pmin");
    if (q->priority_max != INT32_MAX) CLAUSE("priority <= :pmax");
    if (q->due_after_ms) CLAUSE("due_ms >= :after");
    if (q->due_before_ms) CLAUSE("due_ms < :before");
    if (q->text) CLAUSE("(title LIKE :text ESCAPE '\\' OR notes LIKE :text ESCAPE '\\')");
#undef CLAUSE
    w += (size_t)snprintf(sqltext + w, sizeof sqltext - w,
                          " ORDER BY priority DESC, due_ms IS NULL, due_ms, id");
    if (q->limit > 0)
        snprintf(sqltext + w, sizeof sqltext - w, " LIMIT %lld", (long long)q->limit);

    char *pattern = q->text ? like_pattern(q->text) : NULL;
    if (q->text && !pattern) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    sqlite3_stmt *qs;
    int rc = sqlite3_prepare_v2(s->db, sqltext, -1, &qs, NULL);
    if (rc != SQLITE_OK) {
        hearth_free(pattern);
        return STORE_FAIL_SQL(s, rc, err, "preparing a task query");
    }
#define BIND_TEXT(name, v) sqlite3_bind_text(qs, sqlite3_bind_parameter_index(qs, name), v, -1, SQLITE_STATIC)
#define BIND_INT(name, v) sqlite3_bind_int64(qs, sqlite3_bind_parameter_index(qs, name), v)
    if (q->status) BIND_TEXT(":status", q->status);
    if (q->tag) BIND_TEXT(":tag", q->tag);
    if (q->text) BIND_TEXT(":text", pattern);
    if (q->priority_min != INT32_MIN) BIND_INT(":pmin", q->priority_min);
    if (q->priority_max != INT32_MAX) BIND_INT(":pmax", q->priority_max);
    if (q->due_after_ms) BIND_INT(":after", q->due_after_ms);
    if (q->due_before_ms) BIND_INT(":before", q->due_before_ms);
#undef BIND_TEXT
#undef BIND_INT
    st = collect(s, qs, out, n, err);
    sqlite3_finalize(qs);
    hearth_free(pattern);
    return st;
}
