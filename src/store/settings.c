/*
 * settings.c: the store's key/value settings (strings).
 */
#include "store/store_int.h"

#include "util/alloc.h"
#include "util/error.h"

#define KEY_MAX 256
#define VALUE_MAX ((size_t)1 << 20)

hearth_status hearth_store_setting_get(hearth_store *s, const char *key, char **value,
                                       hearth_error *err) {
    if (!s || !value) return HEARTH_FAIL(err, HEARTH_E_ARG, "store or value is NULL");
    *value = NULL;
    hearth_status st = store_check_str(key, 1, KEY_MAX, "setting key", err);
    if (st) return st;
    sqlite3_stmt *q = store_stmt(s, ST_SETTING_GET, err);
    if (!q) return err ? err->code : HEARTH_E_IO;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(q, 0);
        *value = hearth_strndup(v ? v : "", (size_t)sqlite3_column_bytes(q, 0));
        st = *value ? HEARTH_OK : HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    } else if (rc == SQLITE_DONE) {
        st = HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "setting '%s' is not set", key);
    } else {
        st = STORE_FAIL_SQL(s, rc, err, "reading a setting");
    }
    sqlite3_reset(q);
    return st;
}

static hearth_status write_row(hearth_store *s, store_stmt_id id, const char *key, const char *value,
                           hearth_error *err) {
    hearth_status st = store_tx_begin(s, err);
    if (st) return st;
    sqlite3_stmt *q = store_stmt(s, id, err);
    if (!q) st = err ? err->code : HEARTH_E_IO;
    else {
        sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
        if (value) sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
        st = store_step_done(s, q, err, "writing a setting");
    }
    return store_tx_end(s, st, err);
}

hearth_status hearth_store_setting_set(hearth_store *s, const char *key, const char *value,
                                       hearth_error *err) {
    if (!s) return HEARTH_FAIL(err, HEARTH_E_ARG, "store is NULL");
    hearth_status st;
    if ((st = store_check_str(key, 1, KEY_MAX, "setting key", err)) ||
        (st = store_check_str(value, 0, VALUE_MAX, "setting value", err)))
        return st;
    return write_row(s, ST_SETTING_SET, key, value, err);
}

hearth_status hearth_store_setting_unset(hearth_store *s, const char *key, hearth_error *err) {
    if (!s) return HEARTH_FAIL(err, HEARTH_E_ARG, "store is NULL");
    hearth_status st = store_check_str(key, 1, KEY_MAX, "setting key", err);
    if (st) return st;
    return write_row(s, ST_SETTING_UNSET, key, NULL, err);
}
