/*
 * schema.c: the store's schema as a list of migrations, and the upgrade
 * path.
 *
 * The schema version is PRAGMA user_version; hearth's databases also carry
 * PRAGMA application_id = STORE_APP_ID. Migration N (1-based) takes a
 * database from version N-1 to N inside one IMMEDIATE transaction, which
 * also sets user_version, so an interrupted upgrade leaves the old version
 * intact and two processes upgrading at once do it once. A database whose
 * version is newer than this build, that belongs to another program, or
 * whose version is negative (damaged or foreign: no hearth writes one), is
 * refused before anything is written to it.
 *
 * Migrations are append-only: a released one is never edited (databases in
 * the field already ran it); changes go into a new one.
 */
#include "store/store_int.h"

#include "util/error.h"

#include <stdio.h>

/* The time "now" in Unix epoch milliseconds, for triggers (a delete has no
 * row time of its own to log). */
#define NOW_MS "CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)"

#define CHANGE(tbl, key, ver, op, time)                                                  \
    "INSERT INTO changes(tbl, key, version, op, time_ms) VALUES ('" tbl "', " key ", " ver \
    ", '" op "', " time ");"

/* A UUIDv7 (as src/util/uuid.c makes them) for the time ms, in SQL: for
 * backfilling rows that predate global ids. */
#define UUID7(ms)                                                                        \
    "lower(printf('%08x-%04x-7%s-%s%s-%s', (" ms ") >> 16, (" ms ") & 65535,"            \
    " substr(hex(randomblob(2)), 2, 3), substr('89ab', 1 + (random() & 3), 1),"           \
    " substr(hex(randomblob(2)), 2, 3), hex(randomblob(6))))"

/* Gives a row inserted without a gid (a writer that is not this build's
 * store code) one. */
#define GID_FILL(tbl)                                                                    \
    "CREATE TRIGGER " tbl "_gid_fill AFTER INSERT ON " tbl " WHEN NEW.gid IS NULL BEGIN"    \
    " UPDATE " tbl " SET gid = " UUID7("NEW.created_ms") " WHERE id = NEW.id; END;"

/* Marks a row changed locally unless the sync layer is applying a pull.
 * (DELETE + INSERT, not INSERT OR REPLACE: inside a trigger fired by an
 * upsert, the outer statement's conflict handling would apply.) */
#define DIRTY(name, event, cond, tbl, key, op)                                           \
    "CREATE TRIGGER " name " AFTER " event " WHEN (" cond ") AND NOT EXISTS"              \
    " (SELECT 1 FROM sync_applying) BEGIN DELETE FROM sync_dirty WHERE tbl = '" tbl "'"     \
    " AND gid = " key "; INSERT INTO sync_dirty(tbl, gid, op, time_ms) VALUES ('" tbl "', "  \
    key ", '" op "', " NOW_MS "); END;"

static const char *const migrations[] = {
    /* 1: sessions, messages, tasks, settings and the change log. */
    "CREATE TABLE sessions ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL UNIQUE,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  summary TEXT,"
    "  summary_through INTEGER NOT NULL DEFAULT 0,"
    "  version INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  session_id INTEGER NOT NULL REFERENCES sessions(id),"
    "  role TEXT NOT NULL,"
    "  content TEXT NOT NULL,"
    "  n_tokens INTEGER NOT NULL DEFAULT 0,"
    "  model TEXT,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE INDEX messages_by_session ON messages(session_id);"
    "CREATE INDEX messages_by_time ON messages(created_ms);"
    "CREATE TABLE tasks ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  title TEXT NOT NULL,"
    "  notes TEXT NOT NULL DEFAULT '',"
    "  status TEXT NOT NULL DEFAULT 'open',"
    "  priority INTEGER NOT NULL DEFAULT 0,"
    "  due_ms INTEGER,"
    "  tags TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),"
    "  payload TEXT CHECK (payload IS NULL OR json_valid(payload)),"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  version INTEGER NOT NULL DEFAULT 1);"
    "CREATE INDEX tasks_by_status ON tasks(status);"
    "CREATE INDEX tasks_by_due ON tasks(due_ms);"
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE changes ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  tbl TEXT NOT NULL,"
    "  key INTEGER NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),"
    "  time_ms INTEGER NOT NULL);"
    /* The change records come from triggers, so no write path can forget
     * them and they always share the change's transaction. */
    "CREATE TRIGGER sessions_log_insert AFTER INSERT ON sessions BEGIN "
    CHANGE("sessions", "NEW.id", "NEW.version", "insert", "NEW.created_ms") " END;"
    "CREATE TRIGGER sessions_log_update AFTER UPDATE ON sessions BEGIN "
    CHANGE("sessions", "NEW.id", "NEW.version", "update", "NEW.updated_ms") " END;"
    "CREATE TRIGGER sessions_log_delete AFTER DELETE ON sessions BEGIN "
    CHANGE("sessions", "OLD.id", "0", "delete", NOW_MS) " END;"
    "CREATE TRIGGER messages_log_insert AFTER INSERT ON messages BEGIN "
    CHANGE("messages", "NEW.id", "1", "insert", "NEW.created_ms") " END;"
    "CREATE TRIGGER messages_log_update AFTER UPDATE ON messages BEGIN "
    CHANGE("messages", "NEW.id", "1", "update", NOW_MS) " END;"
    "CREATE TRIGGER messages_log_delete AFTER DELETE ON messages BEGIN "
    CHANGE("messages", "OLD.id", "0", "delete", NOW_MS) " END;"
    "CREATE TRIGGER tasks_log_insert AFTER INSERT ON tasks BEGIN "
    CHANGE("tasks", "NEW.id", "NEW.version", "insert", "NEW.created_ms") " END;"
    "CREATE TRIGGER tasks_log_update AFTER UPDATE ON tasks BEGIN "
    CHANGE("tasks", "NEW.id", "NEW.version", "update", "NEW.updated_ms") " END;"
    "CREATE TRIGGER tasks_log_delete AFTER DELETE ON tasks BEGIN "
    CHANGE("tasks", "OLD.id", "0", "delete", NOW_MS) " END;",

    /* 2: embeddings and the response cache. */
    "CREATE TABLE embeddings ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  owner_kind TEXT NOT NULL,"
    "  owner_id INTEGER NOT NULL,"
    "  group_id INTEGER NOT NULL DEFAULT 0,"
    "  model TEXT NOT NULL,"
    "  dim INTEGER NOT NULL CHECK (dim > 0),"
    "  vec BLOB NOT NULL CHECK (length(vec) = 4 * dim)," /* float32, little-endian */
    "  created_ms INTEGER NOT NULL,"
    "  UNIQUE (owner_kind, owner_id, model));"
    "CREATE INDEX embeddings_by_model ON embeddings(model);"
    "CREATE TRIGGER messages_drop_embeddings AFTER DELETE ON messages BEGIN "
    "  DELETE FROM embeddings WHERE owner_kind = 'message' AND owner_id = OLD.id; END;"
    "CREATE TRIGGER tasks_drop_embeddings AFTER DELETE ON tasks BEGIN "
    "  DELETE FROM embeddings WHERE owner_kind = 'task' AND owner_id = OLD.id; END;"
    "CREATE TABLE response_cache ("
    "  key TEXT PRIMARY KEY,"
    "  response BLOB NOT NULL,"
    "  hits INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL,"
    "  last_used_ms INTEGER NOT NULL,"
    "  tick INTEGER NOT NULL," /* logical clock of the last use: LRU order */
    "  size INTEGER NOT NULL);" /* bytes of key + response */
    "CREATE INDEX response_cache_lru ON response_cache(tick);"
    /* Running totals, so a put checks the limits without scanning. */
    "CREATE TABLE cache_totals ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  entries INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  tick INTEGER NOT NULL);"
    "INSERT INTO cache_totals VALUES (1, 0, 0, 0);"
    "CREATE TRIGGER cache_count_insert AFTER INSERT ON response_cache BEGIN "
    "  UPDATE cache_totals SET entries = entries + 1, bytes = bytes + NEW.size; END;"
    "CREATE TRIGGER cache_count_delete AFTER DELETE ON response_cache BEGIN "
    "  UPDATE cache_totals SET entries = entries - 1, bytes = bytes - OLD.size; END;"
    "CREATE TRIGGER cache_count_update AFTER UPDATE OF size ON response_cache BEGIN "
    "  UPDATE cache_totals SET bytes = bytes - OLD.size + NEW.size; END;",

    /* 3: where an answer came from, and the audit log of outbound requests.
     * The audit log is the device's own record: no change records (it never
     * syncs), and no content unless the user asked for it (audit_content). */
    "ALTER TABLE messages ADD COLUMN source TEXT;"
    "ALTER TABLE messages ADD COLUMN confidence REAL;"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  time_ms INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"            /* cloud, sync, pull, update */
    "  session TEXT,"
    "  category TEXT NOT NULL,"
    "  decision TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  host TEXT,"
    "  bytes_out INTEGER NOT NULL DEFAULT 0,"
    "  bytes_in INTEGER NOT NULL DEFAULT 0,"
    "  redactions TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(redactions)),"
    "  confidence REAL,"
    "  latency_ms REAL,"
    "  outcome TEXT,"
    "  content TEXT);"
    "CREATE INDEX audit_by_time ON audit(time_ms);",

    /* 4: sync (src/sync, docs/sync.md). Global ids beside the local integer
     * ids (a UUIDv7 made from the row's creation time; the store's C code
     * makes one at insert, GID_FILL catches rows written without one), the
     * device's sync state, and the triggers that mark rows changed locally
     * in sync_dirty. A change the sync layer applies from a pull runs with a
     * row in sync_applying (inserted and deleted inside its own
     * transaction, so no other connection ever sees it), which the
     * triggers check: pulled changes are never pushed back as local ones. */
    "ALTER TABLE sessions ADD COLUMN gid TEXT;"
    "ALTER TABLE messages ADD COLUMN gid TEXT;"
    "ALTER TABLE tasks ADD COLUMN gid TEXT;"
    /* the backfill is no change of content: the change-log triggers of
     * migration 1 are set aside for it and put back as they were */
    "DROP TRIGGER sessions_log_update; DROP TRIGGER messages_log_update;"
    "DROP TRIGGER tasks_log_update;"
    "UPDATE sessions SET gid = " UUID7("created_ms") ";"
    "UPDATE messages SET gid = " UUID7("created_ms") ";"
    "UPDATE tasks SET gid = " UUID7("created_ms") ";"
    "CREATE TRIGGER sessions_log_update AFTER UPDATE ON sessions BEGIN "
    CHANGE("sessions", "NEW.id", "NEW.version", "update", "NEW.updated_ms") " END;"
    "CREATE TRIGGER messages_log_update AFTER UPDATE ON messages BEGIN "
    CHANGE("messages", "NEW.id", "1", "update", NOW_MS) " END;"
    "CREATE TRIGGER tasks_log_update AFTER UPDATE ON tasks BEGIN "
    CHANGE("tasks", "NEW.id", "NEW.version", "update", "NEW.updated_ms") " END;"
    "CREATE UNIQUE INDEX sessions_by_gid ON sessions(gid);"
    "CREATE UNIQUE INDEX messages_by_gid ON messages(gid);"
    "CREATE UNIQUE INDEX tasks_by_gid ON tasks(gid);"
    GID_FILL("sessions") GID_FILL("messages") GID_FILL("tasks")
    "CREATE TABLE sync_applying (one INTEGER PRIMARY KEY CHECK (one = 1));"
    /* key/value: device_id, device_secret, hlc, server, token, user, cursor,
     * next_change_id, enabled_<collection>. Never synced (not settings). */
    "CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    /* rows changed locally and not yet taken into the outbox */
    "CREATE TABLE sync_dirty ("
    "  tbl TEXT NOT NULL,"                /* tasks, sessions, messages, settings */
    "  gid TEXT NOT NULL,"                /* the row's gid; the key for settings */
    "  op TEXT NOT NULL CHECK (op IN ('upsert', 'delete', 'append')),"
    "  time_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (tbl, gid)) WITHOUT ROWID;"
    /* changes numbered for the server (change_id), frozen once numbered:
     * a retry sends the same change, so the server applies it once */
    "CREATE TABLE sync_outbox ("
    "  change_id INTEGER PRIMARY KEY,"
    "  tbl TEXT NOT NULL,"
    "  gid TEXT NOT NULL,"
    "  op TEXT NOT NULL CHECK (op IN ('upsert', 'delete', 'append')),"
    "  hlc INTEGER NOT NULL,"
    "  content TEXT,"                     /* plaintext JSON; NULL for a delete */
    "  UNIQUE (tbl, gid));"
    /* per row: the server version this device last saw and that version's
     * content (the base of three-way merges); deleted = a tombstone */
    "CREATE TABLE sync_rows ("
    "  tbl TEXT NOT NULL,"
    "  gid TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  hlc INTEGER NOT NULL,"
    "  device TEXT NOT NULL DEFAULT '',"
    "  deleted INTEGER NOT NULL DEFAULT 0,"
    "  base TEXT,"
    "  PRIMARY KEY (tbl, gid)) WITHOUT ROWID;"
    "CREATE TABLE sync_conflicts ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  time_ms INTEGER NOT NULL,"
    "  tbl TEXT NOT NULL,"
    "  gid TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('version', 'update_of_deleted', 'delete_of_updated')),"
    "  fields TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(fields)),"
    "  local TEXT,"                       /* the device's side (NULL: deleted) */
    "  server TEXT,"                      /* the server's side (NULL: deleted) */
    "  severity TEXT NOT NULL CHECK (severity IN ('low', 'high')),"
    "  resolution TEXT NOT NULL,"         /* merged, lww-local, lww-server, server, device, pending, local, ... */
    "  resolved_ms INTEGER);"
    "CREATE INDEX sync_conflicts_pending ON sync_conflicts(resolution);"
    /* sessions of another device whose name this device already uses: both
     * gids name the one local session */
    "CREATE TABLE sync_alias (gid TEXT PRIMARY KEY, session_id INTEGER NOT NULL) WITHOUT ROWID;"
    DIRTY("tasks_sync_insert", "INSERT ON tasks", "NEW.gid IS NOT NULL", "tasks", "NEW.gid", "upsert")
    DIRTY("tasks_sync_update", "UPDATE ON tasks", "NEW.gid IS NOT NULL", "tasks", "NEW.gid", "upsert")
    DIRTY("tasks_sync_delete", "DELETE ON tasks", "OLD.gid IS NOT NULL", "tasks", "OLD.gid", "delete")
    DIRTY("sessions_sync_insert", "INSERT ON sessions", "NEW.gid IS NOT NULL", "sessions", "NEW.gid", "upsert")
    DIRTY("sessions_sync_update", "UPDATE OF name, gid ON sessions", "NEW.gid IS NOT NULL", "sessions", "NEW.gid", "upsert")
    DIRTY("sessions_sync_delete", "DELETE ON sessions", "OLD.gid IS NOT NULL", "sessions", "OLD.gid", "delete")
    /* a deleted session takes the other devices' ids it answered to along */
    "CREATE TRIGGER sessions_sync_delete_alias AFTER DELETE ON sessions BEGIN"
    " DELETE FROM sync_dirty WHERE tbl = 'sessions' AND gid IN"
    "  (SELECT gid FROM sync_alias WHERE session_id = OLD.id);"
    " INSERT INTO sync_dirty (tbl, gid, op, time_ms) SELECT 'sessions', gid, 'delete', " NOW_MS
    "  FROM sync_alias WHERE session_id = OLD.id AND NOT EXISTS (SELECT 1 FROM sync_applying);"
    " DELETE FROM sync_alias WHERE session_id = OLD.id; END;"
    DIRTY("messages_sync_insert", "INSERT ON messages", "NEW.gid IS NOT NULL", "messages", "NEW.gid", "append")
    DIRTY("messages_sync_update", "UPDATE OF gid ON messages", "NEW.gid IS NOT NULL", "messages", "NEW.gid", "append")
    DIRTY("messages_sync_delete", "DELETE ON messages", "OLD.gid IS NOT NULL", "messages", "OLD.gid", "delete")
    DIRTY("settings_sync_insert", "INSERT ON settings", "1", "settings", "NEW.key", "upsert")
    DIRTY("settings_sync_update", "UPDATE ON settings", "1", "settings", "NEW.key", "upsert")
    DIRTY("settings_sync_delete", "DELETE ON settings", "1", "settings", "OLD.key", "delete"),

    /* 5: A/B records of `hearth serve` (src/store/ab.c): one row per answer,
     * the variant that gave it and how it went, and the user's rating. No
     * content, no change records: the device's own measurements, never
     * synced. */
    "CREATE TABLE ab_responses ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  response_id TEXT NOT NULL UNIQUE,"
    "  time_ms INTEGER NOT NULL,"
    "  variant TEXT NOT NULL DEFAULT '',"
    "  kind TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  latency_ms REAL,"
    "  ttft_ms REAL,"
    "  tokens_per_s REAL,"
    "  prompt_tokens INTEGER NOT NULL DEFAULT 0,"
    "  completion_tokens INTEGER NOT NULL DEFAULT 0,"
    "  confidence REAL,"
    "  rating REAL CHECK (rating IS NULL OR (rating >= -1 AND rating <= 1)),"
    "  rated_ms INTEGER);"
    "CREATE INDEX ab_responses_by_time ON ab_responses(time_ms);",
};

_Static_assert(sizeof migrations / sizeof migrations[0] == HEARTH_STORE_SCHEMA_VERSION,
               "one migration per schema version");

static hearth_status sql_fail(sqlite3 *db, hearth_error *err, const char *path, const char *what) {
    int rc = sqlite3_errcode(db);
    hearth_status code = HEARTH_E_IO;
    if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) code = HEARTH_E_FORMAT;
    else if (rc == SQLITE_NOMEM) code = HEARTH_E_NOMEM;
    return HEARTH_FAIL(err, code, "%s: %s: %s", path, what, sqlite3_errmsg(db));
}

static bool read_int(sqlite3 *db, const char *sql, int64_t *out) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return false;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW;
}

/* Reads the version and refuses what this build must not touch. Reads only. */
static hearth_status check(sqlite3 *db, const char *path, int64_t *version, hearth_error *err) {
    int64_t app, objects;
    if (!read_int(db, "PRAGMA application_id", &app) ||
        !read_int(db, "PRAGMA user_version", version) ||
        !read_int(db, "SELECT count(*) FROM sqlite_schema", &objects))
        return sql_fail(db, err, path, "reading the schema version");
    if (app != 0 && app != STORE_APP_ID)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "%s: not a hearth database (SQLite application_id 0x%llx)", path,
                           (unsigned long long)app);
    if (app == 0 && objects > 0)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "%s: a SQLite database of another program (%lld objects, no hearth "
                           "application_id); refusing to change it",
                           path, (long long)objects);
    /* user_version is a signed 32-bit field: no hearth ever writes a
     * negative one, so it is damage or another program's doing, not a
     * newer hearth */
    if (*version < 0)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "%s: invalid schema version %lld (PRAGMA user_version): a corrupt "
                           "database or one written by another program; refusing to change it",
                           path, (long long)*version);
    if (*version > HEARTH_STORE_SCHEMA_VERSION)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED,
                           "%s: database schema version %lld is newer than this hearth "
                           "supports (%d); upgrade hearth (the database was not changed)",
                           path, (long long)*version, HEARTH_STORE_SCHEMA_VERSION);
    return HEARTH_OK;
}

hearth_status store_schema_check(sqlite3 *db, const char *path, hearth_error *err) {
    int64_t v;
    return check(db, path, &v, err);
}

hearth_status store_migrate(sqlite3 *db, const char *path, int target, hearth_error *err) {
    if (target < 0 || target > HEARTH_STORE_SCHEMA_VERSION)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "schema target %d outside [0, %d]", target,
                           HEARTH_STORE_SCHEMA_VERSION);
    int64_t v;
    hearth_status st = check(db, path, &v, err);
    if (st) return st;
    while (v < target) {
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
            return sql_fail(db, err, path, "starting a schema upgrade");
        /* Another process may have upgraded between the check and the lock. */
        st = check(db, path, &v, err);
        if (!st && v < target) {
            char set[96];
            snprintf(set, sizeof set, "PRAGMA user_version = %lld; PRAGMA application_id = %d;",
                     (long long)v + 1, STORE_APP_ID);
            if (sqlite3_exec(db, migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
                sqlite3_exec(db, set, NULL, NULL, NULL) != SQLITE_OK) {
                char what[64];
                snprintf(what, sizeof what, "schema migration %lld", (long long)v + 1);
                st = sql_fail(db, err, path, what);
            }
        }
        if (st) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return st;
        }
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            st = sql_fail(db, err, path, "committing a schema upgrade");
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return st;
        }
        if (!read_int(db, "PRAGMA user_version", &v))
            return sql_fail(db, err, path, "reading the schema version");
    }
    return HEARTH_OK;
}
