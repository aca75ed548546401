/*
 * server_store_sqlite.c: the sync server's SQLite backend (server_store.h).
 * One connection in WAL mode with synchronous=FULL, so a COMMIT that returns
 * is on disk; a mutex serializes the threads of one server (a transaction
 * holds it from tx_begin to commit/rollback), and BEGIN IMMEDIATE with a
 * busy timeout serializes other processes on the same file. Statements are
 * prepared once and reset after each use.
 */
#include "sync/server_store.h"

#include "util/alloc.h"
#include "util/error.h"

#include <pthread.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS users(id TEXT PRIMARY KEY, created INTEGER NOT NULL,"
    " compacted INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS enroll_tokens(hash TEXT PRIMARY KEY, owner TEXT NOT NULL,"
    " created INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS devices(id TEXT PRIMARY KEY, owner TEXT NOT NULL,"
    " name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,"
    " pull_pos INTEGER NOT NULL DEFAULT 0, stored_bytes INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS devices_owner ON devices(owner);"
    "CREATE TABLE IF NOT EXISTS keyinfo(owner TEXT PRIMARY KEY, salt BLOB NOT NULL,"
    " chk BLOB NOT NULL, opslimit INTEGER NOT NULL, memlimit INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS log(seq INTEGER PRIMARY KEY, owner TEXT NOT NULL,"
    " device TEXT NOT NULL, change_id INTEGER NOT NULL, collection TEXT NOT NULL,"
    " row_id TEXT NOT NULL, op INTEGER NOT NULL, version INTEGER NOT NULL,"
    " hlc INTEGER NOT NULL, payload BLOB, compacted INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE(device, change_id));"
    "CREATE INDEX IF NOT EXISTS log_owner_seq ON log(owner, seq);"
    "CREATE INDEX IF NOT EXISTS log_row ON log(owner, collection, row_id, seq);"
    "CREATE TABLE IF NOT EXISTS row_state(owner TEXT NOT NULL, collection TEXT NOT NULL,"
    " row_id TEXT NOT NULL, version INTEGER NOT NULL, op INTEGER NOT NULL,"
    " hlc INTEGER NOT NULL, device TEXT NOT NULL, seq INTEGER NOT NULL,"
    " PRIMARY KEY(owner, collection, row_id)) WITHOUT ROWID;";

enum {
    Q_FIND_APPLIED,
    Q_GET_ROW,
    Q_GET_PAYLOAD,
    Q_INSERT,
    Q_PUT_ROW,
    Q_ADD_STORED,
    Q_PULL,
    Q_SET_POS,
    Q_MIN_POS,
    Q_COMPACTED,
    Q_TOMBSTONES,
    Q_COMPACT_ROW,
    Q_SET_COMPACTED,
    Q_SERVER_SEQ,
    Q_AUTH,
    Q_COUNT_DEVICES,
    Q_N
};

static const char *const sql[Q_N] = {
    [Q_FIND_APPLIED] = "SELECT seq, version FROM log WHERE device=?1 AND change_id=?2",
    [Q_GET_ROW] = "SELECT version, op, hlc, device, seq FROM row_state"
                  " WHERE owner=?1 AND collection=?2 AND row_id=?3",
    [Q_GET_PAYLOAD] = "SELECT payload FROM log WHERE seq=?1",
    [Q_INSERT] = "INSERT INTO log(owner, device, change_id, collection, row_id, op, version,"
                 " hlc, payload) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)",
    [Q_PUT_ROW] = "INSERT OR REPLACE INTO row_state(owner, collection, row_id, version, op,"
                  " hlc, device, seq) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
    [Q_ADD_STORED] = "UPDATE devices SET stored_bytes=stored_bytes+?2, last_seen=?3 WHERE id=?1"
                     " RETURNING stored_bytes",
    [Q_PULL] = "SELECT seq, device, change_id, collection, row_id, op, version, hlc, payload"
               " FROM log WHERE owner=?1 AND seq>?2 AND compacted=0 ORDER BY seq LIMIT ?3",
    [Q_SET_POS] = "UPDATE devices SET pull_pos=?2, last_seen=?3 WHERE id=?1",
    [Q_MIN_POS] = "SELECT min(pull_pos) FROM devices WHERE owner=?1 AND revoked=0",
    [Q_COMPACTED] = "SELECT compacted FROM users WHERE id=?1",
    [Q_TOMBSTONES] = "SELECT collection, row_id, seq FROM log WHERE owner=?1 AND seq>?2"
                     " AND seq<=?3 AND op=1 AND compacted=0 ORDER BY seq",
    [Q_COMPACT_ROW] = "UPDATE log SET payload=NULL, compacted=1 WHERE owner=?1 AND"
                      " collection=?2 AND row_id=?3 AND seq<=?4 AND compacted=0",
    [Q_SET_COMPACTED] = "UPDATE users SET compacted=?2 WHERE id=?1",
    [Q_SERVER_SEQ] = "SELECT coalesce(max(seq), 0) FROM log WHERE owner=?1",
    [Q_AUTH] = "SELECT id, owner, name, created, last_seen, pull_pos, stored_bytes, revoked"
               " FROM devices WHERE token_hash=?1",
    [Q_COUNT_DEVICES] = "SELECT count(*) FROM devices WHERE owner=?1 AND revoked=0",
};

typedef struct {
    sstore base;
    sqlite3 *db;
    sqlite3_stmt *q[Q_N];
    pthread_mutex_t mu;
    char path[512];
} sq_store;

struct sstore_tx {
    sq_store *s;
};

static hearth_status dberr(sq_store *s, hearth_error *err, const char *what) {
    return HEARTH_FAIL(err, HEARTH_E_IO, "sync store %s: %s: %s", s->path, what,
                       sqlite3_errmsg(s->db));
}

/* The prepared statement i, reset and with bindings cleared. */
static sqlite3_stmt *st(sq_store *s, int i) {
    sqlite3_reset(s->q[i]);
    sqlite3_clear_bindings(s->q[i]);
    return s->q[i];
}

static void bind_text(sqlite3_stmt *q, int i, const char *v) {
    sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
}

static void copy_col(sqlite3_stmt *q, int col, char *out, size_t cap) {
    const unsigned char *v = sqlite3_column_text(q, col);
    snprintf(out, cap, "%s", v ? (const char *)v : "");
}

static hearth_status exec(sq_store *s, const char *sqltext, hearth_error *err) {
    char *msg = NULL;
    if (sqlite3_exec(s->db, sqltext, NULL, NULL, &msg) != SQLITE_OK) {
        hearth_status r = HEARTH_FAIL(err, HEARTH_E_IO, "sync store %s: %s", s->path,
                                      msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return r;
    }
    return HEARTH_OK;
}

static void sq_close(sstore *b) {
    sq_store *s = (sq_store *)b;
    if (!s) return;
    for (int i = 0; i < Q_N; i++) sqlite3_finalize(s->q[i]);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    hearth_free(s);
}

/* ---- transactions ------------------------------------------------------- */

static hearth_status sq_tx_begin(sstore *b, const char *user, sstore_tx **out,
                                 hearth_error *err) {
    (void)user; /* one writer at a time serializes every user */
    sq_store *s = (sq_store *)b;
    *out = NULL;
    sstore_tx *t = hearth_calloc(1, sizeof *t);
    if (!t) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    pthread_mutex_lock(&s->mu);
    hearth_status r = exec(s, "BEGIN IMMEDIATE", err);
    if (r) {
        pthread_mutex_unlock(&s->mu);
        hearth_free(t);
        return r;
    }
    t->s = s;
    *out = t;
    return HEARTH_OK;
}

static hearth_status sq_tx_commit(sstore_tx *t, hearth_error *err) {
    sq_store *s = t->s;
    hearth_status r = exec(s, "COMMIT", err);
    if (r) exec(s, "ROLLBACK", NULL);
    pthread_mutex_unlock(&s->mu);
    hearth_free(t);
    return r;
}

static void sq_tx_rollback(sstore_tx *t) {
    if (!t) return;
    sq_store *s = t->s;
    exec(s, "ROLLBACK", NULL);
    pthread_mutex_unlock(&s->mu);
    hearth_free(t);
}

static hearth_status sq_find_applied(sstore_tx *t, const char *device, int64_t change_id,
                                     bool *found, int64_t *seq, int64_t *version,
                                     hearth_error *err) {
    sq_store *s = t->s;
    sqlite3_stmt *q = st(s, Q_FIND_APPLIED);
    bind_text(q, 1, device);
    sqlite3_bind_int64(q, 2, change_id);
    int rc = sqlite3_step(q);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(q, 0);
        *version = sqlite3_column_int64(q, 1);
    } else if (rc != SQLITE_DONE) {
        return dberr(s, err, "find applied change");
    }
    sqlite3_reset(q);
    return HEARTH_OK;
}

static hearth_status sq_get_row(sstore_tx *t, const char *user, const char *collection,
                                const char *row, bool *found, sstore_row *out,
                                hearth_error *err) {
    sq_store *s = t->s;
    sqlite3_stmt *q = st(s, Q_GET_ROW);
    bind_text(q, 1, user);
    bind_text(q, 2, collection);
    bind_text(q, 3, row);
    int rc = sqlite3_step(q);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        out->version = sqlite3_column_int64(q, 0);
        out->op = (sync_op)sqlite3_column_int(q, 1);
        out->hlc = sqlite3_column_int64(q, 2);
        copy_col(q, 3, out->device, sizeof out->device);
        out->seq = sqlite3_column_int64(q, 4);
    } else if (rc != SQLITE_DONE) {
        return dberr(s, err, "get row");
    }
    sqlite3_reset(q);
    return HEARTH_OK;
}

static hearth_status sq_get_payload(sstore_tx *t, int64_t seq, uint8_t **out, size_t *len,
                                    hearth_error *err) {
    sq_store *s = t->s;
    *out = NULL;
    *len = 0;
    sqlite3_stmt *q = st(s, Q_GET_PAYLOAD);
    sqlite3_bind_int64(q, 1, seq);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) == SQLITE_BLOB) {
        int n = sqlite3_column_bytes(q, 0);
        const void *p = sqlite3_column_blob(q, 0);
        *out = hearth_malloc((size_t)n);
        if (!*out) {
            sqlite3_reset(q);
            return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
        }
        memcpy(*out, p, (size_t)n);
        *len = (size_t)n;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return dberr(s, err, "get payload");
    }
    sqlite3_reset(q);
    return HEARTH_OK;
}

static hearth_status sq_insert(sstore_tx *t, const sstore_entry *e, int64_t *seq,
                               hearth_error *err) {
    sq_store *s = t->s;
    sqlite3_stmt *q = st(s, Q_INSERT);
    bind_text(q, 1, e->user);
    bind_text(q, 2, e->device);
    sqlite3_bind_int64(q, 3, e->change_id);
    bind_text(q, 4, e->collection);
    bind_text(q, 5, e->row);
    sqlite3_bind_int(q, 6, (int)e->op);
    sqlite3_bind_int64(q, 7, e->version);
    sqlite3_bind_int64(q, 8, e->hlc);
    if (e->payload)
        sqlite3_bind_blob64(q, 9, e->payload, e->payload_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 9);
    if (sqlite3_step(q) != SQLITE_DONE) return dberr(s, err, "insert change");
    sqlite3_reset(q);
    *seq = sqlite3_last_insert_rowid(s->db);
    return HEARTH_OK;
}

static hearth_status sq_put_row(sstore_tx *t, const char *user, const char *collection,
                                const char *row, const sstore_row *r, hearth_error *err) {
    sq_store *s = t->s;
    sqlite3_stmt *q = st(s, Q_PUT_ROW);
    bind_text(q, 1, user);
    bind_text(q, 2, collection);
    bind_text(q, 3, row);
    sqlite3_bind_int64(q, 4, r->version);
    sqlite3_bind_int(q, 5, (int)r->op);
    sqlite3_bind_int64(q, 6, r->hlc);
    bind_text(q, 7, r->device);
    sqlite3_bind_int64(q, 8, r->seq);
    if (sqlite3_step(q) != SQLITE_DONE) return dberr(s, err, "put row");
    sqlite3_reset(q);
    return HEARTH_OK;
}

static hearth_status sq_add_stored(sstore_tx *t, const char *device, int64_t bytes,
                                   int64_t *total, hearth_error *err) {
    sq_store *s = t->s;
    sqlite3_stmt *q = st(s, Q_ADD_STORED);
    bind_text(q, 1, device);
    sqlite3_bind_int64(q, 2, bytes);
    sqlite3_bind_int64(q, 3, (int64_t)time(NULL));
    if (sqlite3_step(q) != SQLITE_ROW) return dberr(s, err, "count stored bytes");
    *total = sqlite3_column_int64(q, 0);
    if (sqlite3_step(q) != SQLITE_DONE) return dberr(s, err, "count stored bytes");
    sqlite3_reset(q);
    return HEARTH_OK;
}

/* ---- reads ----------------------------------------------------------------- */

static hearth_status sq_pull(sstore *b, const char *user, int64_t after, size_t limit,
                             sync_pull_reply *out, hearth_error *err) {
    sq_store *s = (sq_store *)b;
    memset(out, 0, sizeof *out);
    out->changes = hearth_calloc(limit ? limit : 1, sizeof *out->changes);
    if (!out->changes) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    hearth_status r = HEARTH_OK;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = st(s, Q_PULL);
    bind_text(q, 1, user);
    sqlite3_bind_int64(q, 2, after);
    sqlite3_bind_int64(q, 3, (int64_t)limit + 1);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (out->n == limit) {
            out->more = true;
            continue;
        }
        sync_pulled *c = &out->changes[out->n];
        c->seq = sqlite3_column_int64(q, 0);
        copy_col(q, 1, c->device, sizeof c->device);
        c->change_id = sqlite3_column_int64(q, 2);
        copy_col(q, 3, c->collection, sizeof c->collection);
        copy_col(q, 4, c->row, sizeof c->row);
        c->op = (sync_op)sqlite3_column_int(q, 5);
        c->version = sqlite3_column_int64(q, 6);
        c->hlc = sqlite3_column_int64(q, 7);
        if (sqlite3_column_type(q, 8) == SQLITE_BLOB) {
            int n = sqlite3_column_bytes(q, 8);
            c->payload = hearth_malloc((size_t)n);
            if (!c->payload) {
                r = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
                break;
            }
            memcpy(c->payload, sqlite3_column_blob(q, 8), (size_t)n);
            c->payload_len = (size_t)n;
        }
        out->n++;
    }
    if (!r && rc != SQLITE_DONE && rc != SQLITE_ROW) r = dberr(s, err, "pull");
    sqlite3_reset(q);
    if (!r) {
        q = st(s, Q_SERVER_SEQ);
        bind_text(q, 1, user);
        if (sqlite3_step(q) == SQLITE_ROW)
            out->server_seq = sqlite3_column_int64(q, 0);
        else
            r = dberr(s, err, "server seq");
        sqlite3_reset(q);
    }
    pthread_mutex_unlock(&s->mu);
    if (r) {
        sync_pull_reply_free(out);
        return r;
    }
    out->next = out->n ? out->changes[out->n - 1].seq : after;
    return HEARTH_OK;
}

static int64_t one_int(sq_store *s, int qi, const char *text, bool *ok) {
    sqlite3_stmt *q = st(s, qi);
    bind_text(q, 1, text);
    int64_t v = 0;
    *ok = false;
    if (sqlite3_step(q) == SQLITE_ROW) {
        v = sqlite3_column_int64(q, 0);
        *ok = true;
    }
    sqlite3_reset(q);
    return v;
}

static hearth_status sq_pulled(sstore *b, const char *user, const char *device, int64_t after,
                               hearth_error *err) {
    sq_store *s = (sq_store *)b;
    pthread_mutex_lock(&s->mu);
    hearth_status r = exec(s, "BEGIN IMMEDIATE", err);
    if (r) goto out;
    sqlite3_stmt *q = st(s, Q_SET_POS);
    bind_text(q, 1, device);
    sqlite3_bind_int64(q, 2, after);
    sqlite3_bind_int64(q, 3, (int64_t)time(NULL));
    if (sqlite3_step(q) != SQLITE_DONE) {
        r = dberr(s, err, "record pull position");
        goto rollback;
    }
    sqlite3_reset(q);
    bool ok1, ok2;
    int64_t min_pos = one_int(s, Q_MIN_POS, user, &ok1);
    int64_t done = one_int(s, Q_COMPACTED, user, &ok2);
    if (ok1 && ok2 && min_pos > done) {
        /* Every active device has everything up to min_pos: a row deleted at
         * or before it is gone everywhere, so its history is dropped. */
        q = st(s, Q_TOMBSTONES);
        bind_text(q, 1, user);
        sqlite3_bind_int64(q, 2, done);
        sqlite3_bind_int64(q, 3, min_pos);
        typedef struct {
            char c[SYNC_MAX_ID + 1], r[SYNC_MAX_ID + 1];
            int64_t seq;
        } tomb;
        tomb *ts = NULL;
        size_t nt = 0, cap = 0;
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            if (nt == cap) {
                size_t nc = cap ? cap * 2 : 64;
                tomb *g = hearth_realloc(ts, nc * sizeof *ts);
                if (!g) break;
                ts = g;
                cap = nc;
            }
            copy_col(q, 0, ts[nt].c, sizeof ts[nt].c);
            copy_col(q, 1, ts[nt].r, sizeof ts[nt].r);
            ts[nt].seq = sqlite3_column_int64(q, 2);
            nt++;
        }
        bool complete = rc == SQLITE_DONE;
        sqlite3_reset(q);
        for (size_t i = 0; i < nt; i++) {
            q = st(s, Q_COMPACT_ROW);
            bind_text(q, 1, user);
            bind_text(q, 2, ts[i].c);
            bind_text(q, 3, ts[i].r);
            sqlite3_bind_int64(q, 4, ts[i].seq);
            if (sqlite3_step(q) != SQLITE_DONE) complete = false;
            sqlite3_reset(q);
        }
        hearth_free(ts);
        if (complete) {
            q = st(s, Q_SET_COMPACTED);
            bind_text(q, 1, user);
            sqlite3_bind_int64(q, 2, min_pos);
            sqlite3_step(q);
            sqlite3_reset(q);
        }
    }
    r = exec(s, "COMMIT", err);
    if (!r) goto out;
rollback:
    exec(s, "ROLLBACK", NULL);
out:
    pthread_mutex_unlock(&s->mu);
    return r;
}

static hearth_status sq_tx_head(sstore_tx *t, const char *user, int64_t *out,
                                hearth_error *err) {
    bool ok;
    *out = one_int(t->s, Q_SERVER_SEQ, user, &ok);
    return ok ? HEARTH_OK : dberr(t->s, err, "server seq");
}

static hearth_status sq_server_seq(sstore *b, const char *user, int64_t *out,
                                   hearth_error *err) {
    sq_store *s = (sq_store *)b;
    pthread_mutex_lock(&s->mu);
    bool ok;
    *out = one_int(s, Q_SERVER_SEQ, user, &ok);
    hearth_status r = ok ? HEARTH_OK : dberr(s, err, "server seq");
    pthread_mutex_unlock(&s->mu);
    return r;
}

static hearth_status sq_count_devices(sstore *b, const char *user, int64_t *out,
                                      hearth_error *err) {
    sq_store *s = (sq_store *)b;
    pthread_mutex_lock(&s->mu);
    bool ok;
    *out = one_int(s, Q_COUNT_DEVICES, user, &ok);
    hearth_status r = ok ? HEARTH_OK : dberr(s, err, "count devices");
    pthread_mutex_unlock(&s->mu);
    return r;
}

static void read_device(sqlite3_stmt *q, sstore_device *d) {
    copy_col(q, 0, d->id, sizeof d->id);
    copy_col(q, 1, d->user, sizeof d->user);
    copy_col(q, 2, d->name, sizeof d->name);
    d->created = sqlite3_column_int64(q, 3);
    d->last_seen = sqlite3_column_int64(q, 4);
    d->pull_pos = sqlite3_column_int64(q, 5);
    d->stored_bytes = sqlite3_column_int64(q, 6);
    d->revoked = sqlite3_column_int(q, 7) != 0;
}

static hearth_status sq_auth(sstore *b, const char *token_hash, sstore_device *out,
                             hearth_error *err) {
    sq_store *s = (sq_store *)b;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = st(s, Q_AUTH);
    bind_text(q, 1, token_hash);
    int rc = sqlite3_step(q);
    hearth_status r = HEARTH_OK;
    if (rc == SQLITE_ROW)
        read_device(q, out);
    else if (rc == SQLITE_DONE)
        r = HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "unknown device token");
    else
        r = dberr(s, err, "authenticate");
    sqlite3_reset(q);
    pthread_mutex_unlock(&s->mu);
    return r;
}

/* ---- one-off statements ----------------------------------------------------- */

/* Runs a statement prepared on the spot with text bindings (NULL-ended). */
static int run_text(sq_store *s, const char *sqltext, sqlite3_stmt **keep, ...) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sqltext, -1, &q, NULL) != SQLITE_OK) return SQLITE_ERROR;
    va_list ap;
    va_start(ap, keep);
    int i = 1;
    for (const char *v; (v = va_arg(ap, const char *)) != NULL; i++) bind_text(q, i, v);
    va_end(ap);
    if (keep) {
        *keep = q;
        return SQLITE_OK;
    }
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc;
}

static hearth_status sq_enroll(sstore *b, const char *enroll_hash, const char *device,
                               const char *name, const char *token_hash,
                               char user[SYNC_MAX_ID + 1], hearth_error *err) {
    sq_store *s = (sq_store *)b;
    user[0] = '\0';
    pthread_mutex_lock(&s->mu);
    hearth_status r = exec(s, "BEGIN IMMEDIATE", err);
    if (r) goto out;
    sqlite3_stmt *q = NULL;
    run_text(s, "SELECT owner FROM enroll_tokens WHERE hash=?1 AND revoked=0", &q, enroll_hash,
             (const char *)NULL);
    int rc = q ? sqlite3_step(q) : SQLITE_ERROR;
    if (rc == SQLITE_ROW) copy_col(q, 0, user, SYNC_MAX_ID + 1);
    sqlite3_finalize(q);
    if (rc == SQLITE_DONE) {
        r = HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "unknown or revoked enrollment token");
        goto rollback;
    }
    if (rc != SQLITE_ROW) {
        r = dberr(s, err, "look up enrollment token");
        goto rollback;
    }
    q = NULL;
    run_text(s, "SELECT owner, revoked FROM devices WHERE id=?1", &q, device, (const char *)NULL);
    rc = q ? sqlite3_step(q) : SQLITE_ERROR;
    bool exists = rc == SQLITE_ROW, other = false, revoked = false;
    if (exists) {
        other = strcmp((const char *)sqlite3_column_text(q, 0), user) != 0;
        revoked = sqlite3_column_int(q, 1) != 0;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        r = dberr(s, err, "look up device");
        goto rollback;
    }
    if (other || revoked) {
        r = HEARTH_FAIL(err, HEARTH_E_STATE, "device %s is %s", device,
                        revoked ? "revoked" : "registered to another user");
        goto rollback;
    }
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)time(NULL));
    rc = exists ? run_text(s, "UPDATE devices SET token_hash=?2, name=?3, last_seen=?4 WHERE id=?1",
                           NULL, device, token_hash, name, now, (const char *)NULL)
                : run_text(s, "INSERT INTO devices(id, owner, name, token_hash, created, last_seen)"
                              " VALUES(?1,?2,?3,?4,?5,?5)",
                           NULL, device, user, name, token_hash, now, (const char *)NULL);
    if (rc != SQLITE_DONE) {
        r = dberr(s, err, "register device");
        goto rollback;
    }
    r = exec(s, "COMMIT", err);
    if (!r) goto out;
rollback:
    exec(s, "ROLLBACK", NULL);
out:
    pthread_mutex_unlock(&s->mu);
    return r;
}

static hearth_status sq_keyinfo_get(sstore *b, const char *user, sync_keyinfo *out,
                                    hearth_error *err) {
    sq_store *s = (sq_store *)b;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = NULL;
    run_text(s, "SELECT salt, chk, opslimit, memlimit FROM keyinfo WHERE owner=?1", &q, user,
             (const char *)NULL);
    int rc = q ? sqlite3_step(q) : SQLITE_ERROR;
    hearth_status r = HEARTH_OK;
    if (rc == SQLITE_ROW) {
        int sn = sqlite3_column_bytes(q, 0), cn = sqlite3_column_bytes(q, 1);
        if (sn != (int)sizeof out->salt || cn <= 0) {
            r = HEARTH_FAIL(err, HEARTH_E_IO, "sync store %s: bad key info", s->path);
        } else if (!(out->check = hearth_malloc((size_t)cn))) {
            r = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
        } else {
            memcpy(out->salt, sqlite3_column_blob(q, 0), sizeof out->salt);
            memcpy(out->check, sqlite3_column_blob(q, 1), (size_t)cn);
            out->check_len = (size_t)cn;
            out->opslimit = (uint64_t)sqlite3_column_int64(q, 2);
            out->memlimit = (uint64_t)sqlite3_column_int64(q, 3);
        }
    } else if (rc == SQLITE_DONE) {
        r = HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no key info yet");
    } else {
        r = dberr(s, err, "get key info");
    }
    sqlite3_finalize(q);
    pthread_mutex_unlock(&s->mu);
    return r;
}

static hearth_status sq_keyinfo_put(sstore *b, const char *user, const sync_keyinfo *k,
                                    bool *stored, sync_keyinfo *current, hearth_error *err) {
    sq_store *s = (sq_store *)b;
    *stored = false;
    memset(current, 0, sizeof *current);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(s->db,
                                "INSERT INTO keyinfo(owner, salt, chk, opslimit, memlimit)"
                                " VALUES(?1,?2,?3,?4,?5) ON CONFLICT(owner) DO NOTHING",
                                -1, &q, NULL);
    if (rc == SQLITE_OK) {
        bind_text(q, 1, user);
        sqlite3_bind_blob(q, 2, k->salt, sizeof k->salt, SQLITE_STATIC);
        sqlite3_bind_blob64(q, 3, k->check, k->check_len, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, (int64_t)k->opslimit);
        sqlite3_bind_int64(q, 5, (int64_t)k->memlimit);
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
    }
    bool ok = rc == SQLITE_DONE;
    *stored = ok && sqlite3_changes(s->db) == 1;
    hearth_status r = ok ? HEARTH_OK : dberr(s, err, "put key info");
    pthread_mutex_unlock(&s->mu);
    if (!r && !*stored) r = sq_keyinfo_get(b, user, current, err);
    return r;
}

static hearth_status sq_add_token(sstore *b, const char *user, const char *enroll_hash,
                                  hearth_error *err) {
    sq_store *s = (sq_store *)b;
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)time(NULL));
    pthread_mutex_lock(&s->mu);
    hearth_status r = exec(s, "BEGIN IMMEDIATE", err);
    if (!r) {
        if (run_text(s, "INSERT INTO users(id, created) VALUES(?1, ?2) ON CONFLICT(id) DO NOTHING",
                     NULL, user, now, (const char *)NULL) != SQLITE_DONE ||
            run_text(s, "INSERT INTO enroll_tokens(hash, owner, created) VALUES(?1,?2,?3)", NULL,
                     enroll_hash, user, now, (const char *)NULL) != SQLITE_DONE) {
            r = dberr(s, err, "add enrollment token");
            exec(s, "ROLLBACK", NULL);
        } else {
            r = exec(s, "COMMIT", err);
            if (r) exec(s, "ROLLBACK", NULL);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

static hearth_status sq_list_devices(sstore *b, sstore_device **out, size_t *n,
                                     hearth_error *err) {
    sq_store *s = (sq_store *)b;
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = NULL;
    run_text(s, "SELECT id, owner, name, created, last_seen, pull_pos, stored_bytes, revoked"
                " FROM devices ORDER BY owner, id", &q, (const char *)NULL);
    hearth_status r = HEARTH_OK;
    size_t cap = 0;
    int rc = q ? SQLITE_ROW : SQLITE_ERROR;
    while (q && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            sstore_device *g = hearth_realloc(*out, nc * sizeof **out);
            if (!g) {
                r = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
                break;
            }
            *out = g;
            cap = nc;
        }
        read_device(q, &(*out)[(*n)++]);
    }
    if (!r && rc != SQLITE_DONE) r = dberr(s, err, "list devices");
    sqlite3_finalize(q);
    pthread_mutex_unlock(&s->mu);
    if (r) {
        hearth_free(*out);
        *out = NULL;
        *n = 0;
    }
    return r;
}

static hearth_status sq_revoke(sstore *b, const char *device, hearth_error *err) {
    sq_store *s = (sq_store *)b;
    pthread_mutex_lock(&s->mu);
    int rc = run_text(s, "UPDATE devices SET revoked=1 WHERE id=?1", NULL, device,
                      (const char *)NULL);
    hearth_status r = HEARTH_OK;
    if (rc != SQLITE_DONE)
        r = dberr(s, err, "revoke");
    else if (sqlite3_changes(s->db) == 0)
        r = HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no device %s", device);
    pthread_mutex_unlock(&s->mu);
    return r;
}

static hearth_status sq_revoke_tokens(sstore *b, const char *user, int64_t *n,
                                      hearth_error *err) {
    sq_store *s = (sq_store *)b;
    pthread_mutex_lock(&s->mu);
    int rc = run_text(s, "UPDATE enroll_tokens SET revoked=1 WHERE owner=?1 AND revoked=0", NULL,
                      user, (const char *)NULL);
    hearth_status r = rc == SQLITE_DONE ? HEARTH_OK : dberr(s, err, "revoke tokens");
    *n = r ? 0 : sqlite3_changes(s->db);
    pthread_mutex_unlock(&s->mu);
    return r;
}

static const sstore_ops sq_ops = {
    .name = "sqlite",
    .close = sq_close,
    .tx_begin = sq_tx_begin,
    .tx_commit = sq_tx_commit,
    .tx_rollback = sq_tx_rollback,
    .find_applied = sq_find_applied,
    .get_row = sq_get_row,
    .get_payload = sq_get_payload,
    .insert = sq_insert,
    .put_row = sq_put_row,
    .add_stored = sq_add_stored,
    .tx_head = sq_tx_head,
    .pull = sq_pull,
    .pulled = sq_pulled,
    .server_seq = sq_server_seq,
    .auth = sq_auth,
    .enroll = sq_enroll,
    .keyinfo_get = sq_keyinfo_get,
    .keyinfo_put = sq_keyinfo_put,
    .count_devices = sq_count_devices,
    .add_token = sq_add_token,
    .list_devices = sq_list_devices,
    .revoke = sq_revoke,
    .revoke_tokens = sq_revoke_tokens,
};

hearth_status sstore_sqlite_open(const char *path, sstore **out, hearth_error *err) {
    *out = NULL;
    if (!path || !*path) return HEARTH_FAIL(err, HEARTH_E_ARG, "sync store: empty path");
    sq_store *s = hearth_calloc(1, sizeof *s);
    if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    s->base.ops = &sq_ops;
    snprintf(s->path, sizeof s->path, "%s", path);
    pthread_mutex_init(&s->mu, NULL);
    hearth_status r = HEARTH_OK;
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        r = HEARTH_FAIL(err, HEARTH_E_IO, "sync store %s: cannot open: %s", path,
                        s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sq_close(&s->base);
        return r;
    }
    sqlite3_busy_timeout(s->db, 10000);
    /* WAL + synchronous=FULL: a COMMIT that returned survives power loss,
     * which is what acknowledging a push promises. */
    if ((r = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                  err)) ||
        (r = exec(s, schema, err))) {
        sq_close(&s->base);
        return r;
    }
    for (int i = 0; i < Q_N; i++)
        if (sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i], NULL) !=
            SQLITE_OK) {
            r = dberr(s, err, "prepare");
            sq_close(&s->base);
            return r;
        }
    *out = &s->base;
    return HEARTH_OK;
}
