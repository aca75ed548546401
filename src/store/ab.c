/*
 * ab.c: the A/B records of served answers (schema migration 5, table
 * ab_responses): append one per answer, attach the user's rating, read them
 * back for the report. Like the audit log these are the device's own
 * measurements: no change records, never synced, no content. Writes are one
 * per answer, so statements are prepared per call.
 */
#include "store/store_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void bind_opt_real(sqlite3_stmt *q, int i, double v) {
    if (v >= 0 && isfinite(v)) sqlite3_bind_double(q, i, v);
    else sqlite3_bind_null(q, i);
}

hearth_status hearth_store_ab_add(hearth_store *s, const hearth_ab_record *r, hearth_error *err) {
    if (!s || !r) return HEARTH_FAIL(err, HEARTH_E_ARG, "store or record NULL");
    size_t cap = HEARTH_AB_NAME_MAX;
    if (!memchr(r->response_id, 0, cap) || !memchr(r->variant, 0, cap) ||
        !memchr(r->kind, 0, sizeof r->kind) || !memchr(r->source, 0, sizeof r->source))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "A/B record: a string is not terminated");
    if (!r->response_id[0] || !r->kind[0] || !r->source[0])
        return HEARTH_FAIL(err, HEARTH_E_ARG, "A/B record: response id, kind and source are required");
    if (r->prompt_tokens < 0 || r->completion_tokens < 0)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "A/B record: negative token count");
    if (r->confidence > 1) return HEARTH_FAIL(err, HEARTH_E_ARG, "A/B record: confidence > 1");
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        s->db,
        "INSERT INTO ab_responses (response_id, time_ms, variant, kind, source, latency_ms,"
        " ttft_ms, tokens_per_s, prompt_tokens, completion_tokens, confidence)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        -1, &q, NULL);
    if (rc != SQLITE_OK) return STORE_FAIL_SQL(s, rc, err, "preparing an A/B insert");
    sqlite3_bind_text(q, 1, r->response_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, r->time_ms ? r->time_ms : store_now_ms());
    sqlite3_bind_text(q, 3, r->variant, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, r->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, r->source, -1, SQLITE_STATIC);
    bind_opt_real(q, 6, r->latency_ms);
    bind_opt_real(q, 7, r->ttft_ms);
    bind_opt_real(q, 8, r->tokens_per_s);
    sqlite3_bind_int64(q, 9, r->prompt_tokens);
    sqlite3_bind_int64(q, 10, r->completion_tokens);
    bind_opt_real(q, 11, r->confidence);
    hearth_status st = store_tx_begin(s, err);
    if (st) {
        sqlite3_finalize(q);
        return st;
    }
    rc = sqlite3_step(q);
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        st = HEARTH_FAIL(err, HEARTH_E_ARG, "A/B record: response id '%s' is already stored",
                         r->response_id);
    else if (rc != SQLITE_DONE)
        st = STORE_FAIL_SQL(s, rc, err, "writing an A/B record");
    sqlite3_finalize(q);
    return store_tx_end(s, st, err);
}

hearth_status hearth_store_ab_feedback(hearth_store *s, const char *response_id, double rating,
                                       char *variant, size_t cap, hearth_error *err) {
    if (!s || !response_id) return HEARTH_FAIL(err, HEARTH_E_ARG, "store or response id NULL");
    if (!isfinite(rating) || rating < -1 || rating > 1)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "rating must be a number from -1 to 1");
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(s->db,
                                "UPDATE ab_responses SET rating = ?2, rated_ms = ?3"
                                " WHERE response_id = ?1 RETURNING variant",
                                -1, &q, NULL);
    if (rc != SQLITE_OK) return STORE_FAIL_SQL(s, rc, err, "preparing an A/B rating");
    sqlite3_bind_text(q, 1, response_id, -1, SQLITE_STATIC);
    sqlite3_bind_double(q, 2, rating);
    sqlite3_bind_int64(q, 3, store_now_ms());
    hearth_status st = store_tx_begin(s, err);
    if (st) {
        sqlite3_finalize(q);
        return st;
    }
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        if (variant && cap) snprintf(variant, cap, "%s", (const char *)sqlite3_column_text(q, 0));
        rc = sqlite3_step(q);
    } else if (rc == SQLITE_DONE) {
        st = HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no response with id '%.80s'", response_id);
    }
    if (!st && rc != SQLITE_DONE) st = STORE_FAIL_SQL(s, rc, err, "rating a response");
    sqlite3_finalize(q);
    return store_tx_end(s, st, err);
}

static void col_str(sqlite3_stmt *q, int col, char *dst, size_t cap) {
    const unsigned char *t = sqlite3_column_text(q, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static double col_opt(sqlite3_stmt *q, int col) {
    return sqlite3_column_type(q, col) == SQLITE_NULL ? -1 : sqlite3_column_double(q, col);
}

hearth_status hearth_store_ab_list(hearth_store *s, int64_t since_ms, hearth_ab_record **out,
                                   size_t *n, hearth_error *err) {
    if (!s || !out || !n) return HEARTH_FAIL(err, HEARTH_E_ARG, "NULL argument");
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        s->db,
        "SELECT response_id, time_ms, variant, kind, source, latency_ms, ttft_ms, tokens_per_s,"
        " prompt_tokens, completion_tokens, confidence, rating, rated_ms FROM ab_responses"
        " WHERE time_ms >= ?1 ORDER BY id",
        -1, &q, NULL);
    if (rc != SQLITE_OK) return STORE_FAIL_SQL(s, rc, err, "preparing an A/B query");
    sqlite3_bind_int64(q, 1, since_ms);
    hearth_ab_record *v = NULL;
    size_t len = 0, cap = 0;
    hearth_status st = HEARTH_OK;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (len == cap) {
            size_t nc = cap ? cap * 2 : 64;
            hearth_ab_record *nv = hearth_realloc(v, nc * sizeof *nv);
            if (!nv) {
                st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        hearth_ab_record *r = &v[len++];
        memset(r, 0, sizeof *r);
        col_str(q, 0, r->response_id, sizeof r->response_id);
        r->time_ms = sqlite3_column_int64(q, 1);
        col_str(q, 2, r->variant, sizeof r->variant);
        col_str(q, 3, r->kind, sizeof r->kind);
        col_str(q, 4, r->source, sizeof r->source);
        r->latency_ms = col_opt(q, 5);
        r->ttft_ms = col_opt(q, 6);
        r->tokens_per_s = col_opt(q, 7);
        r->prompt_tokens = sqlite3_column_int64(q, 8);
        r->completion_tokens = sqlite3_column_int64(q, 9);
        r->confidence = col_opt(q, 10);
        r->has_rating = sqlite3_column_type(q, 11) != SQLITE_NULL;
        r->rating = r->has_rating ? sqlite3_column_double(q, 11) : 0;
        r->rated_ms = sqlite3_column_int64(q, 12);
    }
    if (!st && rc != SQLITE_DONE) st = STORE_FAIL_SQL(s, rc, err, "reading the A/B records");
    sqlite3_finalize(q);
    if (st) {
        hearth_free(v);
        return st;
    }
    *out = len ? v : NULL;
    if (!len) hearth_free(v);
    *n = len;
    return HEARTH_OK;
}
