/*
 * audit.c: the audit log of outbound requests: append and read back. The
 * table (schema migration 3) has no change-log triggers, since the log is
 * the device's own record and never syncs. Writes are rare (one per
 * outbound request), so statements are prepared per call.
 */
#include "store/block.h"
#include "store/store_int.h"

#include "util/error.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define SHORT_MAX 32
#define REASON_MAX 1024
#define HOST_MAX 255
#define REDACTIONS_MAX 4096
#define CONTENT_MAX ((size_t)16 << 20)

static hearth_status check_record(const hearth_audit_record *r, hearth_error *err) {
    hearth_status st;
    if ((st = store_check_str(r->kind, 1, SHORT_MAX, "audit kind", err)) ||
        (st = store_check_str(r->category, 1, SHORT_MAX, "audit category", err)) ||
        (st = store_check_str(r->decision, 1, SHORT_MAX, "audit decision", err)) ||
        (st = store_check_str(r->reason, 0, REASON_MAX, "audit reason", err)))
        return st;
    if (r->session && (st = store_check_str(r->session, 1, 256, "audit session", err))) return st;
    if (r->host && (st = store_check_str(r->host, 1, HOST_MAX, "audit host", err))) return st;
    if (r->outcome && (st = store_check_str(r->outcome, 1, REASON_MAX, "audit outcome", err)))
        return st;
    if (r->content && (st = store_check_str(r->content, 0, CONTENT_MAX, "audit content", err)))
        return st;
    if (r->bytes_out < 0 || r->bytes_in < 0)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "audit byte counts must not be negative");
    if (r->redactions_json) {
        if ((st = store_check_str(r->redactions_json, 2, REDACTIONS_MAX, "audit redactions", err)))
            return st;
        json_t *j = json_loads(r->redactions_json, JSON_REJECT_DUPLICATES, NULL);
        bool ok = json_is_object(j);
        json_decref(j);
        if (!ok) return HEARTH_FAIL(err, HEARTH_E_ARG, "audit redactions: not a JSON object");
    }
    return HEARTH_OK;
}

static void bind_opt_text(sqlite3_stmt *q, int i, const char *v) {
    if (v) sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
    else sqlite3_bind_null(q, i);
}

hearth_status hearth_store_audit_add(hearth_store *s, const hearth_audit_record *r, int64_t *id,
                                     hearth_error *err) {
    if (!s || !r) return HEARTH_FAIL(err, HEARTH_E_ARG, "store or record NULL");
    hearth_status st = check_record(r, err);
    if (st) return st;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        s->db,
        "INSERT INTO audit (time_ms, kind, session, category, decision, reason, host, bytes_out,"
        " bytes_in, redactions, confidence, latency_ms, outcome, content)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        -1, &q, NULL);
    if (rc != SQLITE_OK) return STORE_FAIL_SQL(s, rc, err, "preparing an audit insert");
    sqlite3_bind_int64(q, 1, r->time_ms ? r->time_ms : store_now_ms());
    sqlite3_bind_text(q, 2, r->kind, -1, SQLITE_STATIC);
    bind_opt_text(q, 3, r->session);
    sqlite3_bind_text(q, 4, r->category, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, r->decision, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, r->reason, -1, SQLITE_STATIC);
    bind_opt_text(q, 7, r->host);
    sqlite3_bind_int64(q, 8, r->bytes_out);
    sqlite3_bind_int64(q, 9, r->bytes_in);
    sqlite3_bind_text(q, 10, r->redactions_json ? r->redactions_json : "{}", -1, SQLITE_STATIC);
    if (r->confidence >= 0) sqlite3_bind_double(q, 11, r->confidence);
    if (r->latency_ms >= 0) sqlite3_bind_double(q, 12, r->latency_ms);
    bind_opt_text(q, 13, r->outcome);
    bind_opt_text(q, 14, r->content);
    if ((st = store_tx_begin(s, err))) {
        sqlite3_finalize(q);
        return st;
    }
    rc = sqlite3_step(q);
    if (rc != SQLITE_DONE) st = STORE_FAIL_SQL(s, rc, err, "writing an audit record");
    else if (id) *id = sqlite3_last_insert_rowid(s->db);
    sqlite3_finalize(q);
    return store_tx_end(s, st, err);
}

hearth_status hearth_store_audit_update(hearth_store *s, int64_t id, const hearth_audit_record *r,
                                        hearth_error *err) {
    if (!s || !r) return HEARTH_FAIL(err, HEARTH_E_ARG, "store or record NULL");
    hearth_status st = check_record(r, err);
    if (st) return st;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(s->db,
                                "UPDATE audit SET decision = ?2, reason = ?3, bytes_out = ?4,"
                                " bytes_in = ?5, latency_ms = ?6, outcome = ?7, content = ?8"
                                " WHERE id = ?1",
                                -1, &q, NULL);
    if (rc != SQLITE_OK) return STORE_FAIL_SQL(s, rc, err, "preparing an audit update");
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, r->decision, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, r->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, r->bytes_out);
    sqlite3_bind_int64(q, 5, r->bytes_in);
    if (r->latency_ms >= 0) sqlite3_bind_double(q, 6, r->latency_ms);
    bind_opt_text(q, 7, r->outcome);
    bind_opt_text(q, 8, r->content);
    if ((st = store_tx_begin(s, err))) {
        sqlite3_finalize(q);
        return st;
    }
    rc = sqlite3_step(q);
    if (rc != SQLITE_DONE) st = STORE_FAIL_SQL(s, rc, err, "updating an audit record");
    else if (sqlite3_changes(s->db) == 0)
        st = HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no audit record with id %lld", (long long)id);
    sqlite3_finalize(q);
    return store_tx_end(s, st, err);
}

#define COLS                                                                               \
    "id, time_ms, kind, session, category, decision, reason, host, bytes_out, bytes_in,"  \
    " redactions, confidence, latency_ms, outcome, content"

static void put_str(blk *b, size_t i, size_t off, sqlite3_stmt *q, int col) {
    if (sqlite3_column_type(q, col) == SQLITE_NULL) return;
    blk_set_str(b, i, off, sqlite3_column_text(q, col), (size_t)sqlite3_column_bytes(q, col));
}

static hearth_status collect(hearth_store *s, sqlite3_stmt *q, hearth_audit_record **out,
                             size_t *n, hearth_error *err) {
    blk b;
    blk_init(&b, sizeof(hearth_audit_record));
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        size_t i = blk_rec(&b);
        if (i == SIZE_MAX) break;
        hearth_audit_record *r = blk_field(&b, i, 0);
        r->id = sqlite3_column_int64(q, 0);
        r->time_ms = sqlite3_column_int64(q, 1);
        r->bytes_out = sqlite3_column_int64(q, 8);
        r->bytes_in = sqlite3_column_int64(q, 9);
        r->confidence = sqlite3_column_type(q, 11) == SQLITE_NULL ? -1 : sqlite3_column_double(q, 11);
        r->latency_ms = sqlite3_column_type(q, 12) == SQLITE_NULL ? -1 : sqlite3_column_double(q, 12);
        put_str(&b, i, offsetof(hearth_audit_record, kind), q, 2);
        put_str(&b, i, offsetof(hearth_audit_record, session), q, 3);
        put_str(&b, i, offsetof(hearth_audit_record, category), q, 4);
        put_str(&b, i, offsetof(hearth_audit_record, decision), q, 5);
        put_str(&b, i, offsetof(hearth_audit_record, reason), q, 6);
        put_str(&b, i, offsetof(hearth_audit_record, host), q, 7);
        put_str(&b, i, offsetof(hearth_audit_record, redactions_json), q, 10);
        put_str(&b, i, offsetof(hearth_audit_record, outcome), q, 13);
        put_str(&b, i, offsetof(hearth_audit_record, content), q, 14);
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        hearth_status st = STORE_FAIL_SQL(s, rc, err, "reading the audit log");
        blk_discard(&b);
        return st;
    }
    return blk_finish(&b, (void **)out, n, err);
}

hearth_status hearth_store_audit_list(hearth_store *s, int64_t since_ms, int64_t last_n,
                                      hearth_audit_record **out, size_t *n, hearth_error *err) {
    if (!s || !out || !n) return HEARTH_FAIL(err, HEARTH_E_ARG, "NULL argument");
    *out = NULL;
    *n = 0;
    const char *sql =
        last_n > 0
            ? "SELECT * FROM (SELECT " COLS " FROM audit WHERE time_ms >= ?1 ORDER BY id DESC"
              " LIMIT ?2) ORDER BY id"
            : "SELECT " COLS " FROM audit WHERE time_ms >= ?1 ORDER BY id";
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
    if (rc != SQLITE_OK) return STORE_FAIL_SQL(s, rc, err, "preparing an audit query");
    sqlite3_bind_int64(q, 1, since_ms);
    if (last_n > 0) sqlite3_bind_int64(q, 2, last_n);
    hearth_status st = collect(s, q, out, n, err);
    sqlite3_finalize(q);
    return st;
}

hearth_status hearth_store_audit_get(hearth_store *s, int64_t id, hearth_audit_record **out,
                                     hearth_error *err) {
    if (!s || !out) return HEARTH_FAIL(err, HEARTH_E_ARG, "NULL argument");
    *out = NULL;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(s->db, "SELECT " COLS " FROM audit WHERE id = ?1", -1, &q, NULL);
    if (rc != SQLITE_OK) return STORE_FAIL_SQL(s, rc, err, "preparing an audit query");
    sqlite3_bind_int64(q, 1, id);
    size_t n = 0;
    hearth_status st = collect(s, q, out, &n, err);
    sqlite3_finalize(q);
    if (!st && n == 0)
        return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no audit record with id %lld", (long long)id);
    return st;
}
