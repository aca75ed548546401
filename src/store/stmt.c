/*
 * stmt.c: the store's fixed SQL statements (one table indexed by
 * store_stmt_id, prepared on first use) and its transactions.
 *
 * Transactions nest: depth 0 -> BEGIN IMMEDIATE (take the write lock up
 * front, so a read-then-write transaction never fails half-way with BUSY),
 * deeper levels -> SAVEPOINT. Only the outermost COMMIT makes changes
 * durable; it is also the moment the in-memory embedding index catches up.
 */
#include "store/store_int.h"

#include "util/error.h"

static const char *const sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT hearth",
    [ST_RELEASE] = "RELEASE hearth",
    [ST_ROLLBACK_TO] = "ROLLBACK TO hearth",

    [ST_SESSION_INSERT] = "INSERT INTO sessions (name, created_ms, updated_ms, gid) VALUES (?1, ?2, ?2, ?3)",
    [ST_SESSION_FIND] = "SELECT id FROM sessions WHERE name = ?1",
    [ST_SESSION_EXISTS] = "SELECT 1 FROM sessions WHERE id = ?1",
    [ST_SESSION_LIST] =
        "SELECT s.id, s.name, s.created_ms,"
        " max(s.updated_ms, coalesce((SELECT max(m.created_ms) FROM messages m"
        "                             WHERE m.session_id = s.id), 0)) AS upd,"
        " (SELECT count(*) FROM messages m WHERE m.session_id = s.id), s.version"
        " FROM sessions s ORDER BY upd DESC, s.id DESC",
    [ST_SESSION_DELETE_MESSAGES] = "DELETE FROM messages WHERE session_id = ?1",
    [ST_SESSION_DELETE] = "DELETE FROM sessions WHERE id = ?1",
    [ST_SESSION_SET_SUMMARY] = "UPDATE sessions SET summary = ?2, summary_through = ?3,"
                               " updated_ms = ?4, version = version + 1 WHERE id = ?1",
    [ST_SESSION_CLEAR_SUMMARY] = "UPDATE sessions SET summary = NULL, summary_through = 0,"
                                 " updated_ms = ?2, version = version + 1 WHERE id = ?1",
    [ST_SESSION_GET_SUMMARY] = "SELECT summary, summary_through FROM sessions WHERE id = ?1",

    [ST_MESSAGE_INSERT] = "INSERT INTO messages (session_id, role, content, n_tokens, model,"
                          " created_ms, source, confidence, gid) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_MESSAGE_GET] = "SELECT id, session_id, role, content, n_tokens, model, created_ms,"
                       " source, confidence FROM messages WHERE id = ?1",

    [ST_TASK_INSERT] = "INSERT INTO tasks (title, notes, status, priority, due_ms, tags, payload,"
                       " created_ms, updated_ms, gid) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)",
    [ST_TASK_UPDATE] = "UPDATE tasks SET title = ?2, notes = ?3, status = ?4, priority = ?5,"
                       " due_ms = ?6, tags = ?7, payload = ?8, updated_ms = ?9,"
                       " version = version + 1 WHERE id = ?1 RETURNING version",
    [ST_TASK_VERSION] = "SELECT version, status FROM tasks WHERE id = ?1",
    [ST_TASK_SET_STATUS] = "UPDATE tasks SET status = ?2, updated_ms = ?3,"
                           " version = version + 1 WHERE id = ?1",
    [ST_TASK_DELETE] = "DELETE FROM tasks WHERE id = ?1",
    [ST_TASK_GET] = "SELECT id, title, notes, status, priority, due_ms, tags, payload,"
                    " created_ms, updated_ms, version FROM tasks WHERE id = ?1",

    [ST_EMBED_UPSERT] =
        "INSERT INTO embeddings (owner_kind, owner_id, group_id, model, dim, vec, created_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        " ON CONFLICT (owner_kind, owner_id, model) DO UPDATE SET group_id = excluded.group_id,"
        " dim = excluded.dim, vec = excluded.vec, created_ms = excluded.created_ms"
        " RETURNING id",
    [ST_EMBED_DELETE_OWNER] = "DELETE FROM embeddings WHERE owner_kind = ?1 AND owner_id = ?2",
    [ST_EMBED_GET] = "SELECT owner_kind, owner_id, group_id, model, dim, vec FROM embeddings"
                     " WHERE id = ?1",
    [ST_EMBED_LOAD_MODEL] = "SELECT id, owner_kind, owner_id, group_id, dim, vec FROM embeddings"
                            " WHERE model = ?1",

    [ST_CACHE_TICK] = "UPDATE cache_totals SET tick = tick + 1 WHERE id = 1 RETURNING tick",
    [ST_CACHE_GET] = "SELECT response FROM response_cache WHERE key = ?1",
    [ST_CACHE_TOUCH] = "UPDATE response_cache SET hits = hits + 1, last_used_ms = ?2, tick = ?3"
                       " WHERE key = ?1",
    [ST_CACHE_PUT] =
        "INSERT INTO response_cache (key, response, hits, created_ms, last_used_ms, tick, size)"
        " VALUES (?1, ?2, 0, ?3, ?3, ?4, ?5)"
        " ON CONFLICT (key) DO UPDATE SET response = excluded.response, hits = 0,"
        " created_ms = excluded.created_ms, last_used_ms = excluded.last_used_ms,"
        " tick = excluded.tick, size = excluded.size",
    [ST_CACHE_TOTALS] = "SELECT entries, bytes FROM cache_totals WHERE id = 1",
    [ST_CACHE_EVICT] = "DELETE FROM response_cache WHERE key IN"
                       " (SELECT key FROM response_cache ORDER BY tick LIMIT ?1)",
    [ST_CACHE_CLEAR] = "DELETE FROM response_cache",

    [ST_SETTING_GET] = "SELECT value FROM settings WHERE key = ?1",
    [ST_SETTING_SET] = "INSERT INTO settings (key, value) VALUES (?1, ?2)"
                       " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [ST_SETTING_UNSET] = "DELETE FROM settings WHERE key = ?1",

    [ST_CHANGES] = "SELECT seq, tbl, key, version, op, time_ms FROM changes WHERE seq > ?1"
                   " ORDER BY seq LIMIT ?2",
    [ST_DATA_VERSION] = "PRAGMA data_version",
};

sqlite3_stmt *store_stmt(hearth_store *s, store_stmt_id id, hearth_error *err) {
    if (HEARTH_NEVER(id < 0 || id >= ST__COUNT || !sql[id])) {
        HEARTH_FAIL(err, HEARTH_E_ARG, "no statement %d", (int)id);
        return NULL;
    }
    sqlite3_stmt *st = s->stmt[id];
    if (!st) {
        int rc = sqlite3_prepare_v3(s->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
        if (rc != SQLITE_OK) {
            STORE_FAIL_SQL(s, rc, err, "preparing a statement");
            return NULL;
        }
        s->stmt[id] = st;
    } else {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    return st;
}

void store_stmt_finalize_all(hearth_store *s) {
    for (int i = 0; i < ST__COUNT; i++) {
        sqlite3_finalize(s->stmt[i]);
        s->stmt[i] = NULL;
    }
}

hearth_status store_step_done(hearth_store *s, sqlite3_stmt *st, hearth_error *err,
                              const char *what) {
    int rc = sqlite3_step(st);
    hearth_status r = HEARTH_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) r = STORE_FAIL_SQL(s, rc, err, what);
    sqlite3_reset(st);
    return r;
}

static hearth_status run(hearth_store *s, store_stmt_id id, hearth_error *err, const char *what) {
    sqlite3_stmt *st = store_stmt(s, id, err);
    if (!st) return err ? err->code : HEARTH_E_IO;
    return store_step_done(s, st, err, what);
}

hearth_status store_run_id(hearth_store *s, store_stmt_id id, int64_t key, int *changes,
                           hearth_error *err, const char *what) {
    sqlite3_stmt *st = store_stmt(s, id, err);
    if (!st) return err ? err->code : HEARTH_E_IO;
    sqlite3_bind_int64(st, 1, key);
    hearth_status r = store_step_done(s, st, err, what);
    if (!r && changes) *changes = sqlite3_changes(s->db);
    return r;
}

hearth_status store_tx_begin(hearth_store *s, hearth_error *err) {
    hearth_status st = s->depth == 0 ? run(s, ST_BEGIN, err, "beginning a transaction")
                                     : run(s, ST_SAVEPOINT, err, "opening a savepoint");
    if (st) return st;
    if (s->depth == 0) {
        s->n_touched = 0;
        s->touched_all = false;
    }
    s->depth++;
    return HEARTH_OK;
}

hearth_status store_tx_end(hearth_store *s, hearth_status st, hearth_error *err) {
    if (HEARTH_NEVER(s->depth <= 0)) return st ? st : HEARTH_FAIL(err, HEARTH_E_STATE, "no transaction");
    /* On the failure paths err already says what went wrong first; the
     * clean-up's own errors must not overwrite it. */
    hearth_error scratch;
    if (s->depth > 1) {
        s->depth--;
        if (!st) return run(s, ST_RELEASE, err, "releasing a savepoint");
        run(s, ST_ROLLBACK_TO, &scratch, "rolling back to a savepoint");
        run(s, ST_RELEASE, &scratch, "releasing a savepoint");
        return st;
    }
    s->depth = 0;
    if (!st) {
        st = run(s, ST_COMMIT, err, "committing");
        if (!st) {
            store_vecs_after_commit(s);
            return HEARTH_OK;
        }
    }
    /* A failed COMMIT leaves the transaction open (e.g. SQLITE_BUSY):
     * roll it back so the handle is usable again. */
    if (!sqlite3_get_autocommit(s->db)) run(s, ST_ROLLBACK, &scratch, "rolling back");
    store_vecs_after_rollback(s);
    return st;
}

hearth_status hearth_store_begin(hearth_store *s, hearth_error *err) {
    if (!s) return HEARTH_FAIL(err, HEARTH_E_ARG, "store is NULL");
    return store_tx_begin(s, err);
}

hearth_status hearth_store_commit(hearth_store *s, hearth_error *err) {
    if (!s) return HEARTH_FAIL(err, HEARTH_E_ARG, "store is NULL");
    if (s->depth <= 0) return HEARTH_FAIL(err, HEARTH_E_STATE, "commit without begin");
    return store_tx_end(s, HEARTH_OK, err);
}

hearth_status hearth_store_rollback(hearth_store *s, hearth_error *err) {
    if (!s) return HEARTH_FAIL(err, HEARTH_E_ARG, "store is NULL");
    if (s->depth <= 0) return HEARTH_FAIL(err, HEARTH_E_STATE, "rollback without begin");
    store_tx_end(s, HEARTH_E_CANCELLED, err);
    return HEARTH_OK;
}
