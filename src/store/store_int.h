/*
 * store_int.h: private parts of the local store shared by its files.
 *
 * Invariants:
 *  - every public write runs between store_tx_begin and store_tx_end, so it is
 *    atomic on its own (BEGIN IMMEDIATE ... COMMIT at depth 0) or inside the
 *    caller's transaction (SAVEPOINT ... RELEASE, ROLLBACK TO on failure);
 *  - prepared statements live in a table indexed by store_stmt_id, prepared
 *    on first use and reset after every use (store_stmt returns them reset
 *    with bindings cleared);
 *  - the in-memory embedding index (vec_index) mirrors committed rows only:
 *    rowids of embeddings touched during a transaction are collected by the
 *    update hook and re-read after the outermost commit.
 */
#ifndef HEARTH_STORE_INT_H
#define HEARTH_STORE_INT_H

#include "hearth.h"

#include <sqlite3.h>

#include "store/vec_index.h"

/* Stamped into the database header (PRAGMA application_id) so that hearth
 * never migrates a SQLite file that belongs to some other program: "HRTH". */
#define STORE_APP_ID 0x48525448

/* Prepared statements, one enum value per row of the SQL table in stmt.c. */
typedef enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_SESSION_INSERT,
    ST_SESSION_FIND,
    ST_SESSION_EXISTS,
    ST_SESSION_LIST,
    ST_SESSION_DELETE_MESSAGES,
    ST_SESSION_DELETE,
    ST_SESSION_SET_SUMMARY,
    ST_SESSION_CLEAR_SUMMARY,
    ST_SESSION_GET_SUMMARY,
    ST_MESSAGE_INSERT,
    ST_MESSAGE_GET,
    ST_TASK_INSERT,
    ST_TASK_UPDATE,
    ST_TASK_VERSION,
    ST_TASK_SET_STATUS,
    ST_TASK_DELETE,
    ST_TASK_GET,
    ST_EMBED_UPSERT,
    ST_EMBED_DELETE_OWNER,
    ST_EMBED_GET,
    ST_EMBED_LOAD_MODEL,
    ST_CACHE_TICK,
    ST_CACHE_GET,
    ST_CACHE_TOUCH,
    ST_CACHE_PUT,
    ST_CACHE_TOTALS,
    ST_CACHE_EVICT,
    ST_CACHE_CLEAR,
    ST_SETTING_GET,
    ST_SETTING_SET,
    ST_SETTING_UNSET,
    ST_CHANGES,
    ST_DATA_VERSION,
    ST__COUNT
} store_stmt_id;

struct hearth_store {
    sqlite3 *db;
    char *path;                     /* owned */
    int depth;                      /* open transaction levels (0: autocommit) */
    int64_t cache_max_entries;      /* <= 0: unlimited */
    int64_t cache_max_bytes;        /* <= 0: unlimited */
    sqlite3_stmt *stmt[ST__COUNT];  /* prepared on first use */
    vec_index vecs;                 /* committed embeddings, by model */
    /* rowids of embeddings written since the outermost transaction began
     * (filled by the update hook); touched_all: too many to track, or a
     * write that bypassed the hook: drop the loaded index instead. */
    int64_t *touched;
    size_t n_touched, cap_touched;
    bool touched_all;
};

/* ---- errors and time (store.c) ---- */

/* Turns the connection's last SQLite error into a hearth error about what
 * (e.g. "insert message"). Returns the mapped status. */
hearth_status store_sqlite_fail(hearth_store *s, int rc, hearth_error *err, const char *file,
                                int line, const char *what);
#define STORE_FAIL_SQL(s, rc, err, what) store_sqlite_fail((s), (rc), (err), __FILE__, __LINE__, (what))

/* Current wall-clock time, Unix epoch milliseconds. */
int64_t store_now_ms(void);

/* Checks that str is non-NULL and its length is in [min, max]. */
hearth_status store_check_str(const char *str, size_t min, size_t max, const char *field,
                              hearth_error *err);

/* ---- statements and transactions (stmt.c) ---- */

/* The statement id, prepared if needed, reset and unbound. NULL with err
 * filled on failure. */
sqlite3_stmt *store_stmt(hearth_store *s, store_stmt_id id, hearth_error *err);
/* Finalizes every prepared statement. */
void store_stmt_finalize_all(hearth_store *s);
/* Steps a statement expected to finish (DONE); resets it. */
hearth_status store_step_done(hearth_store *s, sqlite3_stmt *st, hearth_error *err,
                              const char *what);

/* Binds key to ?1 of statement id and runs it to completion. OUT:
 * *changes (optional): rows it changed. */
hearth_status store_run_id(hearth_store *s, store_stmt_id id, int64_t key, int *changes,
                           hearth_error *err, const char *what);

/* HEARTH_OK if session id exists, else HEARTH_E_NOTFOUND (sessions.c). */
hearth_status store_session_exists(hearth_store *s, int64_t id, hearth_error *err);

/* Starts an atomic unit (see the top of this file). */
hearth_status store_tx_begin(hearth_store *s, hearth_error *err);
/* Ends the unit begun by store_tx_begin: commits when st == HEARTH_OK, else
 * rolls back. Returns st, or the commit's error. err keeps the first error. */
hearth_status store_tx_end(hearth_store *s, hearth_status st, hearth_error *err);

/* ---- schema (schema.c) ---- */

/* Brings the open database from its schema version up to target (<=
 * HEARTH_STORE_SCHEMA_VERSION), one transaction per step. Refuses a newer
 * or foreign database without writing. Exposed for tests, which build older
 * schemas to test the upgrade path. */
hearth_status store_migrate(sqlite3 *db, const char *path, int target, hearth_error *err);
/* Refuses (without writing) a database that is foreign or newer than this
 * build; path is for messages. */
hearth_status store_schema_check(sqlite3 *db, const char *path, hearth_error *err);

/* ---- embedding index upkeep (embeddings.c) ---- */

/* Called after the outermost commit: applies committed embedding changes to
 * the loaded index. After a rollback, forgets them. */
void store_vecs_after_commit(hearth_store *s);
void store_vecs_after_rollback(hearth_store *s);
/* The update hook's target. */
void store_update_hook(void *ctx, int op, const char *dbname, const char *table,
                       sqlite3_int64 rowid);

#endif
