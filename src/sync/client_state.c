/*
 * client_state.c: the sync client's small pieces of state in the store
 * (sync_state key/value rows), SQL helpers over the store's connection, the
 * collections and their settings, and the marker that tells the triggers a
 * pulled change is being applied.
 */
#include "sync/client_int.h"

#include "store/store_int.h"
#include "util/alloc.h"
#include "util/error.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sqlite3_stmt *sync_prepare(hearth_sync *s, const char *sql) {
    for (int i = 0; i < s->n_cache; i++)
        if (s->cache[i].sql == sql) {
            sqlite3_reset(s->cache[i].st);
            sqlite3_clear_bindings(s->cache[i].st);
            return s->cache[i].st;
        }
    sqlite3_stmt *q;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q, NULL) != SQLITE_OK)
        return NULL;
    if (s->n_cache < (int)(sizeof s->cache / sizeof s->cache[0])) {
        s->cache[s->n_cache].sql = sql;
        s->cache[s->n_cache++].st = q;
    }
    return q;
}

void sync_release(hearth_sync *s, sqlite3_stmt *q) {
    if (!q) return;
    for (int i = 0; i < s->n_cache; i++)
        if (s->cache[i].st == q) {
            sqlite3_reset(q);
            sqlite3_clear_bindings(q);
            return;
        }
    sqlite3_finalize(q);
}

void sync_cache_free(hearth_sync *s) {
    for (int i = 0; i < s->n_cache; i++) sqlite3_finalize(s->cache[i].st);
    s->n_cache = 0;
}

/* Prepares sql and binds n text arguments from ap. NULL on failure. */
static sqlite3_stmt *prep(hearth_sync *s, const char *sql, int n, va_list ap) {
    sqlite3_stmt *q = sync_prepare(s, sql);
    if (!q) return NULL;
    for (int i = 0; i < n; i++) {
        const char *v = va_arg(ap, const char *);
        if (v) sqlite3_bind_text(q, i + 1, v, -1, SQLITE_TRANSIENT);
    }
    return q;
}

hearth_status sync_exec(hearth_sync *s, hearth_error *err, const char *sql, int n, ...) {
    va_list ap;
    va_start(ap, n);
    sqlite3_stmt *q = prep(s, sql, n, ap);
    va_end(ap);
    if (!q) return HEARTH_FAIL(err, HEARTH_E_IO, "sync: %s", sqlite3_errmsg(s->db));
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    }
    hearth_status st = HEARTH_OK;
    if (rc != SQLITE_DONE)
        st = HEARTH_FAIL(err, rc == SQLITE_NOMEM ? HEARTH_E_NOMEM : HEARTH_E_IO, "sync store: %s",
                         sqlite3_errmsg(s->db));
    sync_release(s, q);
    return st;
}

int64_t sync_query_int(hearth_sync *s, int64_t dflt, const char *sql, int n, ...) {
    va_list ap;
    va_start(ap, n);
    sqlite3_stmt *q = prep(s, sql, n, ap);
    va_end(ap);
    if (!q) return dflt;
    int64_t v = dflt;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(q, 0);
    sync_release(s, q);
    return v;
}

char *sync_query_text(hearth_sync *s, const char *sql, int n, ...) {
    va_list ap;
    va_start(ap, n);
    sqlite3_stmt *q = prep(s, sql, n, ap);
    va_end(ap);
    if (!q) return NULL;
    char *v = NULL;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
        v = hearth_strndup((const char *)sqlite3_column_text(q, 0),
                           (size_t)sqlite3_column_bytes(q, 0));
    sync_release(s, q);
    return v;
}

hearth_status sync_state_get(hearth_sync *s, const char *key, char *buf, size_t cap,
                             hearth_error *err) {
    char *v = sync_query_text(s, "SELECT value FROM sync_state WHERE key = ?1", 1, key);
    if (!v) return HEARTH_E_NOTFOUND;
    size_t n = strlen(v);
    hearth_status st = HEARTH_OK;
    if (n >= cap) st = HEARTH_FAIL(err, HEARTH_E_LIMIT, "sync state '%s' is too long", key);
    else memcpy(buf, v, n + 1);
    hearth_free(v);
    return st;
}

int64_t sync_state_int(hearth_sync *s, const char *key, int64_t dflt) {
    return sync_query_int(s, dflt, "SELECT CAST(value AS INTEGER) FROM sync_state WHERE key = ?1",
                          1, key);
}

hearth_status sync_state_set(hearth_sync *s, const char *key, const char *value,
                             hearth_error *err) {
    if (!value) return sync_exec(s, err, "DELETE FROM sync_state WHERE key = ?1", 1, key);
    return sync_exec(s, err,
                     "INSERT INTO sync_state (key, value) VALUES (?1, ?2)"
                     " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                     2, key, value);
}

hearth_status sync_state_set_int(hearth_sync *s, const char *key, int64_t v, hearth_error *err) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return sync_state_set(s, key, buf, err);
}

const char *sync_collection_of(const char *tbl) {
    if (!strcmp(tbl, "tasks")) return "tasks";
    if (!strcmp(tbl, "settings")) return "settings";
    return "conversations";
}

bool sync_collection_valid(const char *c) {
    return c && (!strcmp(c, "tasks") || !strcmp(c, "conversations") || !strcmp(c, "settings"));
}

bool sync_enabled(hearth_sync *s, const char *collection) {
    char key[64];
    snprintf(key, sizeof key, "enabled_%s", collection);
    return sync_state_int(s, key, 0) == 1;
}

sync_rule sync_rule_of(hearth_sync *s, const char *collection) {
    char key[64];
    snprintf(key, sizeof key, "sync_resolve_%s", collection);
    char *v = sync_query_text(s, "SELECT value FROM settings WHERE key = ?1", 1, key);
    sync_rule r = SYNC_RULE_LWW;
    if (v && !sync_rule_parse(v, &r)) r = SYNC_RULE_LWW;
    hearth_free(v);
    return r;
}

bool sync_setting_shared(const char *key) {
    static const char *const local_prefix[] = {"sync_", "model_", "hearth_sync_"};
    static const char *const local_keys[] = {"cloud_api_key", "cloud_ca_file", "home",
                                             "api_key", "security_log"};
    if (!sync_id_valid(key)) return false;
    for (size_t i = 0; i < sizeof local_prefix / sizeof local_prefix[0]; i++)
        if (!strncmp(key, local_prefix[i], strlen(local_prefix[i]))) return false;
    for (size_t i = 0; i < sizeof local_keys / sizeof local_keys[0]; i++)
        if (!strcmp(key, local_keys[i])) return false;
    return true;
}

hearth_status sync_applying(hearth_sync *s, bool on, hearth_error *err) {
    return sync_exec(s, err,
                     on ? "INSERT OR IGNORE INTO sync_applying (one) VALUES (1)"
                        : "DELETE FROM sync_applying",
                     0);
}
