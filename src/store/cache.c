/*
 * cache.c: the response cache: key (a hash the caller computes) ->
 * response, with hit counts and least-recently-used eviction under an
 * entry limit and a byte limit.
 *
 * LRU order is a logical clock (cache_totals.tick, bumped on every get and
 * put) rather than the wall clock, so two uses within one millisecond still
 * have an order. Totals are kept by triggers, so a put checks the limits
 * without scanning the table.
 */
#include "store/store_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <string.h>

#define KEY_MAX 512

static hearth_status next_tick(hearth_store *s, int64_t *tick, hearth_error *err) {
    sqlite3_stmt *q = store_stmt(s, ST_CACHE_TICK, err);
    if (!q) return err ? err->code : HEARTH_E_IO;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *tick = sqlite3_column_int64(q, 0);
        rc = sqlite3_step(q);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? HEARTH_OK : STORE_FAIL_SQL(s, rc, err, "advancing the cache clock");
}

static hearth_status totals(hearth_store *s, int64_t *entries, int64_t *bytes, hearth_error *err) {
    sqlite3_stmt *q = store_stmt(s, ST_CACHE_TOTALS, err);
    if (!q) return err ? err->code : HEARTH_E_IO;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *entries = sqlite3_column_int64(q, 0);
        *bytes = sqlite3_column_int64(q, 1);
    }
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? HEARTH_OK : STORE_FAIL_SQL(s, rc, err, "reading cache totals");
}

/* Deletes least recently used entries until both limits hold (inside a
 * transaction). */
static hearth_status evict(hearth_store *s, hearth_error *err) {
    for (;;) {
        int64_t entries = 0, bytes = 0, n = 0;
        hearth_status st = totals(s, &entries, &bytes, err);
        if (st) return st;
        if (s->cache_max_entries > 0 && entries > s->cache_max_entries)
            n = entries - s->cache_max_entries;
        else if (s->cache_max_bytes > 0 && bytes > s->cache_max_bytes && entries > 0)
            n = 1;
        if (n == 0) return HEARTH_OK;
        if ((st = store_run_id(s, ST_CACHE_EVICT, n, NULL, err, "evicting cache entries"))) return st;
    }
}

hearth_status hearth_store_cache_get(hearth_store *s, const char *key, char **response,
                                     size_t *len, hearth_error *err) {
    if (!s || !response) return HEARTH_FAIL(err, HEARTH_E_ARG, "store or response is NULL");
    *response = NULL;
    hearth_status st = store_check_str(key, 1, KEY_MAX, "cache key", err);
    if (st) return st;
    if ((st = store_tx_begin(s, err))) return st;
    sqlite3_stmt *q = store_stmt(s, ST_CACHE_GET, err);
    if (!q) st = err ? err->code : HEARTH_E_IO;
    else {
        sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            size_t n = (size_t)sqlite3_column_bytes(q, 0);
            const void *b = sqlite3_column_blob(q, 0);
            *response = hearth_malloc(n + 1);
            if (!*response) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
            else {
                if (n) memcpy(*response, b, n);
                (*response)[n] = '\0';
                if (len) *len = n;
            }
        } else if (rc == SQLITE_DONE) {
            st = HEARTH_E_NOTFOUND; /* err filled below, after the rollback */
        } else {
            st = STORE_FAIL_SQL(s, rc, err, "reading the cache");
        }
        sqlite3_reset(q);
    }
    int64_t tick = 0;
    if (!st) st = next_tick(s, &tick, err);
    if (!st) {
        q = store_stmt(s, ST_CACHE_TOUCH, err);
        if (!q) st = err ? err->code : HEARTH_E_IO;
        else {
            sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
            sqlite3_bind_int64(q, 2, store_now_ms());
            sqlite3_bind_int64(q, 3, tick);
            st = store_step_done(s, q, err, "updating a cache entry");
        }
    }
    st = store_tx_end(s, st, err);
    if (st) {
        hearth_free(*response);
        *response = NULL;
    }
    if (st == HEARTH_E_NOTFOUND) return HEARTH_FAIL(err, st, "cache miss");
    return st;
}

hearth_status hearth_store_cache_put(hearth_store *s, const char *key, const void *response,
                                     size_t len, hearth_error *err) {
    if (!s || (!response && len)) return HEARTH_FAIL(err, HEARTH_E_ARG, "store or response is NULL");
    hearth_status st = store_check_str(key, 1, KEY_MAX, "cache key", err);
    if (st) return st;
    if (len > (size_t)1 << 30) return HEARTH_FAIL(err, HEARTH_E_LIMIT, "cache response of %zu bytes", len);
    int64_t size = (int64_t)(strlen(key) + len);
    if (s->cache_max_bytes > 0 && size > s->cache_max_bytes)
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "cache entry of %lld bytes exceeds the %lld-byte limit",
                           (long long)size, (long long)s->cache_max_bytes);
    if ((st = store_tx_begin(s, err))) return st;
    int64_t tick = 0;
    st = next_tick(s, &tick, err);
    if (!st) {
        sqlite3_stmt *q = store_stmt(s, ST_CACHE_PUT, err);
        if (!q) st = err ? err->code : HEARTH_E_IO;
        else {
            sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
            sqlite3_bind_blob(q, 2, len ? response : "", (int)len, SQLITE_STATIC);
            sqlite3_bind_int64(q, 3, store_now_ms());
            sqlite3_bind_int64(q, 4, tick);
            sqlite3_bind_int64(q, 5, size);
            st = store_step_done(s, q, err, "storing a cache entry");
        }
    }
    if (!st) st = evict(s, err);
    return store_tx_end(s, st, err);
}

hearth_status hearth_store_cache_set_limits(hearth_store *s, int64_t max_entries,
                                            int64_t max_bytes, hearth_error *err) {
    if (!s) return HEARTH_FAIL(err, HEARTH_E_ARG, "store is NULL");
    s->cache_max_entries = max_entries;
    s->cache_max_bytes = max_bytes;
    hearth_status st = store_tx_begin(s, err);
    if (st) return st;
    return store_tx_end(s, evict(s, err), err);
}

hearth_status hearth_store_cache_clear(hearth_store *s, hearth_error *err) {
    if (!s) return HEARTH_FAIL(err, HEARTH_E_ARG, "store is NULL");
    hearth_status st = store_tx_begin(s, err);
    if (st) return st;
    sqlite3_stmt *q = store_stmt(s, ST_CACHE_CLEAR, err);
    st = q ? store_step_done(s, q, err, "clearing the cache") : (err ? err->code : HEARTH_E_IO);
    return store_tx_end(s, st, err);
}

hearth_status hearth_store_cache_stats(hearth_store *s, int64_t *entries, int64_t *bytes,
                                       hearth_error *err) {
    if (!s) return HEARTH_FAIL(err, HEARTH_E_ARG, "store is NULL");
    int64_t e = 0, b = 0;
    hearth_status st = totals(s, &e, &b, err);
    if (st) return st;
    if (entries) *entries = e;
    if (bytes) *bytes = b;
    return HEARTH_OK;
}
