/*
 * gguf_get.c: read-only access to an open GGUF file: metadata entries, the
 * typed getters, string-array elements and tensors. The handle is immutable
 * after open, so every function here may run on any thread concurrently.
 */
#include "gguf/gguf_int.h"

#include "util/cursor.h"
#include "util/error.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int64_t hearth_gguf_n_kv(const hearth_gguf *g) { return g->n_kv; }

const char *hearth_gguf_kv_key(const hearth_gguf *g, int64_t i) {
    return i >= 0 && i < g->n_kv ? g->kvs[i].key : NULL;
}

int64_t hearth_gguf_find_key(const hearth_gguf *g, const char *key) {
    if (!key) return -1;
    return gguf_index_find(&g->kv_index, key, strlen(key));
}

hearth_status hearth_gguf_kv_value(const hearth_gguf *g, int64_t i, hearth_gguf_value *out) {
    if (i < 0 || i >= g->n_kv || !out) return HEARTH_E_ARG;
    *out = g->kvs[i].v;
    return HEARTH_OK;
}

const char *hearth_gguf_arr_str(const hearth_gguf *g, int64_t i, uint64_t j, size_t *len) {
    if (i < 0 || i >= g->n_kv) return NULL;
    const gguf_kv *kv = &g->kvs[i];
    if (kv->v.type != HEARTH_GGUF_ARRAY || kv->v.elem_type != HEARTH_GGUF_STRING || j >= kv->v.n)
        return NULL;
    /* Re-read the element through a cursor; open already checked it fits. */
    rd r = rd_init(g->base, g->len);
    uint64_t n;
    const uint8_t *s;
    if (HEARTH_NEVER(!rd_skip(&r, (size_t)kv->elem_off[j]) || !rd_u64(&r, &n) ||
                     !rd_take(&r, (size_t)n, &s)))
        return NULL;
    if (len) *len = (size_t)n;
    return (const char *)s;
}

/* ---- typed getters ---------------------------------------------------------------- */

/* The entry for key, or NULL with err filled (NOTFOUND). */
static const gguf_kv *lookup(const hearth_gguf *g, const char *key, hearth_error *err,
                             hearth_status *st) {
    int64_t i = key ? hearth_gguf_find_key(g, key) : -1;
    if (i < 0) {
        *st = HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "gguf: key '%.128s' not found",
                          key ? key : "(null)");
        return NULL;
    }
    return &g->kvs[i];
}

static const char *value_type_name(const hearth_gguf_value *v, char *buf, size_t n) {
    if (v->type == HEARTH_GGUF_ARRAY)
        snprintf(buf, n, "arr[%s]", gguf_type_str(v->elem_type));
    else
        snprintf(buf, n, "%s", gguf_type_str(v->type));
    return buf;
}

static hearth_status mismatch(const gguf_kv *kv, const char *expected, hearth_error *err) {
    char buf[24];
    return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                       "gguf: key '%.128s' has type %s, expected %s (at offset %" PRIu64 ")",
                       kv->key, value_type_name(&kv->v, buf, sizeof buf), expected, kv->off);
}

/* Copies a scalar of exactly type t into out. */
static hearth_status get_exact(const hearth_gguf *g, const char *key, hearth_gguf_type t,
                               void *out, size_t size, hearth_error *err) {
    hearth_status st = HEARTH_OK;
    const gguf_kv *kv = lookup(g, key, err, &st);
    if (!kv) return st;
    if (kv->v.type != t) return mismatch(kv, gguf_type_str(t), err);
    if (out) memcpy(out, kv->v.data, size);
    return HEARTH_OK;
}

hearth_status hearth_gguf_get_u32(const hearth_gguf *g, const char *key, uint32_t *out,
                                  hearth_error *err) {
    return get_exact(g, key, HEARTH_GGUF_UINT32, out, sizeof *out, err);
}

hearth_status hearth_gguf_get_i32(const hearth_gguf *g, const char *key, int32_t *out,
                                  hearth_error *err) {
    return get_exact(g, key, HEARTH_GGUF_INT32, out, sizeof *out, err);
}

hearth_status hearth_gguf_get_u64(const hearth_gguf *g, const char *key, uint64_t *out,
                                  hearth_error *err) {
    return get_exact(g, key, HEARTH_GGUF_UINT64, out, sizeof *out, err);
}

hearth_status hearth_gguf_get_f32(const hearth_gguf *g, const char *key, float *out,
                                  hearth_error *err) {
    return get_exact(g, key, HEARTH_GGUF_FLOAT32, out, sizeof *out, err);
}

hearth_status hearth_gguf_get_bool(const hearth_gguf *g, const char *key, bool *out,
                                   hearth_error *err) {
    uint8_t b = 0;
    hearth_status st = get_exact(g, key, HEARTH_GGUF_BOOL, &b, 1, err);
    if (!st && out) *out = b != 0;
    return st;
}

hearth_status hearth_gguf_get_int(const hearth_gguf *g, const char *key, int64_t *out,
                                  hearth_error *err) {
    hearth_status st = HEARTH_OK;
    const gguf_kv *kv = lookup(g, key, err, &st);
    if (!kv) return st;
    const void *p = kv->v.data;
    int64_t v;
    switch (kv->v.type) {
    case HEARTH_GGUF_UINT8: { uint8_t x; memcpy(&x, p, sizeof x); v = x; break; }
    case HEARTH_GGUF_INT8: { int8_t x; memcpy(&x, p, sizeof x); v = x; break; }
    case HEARTH_GGUF_UINT16: { uint16_t x; memcpy(&x, p, sizeof x); v = x; break; }
    case HEARTH_GGUF_INT16: { int16_t x; memcpy(&x, p, sizeof x); v = x; break; }
    case HEARTH_GGUF_UINT32: { uint32_t x; memcpy(&x, p, sizeof x); v = x; break; }
    case HEARTH_GGUF_INT32: { int32_t x; memcpy(&x, p, sizeof x); v = x; break; }
    case HEARTH_GGUF_INT64: memcpy(&v, p, sizeof v); break;
    case HEARTH_GGUF_UINT64: {
        uint64_t x;
        memcpy(&x, p, sizeof x);
        if (x > INT64_MAX)
            return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                               "gguf: key '%.128s' value %" PRIu64 " does not fit in int64",
                               kv->key, x);
        v = (int64_t)x;
        break;
    }
    default: return mismatch(kv, "an integer", err);
    }
    if (out) *out = v;
    return HEARTH_OK;
}

hearth_status hearth_gguf_get_float(const hearth_gguf *g, const char *key, double *out,
                                    hearth_error *err) {
    hearth_status st = HEARTH_OK;
    const gguf_kv *kv = lookup(g, key, err, &st);
    if (!kv) return st;
    double v;
    if (kv->v.type == HEARTH_GGUF_FLOAT32) {
        float f;
        memcpy(&f, kv->v.data, sizeof f);
        v = f;
    } else if (kv->v.type == HEARTH_GGUF_FLOAT64) {
        memcpy(&v, kv->v.data, sizeof v);
    } else {
        return mismatch(kv, "f32 or f64", err);
    }
    if (out) *out = v;
    return HEARTH_OK;
}

hearth_status hearth_gguf_get_str(const hearth_gguf *g, const char *key, const char **out,
                                  size_t *len, hearth_error *err) {
    hearth_status st = HEARTH_OK;
    const gguf_kv *kv = lookup(g, key, err, &st);
    if (!kv) return st;
    if (kv->v.type != HEARTH_GGUF_STRING) return mismatch(kv, "str", err);
    /* GGUF strings may hold NUL bytes, but every caller of this getter uses
     * the value as a C string and would read a prefix of it ("llama\0..."
     * as "llama"): refuse the value instead. The raw bytes stay readable
     * through hearth_gguf_kv_value. */
    const char *nul = kv->v.n ? memchr(kv->v.data, 0, (size_t)kv->v.n) : NULL;
    if (nul)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "gguf: key '%.128s': string value contains a NUL byte at byte %zu of %"
                           PRIu64 " (at offset %" PRIu64 ")",
                           kv->key, (size_t)(nul - (const char *)kv->v.data), kv->v.n, kv->off);
    if (out) *out = kv->str;
    if (len) *len = (size_t)kv->v.n;
    return HEARTH_OK;
}

hearth_status hearth_gguf_get_arr(const hearth_gguf *g, const char *key, hearth_gguf_value *out,
                                  int64_t *kv_index, hearth_error *err) {
    hearth_status st = HEARTH_OK;
    const gguf_kv *kv = lookup(g, key, err, &st);
    if (!kv) return st;
    if (kv->v.type != HEARTH_GGUF_ARRAY) return mismatch(kv, "arr", err);
    if (out) *out = kv->v;
    if (kv_index) *kv_index = kv - g->kvs;
    return HEARTH_OK;
}

/* ---- tensors ---------------------------------------------------------------------- */

int64_t hearth_gguf_n_tensors(const hearth_gguf *g) { return g->n_tensors; }

const hearth_gguf_tensor *hearth_gguf_tensor_at(const hearth_gguf *g, int64_t i) {
    return i >= 0 && i < g->n_tensors ? &g->tensors[i] : NULL;
}

const hearth_gguf_tensor *hearth_gguf_find_tensor(const hearth_gguf *g, const char *name) {
    if (!name) return NULL;
    int64_t i = gguf_index_find(&g->tensor_index, name, strlen(name));
    return i >= 0 ? &g->tensors[i] : NULL;
}
