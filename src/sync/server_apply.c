/*
 * server_apply.c: push, pull and registration over the storage primitives
 * (server_apply.h); also the store opener (by URL scheme) and token hashing.
 * The push rules, for a change on (collection, row) whose current state is
 * cur (absent for a new row), in this order:
 *   1. (device, change_id) applied before: duplicate, with that seq/version;
 *   2. append: applied on a new row; on an existing row a duplicate when the
 *      same device made it, else refused (400);
 *   3. upsert/delete with base_version == cur.version (0 for a new row):
 *      applied, version cur.version + 1;
 *   4. base_version != 0 on a row the server does not have: refused (400);
 *   5. otherwise a conflict: an upsert onto a tombstone is
 *      update_of_deleted, onto a live row version; a delete of a live row is
 *      delete_of_updated, of a tombstone version. Nothing is stored.
 */
#include "sync/server_apply.h"

#include "sync/base64.h"
#include "util/alloc.h"
#include "util/error.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

void sstore_hash_hex(const char *s, char out[SSTORE_HASH_HEX]) {
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
    sodium_bin2hex(out, SSTORE_HASH_HEX, h, sizeof h);
}

void ssrv_token_new(char out[48]) {
    uint8_t b[32];
    randombytes_buf(b, sizeof b);
    sync_b64url_encode(b, sizeof b, out);
    sodium_memzero(b, sizeof b);
}

hearth_status sstore_open(const char *url, sstore **out, hearth_error *err) {
    *out = NULL;
    if (!url || !*url) return HEARTH_FAIL(err, HEARTH_E_ARG, "no sync database given (--db)");
    if (sodium_init() < 0) return HEARTH_FAIL(err, HEARTH_E_IO, "libsodium cannot start");
    if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11))
        return sstore_pg_open(url, out, err);
    if (!strncmp(url, "sqlite:", 7)) return sstore_sqlite_open(url + 7, out, err);
    if (strstr(url, "://"))
        return HEARTH_FAIL(err, HEARTH_E_ARG,
                           "unknown sync database '%.*s' (sqlite:PATH or postgresql://...)",
                           (int)(strstr(url, "://") - url), url);
    return sstore_sqlite_open(url, out, err);
}

/* One change under the rules above; *res filled, *bytes grows by what is
 * stored. */
static hearth_status apply_one(sstore *s, sstore_tx *t, const sstore_device *d,
                               const sync_change *c, size_t i, sync_result *res,
                               int64_t *bytes, hearth_error *err) {
    const sstore_ops *o = s->ops;
    bool found;
    int64_t seq, version;
    hearth_status r;
    res->change_id = c->change_id;
    if ((r = o->find_applied(t, d->id, c->change_id, &found, &seq, &version, err))) return r;
    if (found) {
        res->status = SYNC_DUPLICATE;
        res->seq = seq;
        res->version = version;
        return HEARTH_OK;
    }
    sstore_row cur;
    if ((r = o->get_row(t, d->user, c->collection, c->row, &found, &cur, err))) return r;
    int64_t cur_version = found ? cur.version : 0;
    if (c->op == SYNC_OP_APPEND && found) {
        if (strcmp(cur.device, d->id))
            return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                               "changes[%zu]: append onto row '%s' of '%s', which another device "
                               "made", i, c->row, c->collection);
        res->status = SYNC_DUPLICATE;
        res->seq = cur.seq;
        res->version = cur.version;
        return HEARTH_OK;
    }
    if (c->op == SYNC_OP_APPEND || c->base_version == cur_version) {
        sstore_entry e = {
            .user = d->user, .device = d->id, .collection = c->collection, .row = c->row,
            .change_id = c->change_id, .version = cur_version + 1, .hlc = c->hlc, .op = c->op,
            .payload = c->payload, .payload_len = c->payload_len,
        };
        if ((r = o->insert(t, &e, &seq, err))) return r;
        sstore_row nr = {.version = e.version, .hlc = c->hlc, .seq = seq, .op = c->op};
        snprintf(nr.device, sizeof nr.device, "%s", d->id);
        if ((r = o->put_row(t, d->user, c->collection, c->row, &nr, err))) return r;
        res->status = SYNC_APPLIED;
        res->seq = seq;
        res->version = e.version;
        *bytes += (int64_t)c->payload_len;
        return HEARTH_OK;
    }
    if (!found)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "changes[%zu]: base_version %lld of row '%s' of '%s', which the server "
                           "does not have", i, (long long)c->base_version, c->row, c->collection);
    res->status = SYNC_CONFLICT;
    if (c->op == SYNC_OP_DELETE)
        res->kind = cur.op == SYNC_OP_DELETE ? SYNC_CONFLICT_VERSION : SYNC_CONFLICT_DELETE_OF_UPDATED;
    else
        res->kind = cur.op == SYNC_OP_DELETE ? SYNC_CONFLICT_UPDATE_OF_DELETED : SYNC_CONFLICT_VERSION;
    res->current.version = cur.version;
    res->current.hlc = cur.hlc;
    res->current.op = cur.op;
    snprintf(res->current.device, sizeof res->current.device, "%s", cur.device);
    if (cur.op != SYNC_OP_DELETE &&
        (r = o->get_payload(t, cur.seq, &res->current.payload, &res->current.payload_len, err)))
        return r;
    if (cur.op != SYNC_OP_DELETE && !res->current.payload)
        return HEARTH_FAIL(err, HEARTH_E_IO, "row '%s': the payload of seq %lld is missing",
                           c->row, (long long)cur.seq);
    return HEARTH_OK;
}

hearth_status ssrv_push(sstore *s, const sstore_device *d, const sync_push *m, int64_t quota,
                        ssrv_commit_hook hook, void *hook_user, sync_push_reply *out,
                        hearth_error *err) {
    memset(out, 0, sizeof *out);
    sync_push_reply rep = {0};
    rep.results = hearth_calloc(m->n ? m->n : 1, sizeof *rep.results);
    if (!rep.results) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    sstore_tx *t;
    hearth_status r = s->ops->tx_begin(s, d->user, &t, err);
    if (r) {
        hearth_free(rep.results);
        return r;
    }
    int64_t bytes = 0, head = 0, total = 0;
    r = s->ops->tx_head(t, d->user, &head, err);
    if (!r && s->ops->prefetch) r = s->ops->prefetch(t, d->user, d->id, m, err);
    for (size_t i = 0; i < m->n && !r; i++) {
        rep.n = i + 1;
        r = apply_one(s, t, d, &m->changes[i], i, &rep.results[i], &bytes, err);
    }
    if (!r && bytes > 0) {
        if (d->stored_bytes > quota || bytes > quota - d->stored_bytes)
            r = HEARTH_FAIL(err, HEARTH_E_LIMIT,
                            "storage quota: %lld bytes stored, %lld more would pass %lld",
                            (long long)d->stored_bytes, (long long)bytes, (long long)quota);
        else
            r = s->ops->add_stored(t, d->id, bytes, &total, err);
        /* d->stored_bytes was read before this transaction: a push of the
         * same device may have committed since */
        if (!r && total > quota)
            r = HEARTH_FAIL(err, HEARTH_E_LIMIT,
                            "storage quota: %lld bytes stored with this push, over %lld",
                            (long long)total, (long long)quota);
    }
    if (r) {
        s->ops->tx_rollback(t);
        sync_push_reply_free(&rep);
        return r;
    }
    if ((r = s->ops->tx_commit(t, err))) {
        sync_push_reply_free(&rep);
        return r;
    }
    if (hook) hook(hook_user);
    /* the user's log entries in (head, last applied] are this push's own:
     * a device whose cursor is at head may skip past them */
    rep.own_after = rep.own_last = head;
    for (size_t i = 0; i < rep.n; i++)
        if (rep.results[i].status == SYNC_APPLIED && rep.results[i].seq > rep.own_last)
            rep.own_last = rep.results[i].seq;
    rep.has_own = true;
    if ((r = s->ops->server_seq(s, d->user, &rep.server_seq, err))) {
        sync_push_reply_free(&rep);
        return r;
    }
    *out = rep;
    return HEARTH_OK;
}

/* Bytes of a pull page's payloads (as base64) plus PULL_CHANGE_META for the
 * fields of each change: half the body limit, so the JSON around them fits. */
#define PULL_PAGE_BYTES (SYNC_MAX_BODY / 2)
#define PULL_CHANGE_META 400

hearth_status ssrv_pull(sstore *s, const sstore_device *d, int64_t after, size_t limit, bool own_bare,
                        sync_pull_reply *out, hearth_error *err) {
    hearth_status r = s->ops->pull(s, d->user, after, limit, out, err);
    if (r) return r;
    for (size_t i = 0; own_bare && i < out->n; i++) {
        sync_pulled *c = &out->changes[i];
        if (strcmp(c->device, d->id)) continue;
        hearth_free(c->payload);
        c->payload = NULL;
        c->payload_len = 0;
        c->bare = true;
    }
    /* A page must fit in a device's reply limit (SYNC_MAX_BODY): cut it
     * where the payloads' base64 and the metadata pass PULL_PAGE_BYTES
     * (always at least one change; a payload is at most SYNC_MAX_PAYLOAD,
     * far below), and let the device ask again for the rest. */
    size_t bytes = 0, keep = out->n;
    for (size_t i = 0; i < out->n; i++) {
        bytes += 4 * ((out->changes[i].payload_len + 2) / 3) + PULL_CHANGE_META;
        if (i > 0 && bytes > PULL_PAGE_BYTES) {
            keep = i;
            break;
        }
    }
    if (keep < out->n) {
        for (size_t i = keep; i < out->n; i++) hearth_free(out->changes[i].payload);
        out->n = keep;
        out->more = true;
        out->next = out->changes[keep - 1].seq;
    }
    if ((r = s->ops->pulled(s, d->user, d->id, after, err))) sync_pull_reply_free(out);
    return r;
}

hearth_status ssrv_register(sstore *s, const sync_register *m, sync_register_reply *out,
                            hearth_error *err) {
    memset(out, 0, sizeof *out);
    char eh[SSTORE_HASH_HEX], th[SSTORE_HASH_HEX], tok[48];
    sstore_hash_hex(m->token, eh);
    ssrv_token_new(tok);
    sstore_hash_hex(tok, th);
    hearth_status r = s->ops->enroll(s, eh, m->device, m->name, th, out->user, err);
    if (!r) r = s->ops->server_seq(s, out->user, &out->server_seq, err);
    if (r) {
        sodium_memzero(tok, sizeof tok);
        memset(out, 0, sizeof *out);
        return r;
    }
    snprintf(out->device_token, sizeof out->device_token, "%s", tok);
    sodium_memzero(tok, sizeof tok);
    return HEARTH_OK;
}
