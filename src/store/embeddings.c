/*
 * embeddings.c: storing embedding vectors and searching them by cosine
 * similarity through the handle's in-memory index (vec_index.c).
 *
 * Keeping the index equal to the committed rows:
 *  - a model's rows are loaded in one pass on its first search;
 *  - this handle's writes are seen by SQLite's update hook (which also sees
 *    rows deleted by triggers, e.g. a message's embeddings); after the
 *    outermost commit the touched rows are re-read and applied, after a
 *    rollback they are forgotten (the index never saw them);
 *  - another connection's commits change PRAGMA data_version, and the next
 *    search then reloads.
 * Vectors are stored as float32 little-endian blobs of 4*dim bytes.
 */
#include "store/store_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <math.h>
#include <string.h>

#define MODEL_MAX 256
#define DIM_MAX 65536
/* Beyond this many touched rows a reload is as cheap as re-reading them. */
#define TOUCHED_MAX 4096

void store_update_hook(void *ctx, int op, const char *dbname, const char *table,
                       sqlite3_int64 rowid) {
    (void)op;
    hearth_store *s = ctx;
    if (strcmp(table, "embeddings") != 0 || strcmp(dbname, "main") != 0) return;
    if (s->touched_all) return;
    if (s->n_touched == s->cap_touched) {
        size_t c = s->cap_touched ? s->cap_touched * 2 : 64;
        int64_t *t = c <= TOUCHED_MAX ? hearth_realloc(s->touched, c * sizeof *t) : NULL;
        if (!t) {
            s->touched_all = true;
            return;
        }
        s->touched = t;
        s->cap_touched = c;
    }
    s->touched[s->n_touched++] = rowid;
}

void store_vecs_after_rollback(hearth_store *s) {
    s->n_touched = 0;
    s->touched_all = false;
}

/* Copies a stored blob into floats (the blob may be unaligned). */
static bool blob_vec(const void *blob, int bytes, int64_t dim, float *out) {
    if (!blob || dim <= 0 || dim > DIM_MAX || bytes != dim * 4) return false;
    memcpy(out, blob, (size_t)bytes);
    return true;
}

/* Re-reads embedding rowid and applies it to the loaded index. */
static hearth_status refresh_one(hearth_store *s, int64_t rowid, float *buf, hearth_error *err) {
    sqlite3_stmt *q = store_stmt(s, ST_EMBED_GET, err);
    if (!q) return err ? err->code : HEARTH_E_IO;
    sqlite3_bind_int64(q, 1, rowid);
    int rc = sqlite3_step(q);
    hearth_status st = HEARTH_OK;
    if (rc == SQLITE_DONE) {
        vec_index_remove(&s->vecs, rowid);
    } else if (rc == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(q, 0);
        const char *model = (const char *)sqlite3_column_text(q, 3);
        int64_t dim = sqlite3_column_int64(q, 4);
        if (!kind || !model || !blob_vec(sqlite3_column_blob(q, 5), sqlite3_column_bytes(q, 5), dim, buf))
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "embedding %lld: damaged row", (long long)rowid);
        else if (vec_index_is_loaded(&s->vecs, model))
            st = vec_index_upsert(&s->vecs, rowid, kind, sqlite3_column_int64(q, 1),
                                  sqlite3_column_int64(q, 2), model, buf, (int32_t)dim, err);
        else
            vec_index_remove(&s->vecs, rowid);
    } else {
        st = STORE_FAIL_SQL(s, rc, err, "reading an embedding");
    }
    sqlite3_reset(q);
    return st;
}

void store_vecs_after_commit(hearth_store *s) {
    bool redo = s->touched_all;
    if (!redo && s->n_touched && s->vecs.n_loaded) {
        float *buf = hearth_malloc(DIM_MAX * sizeof(float));
        redo = !buf;
        for (size_t i = 0; !redo && i < s->n_touched; i++)
            redo = refresh_one(s, s->touched[i], buf, NULL) != HEARTH_OK;
        hearth_free(buf);
    }
    /* Could not follow the changes: forget the index; the next search loads
     * it again from the database. */
    if (redo) vec_index_clear(&s->vecs);
    s->n_touched = 0;
    s->touched_all = false;
}

static hearth_status check_vec(const float *vec, int32_t dim, const char *what, hearth_error *err) {
    if (!vec) return HEARTH_FAIL(err, HEARTH_E_ARG, "%s is NULL", what);
    if (dim < 1 || dim > DIM_MAX)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "%s: dimension %d outside [1, %d]", what, (int)dim, DIM_MAX);
    for (int32_t i = 0; i < dim; i++)
        if (!isfinite(vec[i]))
            return HEARTH_FAIL(err, HEARTH_E_ARG, "%s: element %d is not finite", what, (int)i);
    return HEARTH_OK;
}

hearth_status hearth_store_embedding_put(hearth_store *s, const char *owner_kind,
                                         int64_t owner_id, int64_t group_id, const char *model,
                                         const float *vec, int32_t dim, int64_t *id,
                                         hearth_error *err) {
    if (!s) return HEARTH_FAIL(err, HEARTH_E_ARG, "store is NULL");
    hearth_status st;
    if ((st = store_check_str(owner_kind, 1, HEARTH_EMBED_KIND_MAX - 1, "owner kind", err)) ||
        (st = store_check_str(model, 1, MODEL_MAX, "embedding model", err)) ||
        (st = check_vec(vec, dim, "embedding", err)))
        return st;
    if ((st = store_tx_begin(s, err))) return st;
    sqlite3_stmt *q = store_stmt(s, ST_EMBED_UPSERT, err);
    if (!q) st = err ? err->code : HEARTH_E_IO;
    else {
        sqlite3_bind_text(q, 1, owner_kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, owner_id);
        sqlite3_bind_int64(q, 3, group_id);
        sqlite3_bind_text(q, 4, model, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 5, dim);
        /* float32 in memory order: little-endian on every target hearth
         * builds for */
        sqlite3_bind_blob(q, 6, vec, dim * 4, SQLITE_STATIC);
        sqlite3_bind_int64(q, 7, store_now_ms());
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            if (id) *id = sqlite3_column_int64(q, 0);
            rc = sqlite3_step(q);
        }
        if (rc != SQLITE_DONE) st = STORE_FAIL_SQL(s, rc, err, "storing an embedding");
        sqlite3_reset(q);
    }
    return store_tx_end(s, st, err);
}

hearth_status hearth_store_embedding_delete(hearth_store *s, const char *owner_kind,
                                            int64_t owner_id, hearth_error *err) {
    if (!s) return HEARTH_FAIL(err, HEARTH_E_ARG, "store is NULL");
    hearth_status st = store_check_str(owner_kind, 1, HEARTH_EMBED_KIND_MAX - 1, "owner kind", err);
    if (st) return st;
    if ((st = store_tx_begin(s, err))) return st;
    sqlite3_stmt *q = store_stmt(s, ST_EMBED_DELETE_OWNER, err);
    if (!q) st = err ? err->code : HEARTH_E_IO;
    else {
        sqlite3_bind_text(q, 1, owner_kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, owner_id);
        st = store_step_done(s, q, err, "deleting embeddings");
    }
    return store_tx_end(s, st, err);
}

static hearth_status data_version(hearth_store *s, int64_t *v, hearth_error *err) {
    sqlite3_stmt *q = store_stmt(s, ST_DATA_VERSION, err);
    if (!q) return err ? err->code : HEARTH_E_IO;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) *v = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? HEARTH_OK : STORE_FAIL_SQL(s, rc, err, "reading data_version");
}

/* Loads every row of model into the index, in one pass. */
static hearth_status load_model(hearth_store *s, const char *model, hearth_error *err) {
    sqlite3_stmt *q = store_stmt(s, ST_EMBED_LOAD_MODEL, err);
    if (!q) return err ? err->code : HEARTH_E_IO;
    float *buf = hearth_malloc(DIM_MAX * sizeof(float));
    if (!buf) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    sqlite3_bind_text(q, 1, model, -1, SQLITE_STATIC);
    hearth_status st = HEARTH_OK;
    int rc;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t rowid = sqlite3_column_int64(q, 0), dim = sqlite3_column_int64(q, 4);
        const char *kind = (const char *)sqlite3_column_text(q, 1);
        if (!kind || !blob_vec(sqlite3_column_blob(q, 5), sqlite3_column_bytes(q, 5), dim, buf))
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "embedding %lld: damaged row", (long long)rowid);
        else
            st = vec_index_upsert(&s->vecs, rowid, kind, sqlite3_column_int64(q, 2),
                                  sqlite3_column_int64(q, 3), model, buf, (int32_t)dim, err);
    }
    if (!st && rc != SQLITE_DONE) st = STORE_FAIL_SQL(s, rc, err, "loading embeddings");
    sqlite3_reset(q);
    hearth_free(buf);
    if (!st) st = vec_index_mark_loaded(&s->vecs, model, err);
    return st;
}

hearth_status hearth_store_embedding_search(hearth_store *s, const char *model,
                                            const char *owner_kind, int64_t group_id,
                                            const float *query, int32_t dim, size_t k,
                                            hearth_embedding_hit *out, size_t *n_out,
                                            hearth_error *err) {
    if (!s || !n_out || (k && !out)) return HEARTH_FAIL(err, HEARTH_E_ARG, "NULL argument");
    *n_out = 0;
    hearth_status st;
    if ((st = store_check_str(model, 1, MODEL_MAX, "embedding model", err)) ||
        (owner_kind &&
         (st = store_check_str(owner_kind, 1, HEARTH_EMBED_KIND_MAX - 1, "owner kind", err))) ||
        (st = check_vec(query, dim, "query", err)))
        return st;
    /* Inside this handle's own transaction the index would miss the
     * uncommitted rows (it holds committed ones only). */
    if (s->depth > 0)
        return HEARTH_FAIL(err, HEARTH_E_STATE, "embedding search inside a transaction");
    int64_t dv = 0;
    if ((st = data_version(s, &dv, err))) return st;
    if (s->vecs.n_loaded && dv != s->vecs.data_version) vec_index_clear(&s->vecs);
    if (!vec_index_is_loaded(&s->vecs, model)) {
        if ((st = load_model(s, model, err))) {
            vec_index_clear(&s->vecs);
            return st;
        }
        s->vecs.data_version = dv;
    }
    return vec_index_search(&s->vecs, model, owner_kind, group_id, query, dim, k, out, n_out, err);
}
