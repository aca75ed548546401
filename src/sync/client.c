/*
 * client.c: the sync client's life cycle (open, pair, enable) and one sync
 * (hearth_sync_run): pull every page, number local changes into the outbox,
 * push them, settle what the server reports as conflicts, pull again.
 *
 * Invariants (docs/sync.md):
 *  - a pulled page is applied in one store transaction that also advances
 *    the cursor; it runs with the sync_applying marker, so the triggers do
 *    not take pulled rows for local changes;
 *  - an outbox entry, once numbered, is frozen: a retry sends the same
 *    change_id and content, so a lost acknowledgement never applies a change
 *    twice; it leaves the outbox only on the server's answer (applied,
 *    duplicate, or a conflict that was merged), or when a pull shows the
 *    row changed elsewhere (then it is merged and numbered anew);
 *  - at most one outbox entry per row, so base_version is always the
 *    version the server last acknowledged or showed us;
 *  - two syncs of one store never overlap (flock on <dir>/sync.lock).
 */
#include "sync/client_int.h"

#include "store/store_int.h"
#include "sync/hlc.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/uuid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <threads.h>
#include <unistd.h>

#define PULL_LIMIT 2000
#define PUSH_ROUNDS 8
/* Bytes of one push's payloads (as base64) plus PUSH_CHANGE_META per change:
 * half the server's default body limit, so the JSON around them fits. */
#define PUSH_BODY_BYTES (SYNC_MAX_BODY / 2)
#define PUSH_CHANGE_META 400

static once_flag curl_once = ONCE_FLAG_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

hearth_sync_params hearth_sync_default_params(void) {
    return (hearth_sync_params){.timeout_ms = 15000};
}

const char *hearth_sync_state_name(hearth_sync_state st) {
    switch (st) {
    case HEARTH_SYNC_SYNCED: return "synced";
    case HEARTH_SYNC_NO_CHANGES: return "no_changes";
    case HEARTH_SYNC_OFFLINE: return "offline";
    }
    return "offline";
}

static void set_server(hearth_sync *s, const char *url) {
    snprintf(s->server, sizeof s->server, "%s", url ? url : "");
    size_t n = strlen(s->server);
    while (n && s->server[n - 1] == '/') s->server[--n] = '\0';
}

/* Device id and secret, made on first use (in one transaction). */
static hearth_status ensure_device(hearth_sync *s, hearth_error *err) {
    if (sync_state_get(s, "device_id", s->device, sizeof s->device, NULL) == HEARTH_OK &&
        hearth_uuid7_valid(s->device))
        return HEARTH_OK;
    hearth_status st = hearth_store_begin(s->store, err);
    if (st) return st;
    if (sync_state_get(s, "device_id", s->device, sizeof s->device, NULL) != HEARTH_OK ||
        !hearth_uuid7_valid(s->device)) {
        uint8_t sec[32];
        char sh[65];
        if (!hearth_uuid7(0, s->device) || getrandom(sec, sizeof sec, 0) != (ssize_t)sizeof sec) {
            st = HEARTH_FAIL(err, HEARTH_E_IO, "sync: no random bytes for the device id");
        } else {
            for (int i = 0; i < 32; i++) snprintf(sh + 2 * i, 3, "%02x", sec[i]);
            st = sync_state_set(s, "device_id", s->device, err);
            if (!st) st = sync_state_set(s, "device_secret", sh, err);
            memset(sh, 0, sizeof sh);
            memset(sec, 0, sizeof sec);
        }
    }
    if (st) {
        hearth_store_rollback(s->store, NULL);
        return st;
    }
    return hearth_store_commit(s->store, err);
}

hearth_status hearth_sync_open(const hearth_sync_params *p, hearth_sync **out, hearth_error *err) {
    if (!out) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_sync_open: out is NULL");
    *out = NULL;
    if (!p || !p->store) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_sync_open: no store");
    call_once(&curl_once, curl_init);
    hearth_sync *s = calloc(1, sizeof *s);
    if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    s->store = p->store;
    s->db = p->store->db;
    s->gate = p->gate;
    s->gate_user = p->gate_user;
    s->timeout_ms = p->timeout_ms > 0 ? p->timeout_ms : 15000;
    s->lock_fd = -1;
    if (p->key_file) {
        snprintf(s->key_file, sizeof s->key_file, "%s", p->key_file);
    } else {
        const char *path = hearth_store_path(p->store);
        const char *slash = strrchr(path, '/');
        int dl = slash ? (int)(slash - path) : 1;
        snprintf(s->key_file, sizeof s->key_file, "%.*s/sync.key", dl, slash ? path : ".");
    }
    if (p->passphrase && !(s->passphrase = hearth_strdup(p->passphrase))) {
        free(s);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    }
    hearth_status st = ensure_device(s, err);
    if (st) {
        hearth_sync_free(s);
        return st;
    }
    char buf[512] = "";
    if (p->server && *p->server) set_server(s, p->server);
    else if (sync_state_get(s, "server", buf, sizeof buf, NULL) == HEARTH_OK) set_server(s, buf);
    sync_state_get(s, "token", s->token, sizeof s->token, NULL);
    *out = s;
    return HEARTH_OK;
}

void hearth_sync_free(hearth_sync *s) {
    if (!s) return;
    if (s->curl) curl_easy_cleanup(s->curl);
    sync_cache_free(s);
    if (s->lock_fd >= 0) close(s->lock_fd);
    if (s->passphrase) {
        memset(s->passphrase, 0, strlen(s->passphrase));
        hearth_free(s->passphrase);
    }
    sync_key_wipe(&s->key);
    free(s);
}

/* Takes the per-store sync lock (waits for another sync to finish). */
static hearth_status lock(hearth_sync *s, hearth_error *err) {
    if (s->lock_fd >= 0) return HEARTH_OK;
    char path[4200];
    snprintf(path, sizeof path, "%s", s->key_file);
    char *slash = strrchr(path, '/');
    if (slash) snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "sync.lock");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", path, strerror(errno));
    while (flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) {
            close(fd);
            return HEARTH_FAIL(err, HEARTH_E_IO, "%s: flock: %s", path, strerror(errno));
        }
    s->lock_fd = fd;
    return HEARTH_OK;
}

static void unlock(hearth_sync *s) {
    if (s->lock_fd >= 0) close(s->lock_fd); /* releases the flock */
    s->lock_fd = -1;
}

/* ---- pairing ---- */

static hearth_status offline_fail(const sync_reply *r, const char *what, hearth_error *err) {
    return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", what, r->reason);
}

/* Sets up (first device) or checks the key with the server's key info. */
static hearth_status pair_key(hearth_sync *s, const char *pass, uint8_t salt[SYNC_SALT_BYTES],
                              hearth_error *err) {
    sync_reply r;
    hearth_status st = sync_request(s, "GET", "/v1/keyinfo", NULL, 0, "keyinfo", &r, err);
    if (st) return st;
    if (r.offline) {
        st = offline_fail(&r, "sync key info", err);
        sync_reply_free(&r);
        return st;
    }
    sync_keyinfo ki = {0};
    if (r.status == 404) {
        /* the first device: a new salt and key check */
        sync_reply_free(&r);
        sync_salt_new(ki.salt);
        sync_kdf_limits(&ki.opslimit, &ki.memlimit);
        st = sync_key_derive(pass, ki.salt, ki.opslimit, ki.memlimit, &s->key, err);
        if (!st) st = sync_keycheck_make(&s->key, &ki.check, &ki.check_len, err);
        char *body = NULL;
        size_t len = 0;
        if (!st) st = sync_keyinfo_encode(&ki, &body, &len, err);
        if (!st) st = sync_request(s, "PUT", "/v1/keyinfo", body, len, "keyinfo (set)", &r, err);
        free(body);
        if (st) {
            sync_keyinfo_free(&ki);
            return st;
        }
        if (r.offline) st = offline_fail(&r, "sync key info", err);
        else if (r.status == 409) st = HEARTH_E_NOTFOUND; /* another first device won: use its */
        else if (r.status / 100 != 2) st = sync_reply_fail(&r, HEARTH_E_IO, "setting the key info", err);
        if (st == HEARTH_OK) {
            memcpy(salt, ki.salt, SYNC_SALT_BYTES);
            sync_keyinfo_free(&ki);
            sync_reply_free(&r);
            return HEARTH_OK;
        }
        sync_keyinfo_free(&ki);
        if (st != HEARTH_E_NOTFOUND) {
            sync_reply_free(&r);
            return st;
        }
    } else if (r.status != 200) {
        st = sync_reply_fail(&r, HEARTH_E_IO, "sync key info", err);
        sync_reply_free(&r);
        return st;
    }
    /* a later device (or the loser of a race): derive under the server's
     * salt and check before anything is sent */
    st = sync_keyinfo_parse(r.body, r.len, &ki, err);
    sync_reply_free(&r);
    if (st) return st;
    st = sync_key_derive(pass, ki.salt, ki.opslimit, ki.memlimit, &s->key, err);
    if (!st) st = sync_keycheck_verify(&s->key, ki.check, ki.check_len, err);
    if (st == HEARTH_E_STATE)
        HEARTH_FAIL(err, HEARTH_E_STATE,
                    "wrong sync passphrase: it does not open this account's key check (the "
                    "passphrase of the first paired device is needed); nothing was synced");
    memcpy(salt, ki.salt, SYNC_SALT_BYTES);
    sync_keyinfo_free(&ki);
    return st;
}

hearth_status hearth_sync_pair(hearth_sync *s, const char *url, const char *token,
                               const char *name, const char *passphrase, hearth_error *err) {
    if (!s || !url || !*url || !token || !*token)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sync pair: a server URL and an enrollment token are needed");
    if (!passphrase || !*passphrase)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sync pair: a sync passphrase is needed");
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sync pair: '%.100s' is not an http(s) URL", url);
    hearth_status st = lock(s, err);
    if (st) return st;
    char old_server[512], old_token[128];
    memcpy(old_server, s->server, sizeof old_server);
    memcpy(old_token, s->token, sizeof old_token);
    set_server(s, url);
    s->token[0] = '\0';
    sync_register reg = {0};
    char host[64] = "device";
    if (!name || !*name) {
        gethostname(host, sizeof host - 1);
        name = host;
    }
    snprintf(reg.token, sizeof reg.token, "%s", token);
    snprintf(reg.device, sizeof reg.device, "%s", s->device);
    snprintf(reg.name, sizeof reg.name, "%s", name);
    char *body = NULL;
    size_t len = 0;
    sync_reply r = {0};
    sync_register_reply rr = {0};
    uint8_t salt[SYNC_SALT_BYTES];
    st = sync_register_encode(&reg, &body, &len, err);
    memset(&reg, 0, sizeof reg);
    if (!st) st = sync_request(s, "POST", "/v1/register", body, len, "register", &r, err);
    free(body);
    if (!st && r.offline) st = offline_fail(&r, "sync pair", err);
    else if (!st && r.status != 200) st = sync_reply_fail(&r, HEARTH_E_IO, "sync pair: registering", err);
    if (!st) st = sync_register_reply_parse(r.body, r.len, &rr, err);
    sync_reply_free(&r);
    if (!st) {
        snprintf(s->token, sizeof s->token, "%s", rr.device_token);
        st = pair_key(s, passphrase, salt, err);
    }
    if (!st) st = hearth_store_begin(s->store, err);
    if (!st) {
        st = sync_state_set(s, "server", s->server, err);
        if (!st) st = sync_state_set(s, "token", s->token, err);
        if (!st) st = sync_state_set(s, "user", rr.user, err);
        if (!st) st = sync_key_save(s, salt, err);
        if (st) hearth_store_rollback(s->store, NULL);
        else st = hearth_store_commit(s->store, err);
    }
    memset(&rr, 0, sizeof rr);
    if (st) {
        memcpy(s->server, old_server, sizeof old_server);
        memcpy(s->token, old_token, sizeof old_token);
        sync_key_wipe(&s->key);
        s->have_key = false;
    } else {
        s->have_key = true;
    }
    unlock(s);
    return st;
}

hearth_status hearth_sync_enable(hearth_sync *s, const char *collection, bool on,
                                 hearth_error *err) {
    if (!s || !sync_collection_valid(collection))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "unknown collection '%.40s' (tasks, conversations, settings)",
                           collection ? collection : "");
    char key[64];
    snprintf(key, sizeof key, "enabled_%s", collection);
    hearth_status st = hearth_store_begin(s->store, err);
    if (st) return st;
    bool was = sync_enabled(s, collection);
    st = sync_state_set(s, key, on ? "1" : "0", err);
    if (!st && on && !was) {
        /* queue what exists, and pull the collection from the start */
        char now[24];
        snprintf(now, sizeof now, "%lld", (long long)store_now_ms());
        /* SQL literals only: the statement cache keys on their address */
#define QUEUE "INSERT OR IGNORE INTO sync_dirty (tbl, gid, op, time_ms) "
        if (!strcmp(collection, "tasks")) {
            st = sync_exec(s, err, QUEUE "SELECT 'tasks', gid, 'upsert', ?1 FROM tasks WHERE gid IS NOT NULL", 1, now);
        } else if (!strcmp(collection, "settings")) {
            st = sync_exec(s, err, QUEUE "SELECT 'settings', key, 'upsert', ?1 FROM settings", 1, now);
        } else {
            st = sync_exec(s, err, QUEUE "SELECT 'sessions', gid, 'upsert', ?1 FROM sessions WHERE gid IS NOT NULL", 1, now);
            if (!st) st = sync_exec(s, err, QUEUE "SELECT 'messages', gid, 'append', ?1 FROM messages WHERE gid IS NOT NULL", 1, now);
        }
#undef QUEUE
        if (!st) st = sync_state_set(s, "cursor", "0", err);
    }
    if (st) {
        hearth_store_rollback(s->store, NULL);
        return st;
    }
    return hearth_store_commit(s->store, err);
}

/* ---- settling a row both sides changed ---- */

static char *dumps(const json_t *v) {
    return v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

/* sync_rows[tbl, gid] := the server's state (only forward in version). */
static hearth_status row_seen_text(hearth_sync *s, const char *tbl, const char *gid,
                                   int64_t version, int64_t hlc, const char *device, bool deleted,
                                   const char *base, hearth_error *err) {
    char v[24], h[24];
    snprintf(v, sizeof v, "%lld", (long long)version);
    snprintf(h, sizeof h, "%lld", (long long)hlc);
    hearth_status st = sync_exec(
        s, err,
        "INSERT INTO sync_rows (tbl, gid, version, hlc, device, deleted, base)"
        " VALUES (?1, ?2, CAST(?3 AS INTEGER), CAST(?4 AS INTEGER), ?5, CAST(?6 AS INTEGER), ?7)"
        " ON CONFLICT (tbl, gid) DO UPDATE SET version = excluded.version, hlc = excluded.hlc,"
        " device = excluded.device, deleted = excluded.deleted, base = excluded.base"
        " WHERE excluded.version > sync_rows.version",
        7, tbl, gid, v, h, device, deleted ? "1" : "0", base);
    /* a newer version from another device: pending conflicts on the row
     * show it as their server side (what --keep server takes) */
    if (!st && sqlite3_changes(s->db) > 0 && device && strcmp(device, s->device))
        st = sync_conflicts_follow(s, tbl, gid, base, err);
    return st;
}

/* row_seen_text with the content as JSON (its canonical text is the base). */
static hearth_status row_seen(hearth_sync *s, const char *tbl, const char *gid, int64_t version,
                              int64_t hlc, const char *device, bool deleted, const json_t *content,
                              hearth_error *err) {
    char *base = dumps(content);
    if (content && !base) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    hearth_status st = row_seen_text(s, tbl, gid, version, hlc, device, deleted, base, err);
    free(base);
    return st;
}

static hearth_status set_dirty(hearth_sync *s, const char *tbl, const char *gid, const char *op,
                               hearth_error *err) {
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)store_now_ms());
    hearth_status st = sync_exec(s, err, "DELETE FROM sync_dirty WHERE tbl = ?1 AND gid = ?2", 2, tbl, gid);
    if (!st && op)
        st = sync_exec(s, err, "INSERT INTO sync_dirty (tbl, gid, op, time_ms) VALUES (?1, ?2, ?3, ?4)",
                       4, tbl, gid, op, now);
    return st;
}

/* The server's side of a row (remote, NULL when deleted) meets this
 * device's changed row: merge per the collection's rule, write the result
 * here, record the conflict, and queue the result when it differs from the
 * server's. Inside the caller's transaction, with sync_applying set. */
static hearth_status settle(hearth_sync *s, const char *tbl, const char *gid,
                            const json_t *remote, int64_t r_version, int64_t r_hlc,
                            const char *r_device, bool forget_base, hearth_sync_report *rep,
                            hearth_error *err) {
    json_t *local = NULL, *base = NULL;
    hearth_status st = sync_row_content(s, tbl, gid, &local, err);
    if (st) return st;
    char *bt = sync_query_text(s, "SELECT base FROM sync_rows WHERE tbl = ?1 AND gid = ?2 AND deleted = 0",
                               2, tbl, gid);
    /* forget_base: the row itself is unchanged but what hangs on it (a
     * session's new messages) is not, so it counts as changed here */
    if (bt && !forget_base) base = json_loads(bt, 0, NULL);
    hearth_free(bt);
    int64_t l_hlc = sync_query_int(s, -1, "SELECT hlc FROM sync_outbox WHERE tbl = ?1 AND gid = ?2", 2, tbl, gid);
    if (l_hlc < 0) {
        int64_t t = sync_query_int(s, -1, "SELECT time_ms FROM sync_dirty WHERE tbl = ?1 AND gid = ?2", 2, tbl, gid);
        l_hlc = t >= 0 ? SYNC_HLC_MAKE(t, 0) : sync_state_int(s, "hlc", 0);
    }
    sync_merge_out m;
    st = sync_merge(base, local, remote, sync_rule_of(s, sync_collection_of(tbl)), l_hlc, s->device,
                    r_hlc, r_device, &m, err);
    if (!st && !(local && m.merged && json_equal(local, m.merged)) && (local || m.merged))
        st = sync_row_write(s, tbl, gid, m.merged, err);
    if (!st) st = row_seen(s, tbl, gid, r_version, r_hlc, r_device, remote == NULL, remote, err);
    if (!st) st = sync_exec(s, err, "DELETE FROM sync_outbox WHERE tbl = ?1 AND gid = ?2", 2, tbl, gid);
    bool differs = !(m.merged && remote ? json_equal(m.merged, remote) : m.merged == remote);
    if (!st) st = set_dirty(s, tbl, gid, differs ? (m.merged ? "upsert" : "delete") : NULL, err);
    if (!st && m.kind != SYNC_CONFLICT_NONE) {
        char *lt = dumps(local), *rt = dumps(remote), *ft = dumps(m.fields);
        char now[24];
        snprintf(now, sizeof now, "%lld", (long long)store_now_ms());
        st = sync_exec(s, err,
                       "INSERT INTO sync_conflicts (time_ms, tbl, gid, kind, fields, local, server,"
                       " severity, resolution, resolved_ms) VALUES (CAST(?1 AS INTEGER), ?2, ?3, ?4,"
                       " ?5, ?6, ?7, ?8, ?9, CAST(?10 AS INTEGER))",
                       10, now, tbl, gid, sync_conflict_name(m.kind), ft ? ft : "[]", lt, rt,
                       m.collided ? "high" : "low", m.resolution, m.pending ? NULL : now);
        free(lt);
        free(rt);
        free(ft);
        if (m.collided) {
            rep->conflicts++;
            if (!m.pending) rep->resolved++;
        } else {
            rep->merged++;
        }
    }
    sync_merge_out_free(&m);
    json_decref(local);
    json_decref(base);
    return st;
}

/* Opens a payload into a JSON object. */
static hearth_status open_content(hearth_sync *s, const char *collection, const char *row,
                                  const uint8_t *payload, size_t len, json_t **out,
                                  hearth_error *err) {
    *out = NULL;
    uint8_t *plain = NULL;
    size_t n = 0;
    hearth_status st = sync_open(&s->key, collection, row, payload, len, &plain, &n, err);
    if (st) {
        hearth_error_prefix(err, "row %s of %s (a payload that does not open under this key: a wrong passphrase, or tampering)", row, collection);
        return st;
    }
    *out = json_loadb((const char *)plain, n, 0, NULL);
    memset(plain, 0, n);
    free(plain);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "row %s of %s: its content is not a JSON object", row, collection);
    }
    return HEARTH_OK;
}

/* ---- pull ---- */

/* What a page's changes share, read once per page (all inside the page's
 * transaction): which collections are on, the HLC (written back before a
 * settle reads it and at the page's end), and whether this device has any
 * local change at all (when it has none, no pulled row can collide with
 * one; a settle queues one, so it sets the flag). */
typedef struct {
    bool on[3]; /* tasks, conversations, settings */
    int64_t hlc;
    bool local;
    bool refetch; /* a bare change this device cannot place: fetch the page whole */
} page_ctx;

static int coll_index(const char *c) {
    return !strcmp(c, "tasks") ? 0 : !strcmp(c, "conversations") ? 1 : 2;
}

/* This device's own change, pulled bare (without its payload): the outbox
 * entry of its change_id holds exactly the content that was sealed, so it
 * acts as the acknowledgement as a whole echo would; without that entry a
 * change that is not newer than sync_rows is a no-op, and anything else
 * asks for the page with payloads (pc->refetch). */
static hearth_status apply_bare(hearth_sync *s, page_ctx *pc, const sync_pulled *c,
                                hearth_error *err) {
    if (strcmp(c->device, s->device))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "sync pull: row %s of %s came without its payload, but it is another device's change",
                           c->row, c->collection);
    char cid[24], tbl[16] = "";
    snprintf(cid, sizeof cid, "%lld", (long long)c->change_id);
    sqlite3_stmt *q = sync_prepare(s, "SELECT tbl, content FROM sync_outbox"
                                      " WHERE change_id = CAST(?1 AS INTEGER) AND gid = ?2");
    if (!q) return HEARTH_FAIL(err, HEARTH_E_IO, "sync: %s", sqlite3_errmsg(s->db));
    sqlite3_bind_text(q, 1, cid, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, c->row, -1, SQLITE_STATIC);
    char *content = NULL;
    bool found = false, oom = false;
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        found = t && strlen(t) < sizeof tbl;
        if (found) snprintf(tbl, sizeof tbl, "%s", t);
        if (found && sqlite3_column_type(q, 1) != SQLITE_NULL)
            oom = !(content = hearth_strdup((const char *)sqlite3_column_text(q, 1)));
    }
    sync_release(s, q);
    if (oom) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    hearth_status st = HEARTH_OK;
    if (found) {
        int64_t seen = sync_query_int(s, -1, "SELECT version FROM sync_rows WHERE tbl = ?1 AND gid = ?2", 2, tbl, c->row);
        if (c->version > seen) {
            st = row_seen_text(s, tbl, c->row, c->version, c->hlc, c->device, c->op == SYNC_OP_DELETE, content, err);
            if (!st) st = sync_exec(s, err, "DELETE FROM sync_outbox WHERE tbl = ?1 AND gid = ?2 AND change_id = CAST(?3 AS INTEGER)", 3, tbl, c->row, cid);
        }
    } else {
        const char *t = strcmp(c->collection, "conversations") ? c->collection
                                                               : sync_conversation_table(s, c->row, NULL);
        if (!t || c->version > sync_query_int(s, -1, "SELECT version FROM sync_rows WHERE tbl = ?1 AND gid = ?2", 2, t, c->row))
            pc->refetch = true;
    }
    if (content) hearth_free(content);
    return st;
}

static hearth_status apply_pulled(hearth_sync *s, page_ctx *pc, const sync_pulled *c,
                                  hearth_sync_report *rep, hearth_error *err) {
    if (!sync_collection_valid(c->collection) || !pc->on[coll_index(c->collection)]) return HEARTH_OK;
    pc->hlc = sync_hlc_recv(pc->hlc, c->hlc, store_now_ms());
    if (c->bare) return apply_bare(s, pc, c, err);
    json_t *remote = NULL;
    hearth_status st = HEARTH_OK;
    const char *tbl = strcmp(c->collection, "conversations") ? c->collection : NULL;
    int64_t seen = -1;
    if (tbl) {
        seen = sync_query_int(s, -1, "SELECT version FROM sync_rows WHERE tbl = ?1 AND gid = ?2", 2, tbl, c->row);
        if (c->version <= seen && c->op != SYNC_OP_DELETE) {
            /* nothing to write (e.g. our own change coming back after its
             * ack): the payload is still authenticated, not parsed */
            uint8_t *plain = NULL;
            size_t n = 0;
            st = sync_open(&s->key, c->collection, c->row, c->payload, c->payload_len, &plain, &n, err);
            if (st) hearth_error_prefix(err, "row %s of %s (a payload that does not open under this key: a wrong passphrase, or tampering)", c->row, c->collection);
            if (plain) memset(plain, 0, n);
            free(plain);
            return st;
        }
    }
    if (c->op != SYNC_OP_DELETE &&
        (st = open_content(s, c->collection, c->row, c->payload, c->payload_len, &remote, err)))
        return st;
    if (!tbl) {
        tbl = sync_conversation_table(s, c->row, remote);
        if (!tbl) {
            json_decref(remote);
            return HEARTH_OK; /* a delete of something this device never had */
        }
        seen = sync_query_int(s, -1, "SELECT version FROM sync_rows WHERE tbl = ?1 AND gid = ?2", 2, tbl, c->row);
    }
    if (!st && c->version > seen) {
        if (!strcmp(c->device, s->device)) {
            /* our own change coming back (its ack may have been lost) */
            char cid[24];
            snprintf(cid, sizeof cid, "%lld", (long long)c->change_id);
            st = row_seen(s, tbl, c->row, c->version, c->hlc, c->device, c->op == SYNC_OP_DELETE, remote, err);
            if (!st) st = sync_exec(s, err, "DELETE FROM sync_outbox WHERE tbl = ?1 AND gid = ?2 AND change_id = CAST(?3 AS INTEGER)", 3, tbl, c->row, cid);
        } else {
            bool children = false;
            bool changed = pc->local && strcmp(tbl, "messages") &&
                           (sync_query_int(s, 0, "SELECT 1 FROM sync_dirty WHERE tbl = ?1 AND gid = ?2", 2, tbl, c->row) ||
                            sync_query_int(s, 0, "SELECT 1 FROM sync_outbox WHERE tbl = ?1 AND gid = ?2", 2, tbl, c->row));
            /* a session deleted elsewhere while messages were appended to it
             * here: a delete against an update, not a silent loss */
            if (!changed && pc->local && !strcmp(tbl, "sessions") && c->op == SYNC_OP_DELETE)
                changed = children = sync_query_int(
                    s, 0,
                    "SELECT 1 FROM messages m WHERE m.session_id IN (SELECT id FROM sessions WHERE"
                    " gid = ?1 UNION SELECT session_id FROM sync_alias WHERE gid = ?1) AND"
                    " (m.gid IN (SELECT gid FROM sync_dirty WHERE tbl = 'messages') OR"
                    "  m.gid IN (SELECT gid FROM sync_outbox WHERE tbl = 'messages'))",
                    1, c->row);
            if (changed) {
                st = sync_state_set_int(s, "hlc", pc->hlc, err);
                if (!st) st = settle(s, tbl, c->row, remote, c->version, c->hlc, c->device, children, rep, err);
                pc->local = true;
            } else {
                st = sync_row_write(s, tbl, c->row, remote, err);
                if (!st) st = row_seen(s, tbl, c->row, c->version, c->hlc, c->device, c->op == SYNC_OP_DELETE, remote, err);
            }
            if (!st) rep->pulled++;
        }
    }
    json_decref(remote);
    return st;
}

static hearth_status parse_pull(const char *body, size_t len, void *out, hearth_error *err) {
    return sync_pull_reply_parse(body, len, out, err);
}

/* Starts the request for the page after cursor (whole: with the payloads
 * of this device's own changes too); a 200 is parsed into *pr on the
 * request's thread. */
static hearth_status pull_start(hearth_sync *s, int64_t cursor, bool whole, sync_call *call,
                                sync_pull_reply *pr, hearth_error *err) {
    char path[96], what[64];
    snprintf(path, sizeof path, "/v1/pull?after=%lld&limit=%d%s", (long long)cursor, PULL_LIMIT,
             whole ? "" : "&own=meta");
    snprintf(what, sizeof what, "pull after %lld", (long long)cursor);
    return sync_call_start_parsed(s, "GET", path, NULL, 0, what, parse_pull, pr, call, err);
}

/* Drops a page asked for that is not wanted after all. */
static void pull_abandon(hearth_sync *s, sync_call *call, sync_pull_reply *pr) {
    sync_call_abandon(s, call);
    if (call->parsed && !call->parse_st) sync_pull_reply_free(pr);
}

/* Pulls every page after the cursor. OUT: offline in r. The next page is
 * asked for while this one is applied (a GET changes nothing: a page that
 * comes for nothing is dropped), so the server reads while this device
 * writes. */
static hearth_status pull_all(hearth_sync *s, hearth_sync_report *rep, sync_reply *r,
                              hearth_error *err) {
    bool whole = false; /* this page with the payloads of our own changes too */
    int64_t cursor = sync_state_int(s, "cursor", 0);
    sync_call call;
    sync_pull_reply got[2]; /* the page being applied and the one asked for */
    int slot = 0;
    hearth_status st = pull_start(s, cursor, whole, &call, &got[slot], err);
    for (int pages = 0; !st && pages < 1000000; pages++) {
        st = sync_call_finish(s, &call, r, err);
        bool parsed = call.parsed;
        if (!st && parsed && call.parse_st) {
            st = call.parse_st;
            if (err) *err = call.parse_err;
        }
        if (st || r->offline) {
            if (!st && parsed) sync_pull_reply_free(&got[slot]);
            sync_reply_free(r);
            return st;
        }
        if (r->status != 200) {
            st = sync_reply_fail(r, HEARTH_E_IO, "sync pull", err);
            sync_reply_free(r);
            return st;
        }
        sync_reply_free(r);
        sync_pull_reply pr = got[slot];
        slot ^= 1;
        bool more = pr.more && pr.next > cursor, ahead = false;
        if (more) {
            if ((st = pull_start(s, pr.next, false, &call, &got[slot], err))) {
                sync_pull_reply_free(&pr);
                return st;
            }
            ahead = true;
        }
        st = hearth_store_begin(s->store, err);
        if (!st) st = sync_applying(s, true, err);
        page_ctx pc = {.on = {sync_enabled(s, "tasks"), sync_enabled(s, "conversations"),
                              sync_enabled(s, "settings")},
                       .hlc = sync_state_int(s, "hlc", 0),
                       .local = sync_query_int(s, 0, "SELECT EXISTS (SELECT 1 FROM sync_dirty) OR"
                                               " EXISTS (SELECT 1 FROM sync_outbox)", 0) != 0};
        for (size_t i = 0; !st && !pc.refetch && i < pr.n; i++)
            st = apply_pulled(s, &pc, &pr.changes[i], rep, err);
        if (!st && pc.refetch) {
            /* undo the page and take it again, whole (rare: a lost ack of
             * a change whose outbox entry was renumbered since) */
            hearth_store_rollback(s->store, NULL);
            sync_pull_reply_free(&pr);
            if (ahead) pull_abandon(s, &call, &got[slot]);
            if (whole)
                return HEARTH_FAIL(err, HEARTH_E_FORMAT, "sync pull: the server sent bare changes when asked for payloads");
            whole = true;
            st = pull_start(s, cursor, whole, &call, &got[slot], err);
            continue;
        }
        whole = false;
        if (!st && pr.n) st = sync_state_set_int(s, "hlc", pc.hlc, err);
        if (!st && pr.next > cursor) st = sync_state_set_int(s, "cursor", pr.next, err);
        if (!st) st = sync_applying(s, false, err);
        if (st) hearth_store_rollback(s->store, NULL);
        else st = hearth_store_commit(s->store, err);
        if (!st && pr.next > cursor) cursor = pr.next;
        sync_pull_reply_free(&pr);
        if (st || !more) {
            if (ahead) pull_abandon(s, &call, &got[slot]);
            return st;
        }
    }
    return st;
}

/* ---- push ---- */

/* Numbers dirty rows of enabled collections into the outbox. OUT: *n, the
 * outbox's size after. */
static hearth_status build_outbox(hearth_sync *s, int64_t *n, hearth_error *err) {
    hearth_status st = hearth_store_begin(s->store, err);
    if (st) return st;
    sqlite3_stmt *q;
    if (!(q = sync_prepare(s, "SELECT d.tbl, d.gid, d.time_ms FROM sync_dirty d WHERE NOT EXISTS"
                           " (SELECT 1 FROM sync_outbox o WHERE o.tbl = d.tbl AND o.gid = d.gid)"
                           " ORDER BY d.tbl != 'sessions', d.time_ms, d.tbl, d.gid LIMIT 5000"))) {
        hearth_store_rollback(s->store, NULL);
        return HEARTH_FAIL(err, HEARTH_E_IO, "sync: %s", sqlite3_errmsg(s->db));
    }
    typedef struct { char tbl[16]; char gid[SYNC_MAX_ID + 1]; int64_t t; bool bad; } item;
    item *it = NULL;
    size_t ni = 0, cap = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (ni == cap) {
            cap = cap ? cap * 2 : 64;
            item *x = realloc(it, cap * sizeof *x);
            if (!x) break;
            it = x;
        }
        const char *t = (const char *)sqlite3_column_text(q, 0), *g = (const char *)sqlite3_column_text(q, 1);
        item *e = &it[ni++];
        snprintf(e->tbl, sizeof e->tbl, "%s", t ? t : "");
        e->bad = !g || strlen(g) > SYNC_MAX_ID;
        snprintf(e->gid, sizeof e->gid, "%s", g && !e->bad ? g : "");
        e->t = sqlite3_column_int64(q, 2);
    }
    sync_release(s, q);
    int64_t next = sync_state_int(s, "next_change_id", 1), hlc = sync_state_int(s, "hlc", 0);
    const bool on[3] = {sync_enabled(s, "tasks"), sync_enabled(s, "conversations"),
                        sync_enabled(s, "settings")};
    for (size_t i = 0; !st && i < ni; i++) {
        item *e = &it[i];
        if (!on[coll_index(sync_collection_of(e->tbl))]) continue;
        if (e->bad || !sync_id_valid(e->gid) || (!strcmp(e->tbl, "settings") && !sync_setting_shared(e->gid))) {
            st = set_dirty(s, e->tbl, e->gid, NULL, err);
            continue;
        }
        json_t *c = NULL;
        if ((st = sync_row_content(s, e->tbl, e->gid, &c, err))) break;
        int64_t known = sync_query_int(s, -1, "SELECT deleted FROM sync_rows WHERE tbl = ?1 AND gid = ?2", 2, e->tbl, e->gid);
        const char *op;
        bool skip = false;
        if (!c) {
            op = "delete";
            skip = known != 0; /* never on the server, or deleted there already */
        } else if (!strcmp(e->tbl, "messages")) {
            op = "append";
            skip = known >= 0; /* appended already: messages never change */
        } else {
            op = "upsert";
            char *b = known == 0 ? sync_query_text(s, "SELECT base FROM sync_rows WHERE tbl = ?1 AND gid = ?2", 2, e->tbl, e->gid) : NULL;
            json_t *bj = b ? json_loads(b, 0, NULL) : NULL;
            skip = bj && json_equal(bj, c); /* the server has exactly this */
            json_decref(bj);
            hearth_free(b);
        }
        char *text = dumps(c);
        json_decref(c);
        if (!skip) {
            hlc = sync_hlc_tick(hlc, e->t);
            char cid[24], h[24];
            snprintf(cid, sizeof cid, "%lld", (long long)next++);
            snprintf(h, sizeof h, "%lld", (long long)hlc);
            st = sync_exec(s, err,
                           "INSERT INTO sync_outbox (change_id, tbl, gid, op, hlc, content)"
                           " VALUES (CAST(?1 AS INTEGER), ?2, ?3, ?4, CAST(?5 AS INTEGER), ?6)",
                           6, cid, e->tbl, e->gid, op, h, text);
        }
        free(text);
        if (!st) st = set_dirty(s, e->tbl, e->gid, NULL, err);
    }
    free(it);
    if (!st) st = sync_state_set_int(s, "next_change_id", next, err);
    if (!st) st = sync_state_set_int(s, "hlc", hlc, err);
    if (st) {
        hearth_store_rollback(s->store, NULL);
        return st;
    }
    st = hearth_store_commit(s->store, err);
    *n = sync_query_int(s, 0, "SELECT count(*) FROM sync_outbox", 0);
    return st;
}

typedef struct {
    int64_t change_id;
    char tbl[16];
    char *content;
} sent_info;

/* One push request: the changes, what the ack needs of each, the body. */
typedef struct {
    sync_push m;
    sent_info *info;
    char *body;
    size_t len;
    int64_t last_id; /* the highest change id in it */
} push_batch;

static void push_batch_free(push_batch *b) {
    for (size_t i = 0; i < b->m.n; i++) {
        free(b->m.changes[i].payload);
        if (b->info[i].content) hearth_free(b->info[i].content);
    }
    free(b->m.changes);
    free(b->info);
    free(b->body);
    *b = (push_batch){0};
}

/* Reads (up to one request's worth of) the outbox after change id after,
 * seals each change and encodes the request. b->m.n == 0: nothing to send. */
static hearth_status push_prepare(hearth_sync *s, int64_t after, push_batch *b,
                                  hearth_error *err) {
    *b = (push_batch){0};
    sqlite3_stmt *q;
    if (!(q = sync_prepare(s, "SELECT o.change_id, o.tbl, o.gid, o.op, o.hlc, o.content,"
                           " coalesce(r.version, 0) FROM sync_outbox o LEFT JOIN sync_rows r"
                           " ON r.tbl = o.tbl AND r.gid = o.gid WHERE o.change_id > ?1"
                           " ORDER BY o.change_id LIMIT 5000")))
        return HEARTH_FAIL(err, HEARTH_E_IO, "sync: %s", sqlite3_errmsg(s->db));
    sqlite3_bind_int64(q, 1, after);
    sync_push *m = &b->m;
    size_t cap = 0;
    hearth_status st = HEARTH_OK;
    size_t bytes = 0;
    while (!st && sqlite3_step(q) == SQLITE_ROW) {
        /* the request must stay under the server's body limit: stop where
         * the sealed payloads as base64 plus each change's fields pass
         * PUSH_BODY_BYTES (a row is at most SYNC_MAX_PAYLOAD, far below);
         * the rest goes in the next round */
        size_t est = 4 * (((size_t)sqlite3_column_bytes(q, 5) + SYNC_SEAL_OVERHEAD + 2) / 3) + PUSH_CHANGE_META;
        if (m->n && bytes + est > PUSH_BODY_BYTES) break;
        bytes += est;
        if (m->n == cap) {
            cap = cap ? cap * 2 : 64;
            sync_change *c = realloc(m->changes, cap * sizeof *c);
            sent_info *in = c ? realloc(b->info, cap * sizeof *in) : NULL;
            if (c) m->changes = c;
            if (!c || !in) {
                st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
                break;
            }
            b->info = in;
        }
        sync_change *c = &m->changes[m->n];
        sent_info *in = &b->info[m->n];
        *c = (sync_change){0};
        *in = (sent_info){0};
        m->n++;
        c->change_id = in->change_id = b->last_id = sqlite3_column_int64(q, 0);
        snprintf(in->tbl, sizeof in->tbl, "%s", (const char *)sqlite3_column_text(q, 1));
        snprintf(c->collection, sizeof c->collection, "%s", sync_collection_of(in->tbl));
        snprintf(c->row, sizeof c->row, "%s", (const char *)sqlite3_column_text(q, 2));
        const char *op = (const char *)sqlite3_column_text(q, 3);
        c->op = !strcmp(op, "delete") ? SYNC_OP_DELETE : !strcmp(op, "append") ? SYNC_OP_APPEND : SYNC_OP_UPSERT;
        c->hlc = sqlite3_column_int64(q, 4);
        c->base_version = sqlite3_column_int64(q, 6);
        if (sqlite3_column_type(q, 5) != SQLITE_NULL) {
            in->content = hearth_strdup((const char *)sqlite3_column_text(q, 5));
            if (!in->content) st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
            else st = sync_seal(&s->key, c->collection, c->row, in->content, strlen(in->content),
                                &c->payload, &c->payload_len, err);
        }
    }
    sync_release(s, q);
    if (!st && m->n) st = sync_push_encode(m, &b->body, &b->len, err);
    if (st) push_batch_free(b);
    return st;
}

/* Takes the server's answers to batch b (reply r, consumed) in one local
 * transaction: acknowledged changes leave the outbox, conflicts settle. */
static hearth_status push_apply(hearth_sync *s, push_batch *b, sync_reply *r,
                                hearth_sync_report *rep, hearth_error *err) {
    const sync_push *m = &b->m;
    sync_push_reply pr = {0};
    hearth_status st;
    if (r->status != 200) st = sync_reply_fail(r, HEARTH_E_IO, "sync push", err);
    else st = sync_push_reply_parse(r->body, r->len, &pr, err);
    sync_reply_free(r);
    if (!st && pr.n != m->n)
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "sync push: %zu results for %zu changes", pr.n, m->n);
    if (!st) st = hearth_store_begin(s->store, err);
    else {
        sync_push_reply_free(&pr);
        return st;
    }
    if (!st) st = sync_applying(s, true, err);
    for (size_t i = 0; !st && i < pr.n; i++) {
        const sync_result *res = &pr.results[i];
        const sync_change *c = &m->changes[i];
        if (res->change_id != c->change_id) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "sync push: result %zu is for change %lld, not %lld",
                             i, (long long)res->change_id, (long long)c->change_id);
            break;
        }
        char cid[24];
        snprintf(cid, sizeof cid, "%lld", (long long)c->change_id);
        if (res->status == SYNC_APPLIED || res->status == SYNC_DUPLICATE) {
            /* the outbox content is dumps() text already: the base as is */
            st = row_seen_text(s, b->info[i].tbl, c->row, res->version, c->hlc, s->device,
                               c->op == SYNC_OP_DELETE, b->info[i].content, err);
            if (!st) st = sync_exec(s, err, "DELETE FROM sync_outbox WHERE change_id = CAST(?1 AS INTEGER)", 1, cid);
            if (!st) rep->pushed++;
        } else {
            const sync_row_state *cur = &res->current;
            json_t *remote = NULL;
            if (cur->op != SYNC_OP_DELETE)
                st = open_content(s, c->collection, c->row, cur->payload, cur->payload_len, &remote, err);
            if (!st) st = settle(s, b->info[i].tbl, c->row, remote, cur->version, cur->hlc, cur->device, false, rep, err);
            json_decref(remote);
        }
    }
    /* nothing but this push landed in the user's log since our cursor:
     * step over our own changes instead of pulling them back (same
     * transaction as the acks, so the two cannot part) */
    if (!st && pr.has_own && pr.own_last > pr.own_after &&
        sync_state_int(s, "cursor", 0) == pr.own_after)
        st = sync_state_set_int(s, "cursor", pr.own_last, err);
    if (!st) st = sync_applying(s, false, err);
    if (st) hearth_store_rollback(s->store, NULL);
    else st = hearth_store_commit(s->store, err);
    sync_push_reply_free(&pr);
    return st;
}

static hearth_status push_start(hearth_sync *s, const push_batch *b, sync_call *call,
                                hearth_error *err) {
    char what[64];
    snprintf(what, sizeof what, "push %zu changes", b->m.n);
    return sync_call_start(s, "POST", "/v1/push", b->body, b->len, what, call, err);
}

/* Pushes the outbox, pipelined: while the server takes one request, this
 * device numbers more dirty rows and seals the next one, and sends it as
 * soon as the first is acknowledged, before writing that ack down (the
 * next request's changes come after the first's, and a row is in the
 * outbox once, so the first's acks cannot touch them). Requests still go
 * one at a time and in order, and the next only after a 200 for the one
 * before, so the server never holds a later change of this device without
 * the earlier ones. Rounds that the server acknowledged something in are
 * progress (the dirty rows they came from are gone); only rounds that
 * settle conflicts and nothing else are bounded, so two devices
 * re-queueing merges against each other cannot loop forever. */
static hearth_status push_all(hearth_sync *s, hearth_sync_report *rep, sync_reply *r,
                              hearth_error *err) {
    push_batch cur = {0}, next = {0};
    sync_call call;
    bool flying = false; /* cur is on the wire (call) */
    hearth_status st = HEARTH_OK;
    for (int idle = 0; !st && !r->offline && idle < PUSH_ROUNDS;) {
        int64_t n = 0, before = rep->pushed;
        if (!flying) {
            push_batch_free(&cur);
            if ((st = build_outbox(s, &n, err)) || n == 0) break;
            if ((st = push_prepare(s, 0, &cur, err)) || !cur.m.n) break;
            if ((st = push_start(s, &cur, &call, err))) break;
            flying = true;
        }
        st = build_outbox(s, &n, err);
        if (!st) st = push_prepare(s, cur.last_id, &next, err);
        if (!st) st = sync_call_finish(s, &call, r, err);
        else sync_call_abandon(s, &call);
        flying = false;
        if (st || r->offline) break;
        if (r->status == 200 && next.m.n) {
            if ((st = push_start(s, &next, &call, err))) {
                sync_reply_free(r);
                break;
            }
            flying = true;
        }
        st = push_apply(s, &cur, r, rep, err);
        if (rep->pushed == before) idle++;
        push_batch_free(&cur);
        cur = next;
        next = (push_batch){0};
    }
    if (flying && !st) { /* the idle bound came with a request on the wire */
        st = sync_call_finish(s, &call, r, err);
        if (!st && !r->offline) st = push_apply(s, &cur, r, rep, err);
    } else if (flying) {
        sync_call_abandon(s, &call); /* its changes go again next time */
    }
    push_batch_free(&cur);
    push_batch_free(&next);
    return st;
}

hearth_status hearth_sync_run(hearth_sync *s, hearth_sync_report *rep, hearth_error *err) {
    if (!s || !rep) return HEARTH_FAIL(err, HEARTH_E_ARG, "hearth_sync_run: NULL argument");
    *rep = (hearth_sync_report){.state = HEARTH_SYNC_NO_CHANGES};
    if (!s->server[0] || !s->token[0])
        return HEARTH_FAIL(err, HEARTH_E_STATE, "this device is not paired: hearth sync pair --server URL --token T");
    hearth_status st = lock(s, err);
    if (st) return st;
    sync_reply r = {0};
    st = sync_key_load(s, &r, err);
    if (!st && !r.offline) st = pull_all(s, rep, &r, err);
    if (!st && !r.offline) st = push_all(s, rep, &r, err);
    if (!st && !r.offline && rep->pushed) st = pull_all(s, rep, &r, err);
    if (!st && r.offline) {
        rep->state = HEARTH_SYNC_OFFLINE;
        snprintf(rep->reason, sizeof rep->reason, "%s", r.reason);
    } else if (!st) {
        rep->state = rep->pushed || rep->pulled || rep->conflicts || rep->merged ? HEARTH_SYNC_SYNCED
                                                                                 : HEARTH_SYNC_NO_CHANGES;
        sync_state_set_int(s, "last_sync_ms", store_now_ms(), NULL);
    }
    sync_reply_free(&r);
    unlock(s);
    return st;
}
