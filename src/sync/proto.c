/*
 * proto.c: the sync protocol's encoders and parsers (proto.h,
 * docs/sync-protocol.md) on jansson. Parsing treats the body as untrusted:
 * the size is checked before jansson sees it, duplicate keys are refused,
 * every field is checked for its JSON type, its range and its length, and
 * base64 is decoded by the strict codec in base64.c into a buffer sized from
 * the checked length. Error messages name the field with its place
 * ("changes[3].base_version: ..."). Unknown keys are ignored so that a later
 * protocol version may add fields.
 */
#include "sync/proto.h"

#include "sync/base64.h"
#include "util/alloc.h"
#include "util/error.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYINFO_MAX_CHECK 4096 /* bytes of a decoded key check */

const char *sync_op_name(sync_op op) {
    switch (op) {
    case SYNC_OP_UPSERT: return "upsert";
    case SYNC_OP_DELETE: return "delete";
    case SYNC_OP_APPEND: return "append";
    }
    return "?";
}

const char *sync_conflict_name(sync_conflict_kind k) {
    switch (k) {
    case SYNC_CONFLICT_NONE: return "none";
    case SYNC_CONFLICT_VERSION: return "version";
    case SYNC_CONFLICT_UPDATE_OF_DELETED: return "update_of_deleted";
    case SYNC_CONFLICT_DELETE_OF_UPDATED: return "delete_of_updated";
    }
    return "?";
}

static const char *status_name(sync_result_status s) {
    switch (s) {
    case SYNC_APPLIED: return "applied";
    case SYNC_DUPLICATE: return "duplicate";
    case SYNC_CONFLICT: return "conflict";
    }
    return "?";
}

bool sync_id_valid(const char *s) {
    if (!s) return false;
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= SYNC_MAX_ID) return false;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok) return false;
    }
    return n > 0;
}

/* ---- parsing helpers ------------------------------------------------------ */

/* A field's place for messages: "changes[3].row" or "row". */
typedef struct {
    const char *array; /* NULL at top level */
    size_t index;
} place;

static void field_name(char *buf, size_t cap, place pl, const char *key) {
    if (pl.array && pl.index == SIZE_MAX)
        snprintf(buf, cap, "%s.%s", pl.array, key);
    else if (pl.array)
        snprintf(buf, cap, "%s[%zu].%s", pl.array, pl.index, key);
    else
        snprintf(buf, cap, "%s", key);
}

#define BAD(err, pl, key, ...)                                                           \
    do {                                                                                 \
        char f_[96];                                                                     \
        field_name(f_, sizeof f_, (pl), (key));                                          \
        char m_[160];                                                                    \
        snprintf(m_, sizeof m_, __VA_ARGS__);                                            \
        return HEARTH_FAIL((err), HEARTH_E_FORMAT, "sync message: %s: %s", f_, m_);      \
    } while (0)

static hearth_status load(const char *body, size_t len, json_t **root, hearth_error *err) {
    *root = NULL;
    if (len > SYNC_MAX_BODY)
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "sync message: body of %zu bytes over the limit %u",
                           len, SYNC_MAX_BODY);
    if (!body && len) return HEARTH_FAIL(err, HEARTH_E_ARG, "sync message: NULL body");
    json_error_t je;
    json_t *j = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "sync message: invalid JSON at byte %d: %s",
                           je.position, je.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "sync message: body is not a JSON object");
    }
    *root = j;
    return HEARTH_OK;
}

static hearth_status get_int(const json_t *o, const char *key, place pl, int64_t min,
                             int64_t *out, hearth_error *err) {
    const json_t *v = json_object_get(o, key);
    if (!v) BAD(err, pl, key, "missing");
    if (!json_is_integer(v)) BAD(err, pl, key, "not an integer");
    json_int_t x = json_integer_value(v);
    if (x < min) BAD(err, pl, key, "%lld is below %lld", (long long)x, (long long)min);
    *out = (int64_t)x;
    return HEARTH_OK;
}

static hearth_status get_bool(const json_t *o, const char *key, place pl, bool *out,
                              hearth_error *err) {
    const json_t *v = json_object_get(o, key);
    if (!v) BAD(err, pl, key, "missing");
    if (!json_is_boolean(v)) BAD(err, pl, key, "not a boolean");
    *out = json_is_true(v);
    return HEARTH_OK;
}

/* A string of 0..cap-1 bytes copied into out (cap bytes). With id, it must
 * also pass sync_id_valid; otherwise it may not hold control characters
 * (jansson has already checked UTF-8 and refused NUL). */
static hearth_status get_str(const json_t *o, const char *key, place pl, bool id, bool required,
                             char *out, size_t cap, hearth_error *err) {
    out[0] = '\0';
    const json_t *v = json_object_get(o, key);
    if (!v) {
        if (!required) return HEARTH_OK;
        BAD(err, pl, key, "missing");
    }
    if (!json_is_string(v)) BAD(err, pl, key, "not a string");
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n >= cap) BAD(err, pl, key, "%zu bytes, longer than %zu", n, cap - 1);
    if (id) {
        if (!sync_id_valid(s)) BAD(err, pl, key, "not a valid id (1..%d of [A-Za-z0-9._:-])",
                                   SYNC_MAX_ID);
    } else {
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                BAD(err, pl, key, "control character at byte %zu", i);
    }
    memcpy(out, s, n + 1);
    return HEARTH_OK;
}

static hearth_status get_op(const json_t *o, const char *key, place pl, sync_op *out,
                            hearth_error *err) {
    const json_t *v = json_object_get(o, key);
    if (!v) BAD(err, pl, key, "missing");
    const char *s = json_string_value(v);
    if (!s) BAD(err, pl, key, "not a string");
    for (int op = SYNC_OP_UPSERT; op <= SYNC_OP_APPEND; op++)
        if (!strcmp(s, sync_op_name((sync_op)op))) {
            *out = (sync_op)op;
            return HEARTH_OK;
        }
    BAD(err, pl, key, "unknown op (upsert, delete or append)");
}

/* A base64 value decoded into a new buffer (*out, hearth_malloc'ed) of at
 * most max bytes; over max is HEARTH_E_LIMIT. With nullable, null or a
 * missing key gives NULL / 0. An empty string is refused (a value that is
 * present has bytes). */
static hearth_status get_b64(const json_t *o, const char *key, place pl, size_t max,
                             bool nullable, uint8_t **out, size_t *n, hearth_error *err) {
    *out = NULL;
    *n = 0;
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (nullable) return HEARTH_OK;
        BAD(err, pl, key, "missing");
    }
    if (!json_is_string(v)) BAD(err, pl, key, "not a base64 string");
    size_t len = json_string_length(v);
    if (len == 0) BAD(err, pl, key, "empty");
    size_t cap = sync_b64_decoded_max(len);
    /* A canonical encoding of more than max bytes is longer than this. */
    if (cap > max + 2) {
        char f[96];
        field_name(f, sizeof f, pl, key);
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "sync message: %s: over %zu bytes", f, max);
    }
    uint8_t *buf = hearth_malloc(cap);
    if (!buf) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "sync message: out of memory");
    size_t got;
    if (!sync_b64_decode(json_string_value(v), len, buf, &got)) {
        hearth_free(buf);
        BAD(err, pl, key, "not canonical base64 (standard alphabet, padded)");
    }
    if (got > max) {
        hearth_free(buf);
        char f[96];
        field_name(f, sizeof f, pl, key);
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "sync message: %s: %zu bytes, over %zu", f, got,
                           max);
    }
    *out = buf;
    *n = got;
    return HEARTH_OK;
}

/* The array under key, with at most max elements (HEARTH_E_LIMIT). */
static hearth_status get_array(const json_t *o, const char *key, size_t max, json_t **out,
                               hearth_error *err) {
    place top = {0};
    json_t *v = json_object_get(o, key);
    if (!v) BAD(err, top, key, "missing");
    if (!json_is_array(v)) BAD(err, top, key, "not an array");
    if (json_array_size(v) > max)
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "sync message: %s: %zu entries, over the limit %zu",
                           key, json_array_size(v), max);
    *out = v;
    return HEARTH_OK;
}

static hearth_status elem_object(json_t *arr, size_t i, place pl, json_t **out,
                                 hearth_error *err) {
    json_t *v = json_array_get(arr, i);
    if (!json_is_object(v)) {
        char f[96];
        snprintf(f, sizeof f, "%s[%zu]", pl.array, i);
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "sync message: %s: not an object", f);
    }
    *out = v;
    return HEARTH_OK;
}

/* The payload rules shared by pushed and pulled changes: a delete has none
 * (null or absent), an upsert or append has one. */
static hearth_status get_payload(const json_t *o, place pl, sync_op op, uint8_t **out,
                                 size_t *n, hearth_error *err) {
    if (op == SYNC_OP_DELETE) {
        const json_t *v = json_object_get(o, "payload");
        *out = NULL;
        *n = 0;
        if (v && !json_is_null(v)) BAD(err, pl, "payload", "a delete carries no payload");
        return HEARTH_OK;
    }
    return get_b64(o, "payload", pl, SYNC_MAX_PAYLOAD, false, out, n, err);
}

/* ---- encoding helpers ------------------------------------------------------ */

/* Builds JSON and remembers whether any allocation failed, so the encoders
 * check once at the end. Every setter takes ownership of v (json_*_new). */
typedef struct {
    bool oom;
} jb;

static void jset(jb *b, json_t *o, const char *key, json_t *v) {
    if (!o || !v || json_object_set_new_nocheck(o, key, v)) {
        b->oom = true;
        if (v && !o) json_decref(v);
    }
}

static void jpush(jb *b, json_t *arr, json_t *v) {
    if (!arr || !v || json_array_append_new(arr, v)) {
        b->oom = true;
        if (v && !arr) json_decref(v);
    }
}

static json_t *jb64(jb *b, const uint8_t *p, size_t n) {
    if (!p) return json_null();
    size_t el = sync_b64_encoded_len(n);
    char *s = hearth_malloc(el + 1);
    if (!s) {
        b->oom = true;
        return NULL;
    }
    sync_b64_encode(p, n, s);
    json_t *v = json_stringn_nocheck(s, el);
    hearth_free(s);
    return v;
}

static hearth_status finish(jb *b, json_t *root, char **out, size_t *len, hearth_error *err) {
    *out = NULL;
    if (len) *len = 0;
    if (b->oom || !root) {
        json_decref(root);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "sync message: out of memory");
    }
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!s) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "sync message: out of memory");
    *out = s;
    if (len) *len = strlen(s);
    return HEARTH_OK;
}

#define ARG_ID(err, what, i, s)                                                          \
    do {                                                                                 \
        if (!sync_id_valid(s))                                                           \
            return HEARTH_FAIL((err), HEARTH_E_ARG, "sync encode: %s %zu: invalid id '%.*s'", \
                               (what), (size_t)(i), SYNC_MAX_ID, (s));                   \
    } while (0)

/* ---- push ------------------------------------------------------------------ */

hearth_status sync_push_encode(const sync_push *m, char **out, size_t *len, hearth_error *err) {
    *out = NULL;
    if (m->n > SYNC_MAX_CHANGES)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sync encode: %zu changes, over %d", m->n,
                           SYNC_MAX_CHANGES);
    for (size_t i = 0; i < m->n; i++) {
        const sync_change *c = &m->changes[i];
        ARG_ID(err, "change", i, c->collection);
        ARG_ID(err, "change", i, c->row);
        if (c->change_id < 1 || c->base_version < 0 || c->hlc < 0 ||
            (c->op == SYNC_OP_DELETE) != (c->payload == NULL) ||
            c->payload_len > SYNC_MAX_PAYLOAD || (c->payload && !c->payload_len))
            return HEARTH_FAIL(err, HEARTH_E_ARG, "sync encode: change %zu: bad field", i);
    }
    jb b = {0};
    json_t *root = json_object(), *arr = json_array();
    jset(&b, root, "changes", arr);
    for (size_t i = 0; i < m->n && !b.oom; i++) {
        const sync_change *c = &m->changes[i];
        json_t *o = json_object();
        jpush(&b, arr, o);
        jset(&b, o, "change_id", json_integer(c->change_id));
        jset(&b, o, "collection", json_string_nocheck(c->collection));
        jset(&b, o, "row", json_string_nocheck(c->row));
        jset(&b, o, "op", json_string_nocheck(sync_op_name(c->op)));
        jset(&b, o, "base_version", json_integer(c->base_version));
        jset(&b, o, "hlc", json_integer(c->hlc));
        jset(&b, o, "payload", jb64(&b, c->payload, c->payload_len));
    }
    return finish(&b, root, out, len, err);
}

void sync_push_free(sync_push *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) hearth_free(m->changes[i].payload);
    hearth_free(m->changes);
    memset(m, 0, sizeof *m);
}

hearth_status sync_push_parse(const char *body, size_t len, sync_push *out, hearth_error *err) {
    memset(out, 0, sizeof *out);
    json_t *root, *arr;
    hearth_status st = load(body, len, &root, err);
    if (st) return st;
    if ((st = get_array(root, "changes", SYNC_MAX_CHANGES, &arr, err))) goto fail;
    size_t n = json_array_size(arr);
    out->changes = hearth_calloc(n ? n : 1, sizeof *out->changes);
    if (!out->changes) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "sync message: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        place pl = {"changes", i};
        sync_change *c = &out->changes[i];
        json_t *o = NULL;
        if ((st = elem_object(arr, i, pl, &o, err)) ||
            (st = get_int(o, "change_id", pl, 1, &c->change_id, err)) ||
            (st = get_str(o, "collection", pl, true, true, c->collection, sizeof c->collection,
                          err)) ||
            (st = get_str(o, "row", pl, true, true, c->row, sizeof c->row, err)) ||
            (st = get_op(o, "op", pl, &c->op, err)) ||
            (st = get_int(o, "base_version", pl, 0, &c->base_version, err)) ||
            (st = get_int(o, "hlc", pl, 0, &c->hlc, err)))
            goto fail;
        if (c->op == SYNC_OP_APPEND && c->base_version != 0) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT,
                             "sync message: changes[%zu].base_version: an append has 0", i);
            goto fail;
        }
        if ((st = get_payload(o, pl, c->op, &c->payload, &c->payload_len, err))) goto fail;
        out->n = i + 1;
    }
    out->n = n;
    json_decref(root);
    return HEARTH_OK;
fail:
    json_decref(root);
    sync_push_free(out);
    return st;
}

/* ---- push reply ------------------------------------------------------------ */

hearth_status sync_push_reply_encode(const sync_push_reply *m, char **out, size_t *len,
                                     hearth_error *err) {
    *out = NULL;
    if (m->n > SYNC_MAX_CHANGES)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sync encode: %zu results, over %d", m->n,
                           SYNC_MAX_CHANGES);
    for (size_t i = 0; i < m->n; i++)
        if (m->results[i].status == SYNC_CONFLICT)
            ARG_ID(err, "result", i, m->results[i].current.device);
    jb b = {0};
    json_t *root = json_object(), *arr = json_array();
    jset(&b, root, "results", arr);
    for (size_t i = 0; i < m->n && !b.oom; i++) {
        const sync_result *r = &m->results[i];
        json_t *o = json_object();
        jpush(&b, arr, o);
        jset(&b, o, "change_id", json_integer(r->change_id));
        jset(&b, o, "status", json_string_nocheck(status_name(r->status)));
        if (r->status == SYNC_CONFLICT) {
            jset(&b, o, "kind", json_string_nocheck(sync_conflict_name(r->kind)));
            json_t *c = json_object();
            jset(&b, o, "current", c);
            jset(&b, c, "version", json_integer(r->current.version));
            jset(&b, c, "hlc", json_integer(r->current.hlc));
            jset(&b, c, "op", json_string_nocheck(sync_op_name(r->current.op)));
            jset(&b, c, "device", json_string_nocheck(r->current.device));
            jset(&b, c, "payload", jb64(&b, r->current.payload, r->current.payload_len));
        } else {
            jset(&b, o, "seq", json_integer(r->seq));
            jset(&b, o, "version", json_integer(r->version));
        }
    }
    jset(&b, root, "server_seq", json_integer(m->server_seq));
    if (m->has_own) {
        jset(&b, root, "own_after", json_integer(m->own_after));
        jset(&b, root, "own_last", json_integer(m->own_last));
    }
    return finish(&b, root, out, len, err);
}

void sync_push_reply_free(sync_push_reply *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) hearth_free(m->results[i].current.payload);
    hearth_free(m->results);
    memset(m, 0, sizeof *m);
}

static hearth_status parse_result(json_t *o, place pl, sync_result *r, hearth_error *err) {
    hearth_status st;
    if ((st = get_int(o, "change_id", pl, 1, &r->change_id, err))) return st;
    const json_t *v = json_object_get(o, "status");
    const char *s = json_string_value(v);
    if (!v) BAD(err, pl, "status", "missing");
    if (!s) BAD(err, pl, "status", "not a string");
    if (!strcmp(s, "applied") || !strcmp(s, "duplicate")) {
        r->status = s[0] == 'a' ? SYNC_APPLIED : SYNC_DUPLICATE;
        if ((st = get_int(o, "seq", pl, 1, &r->seq, err)) ||
            (st = get_int(o, "version", pl, 1, &r->version, err)))
            return st;
        return HEARTH_OK;
    }
    if (strcmp(s, "conflict")) BAD(err, pl, "status", "unknown status");
    r->status = SYNC_CONFLICT;
    v = json_object_get(o, "kind");
    s = json_string_value(v);
    if (!v) BAD(err, pl, "kind", "missing");
    if (!s) BAD(err, pl, "kind", "not a string");
    r->kind = SYNC_CONFLICT_NONE;
    for (int k = SYNC_CONFLICT_VERSION; k <= SYNC_CONFLICT_DELETE_OF_UPDATED; k++)
        if (!strcmp(s, sync_conflict_name((sync_conflict_kind)k))) r->kind = (sync_conflict_kind)k;
    if (r->kind == SYNC_CONFLICT_NONE) BAD(err, pl, "kind", "unknown conflict kind");
    json_t *c = json_object_get(o, "current");
    if (!c) BAD(err, pl, "current", "missing");
    if (!json_is_object(c)) BAD(err, pl, "current", "not an object");
    sync_row_state *cur = &r->current;
    char where[48];
    snprintf(where, sizeof where, "%s[%zu].current", pl.array, pl.index);
    place cp = {where, SIZE_MAX};
    if ((st = get_int(c, "version", cp, 1, &cur->version, err)) ||
        (st = get_int(c, "hlc", cp, 0, &cur->hlc, err)) ||
        (st = get_op(c, "op", cp, &cur->op, err)) ||
        (st = get_str(c, "device", cp, true, true, cur->device, sizeof cur->device, err)) ||
        (st = get_payload(c, cp, cur->op, &cur->payload, &cur->payload_len, err)))
        return st;
    return HEARTH_OK;
}

hearth_status sync_push_reply_parse(const char *body, size_t len, sync_push_reply *out,
                                    hearth_error *err) {
    memset(out, 0, sizeof *out);
    json_t *root, *arr;
    place top = {0};
    hearth_status st = load(body, len, &root, err);
    if (st) return st;
    if ((st = get_array(root, "results", SYNC_MAX_CHANGES, &arr, err)) ||
        (st = get_int(root, "server_seq", top, 0, &out->server_seq, err)))
        goto fail;
    /* optional (servers before it say nothing): both or neither, in order */
    if (json_object_get(root, "own_after") || json_object_get(root, "own_last")) {
        if ((st = get_int(root, "own_after", top, 0, &out->own_after, err)) ||
            (st = get_int(root, "own_last", top, out->own_after, &out->own_last, err)))
            goto fail;
        out->has_own = true;
    }
    size_t n = json_array_size(arr);
    out->results = hearth_calloc(n ? n : 1, sizeof *out->results);
    if (!out->results) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "sync message: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        place pl = {"results", i};
        json_t *o = NULL;
        out->n = i + 1; /* so a failure frees what this result holds */
        if ((st = elem_object(arr, i, pl, &o, err)) ||
            (st = parse_result(o, pl, &out->results[i], err)))
            goto fail;
    }
    json_decref(root);
    return HEARTH_OK;
fail:
    json_decref(root);
    sync_push_reply_free(out);
    return st;
}

/* ---- pull reply ------------------------------------------------------------ */

hearth_status sync_pull_reply_encode(const sync_pull_reply *m, char **out, size_t *len,
                                     hearth_error *err) {
    *out = NULL;
    if (m->n > SYNC_MAX_CHANGES)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sync encode: %zu changes, over %d", m->n,
                           SYNC_MAX_CHANGES);
    for (size_t i = 0; i < m->n; i++) {
        ARG_ID(err, "pulled change", i, m->changes[i].device);
        ARG_ID(err, "pulled change", i, m->changes[i].collection);
        ARG_ID(err, "pulled change", i, m->changes[i].row);
    }
    jb b = {0};
    json_t *root = json_object(), *arr = json_array();
    jset(&b, root, "changes", arr);
    for (size_t i = 0; i < m->n && !b.oom; i++) {
        const sync_pulled *c = &m->changes[i];
        json_t *o = json_object();
        jpush(&b, arr, o);
        jset(&b, o, "seq", json_integer(c->seq));
        jset(&b, o, "device", json_string_nocheck(c->device));
        jset(&b, o, "change_id", json_integer(c->change_id));
        jset(&b, o, "collection", json_string_nocheck(c->collection));
        jset(&b, o, "row", json_string_nocheck(c->row));
        jset(&b, o, "op", json_string_nocheck(sync_op_name(c->op)));
        jset(&b, o, "version", json_integer(c->version));
        jset(&b, o, "hlc", json_integer(c->hlc));
        if (c->bare) jset(&b, o, "bare", json_true());
        else jset(&b, o, "payload", jb64(&b, c->payload, c->payload_len));
    }
    jset(&b, root, "next", json_integer(m->next));
    jset(&b, root, "more", json_boolean(m->more));
    jset(&b, root, "server_seq", json_integer(m->server_seq));
    return finish(&b, root, out, len, err);
}

void sync_pull_reply_free(sync_pull_reply *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) hearth_free(m->changes[i].payload);
    hearth_free(m->changes);
    memset(m, 0, sizeof *m);
}

hearth_status sync_pull_reply_parse(const char *body, size_t len, sync_pull_reply *out,
                                    hearth_error *err) {
    memset(out, 0, sizeof *out);
    json_t *root, *arr;
    place top = {0};
    hearth_status st = load(body, len, &root, err);
    if (st) return st;
    if ((st = get_array(root, "changes", SYNC_MAX_CHANGES, &arr, err)) ||
        (st = get_int(root, "next", top, 0, &out->next, err)) ||
        (st = get_bool(root, "more", top, &out->more, err)) ||
        (st = get_int(root, "server_seq", top, 0, &out->server_seq, err)))
        goto fail;
    size_t n = json_array_size(arr);
    out->changes = hearth_calloc(n ? n : 1, sizeof *out->changes);
    if (!out->changes) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "sync message: out of memory");
        goto fail;
    }
    int64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        place pl = {"changes", i};
        sync_pulled *c = &out->changes[i];
        json_t *o = NULL;
        if ((st = elem_object(arr, i, pl, &o, err)) ||
            (st = get_int(o, "seq", pl, 1, &c->seq, err)) ||
            (st = get_str(o, "device", pl, true, true, c->device, sizeof c->device, err)) ||
            (st = get_int(o, "change_id", pl, 1, &c->change_id, err)) ||
            (st = get_str(o, "collection", pl, true, true, c->collection, sizeof c->collection,
                          err)) ||
            (st = get_str(o, "row", pl, true, true, c->row, sizeof c->row, err)) ||
            (st = get_op(o, "op", pl, &c->op, err)) ||
            (st = get_int(o, "version", pl, 1, &c->version, err)) ||
            (st = get_int(o, "hlc", pl, 0, &c->hlc, err)))
            goto fail;
        /* Pages come in seq order; a client that advances its cursor to
         * `next` relies on it. */
        if (c->seq <= prev) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT,
                             "sync message: changes[%zu].seq: %lld not above the previous %lld",
                             i, (long long)c->seq, (long long)prev);
            goto fail;
        }
        prev = c->seq;
        out->n = i + 1;
        const json_t *bare = json_object_get(o, "bare");
        if (bare && !json_is_boolean(bare)) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "sync message: changes[%zu].bare: not a boolean", i);
            goto fail;
        }
        c->bare = json_is_true(bare);
        if (c->bare) {
            const json_t *v = json_object_get(o, "payload");
            if (v && !json_is_null(v)) {
                st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "sync message: changes[%zu].payload: a bare change carries no payload", i);
                goto fail;
            }
        } else if ((st = get_payload(o, pl, c->op, &c->payload, &c->payload_len, err))) {
            goto fail;
        }
    }
    if (n && out->next < prev) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT,
                         "sync message: next: %lld below the last change's seq %lld",
                         (long long)out->next, (long long)prev);
        goto fail;
    }
    json_decref(root);
    return HEARTH_OK;
fail:
    json_decref(root);
    sync_pull_reply_free(out);
    return st;
}

/* ---- register ----------------------------------------------------------------- */

/* Tokens (enrollment and device) are printable ASCII without blanks, so
 * they travel in a header and a shell argument unquoted. */
static bool token_valid(const char *s, size_t cap) {
    size_t n = 0;
    for (; s[n]; n++)
        if (n + 1 >= cap || (unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
            return false;
    return n > 0;
}

hearth_status sync_register_encode(const sync_register *m, char **out, size_t *len,
                                   hearth_error *err) {
    *out = NULL;
    if (!token_valid(m->token, sizeof m->token))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sync encode: invalid enrollment token");
    ARG_ID(err, "register", (size_t)0, m->device);
    for (const char *p = m->name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return HEARTH_FAIL(err, HEARTH_E_ARG, "sync encode: control character in name");
    jb b = {0};
    json_t *root = json_object();
    jset(&b, root, "token", json_string_nocheck(m->token));
    jset(&b, root, "device", json_string_nocheck(m->device));
    json_t *name = json_string(m->name); /* checks UTF-8 */
    if (!name && !b.oom) {
        json_decref(root);
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sync encode: name is not UTF-8");
    }
    jset(&b, root, "name", name);
    return finish(&b, root, out, len, err);
}

hearth_status sync_register_parse(const char *body, size_t len, sync_register *out,
                                  hearth_error *err) {
    memset(out, 0, sizeof *out);
    json_t *root;
    place top = {0};
    hearth_status st = load(body, len, &root, err);
    if (st) return st;
    if ((st = get_str(root, "token", top, false, true, out->token, sizeof out->token, err)) ||
        (st = get_str(root, "device", top, true, true, out->device, sizeof out->device, err)) ||
        (st = get_str(root, "name", top, false, false, out->name, sizeof out->name, err)))
        goto fail;
    if (!token_valid(out->token, sizeof out->token)) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "sync message: token: not a token");
        goto fail;
    }
    json_decref(root);
    return HEARTH_OK;
fail:
    json_decref(root);
    memset(out, 0, sizeof *out);
    return st;
}

hearth_status sync_register_reply_encode(const sync_register_reply *m, char **out, size_t *len,
                                         hearth_error *err) {
    *out = NULL;
    if (!token_valid(m->device_token, sizeof m->device_token))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sync encode: invalid device token");
    ARG_ID(err, "register reply", (size_t)0, m->user);
    jb b = {0};
    json_t *root = json_object();
    jset(&b, root, "device_token", json_string_nocheck(m->device_token));
    jset(&b, root, "user", json_string_nocheck(m->user));
    jset(&b, root, "server_seq", json_integer(m->server_seq));
    return finish(&b, root, out, len, err);
}

hearth_status sync_register_reply_parse(const char *body, size_t len, sync_register_reply *out,
                                        hearth_error *err) {
    memset(out, 0, sizeof *out);
    json_t *root;
    place top = {0};
    hearth_status st = load(body, len, &root, err);
    if (st) return st;
    if ((st = get_str(root, "device_token", top, false, true, out->device_token,
                      sizeof out->device_token, err)) ||
        (st = get_str(root, "user", top, true, true, out->user, sizeof out->user, err)) ||
        (st = get_int(root, "server_seq", top, 0, &out->server_seq, err)))
        goto fail;
    if (!token_valid(out->device_token, sizeof out->device_token)) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "sync message: device_token: not a token");
        goto fail;
    }
    json_decref(root);
    return HEARTH_OK;
fail:
    json_decref(root);
    memset(out, 0, sizeof *out);
    return st;
}

/* ---- keyinfo ------------------------------------------------------------------ */

hearth_status sync_keyinfo_encode(const sync_keyinfo *m, char **out, size_t *len,
                                  hearth_error *err) {
    *out = NULL;
    if (!m->check || !m->check_len || m->check_len > KEYINFO_MAX_CHECK || !m->opslimit ||
        !m->memlimit || m->opslimit > INT64_MAX || m->memlimit > INT64_MAX)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sync encode: invalid key info");
    jb b = {0};
    json_t *root = json_object();
    jset(&b, root, "salt", jb64(&b, m->salt, sizeof m->salt));
    jset(&b, root, "check", jb64(&b, m->check, m->check_len));
    jset(&b, root, "opslimit", json_integer((json_int_t)m->opslimit));
    jset(&b, root, "memlimit", json_integer((json_int_t)m->memlimit));
    return finish(&b, root, out, len, err);
}

void sync_keyinfo_free(sync_keyinfo *m) {
    if (!m) return;
    hearth_free(m->check);
    memset(m, 0, sizeof *m);
}

hearth_status sync_keyinfo_parse(const char *body, size_t len, sync_keyinfo *out,
                                 hearth_error *err) {
    memset(out, 0, sizeof *out);
    json_t *root;
    place top = {0};
    uint8_t *salt = NULL;
    size_t salt_len = 0;
    int64_t ops = 0, mem = 0;
    hearth_status st = load(body, len, &root, err);
    if (st) return st;
    if ((st = get_b64(root, "salt", top, sizeof out->salt, false, &salt, &salt_len, err)))
        goto fail;
    if (salt_len != sizeof out->salt) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "sync message: salt: %zu bytes, not %zu",
                         salt_len, sizeof out->salt);
        goto fail;
    }
    memcpy(out->salt, salt, sizeof out->salt);
    if ((st = get_b64(root, "check", top, KEYINFO_MAX_CHECK, false, &out->check,
                      &out->check_len, err)) ||
        (st = get_int(root, "opslimit", top, 1, &ops, err)) ||
        (st = get_int(root, "memlimit", top, 1, &mem, err)))
        goto fail;
    out->opslimit = (uint64_t)ops;
    out->memlimit = (uint64_t)mem;
    hearth_free(salt);
    json_decref(root);
    return HEARTH_OK;
fail:
    hearth_free(salt);
    json_decref(root);
    sync_keyinfo_free(out);
    return st;
}

/* ---- status ------------------------------------------------------------------- */

hearth_status sync_status_reply_encode(const sync_status_reply *m, char **out, size_t *len,
                                       hearth_error *err) {
    *out = NULL;
    ARG_ID(err, "status", (size_t)0, m->user);
    ARG_ID(err, "status", (size_t)0, m->device);
    jb b = {0};
    json_t *root = json_object();
    jset(&b, root, "user", json_string_nocheck(m->user));
    jset(&b, root, "device", json_string_nocheck(m->device));
    jset(&b, root, "server_seq", json_integer(m->server_seq));
    jset(&b, root, "devices", json_integer(m->devices));
    return finish(&b, root, out, len, err);
}

hearth_status sync_status_reply_parse(const char *body, size_t len, sync_status_reply *out,
                                      hearth_error *err) {
    memset(out, 0, sizeof *out);
    json_t *root;
    place top = {0};
    hearth_status st = load(body, len, &root, err);
    if (st) return st;
    if ((st = get_str(root, "user", top, true, true, out->user, sizeof out->user, err)) ||
        (st = get_str(root, "device", top, true, true, out->device, sizeof out->device, err)) ||
        (st = get_int(root, "server_seq", top, 0, &out->server_seq, err)) ||
        (st = get_int(root, "devices", top, 0, &out->devices, err)))
        memset(out, 0, sizeof *out);
    json_decref(root);
    return st;
}

/* ---- errors ------------------------------------------------------------------- */

static bool code_valid(const char *s, size_t cap) {
    size_t n = 0;
    for (; s[n]; n++)
        if (n + 1 >= cap || !((s[n] >= 'a' && s[n] <= 'z') || s[n] == '_')) return false;
    return n > 0;
}

hearth_status sync_error_encode(const char *code, const char *message, char **out, size_t *len,
                                hearth_error *err) {
    *out = NULL;
    if (!code || !code_valid(code, sizeof ((sync_error_reply *)0)->code))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sync encode: invalid error code");
    size_t n = message ? strnlen(message, 1024) : 0;
    char *m = hearth_malloc(n + 1);
    if (!m) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "sync message: out of memory");
    memcpy(m, message ? message : "", n);
    m[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)m[i] < 0x20 || (unsigned char)m[i] >= 0x7f) m[i] = '?';
    jb b = {0};
    json_t *root = json_object(), *e = json_object();
    jset(&b, root, "error", e);
    jset(&b, e, "code", json_string_nocheck(code));
    jset(&b, e, "message", json_string_nocheck(m));
    hearth_free(m);
    return finish(&b, root, out, len, err);
}

hearth_status sync_error_parse(const char *body, size_t len, sync_error_reply *out,
                               hearth_error *err) {
    memset(out, 0, sizeof *out);
    json_t *root;
    hearth_status st = load(body, len, &root, err);
    if (st) return st;
    place top = {0};
    json_t *e = json_object_get(root, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    if (!json_is_object(e)) {
        json_decref(root);
        BAD(err, top, "error", "missing or not an object");
    }
    if (!code || !code_valid(code, sizeof out->code)) {
        json_decref(root);
        BAD(err, top, "error.code", "missing or not a code");
    }
    snprintf(out->code, sizeof out->code, "%s", code);
    if (msg) {
        size_t n = strlen(msg);
        if (n >= sizeof out->message) {
            n = sizeof out->message - 1;
            while (n && ((unsigned char)msg[n] & 0xc0) == 0x80) n--; /* a UTF-8 boundary */
        }
        memcpy(out->message, msg, n);
        out->message[n] = '\0';
    }
    json_decref(root);
    return HEARTH_OK;
}
