/*
 * server_store_pg.c: the sync server's PostgreSQL backend (server_store.h)
 * on libpq. A small pool of connections serves the server's threads; every
 * statement is prepared once per connection. A push's transaction takes a
 * transaction-scoped advisory lock on its user (pg_advisory_xact_lock over a
 * hash of the user id), so pushes of one user are serialized even across
 * several server processes on one database, and seq order is commit order
 * within a user. COMMIT returns once durable (synchronous_commit = on, set
 * on every connection). Payloads travel as binary parameters and results;
 * nothing is decoded.
 */
#include "sync/server_store.h"

#include "util/alloc.h"
#include "util/error.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL 4

static const char schema[] =
    "SELECT pg_advisory_lock(727301);"
    "CREATE TABLE IF NOT EXISTS users(id TEXT PRIMARY KEY, created BIGINT NOT NULL,"
    " compacted BIGINT NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS enroll_tokens(hash TEXT PRIMARY KEY, owner TEXT NOT NULL,"
    " created BIGINT NOT NULL, revoked INT NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS devices(id TEXT PRIMARY KEY, owner TEXT NOT NULL,"
    " name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created BIGINT NOT NULL,"
    " last_seen BIGINT NOT NULL, revoked INT NOT NULL DEFAULT 0,"
    " pull_pos BIGINT NOT NULL DEFAULT 0, stored_bytes BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS devices_owner ON devices(owner);"
    "CREATE TABLE IF NOT EXISTS keyinfo(owner TEXT PRIMARY KEY, salt BYTEA NOT NULL,"
    " chk BYTEA NOT NULL, opslimit BIGINT NOT NULL, memlimit BIGINT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS log(seq BIGSERIAL PRIMARY KEY, owner TEXT NOT NULL,"
    " device TEXT NOT NULL, change_id BIGINT NOT NULL, collection TEXT NOT NULL,"
    " row_id TEXT NOT NULL, op INT NOT NULL, version BIGINT NOT NULL, hlc BIGINT NOT NULL,"
    " payload BYTEA, compacted INT NOT NULL DEFAULT 0, UNIQUE(device, change_id));"
    "CREATE INDEX IF NOT EXISTS log_owner_seq ON log(owner, seq);"
    "CREATE INDEX IF NOT EXISTS log_row ON log(owner, collection, row_id, seq);"
    "CREATE TABLE IF NOT EXISTS row_state(owner TEXT NOT NULL, collection TEXT NOT NULL,"
    " row_id TEXT NOT NULL, version BIGINT NOT NULL, op INT NOT NULL, hlc BIGINT NOT NULL,"
    " device TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY(owner, collection, row_id));"
    "SELECT pg_advisory_unlock(727301);";

enum {
    Q_LOCK_USER,
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
    Q_ENROLL_TOKEN,
    Q_ENROLL,
    Q_KEYINFO_GET,
    Q_KEYINFO_PUT,
    Q_ADD_USER,
    Q_ADD_TOKEN,
    Q_LIST,
    Q_REVOKE,
    Q_REVOKE_TOKENS,
    Q_N
};

static const char *const sql[Q_N] = {
    [Q_LOCK_USER] = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
    [Q_FIND_APPLIED] = "SELECT seq, version FROM log WHERE device=$1 AND change_id=$2",
    [Q_GET_ROW] = "SELECT version, op, hlc, device, seq FROM row_state"
                  " WHERE owner=$1 AND collection=$2 AND row_id=$3",
    [Q_GET_PAYLOAD] = "SELECT payload FROM log WHERE seq=$1",
    [Q_INSERT] = "INSERT INTO log(owner, device, change_id, collection, row_id, op, version,"
                 " hlc, payload) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING seq",
    [Q_PUT_ROW] = "INSERT INTO row_state(owner, collection, row_id, version, op, hlc, device,"
                  " seq) VALUES($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT(owner, collection, row_id)"
                  " DO UPDATE SET version=EXCLUDED.version, op=EXCLUDED.op, hlc=EXCLUDED.hlc,"
                  " device=EXCLUDED.device, seq=EXCLUDED.seq",
    [Q_ADD_STORED] = "UPDATE devices SET stored_bytes=stored_bytes+$2, last_seen=$3 WHERE id=$1"
                     " RETURNING stored_bytes",
    [Q_PULL] = "SELECT seq, device, change_id, collection, row_id, op, version, hlc, payload"
               " FROM log WHERE owner=$1 AND seq>$2 AND compacted=0 ORDER BY seq LIMIT $3",
    [Q_SET_POS] = "UPDATE devices SET pull_pos=$2, last_seen=$3 WHERE id=$1",
    [Q_MIN_POS] = "SELECT coalesce(min(pull_pos), 0) FROM devices WHERE owner=$1 AND revoked=0",
    [Q_COMPACTED] = "SELECT compacted FROM users WHERE id=$1 FOR UPDATE",
    [Q_TOMBSTONES] = "SELECT collection, row_id, seq FROM log WHERE owner=$1 AND seq>$2"
                     " AND seq<=$3 AND op=1 AND compacted=0 ORDER BY seq",
    [Q_COMPACT_ROW] = "UPDATE log SET payload=NULL, compacted=1 WHERE owner=$1 AND"
                      " collection=$2 AND row_id=$3 AND seq<=$4 AND compacted=0",
    [Q_SET_COMPACTED] = "UPDATE users SET compacted=$2 WHERE id=$1",
    [Q_SERVER_SEQ] = "SELECT coalesce(max(seq), 0) FROM log WHERE owner=$1",
    [Q_AUTH] = "SELECT id, owner, name, created, last_seen, pull_pos, stored_bytes, revoked"
               " FROM devices WHERE token_hash=$1",
    [Q_COUNT_DEVICES] = "SELECT count(*) FROM devices WHERE owner=$1 AND revoked=0",
    [Q_ENROLL_TOKEN] = "SELECT owner FROM enroll_tokens WHERE hash=$1 AND revoked=0",
    [Q_ENROLL] = "INSERT INTO devices(id, owner, name, token_hash, created, last_seen)"
                 " VALUES($1,$2,$3,$4,$5,$5) ON CONFLICT(id) DO UPDATE SET"
                 " token_hash=EXCLUDED.token_hash, name=EXCLUDED.name,"
                 " last_seen=EXCLUDED.last_seen WHERE devices.owner=EXCLUDED.owner"
                 " AND devices.revoked=0",
    [Q_KEYINFO_GET] = "SELECT salt, chk, opslimit, memlimit FROM keyinfo WHERE owner=$1",
    [Q_KEYINFO_PUT] = "INSERT INTO keyinfo(owner, salt, chk, opslimit, memlimit)"
                      " VALUES($1,$2,$3,$4,$5) ON CONFLICT(owner) DO NOTHING",
    [Q_ADD_USER] = "INSERT INTO users(id, created) VALUES($1,$2) ON CONFLICT(id) DO NOTHING",
    [Q_ADD_TOKEN] = "INSERT INTO enroll_tokens(hash, owner, created) VALUES($1,$2,$3)",
    [Q_LIST] = "SELECT id, owner, name, created, last_seen, pull_pos, stored_bytes, revoked"
               " FROM devices ORDER BY owner, id",
    [Q_REVOKE] = "UPDATE devices SET revoked=1 WHERE id=$1",
    [Q_REVOKE_TOKENS] = "UPDATE enroll_tokens SET revoked=1 WHERE owner=$1 AND revoked=0",
};

typedef struct {
    PGconn *c;
    bool busy;
} pg_conn;

typedef struct {
    sstore base;
    pg_conn pool[POOL];
    int n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char where[160]; /* host/port/db for messages, never the password */
} pg_store;

/* The state of one push that prefetch loaded (see pg_prefetch). */
typedef struct {
    int64_t change_id, seq, version;
    bool used;
} amap_slot;

typedef struct {
    char coll[SYNC_MAX_ID + 1], row[SYNC_MAX_ID + 1];
    sstore_row r;
    bool used, present, dirty;
} rmap_slot;

struct sstore_tx {
    pg_store *s;
    pg_conn *pc;
    bool pre; /* prefetched: the maps below answer, writes are queued */
    char user[SYNC_MAX_ID + 1], device[SYNC_MAX_ID + 1];
    amap_slot *am; /* (device, change_id) results, by change_id */
    size_t acap;
    rmap_slot *rm; /* current rows of the push's keys */
    size_t rcap;
    int64_t *seqs; /* seqs reserved for the push's inserts, ascending */
    size_t nseq, seq_next;
    sstore_entry *q; /* queued log inserts; q[i] has seq qseq[i] */
    int64_t *qseq;
    size_t nq;
};

static hearth_status pgerr(pg_store *s, PGconn *c, const PGresult *r, hearth_error *err,
                           const char *what) {
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    if (!m || !*m) m = c ? PQerrorMessage(c) : "no connection";
    char buf[200];
    snprintf(buf, sizeof buf, "%s", m);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\n' || buf[i] == '\t') buf[i] = ' ';
    return HEARTH_FAIL(err, HEARTH_E_IO, "sync store %s: %s: %s", s->where, what, buf);
}

static hearth_status prepare_all(pg_store *s, PGconn *c, hearth_error *err) {
    PGresult *r = PQexec(c, "SET synchronous_commit = on");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        hearth_status st = pgerr(s, c, r, err, "configure");
        PQclear(r);
        return st;
    }
    PQclear(r);
    for (int i = 0; i < Q_N; i++) {
        char name[8];
        snprintf(name, sizeof name, "q%d", i);
        r = PQprepare(c, name, sql[i], 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            hearth_status st = pgerr(s, c, r, err, "prepare");
            PQclear(r);
            return st;
        }
        PQclear(r);
    }
    return HEARTH_OK;
}

static pg_conn *acquire(pg_store *s) {
    pthread_mutex_lock(&s->mu);
    pg_conn *pc = NULL;
    for (;;) {
        for (int i = 0; i < s->n; i++)
            if (!s->pool[i].busy) {
                pc = &s->pool[i];
                break;
            }
        if (pc) break;
        pthread_cond_wait(&s->cv, &s->mu);
    }
    pc->busy = true;
    pthread_mutex_unlock(&s->mu);
    /* A connection the database dropped (restart): reconnect once. */
    if (PQstatus(pc->c) != CONNECTION_OK) {
        PQreset(pc->c);
        if (PQstatus(pc->c) == CONNECTION_OK) prepare_all(s, pc->c, NULL);
    }
    return pc;
}

static void release(pg_store *s, pg_conn *pc) {
    pthread_mutex_lock(&s->mu);
    pc->busy = false;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Runs prepared statement qi with text parameters (vals[i] NULL: SQL NULL)
 * except those flagged in binary (lens give their sizes). */
static PGresult *run(PGconn *c, int qi, int n, const char *const *vals, const int *lens,
                     const int *fmts, int result_binary) {
    char name[8];
    snprintf(name, sizeof name, "q%d", qi);
    return PQexecPrepared(c, name, n, vals, lens, fmts, result_binary);
}

static bool ok_cmd(PGresult *r) { return PQresultStatus(r) == PGRES_COMMAND_OK; }
static bool ok_rows(PGresult *r) { return PQresultStatus(r) == PGRES_TUPLES_OK; }

static hearth_status simple(pg_store *s, PGconn *c, const char *text, hearth_error *err) {
    PGresult *r = PQexec(c, text);
    hearth_status st = ok_cmd(r) || ok_rows(r) ? HEARTH_OK : pgerr(s, c, r, err, text);
    PQclear(r);
    return st;
}

static int64_t be64(const char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | (unsigned char)p[i];
    return (int64_t)v;
}

/* An integer column, in text or binary (int2/int4/int8) result format. */
static int64_t col_i64(const PGresult *r, int row, int col) {
    const char *v = PQgetvalue(r, row, col);
    if (PQfformat(r, col) == 0) return strtoll(v, NULL, 10);
    int n = PQgetlength(r, row, col);
    if (n == 8) return be64(v);
    if (n == 4) {
        uint32_t x = (uint32_t)(unsigned char)v[0] << 24 | (uint32_t)(unsigned char)v[1] << 16 |
                     (uint32_t)(unsigned char)v[2] << 8 | (unsigned char)v[3];
        return (int32_t)x;
    }
    return 0;
}

static void col_str(const PGresult *r, int row, int col, char *out, size_t cap) {
    int n = PQgetlength(r, row, col);
    if ((size_t)n >= cap) n = (int)cap - 1;
    memcpy(out, PQgetvalue(r, row, col), (size_t)n);
    out[n] = '\0';
}

#define I64(buf, v) (snprintf((buf), sizeof(buf), "%lld", (long long)(v)), (buf))

static void pg_close(sstore *b) {
    pg_store *s = (pg_store *)b;
    if (!s) return;
    for (int i = 0; i < s->n; i++) PQfinish(s->pool[i].c);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    hearth_free(s);
}

/* ---- transactions ------------------------------------------------------------ */

static hearth_status pg_tx_begin(sstore *b, const char *user, sstore_tx **out,
                                 hearth_error *err) {
    pg_store *s = (pg_store *)b;
    *out = NULL;
    sstore_tx *t = hearth_calloc(1, sizeof *t);
    if (!t) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    t->s = s;
    t->pc = acquire(s);
    hearth_status st = simple(s, t->pc->c, "BEGIN", err);
    if (!st) {
        const char *v[1] = {user};
        PGresult *r = run(t->pc->c, Q_LOCK_USER, 1, v, NULL, NULL, 0);
        if (!ok_rows(r)) st = pgerr(s, t->pc->c, r, err, "lock user");
        PQclear(r);
        if (st) simple(s, t->pc->c, "ROLLBACK", NULL);
    }
    if (st) {
        release(s, t->pc);
        hearth_free(t);
        return st;
    }
    *out = t;
    return HEARTH_OK;
}

static void tx_free(sstore_tx *t) {
    hearth_free(t->am);
    hearth_free(t->rm);
    hearth_free(t->seqs);
    hearth_free(t->q);
    hearth_free(t->qseq);
    hearth_free(t);
}

static hearth_status flush(sstore_tx *t, hearth_error *err);

static hearth_status pg_tx_commit(sstore_tx *t, hearth_error *err) {
    if (t->pre) {
        hearth_status st = flush(t, err);
        if (st) {
            simple(t->s, t->pc->c, "ROLLBACK", NULL);
            release(t->s, t->pc);
            tx_free(t);
            return st;
        }
    }
    PGresult *r = PQexec(t->pc->c, "COMMIT");
    /* COMMIT of a failed transaction answers ROLLBACK: not committed. */
    hearth_status st = ok_cmd(r) && !strcmp(PQcmdStatus(r), "COMMIT")
                           ? HEARTH_OK
                           : pgerr(t->s, t->pc->c, r, err, "commit");
    PQclear(r);
    release(t->s, t->pc);
    tx_free(t);
    return st;
}

static void pg_tx_rollback(sstore_tx *t) {
    if (!t) return;
    simple(t->s, t->pc->c, "ROLLBACK", NULL);
    release(t->s, t->pc);
    tx_free(t);
}

/* ---- prefetch: a push in a few round trips ------------------------------------ */

static uint64_t hash_str2(const char *a, const char *b) {
    uint64_t h = 1469598103934665603ull;
    for (; *a; a++) h = (h ^ (unsigned char)*a) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (; *b; b++) h = (h ^ (unsigned char)*b) * 1099511628211ull;
    return h;
}

static amap_slot *aslot(sstore_tx *t, int64_t change_id) {
    uint64_t h = (uint64_t)change_id * 0x9e3779b97f4a7c15ull;
    for (size_t i = h & (t->acap - 1);; i = (i + 1) & (t->acap - 1))
        if (!t->am[i].used || t->am[i].change_id == change_id) return &t->am[i];
}

static rmap_slot *rslot(sstore_tx *t, const char *coll, const char *row) {
    for (size_t i = hash_str2(coll, row) & (t->rcap - 1);; i = (i + 1) & (t->rcap - 1))
        if (!t->rm[i].used || (!strcmp(t->rm[i].coll, coll) && !strcmp(t->rm[i].row, row)))
            return &t->rm[i];
}

static size_t pow2_above(size_t n) {
    size_t c = 16;
    while (c < 2 * n) c *= 2;
    return c;
}

/* Appends to a growing text buffer; false when out of memory. */
typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} tbuf;

static void tput(tbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 1024;
        while (nc < b->len + n + 1) nc *= 2;
        char *g = hearth_realloc(b->p, nc);
        if (!g) {
            b->oom = true;
            return;
        }
        b->p = g;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void tputs(tbuf *b, const char *s) { tput(b, s, strlen(s)); }

static hearth_status pg_prefetch(sstore_tx *t, const char *user, const char *device,
                                 const sync_push *m, hearth_error *err) {
    pg_store *s = t->s;
    PGconn *c = t->pc->c;
    if (m->n == 0) return HEARTH_OK;
    t->acap = pow2_above(m->n);
    t->rcap = pow2_above(m->n);
    t->am = hearth_calloc(t->acap, sizeof *t->am);
    t->rm = hearth_calloc(t->rcap, sizeof *t->rm);
    t->seqs = hearth_calloc(m->n, sizeof *t->seqs);
    t->q = hearth_calloc(m->n, sizeof *t->q);
    t->qseq = hearth_calloc(m->n, sizeof *t->qseq);
    tbuf ids = {0}, colls = {0}, rows = {0};
    hearth_status st = HEARTH_OK;
    if (!t->am || !t->rm || !t->seqs || !t->q || !t->qseq) goto oom;
    snprintf(t->user, sizeof t->user, "%s", user);
    snprintf(t->device, sizeof t->device, "%s", device);
    /* Ids are [A-Za-z0-9._:-]: quoted, they need no escapes in an array. */
    tputs(&ids, "{");
    tputs(&colls, "{");
    tputs(&rows, "{");
    for (size_t i = 0; i < m->n; i++) {
        const sync_change *ch = &m->changes[i];
        char num[24];
        snprintf(num, sizeof num, "%s%lld", i ? "," : "", (long long)ch->change_id);
        tputs(&ids, num);
        tputs(&colls, i ? ",\"" : "\"");
        tputs(&colls, ch->collection);
        tputs(&colls, "\"");
        tputs(&rows, i ? ",\"" : "\"");
        tputs(&rows, ch->row);
        tputs(&rows, "\"");
        rmap_slot *sl = rslot(t, ch->collection, ch->row);
        if (!sl->used) {
            sl->used = true;
            snprintf(sl->coll, sizeof sl->coll, "%s", ch->collection);
            snprintf(sl->row, sizeof sl->row, "%s", ch->row);
        }
    }
    tputs(&ids, "}");
    tputs(&colls, "}");
    tputs(&rows, "}");
    if (ids.oom || colls.oom || rows.oom) goto oom;

    const char *av[2] = {device, ids.p};
    PGresult *r = PQexecParams(c, "SELECT change_id, seq, version FROM log"
                                  " WHERE device=$1 AND change_id = ANY($2::bigint[])",
                               2, NULL, av, NULL, NULL, 0);
    if (!ok_rows(r)) st = pgerr(s, c, r, err, "prefetch applied");
    for (int i = 0; !st && i < PQntuples(r); i++) {
        amap_slot *a = aslot(t, col_i64(r, i, 0));
        a->used = true;
        a->change_id = col_i64(r, i, 0);
        a->seq = col_i64(r, i, 1);
        a->version = col_i64(r, i, 2);
    }
    PQclear(r);
    if (st) goto out;
    const char *rv[3] = {user, colls.p, rows.p};
    r = PQexecParams(c, "SELECT r.collection, r.row_id, r.version, r.op, r.hlc, r.device, r.seq"
                        " FROM row_state r JOIN unnest($2::text[], $3::text[]) AS k(c, i)"
                        " ON r.collection = k.c AND r.row_id = k.i WHERE r.owner = $1",
                     3, NULL, rv, NULL, NULL, 0);
    if (!ok_rows(r)) st = pgerr(s, c, r, err, "prefetch rows");
    for (int i = 0; !st && i < PQntuples(r); i++) {
        char coll[SYNC_MAX_ID + 1], row[SYNC_MAX_ID + 1];
        col_str(r, i, 0, coll, sizeof coll);
        col_str(r, i, 1, row, sizeof row);
        rmap_slot *sl = rslot(t, coll, row);
        if (!sl->used) continue; /* cannot happen: every key was entered */
        sl->present = true;
        sl->r.version = col_i64(r, i, 2);
        sl->r.op = (sync_op)col_i64(r, i, 3);
        sl->r.hlc = col_i64(r, i, 4);
        col_str(r, i, 5, sl->r.device, sizeof sl->r.device);
        sl->r.seq = col_i64(r, i, 6);
    }
    PQclear(r);
    if (st) goto out;
    /* Seqs for the inserts, reserved now in ascending order; the user lock
     * makes them greater than any seq of this user committed before. */
    char nb[24];
    const char *sv[1] = {I64(nb, (int64_t)m->n)};
    r = PQexecParams(c, "SELECT nextval('log_seq_seq') AS s FROM generate_series(1, $1::int)"
                        " ORDER BY s", 1, NULL, sv, NULL, NULL, 0);
    if (!ok_rows(r) || PQntuples(r) != (int)m->n) st = pgerr(s, c, r, err, "reserve seqs");
    for (int i = 0; !st && i < PQntuples(r); i++) t->seqs[i] = col_i64(r, i, 0);
    PQclear(r);
    if (st) goto out;
    t->nseq = m->n;
    t->pre = true;
    goto out;
oom:
    st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
out:
    hearth_free(ids.p);
    hearth_free(colls.p);
    hearth_free(rows.p);
    return st;
}

#define FLUSH_ROWS 1000

/* Writes the queued log entries and the changed rows, in multi-row
 * statements of FLUSH_ROWS rows. */
static hearth_status flush(sstore_tx *t, hearth_error *err) {
    pg_store *s = t->s;
    PGconn *c = t->pc->c;
    hearth_status st = HEARTH_OK;
    const char **vals = hearth_calloc(FLUSH_ROWS * 10, sizeof *vals);
    int *lens = hearth_calloc(FLUSH_ROWS * 10, sizeof *lens);
    int *fmts = hearth_calloc(FLUSH_ROWS * 10, sizeof *fmts);
    char (*num)[24] = hearth_calloc(FLUSH_ROWS * 5, sizeof *num);
    rmap_slot **dirty = hearth_calloc(t->rcap ? t->rcap : 1, sizeof *dirty);
    tbuf q = {0};
    if (!vals || !lens || !fmts || !num || !dirty) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t at = 0; !st && at < t->nq; at += FLUSH_ROWS) {
        size_t k = t->nq - at < FLUSH_ROWS ? t->nq - at : FLUSH_ROWS;
        q.len = 0;
        tputs(&q, "INSERT INTO log(seq, owner, device, change_id, collection, row_id, op,"
                  " version, hlc, payload) VALUES ");
        for (size_t i = 0; i < k; i++) {
            const sstore_entry *e = &t->q[at + i];
            char ph[128];
            int b = (int)(i * 10);
            snprintf(ph, sizeof ph, "%s($%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d)", i ? "," : "",
                     b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10);
            tputs(&q, ph);
            const char **v = &vals[b];
            v[0] = I64(num[i * 5], t->qseq[at + i]);
            v[1] = e->user;
            v[2] = e->device;
            v[3] = I64(num[i * 5 + 1], e->change_id);
            v[4] = e->collection;
            v[5] = e->row;
            v[6] = I64(num[i * 5 + 2], (int)e->op);
            v[7] = I64(num[i * 5 + 3], e->version);
            v[8] = I64(num[i * 5 + 4], e->hlc);
            v[9] = (const char *)e->payload;
            lens[b + 9] = (int)e->payload_len;
            fmts[b + 9] = 1;
        }
        if (q.oom) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
            break;
        }
        PGresult *r = PQexecParams(c, q.p, (int)(k * 10), NULL, vals, lens, fmts, 0);
        if (!ok_cmd(r)) st = pgerr(s, c, r, err, "insert changes");
        PQclear(r);
        memset(fmts, 0, FLUSH_ROWS * 10 * sizeof *fmts);
        memset(lens, 0, FLUSH_ROWS * 10 * sizeof *lens);
    }
    size_t nd = 0;
    for (size_t i = 0; i < t->rcap; i++)
        if (t->rm[i].used && t->rm[i].dirty) dirty[nd++] = &t->rm[i];
    for (size_t at = 0; !st && at < nd; at += FLUSH_ROWS) {
        size_t k = nd - at < FLUSH_ROWS ? nd - at : FLUSH_ROWS;
        q.len = 0;
        tputs(&q, "INSERT INTO row_state(owner, collection, row_id, version, op, hlc, device,"
                  " seq) VALUES ");
        for (size_t i = 0; i < k; i++) {
            const rmap_slot *sl = dirty[at + i];
            char ph[128];
            int b = (int)(i * 8);
            snprintf(ph, sizeof ph, "%s($%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d)", i ? "," : "", b + 1,
                     b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8);
            tputs(&q, ph);
            const char **v = &vals[b];
            v[0] = t->user;
            v[1] = sl->coll;
            v[2] = sl->row;
            v[3] = I64(num[i * 5], sl->r.version);
            v[4] = I64(num[i * 5 + 1], (int)sl->r.op);
            v[5] = I64(num[i * 5 + 2], sl->r.hlc);
            v[6] = sl->r.device;
            v[7] = I64(num[i * 5 + 3], sl->r.seq);
        }
        tputs(&q, " ON CONFLICT(owner, collection, row_id) DO UPDATE SET"
                  " version=EXCLUDED.version, op=EXCLUDED.op, hlc=EXCLUDED.hlc,"
                  " device=EXCLUDED.device, seq=EXCLUDED.seq");
        if (q.oom) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
            break;
        }
        PGresult *r = PQexecParams(c, q.p, (int)(k * 8), NULL, vals, NULL, NULL, 0);
        if (!ok_cmd(r)) st = pgerr(s, c, r, err, "put rows");
        PQclear(r);
    }
out:
    hearth_free(q.p);
    hearth_free(vals);
    hearth_free(lens);
    hearth_free(fmts);
    hearth_free(num);
    hearth_free(dirty);
    return st;
}

static hearth_status pg_find_applied(sstore_tx *t, const char *device, int64_t change_id,
                                     bool *found, int64_t *seq, int64_t *version,
                                     hearth_error *err) {
    if (t->pre && !strcmp(device, t->device)) {
        amap_slot *sl = aslot(t, change_id);
        *found = sl->used;
        if (sl->used) {
            *seq = sl->seq;
            *version = sl->version;
        }
        return HEARTH_OK;
    }
    char a[24];
    const char *v[2] = {device, I64(a, change_id)};
    PGresult *r = run(t->pc->c, Q_FIND_APPLIED, 2, v, NULL, NULL, 0);
    if (!ok_rows(r)) {
        hearth_status st = pgerr(t->s, t->pc->c, r, err, "find applied change");
        PQclear(r);
        return st;
    }
    *found = PQntuples(r) > 0;
    if (*found) {
        *seq = col_i64(r, 0, 0);
        *version = col_i64(r, 0, 1);
    }
    PQclear(r);
    return HEARTH_OK;
}

static hearth_status pg_get_row(sstore_tx *t, const char *user, const char *collection,
                                const char *row, bool *found, sstore_row *out,
                                hearth_error *err) {
    if (t->pre && !strcmp(user, t->user)) {
        rmap_slot *sl = rslot(t, collection, row);
        if (sl->used) {
            *found = sl->present;
            if (sl->present) *out = sl->r;
            return HEARTH_OK;
        }
    }
    const char *v[3] = {user, collection, row};
    PGresult *r = run(t->pc->c, Q_GET_ROW, 3, v, NULL, NULL, 0);
    if (!ok_rows(r)) {
        hearth_status st = pgerr(t->s, t->pc->c, r, err, "get row");
        PQclear(r);
        return st;
    }
    *found = PQntuples(r) > 0;
    if (*found) {
        out->version = col_i64(r, 0, 0);
        out->op = (sync_op)col_i64(r, 0, 1);
        out->hlc = col_i64(r, 0, 2);
        col_str(r, 0, 3, out->device, sizeof out->device);
        out->seq = col_i64(r, 0, 4);
    }
    PQclear(r);
    return HEARTH_OK;
}

/* A bytea column of a binary result into a new buffer (NULL for SQL NULL). */
static hearth_status col_blob(const PGresult *r, int row, int col, uint8_t **out, size_t *len,
                              hearth_error *err) {
    *out = NULL;
    *len = 0;
    if (PQgetisnull(r, row, col)) return HEARTH_OK;
    int n = PQgetlength(r, row, col);
    *out = hearth_malloc((size_t)n);
    if (!*out) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    memcpy(*out, PQgetvalue(r, row, col), (size_t)n);
    *len = (size_t)n;
    return HEARTH_OK;
}

static hearth_status pg_get_payload(sstore_tx *t, int64_t seq, uint8_t **out, size_t *len,
                                    hearth_error *err) {
    *out = NULL;
    *len = 0;
    for (size_t i = 0; t->pre && i < t->nq; i++)
        if (t->qseq[i] == seq) {
            if (!t->q[i].payload) return HEARTH_OK;
            if (!(*out = hearth_malloc(t->q[i].payload_len)))
                return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
            memcpy(*out, t->q[i].payload, t->q[i].payload_len);
            *len = t->q[i].payload_len;
            return HEARTH_OK;
        }
    char a[24];
    const char *v[1] = {I64(a, seq)};
    PGresult *r = run(t->pc->c, Q_GET_PAYLOAD, 1, v, NULL, NULL, 1);
    hearth_status st = HEARTH_OK;
    if (!ok_rows(r))
        st = pgerr(t->s, t->pc->c, r, err, "get payload");
    else if (PQntuples(r) > 0)
        st = col_blob(r, 0, 0, out, len, err);
    PQclear(r);
    return st;
}

static hearth_status pg_insert(sstore_tx *t, const sstore_entry *e, int64_t *seq,
                               hearth_error *err) {
    if (t->pre && t->seq_next < t->nseq && !strcmp(e->device, t->device)) {
        /* Queued for tx_commit; e's strings and payload are the push's. */
        *seq = t->seqs[t->seq_next++];
        t->q[t->nq] = *e;
        t->qseq[t->nq++] = *seq;
        amap_slot *a = aslot(t, e->change_id);
        a->used = true;
        a->change_id = e->change_id;
        a->seq = *seq;
        a->version = e->version;
        return HEARTH_OK;
    }
    char a[24], b[24], c[24], d[24];
    const char *v[9] = {e->user, e->device, I64(a, e->change_id), e->collection, e->row,
                        I64(b, (int)e->op), I64(c, e->version), I64(d, e->hlc),
                        (const char *)e->payload};
    int lens[9] = {0, 0, 0, 0, 0, 0, 0, 0, (int)e->payload_len};
    int fmts[9] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
    PGresult *r = run(t->pc->c, Q_INSERT, 9, v, lens, fmts, 0);
    hearth_status st = HEARTH_OK;
    if (!ok_rows(r) || PQntuples(r) != 1)
        st = pgerr(t->s, t->pc->c, r, err, "insert change");
    else
        *seq = col_i64(r, 0, 0);
    PQclear(r);
    return st;
}

static hearth_status pg_put_row(sstore_tx *t, const char *user, const char *collection,
                                const char *row, const sstore_row *x, hearth_error *err) {
    if (t->pre && !strcmp(user, t->user)) {
        rmap_slot *sl = rslot(t, collection, row);
        if (sl->used) {
            sl->r = *x;
            sl->present = sl->dirty = true;
            return HEARTH_OK;
        }
    }
    char a[24], b[24], c[24], d[24];
    const char *v[8] = {user, collection, row, I64(a, x->version), I64(b, (int)x->op),
                        I64(c, x->hlc), x->device, I64(d, x->seq)};
    PGresult *r = run(t->pc->c, Q_PUT_ROW, 8, v, NULL, NULL, 0);
    hearth_status st = ok_cmd(r) ? HEARTH_OK : pgerr(t->s, t->pc->c, r, err, "put row");
    PQclear(r);
    return st;
}

static hearth_status pg_tx_head(sstore_tx *t, const char *user, int64_t *out,
                                hearth_error *err) {
    const char *v[1] = {user};
    PGresult *r = run(t->pc->c, Q_SERVER_SEQ, 1, v, NULL, NULL, 0);
    hearth_status st = ok_rows(r) && PQntuples(r) == 1 ? HEARTH_OK
                                                       : pgerr(t->s, t->pc->c, r, err, "server seq");
    if (!st) *out = col_i64(r, 0, 0);
    PQclear(r);
    return st;
}

static hearth_status pg_add_stored(sstore_tx *t, const char *device, int64_t bytes,
                                   int64_t *total, hearth_error *err) {
    char a[24], b[24];
    const char *v[3] = {device, I64(a, bytes), I64(b, (int64_t)time(NULL))};
    PGresult *r = run(t->pc->c, Q_ADD_STORED, 3, v, NULL, NULL, 0);
    hearth_status st = ok_rows(r) && PQntuples(r) == 1
                           ? HEARTH_OK
                           : pgerr(t->s, t->pc->c, r, err, "count stored bytes");
    if (!st) *total = col_i64(r, 0, 0);
    PQclear(r);
    return st;
}

/* ---- reads ------------------------------------------------------------------------ */

/* Runs one statement on a pooled connection; *res owned by the caller. */
static hearth_status one(pg_store *s, int qi, int n, const char *const *vals, bool binary,
                         bool rows, PGresult **res, hearth_error *err, const char *what) {
    pg_conn *pc = acquire(s);
    PGresult *r = run(pc->c, qi, n, vals, NULL, NULL, binary);
    hearth_status st = (rows ? ok_rows(r) : ok_cmd(r)) ? HEARTH_OK : pgerr(s, pc->c, r, err, what);
    release(s, pc);
    if (st) {
        PQclear(r);
        *res = NULL;
    } else {
        *res = r;
    }
    return st;
}

static hearth_status pg_server_seq(sstore *b, const char *user, int64_t *out,
                                   hearth_error *err) {
    pg_store *s = (pg_store *)b;
    const char *v[1] = {user};
    PGresult *r;
    hearth_status st = one(s, Q_SERVER_SEQ, 1, v, false, true, &r, err, "server seq");
    if (st) return st;
    *out = col_i64(r, 0, 0);
    PQclear(r);
    return HEARTH_OK;
}

static hearth_status pg_pull(sstore *b, const char *user, int64_t after, size_t limit,
                             sync_pull_reply *out, hearth_error *err) {
    pg_store *s = (pg_store *)b;
    memset(out, 0, sizeof *out);
    char a[24], l[24];
    const char *v[3] = {user, I64(a, after), I64(l, (int64_t)limit + 1)};
    PGresult *r;
    hearth_status st = one(s, Q_PULL, 3, v, true, true, &r, err, "pull");
    if (st) return st;
    size_t n = (size_t)PQntuples(r);
    out->more = n > limit;
    if (n > limit) n = limit;
    out->changes = hearth_calloc(n ? n : 1, sizeof *out->changes);
    if (!out->changes) {
        PQclear(r);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && !st; i++) {
        sync_pulled *c = &out->changes[i];
        int row = (int)i;
        c->seq = col_i64(r, row, 0);
        col_str(r, row, 1, c->device, sizeof c->device);
        c->change_id = col_i64(r, row, 2);
        col_str(r, row, 3, c->collection, sizeof c->collection);
        col_str(r, row, 4, c->row, sizeof c->row);
        c->op = (sync_op)col_i64(r, row, 5);
        c->version = col_i64(r, row, 6);
        c->hlc = col_i64(r, row, 7);
        st = col_blob(r, row, 8, &c->payload, &c->payload_len, err);
        out->n = i + 1;
    }
    PQclear(r);
    if (!st) st = pg_server_seq(b, user, &out->server_seq, err);
    if (st) {
        sync_pull_reply_free(out);
        return st;
    }
    out->next = out->n ? out->changes[out->n - 1].seq : after;
    return HEARTH_OK;
}

static hearth_status pg_pulled(sstore *b, const char *user, const char *device, int64_t after,
                               hearth_error *err) {
    pg_store *s = (pg_store *)b;
    pg_conn *pc = acquire(s);
    PGconn *c = pc->c;
    char a[24], now[24], lo[24], hi[24];
    hearth_status st = simple(s, c, "BEGIN", err);
    if (st) goto out;
    const char *v[3] = {device, I64(a, after), I64(now, (int64_t)time(NULL))};
    PGresult *r = run(c, Q_SET_POS, 3, v, NULL, NULL, 0);
    if (!ok_cmd(r)) st = pgerr(s, c, r, err, "record pull position");
    PQclear(r);
    if (st) goto rollback;
    const char *u[1] = {user};
    r = run(c, Q_COMPACTED, 1, u, NULL, NULL, 0);
    int64_t done = ok_rows(r) && PQntuples(r) ? col_i64(r, 0, 0) : -1;
    PQclear(r);
    r = run(c, Q_MIN_POS, 1, u, NULL, NULL, 0);
    int64_t min_pos = ok_rows(r) && PQntuples(r) ? col_i64(r, 0, 0) : -1;
    PQclear(r);
    if (done >= 0 && min_pos > done) {
        /* Every active device has everything up to min_pos: the history of
         * a row deleted at or before it is dropped. */
        const char *tv[3] = {user, I64(lo, done), I64(hi, min_pos)};
        r = run(c, Q_TOMBSTONES, 3, tv, NULL, NULL, 0);
        bool complete = ok_rows(r);
        for (int i = 0; complete && i < PQntuples(r); i++) {
            const char *cv[4] = {user, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                                 PQgetvalue(r, i, 2)};
            PGresult *x = run(c, Q_COMPACT_ROW, 4, cv, NULL, NULL, 0);
            complete = ok_cmd(x);
            PQclear(x);
        }
        PQclear(r);
        if (complete) {
            const char *sv[2] = {user, hi};
            r = run(c, Q_SET_COMPACTED, 2, sv, NULL, NULL, 0);
            PQclear(r);
        }
    }
    r = PQexec(c, "COMMIT");
    st = ok_cmd(r) && !strcmp(PQcmdStatus(r), "COMMIT") ? HEARTH_OK
                                                        : pgerr(s, c, r, err, "commit");
    PQclear(r);
    goto out;
rollback:
    simple(s, c, "ROLLBACK", NULL);
out:
    release(s, pc);
    return st;
}

static void read_device(const PGresult *r, int i, sstore_device *d) {
    col_str(r, i, 0, d->id, sizeof d->id);
    col_str(r, i, 1, d->user, sizeof d->user);
    col_str(r, i, 2, d->name, sizeof d->name);
    d->created = col_i64(r, i, 3);
    d->last_seen = col_i64(r, i, 4);
    d->pull_pos = col_i64(r, i, 5);
    d->stored_bytes = col_i64(r, i, 6);
    d->revoked = col_i64(r, i, 7) != 0;
}

static hearth_status pg_auth(sstore *b, const char *token_hash, sstore_device *out,
                             hearth_error *err) {
    pg_store *s = (pg_store *)b;
    memset(out, 0, sizeof *out);
    const char *v[1] = {token_hash};
    PGresult *r;
    hearth_status st = one(s, Q_AUTH, 1, v, false, true, &r, err, "authenticate");
    if (st) return st;
    if (PQntuples(r) == 0)
        st = HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "unknown device token");
    else
        read_device(r, 0, out);
    PQclear(r);
    return st;
}

static hearth_status pg_count_devices(sstore *b, const char *user, int64_t *out,
                                      hearth_error *err) {
    const char *v[1] = {user};
    PGresult *r;
    hearth_status st = one((pg_store *)b, Q_COUNT_DEVICES, 1, v, false, true, &r, err,
                           "count devices");
    if (st) return st;
    *out = col_i64(r, 0, 0);
    PQclear(r);
    return HEARTH_OK;
}

static hearth_status pg_enroll(sstore *b, const char *enroll_hash, const char *device,
                               const char *name, const char *token_hash,
                               char user[SYNC_MAX_ID + 1], hearth_error *err) {
    pg_store *s = (pg_store *)b;
    user[0] = '\0';
    const char *v[1] = {enroll_hash};
    PGresult *r;
    hearth_status st = one(s, Q_ENROLL_TOKEN, 1, v, false, true, &r, err, "enrollment token");
    if (st) return st;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "unknown or revoked enrollment token");
    }
    col_str(r, 0, 0, user, SYNC_MAX_ID + 1);
    PQclear(r);
    char now[24];
    const char *ev[5] = {device, user, name, token_hash, I64(now, (int64_t)time(NULL))};
    if ((st = one(s, Q_ENROLL, 5, ev, false, false, &r, err, "register device"))) return st;
    bool done = !strcmp(PQcmdTuples(r), "1");
    PQclear(r);
    if (!done)
        return HEARTH_FAIL(err, HEARTH_E_STATE,
                           "device %s is revoked or registered to another user", device);
    return HEARTH_OK;
}

static hearth_status pg_keyinfo_get(sstore *b, const char *user, sync_keyinfo *out,
                                    hearth_error *err) {
    pg_store *s = (pg_store *)b;
    memset(out, 0, sizeof *out);
    const char *v[1] = {user};
    PGresult *r;
    hearth_status st = one(s, Q_KEYINFO_GET, 1, v, true, true, &r, err, "get key info");
    if (st) return st;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no key info yet");
    }
    if (PQgetlength(r, 0, 0) != (int)sizeof out->salt || PQgetlength(r, 0, 1) <= 0) {
        PQclear(r);
        return HEARTH_FAIL(err, HEARTH_E_IO, "sync store %s: bad key info", s->where);
    }
    memcpy(out->salt, PQgetvalue(r, 0, 0), sizeof out->salt);
    st = col_blob(r, 0, 1, &out->check, &out->check_len, err);
    out->opslimit = (uint64_t)col_i64(r, 0, 2);
    out->memlimit = (uint64_t)col_i64(r, 0, 3);
    PQclear(r);
    return st;
}

static hearth_status pg_keyinfo_put(sstore *b, const char *user, const sync_keyinfo *k,
                                    bool *stored, sync_keyinfo *current, hearth_error *err) {
    pg_store *s = (pg_store *)b;
    *stored = false;
    memset(current, 0, sizeof *current);
    char o[24], m[24];
    const char *v[5] = {user, (const char *)k->salt, (const char *)k->check,
                        I64(o, (int64_t)k->opslimit), I64(m, (int64_t)k->memlimit)};
    int lens[5] = {0, (int)sizeof k->salt, (int)k->check_len, 0, 0};
    int fmts[5] = {0, 1, 1, 0, 0};
    pg_conn *pc = acquire(s);
    PGresult *r = run(pc->c, Q_KEYINFO_PUT, 5, v, lens, fmts, 0);
    hearth_status st = ok_cmd(r) ? HEARTH_OK : pgerr(s, pc->c, r, err, "put key info");
    if (!st) *stored = !strcmp(PQcmdTuples(r), "1");
    PQclear(r);
    release(s, pc);
    if (!st && !*stored) st = pg_keyinfo_get(b, user, current, err);
    return st;
}

static hearth_status pg_add_token(sstore *b, const char *user, const char *enroll_hash,
                                  hearth_error *err) {
    pg_store *s = (pg_store *)b;
    char now[24];
    I64(now, (int64_t)time(NULL));
    pg_conn *pc = acquire(s);
    hearth_status st = simple(s, pc->c, "BEGIN", err);
    if (!st) {
        const char *u[2] = {user, now};
        const char *t[3] = {enroll_hash, user, now};
        PGresult *r = run(pc->c, Q_ADD_USER, 2, u, NULL, NULL, 0);
        if (!ok_cmd(r)) st = pgerr(s, pc->c, r, err, "add user");
        PQclear(r);
        if (!st) {
            r = run(pc->c, Q_ADD_TOKEN, 3, t, NULL, NULL, 0);
            if (!ok_cmd(r)) st = pgerr(s, pc->c, r, err, "add enrollment token");
            PQclear(r);
        }
        st = st ? (simple(s, pc->c, "ROLLBACK", NULL), st) : simple(s, pc->c, "COMMIT", err);
    }
    release(s, pc);
    return st;
}

static hearth_status pg_list_devices(sstore *b, sstore_device **out, size_t *n,
                                     hearth_error *err) {
    *out = NULL;
    *n = 0;
    PGresult *r;
    hearth_status st = one((pg_store *)b, Q_LIST, 0, NULL, false, true, &r, err, "list devices");
    if (st) return st;
    int k = PQntuples(r);
    *out = hearth_calloc(k ? (size_t)k : 1, sizeof **out);
    if (!*out) {
        PQclear(r);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    }
    for (int i = 0; i < k; i++) read_device(r, i, &(*out)[i]);
    *n = (size_t)k;
    PQclear(r);
    return HEARTH_OK;
}

static hearth_status pg_revoke(sstore *b, const char *device, hearth_error *err) {
    const char *v[1] = {device};
    PGresult *r;
    hearth_status st = one((pg_store *)b, Q_REVOKE, 1, v, false, false, &r, err, "revoke");
    if (st) return st;
    if (!strcmp(PQcmdTuples(r), "0")) st = HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no device %s", device);
    PQclear(r);
    return st;
}

static hearth_status pg_revoke_tokens(sstore *b, const char *user, int64_t *n,
                                      hearth_error *err) {
    const char *v[1] = {user};
    PGresult *r;
    *n = 0;
    hearth_status st = one((pg_store *)b, Q_REVOKE_TOKENS, 1, v, false, false, &r, err,
                           "revoke tokens");
    if (st) return st;
    *n = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return HEARTH_OK;
}

static const sstore_ops pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .tx_begin = pg_tx_begin,
    .tx_commit = pg_tx_commit,
    .tx_rollback = pg_tx_rollback,
    .find_applied = pg_find_applied,
    .get_row = pg_get_row,
    .get_payload = pg_get_payload,
    .insert = pg_insert,
    .put_row = pg_put_row,
    .add_stored = pg_add_stored,
    .tx_head = pg_tx_head,
    .prefetch = pg_prefetch,
    .pull = pg_pull,
    .pulled = pg_pulled,
    .server_seq = pg_server_seq,
    .auth = pg_auth,
    .enroll = pg_enroll,
    .keyinfo_get = pg_keyinfo_get,
    .keyinfo_put = pg_keyinfo_put,
    .count_devices = pg_count_devices,
    .add_token = pg_add_token,
    .list_devices = pg_list_devices,
    .revoke = pg_revoke,
    .revoke_tokens = pg_revoke_tokens,
};

hearth_status sstore_pg_open(const char *conninfo, sstore **out, hearth_error *err) {
    *out = NULL;
    pg_store *s = hearth_calloc(1, sizeof *s);
    if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    s->base.ops = &pg_ops;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    snprintf(s->where, sizeof s->where, "postgresql");
    hearth_status st = HEARTH_OK;
    for (int i = 0; i < POOL && !st; i++) {
        PGconn *c = PQconnectdb(conninfo);
        if (!c) {
            st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
            break;
        }
        s->pool[s->n++].c = c;
        if (i == 0 && PQstatus(c) == CONNECTION_OK)
            snprintf(s->where, sizeof s->where, "postgresql %s:%s/%s", PQhost(c), PQport(c),
                     PQdb(c));
        if (PQstatus(c) != CONNECTION_OK) {
            st = pgerr(s, c, NULL, err, "cannot connect");
            break;
        }
        PQsetNoticeProcessor(c, NULL, NULL);
        if (i == 0) {
            /* Quiet the NOTICEs of CREATE ... IF NOT EXISTS. */
            simple(s, c, "SET client_min_messages = warning", NULL);
            st = simple(s, c, schema, err);
        }
        if (!st) st = prepare_all(s, c, err);
    }
    if (st) {
        pg_close(&s->base);
        return st;
    }
    *out = &s->base;
    return HEARTH_OK;
}
