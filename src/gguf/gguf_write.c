/*
 * gguf_write.c: the GGUF v3 writer. Keys and tensors are kept in the order
 * they were added; each value is serialized when it is set (so the writer
 * owns a copy), tensor data is borrowed until the write. Output is a pure
 * function of what was added: the same calls give the same bytes.
 *
 * File layout written: header, kvs, tensor infos, zero padding to the
 * alignment, then each tensor's data followed by zero padding to the
 * alignment (as llama.cpp and gguf-py do, so every offset is aligned and the
 * file ends aligned).
 */
#include "gguf/gguf_int.h"

#include "kernels/types.h"
#include "util/alloc.h"
#include "util/error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char *key;
    size_t key_len;
    uint32_t type;
    uint8_t *val;      /* serialized value (owned), everything after the type tag */
    size_t val_len;
} wkv;

typedef struct {
    char *name;
    size_t name_len;
    hearth_type type;
    uint32_t n_dims;
    int64_t ne[4];
    const void *data; /* borrowed */
    size_t nbytes;
} wtensor;

struct hearth_gguf_writer {
    wkv *kvs;
    size_t n_kv, cap_kv;
    wtensor *tensors;
    size_t n_tensors, cap_tensors;
};

hearth_gguf_writer *hearth_gguf_writer_new(void) {
    return hearth_calloc(1, sizeof(hearth_gguf_writer));
}

void hearth_gguf_writer_free(hearth_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        hearth_free(w->kvs[i].key);
        hearth_free(w->kvs[i].val);
    }
    for (size_t i = 0; i < w->n_tensors; i++) hearth_free(w->tensors[i].name);
    hearth_free(w->kvs);
    hearth_free(w->tensors);
    hearth_free(w);
}

/* ---- growable byte buffer for serialized values ------------------------------------ */

typedef struct {
    uint8_t *p;
    size_t len, cap;
    bool failed;
} buf;

static void buf_put(buf *b, const void *src, size_t n) {
    if (b->failed) return;
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->failed = true;
                return;
            }
            cap *= 2;
        }
        uint8_t *q = hearth_realloc(b->p, cap);
        if (!q) {
            b->failed = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void buf_u32(buf *b, uint32_t v) { buf_put(b, &v, sizeof v); }
static void buf_u64(buf *b, uint64_t v) { buf_put(b, &v, sizeof v); }

/* ---- keys ------------------------------------------------------------------------------ */

static hearth_status check_key(const char *key, hearth_error *err) {
    if (!key) return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: key is NULL");
    if (strlen(key) > GGUF_MAX_KEY_LEN)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: key '%.64s...' longer than %u bytes",
                           key, GGUF_MAX_KEY_LEN);
    return HEARTH_OK;
}

/* Takes ownership of b->p: stores it as key's value (replacing an existing
 * one in place, or appending). */
static hearth_status put_kv(hearth_gguf_writer *w, const char *key, uint32_t type, buf *b,
                            hearth_error *err) {
    if (b->failed) {
        hearth_free(b->p);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "gguf writer: key '%.128s': out of memory", key);
    }
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kvs[i].key, key)) continue;
        hearth_free(w->kvs[i].val);
        w->kvs[i].type = type;
        w->kvs[i].val = b->p;
        w->kvs[i].val_len = b->len;
        return HEARTH_OK;
    }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? 2 * w->cap_kv : 16;
        wkv *q = hearth_realloc(w->kvs, cap * sizeof *q);
        if (!q) {
            hearth_free(b->p);
            return HEARTH_FAIL(err, HEARTH_E_NOMEM, "gguf writer: out of memory");
        }
        w->kvs = q;
        w->cap_kv = cap;
    }
    char *k = hearth_strdup(key);
    if (!k) {
        hearth_free(b->p);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "gguf writer: out of memory");
    }
    w->kvs[w->n_kv++] = (wkv){.key = k, .key_len = strlen(k), .type = type, .val = b->p,
                              .val_len = b->len};
    return HEARTH_OK;
}

hearth_status hearth_gguf_writer_set_scalar(hearth_gguf_writer *w, const char *key,
                                            hearth_gguf_type type, const void *v,
                                            hearth_error *err) {
    hearth_status st;
    if (!w || !v) return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: NULL argument");
    if ((st = check_key(key, err))) return st;
    size_t size = gguf_scalar_size((uint32_t)type);
    if (!size)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: key '%.128s': type %d is not a scalar",
                           key, (int)type);
    buf b = {0};
    buf_put(&b, v, size);
    return put_kv(w, key, (uint32_t)type, &b, err);
}

hearth_status hearth_gguf_writer_set_u32(hearth_gguf_writer *w, const char *key, uint32_t v,
                                         hearth_error *err) {
    return hearth_gguf_writer_set_scalar(w, key, HEARTH_GGUF_UINT32, &v, err);
}

hearth_status hearth_gguf_writer_set_i32(hearth_gguf_writer *w, const char *key, int32_t v,
                                         hearth_error *err) {
    return hearth_gguf_writer_set_scalar(w, key, HEARTH_GGUF_INT32, &v, err);
}

hearth_status hearth_gguf_writer_set_u64(hearth_gguf_writer *w, const char *key, uint64_t v,
                                         hearth_error *err) {
    return hearth_gguf_writer_set_scalar(w, key, HEARTH_GGUF_UINT64, &v, err);
}

hearth_status hearth_gguf_writer_set_f32(hearth_gguf_writer *w, const char *key, float v,
                                         hearth_error *err) {
    return hearth_gguf_writer_set_scalar(w, key, HEARTH_GGUF_FLOAT32, &v, err);
}

hearth_status hearth_gguf_writer_set_bool(hearth_gguf_writer *w, const char *key, bool v,
                                          hearth_error *err) {
    uint8_t b = v ? 1 : 0;
    return hearth_gguf_writer_set_scalar(w, key, HEARTH_GGUF_BOOL, &b, err);
}

hearth_status hearth_gguf_writer_set_str(hearth_gguf_writer *w, const char *key, const char *v,
                                         hearth_error *err) {
    hearth_status st;
    if (!w || !v) return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: NULL argument");
    if ((st = check_key(key, err))) return st;
    size_t n = strlen(v);
    if (n > GGUF_MAX_STRING_LEN)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: key '%.128s': string longer than %u",
                           key, GGUF_MAX_STRING_LEN);
    buf b = {0};
    buf_u64(&b, n);
    buf_put(&b, v, n);
    return put_kv(w, key, HEARTH_GGUF_STRING, &b, err);
}

hearth_status hearth_gguf_writer_set_arr(hearth_gguf_writer *w, const char *key,
                                         hearth_gguf_type elem_type, const void *data, uint64_t n,
                                         hearth_error *err) {
    hearth_status st;
    if (!w || (!data && n)) return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: NULL argument");
    if ((st = check_key(key, err))) return st;
    size_t size = gguf_scalar_size((uint32_t)elem_type);
    if (!size)
        return HEARTH_FAIL(err, HEARTH_E_ARG,
                           "gguf writer: key '%.128s': element type %d is not a scalar type", key,
                           (int)elem_type);
    if (n > GGUF_MAX_ARRAY_LEN)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: key '%.128s': %" PRIu64
                           " elements exceed the limit %u", key, n, GGUF_MAX_ARRAY_LEN);
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: key '%.128s': array too large", key);
    buf b = {0};
    buf_u32(&b, (uint32_t)elem_type);
    buf_u64(&b, n);
    buf_put(&b, data, bytes);
    return put_kv(w, key, HEARTH_GGUF_ARRAY, &b, err);
}

hearth_status hearth_gguf_writer_set_arr_str(hearth_gguf_writer *w, const char *key,
                                             const char *const *strs, const size_t *lens,
                                             uint64_t n, hearth_error *err) {
    hearth_status st;
    if (!w || (!strs && n)) return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: NULL argument");
    if ((st = check_key(key, err))) return st;
    if (n > GGUF_MAX_ARRAY_LEN)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: key '%.128s': %" PRIu64
                           " elements exceed the limit %u", key, n, GGUF_MAX_ARRAY_LEN);
    buf b = {0};
    buf_u32(&b, HEARTH_GGUF_STRING);
    buf_u64(&b, n);
    for (uint64_t j = 0; j < n; j++) {
        if (!strs[j] && !(lens && lens[j] == 0)) {
            hearth_free(b.p);
            return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: key '%.128s': string %" PRIu64
                               " is NULL", key, j);
        }
        size_t len = lens ? lens[j] : strlen(strs[j]);
        if (len > GGUF_MAX_STRING_LEN) {
            hearth_free(b.p);
            return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: key '%.128s': string %" PRIu64
                               " longer than %u", key, j, GGUF_MAX_STRING_LEN);
        }
        buf_u64(&b, len);
        buf_put(&b, strs[j], len);
    }
    return put_kv(w, key, HEARTH_GGUF_ARRAY, &b, err);
}

/* ---- tensors ----------------------------------------------------------------------------- */

hearth_status hearth_gguf_writer_add_tensor(hearth_gguf_writer *w, const char *name,
                                            hearth_type type, uint32_t n_dims, const int64_t *ne,
                                            const void *data, size_t nbytes, hearth_error *err) {
    if (!w || !name || !ne) return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: NULL argument");
    if (strlen(name) > GGUF_MAX_NAME_LEN)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: tensor name '%.64s...' too long", name);
    const hearth_type_traits *tt = hearth_type_traits_get((int)type);
    if (!tt)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: tensor '%.128s': unknown type %d",
                           name, (int)type);
    if (n_dims < 1 || n_dims > GGUF_MAX_DIMS)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: tensor '%.128s': n_dims %" PRIu32
                           " outside 1..4", name, n_dims);
    int64_t dims[4] = {1, 1, 1, 1}, rows = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] < 0)
            return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: tensor '%.128s': ne[%" PRIu32
                               "] = %" PRId64 " is negative", name, d, ne[d]);
        dims[d] = ne[d];
        if (d > 0 && __builtin_mul_overflow(rows, ne[d], &rows))
            return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: tensor '%.128s': size overflows",
                               name);
    }
    size_t row = hearth_type_row_size((int)type, dims[0]), want;
    if ((!row && dims[0]) || __builtin_mul_overflow(row, (size_t)rows, &want))
        return HEARTH_FAIL(err, HEARTH_E_ARG,
                           "gguf writer: tensor '%.128s': row of %" PRId64
                           " is not a whole number of %s blocks, or the size overflows",
                           name, dims[0], tt->name);
    if (want != nbytes)
        return HEARTH_FAIL(err, HEARTH_E_ARG,
                           "gguf writer: tensor '%.128s': %zu bytes given, shape and type need %zu",
                           name, nbytes, want);
    if (!data && nbytes)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: tensor '%.128s': data is NULL", name);
    for (size_t i = 0; i < w->n_tensors; i++)
        if (!strcmp(w->tensors[i].name, name))
            return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: duplicate tensor '%.128s'", name);
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? 2 * w->cap_tensors : 16;
        wtensor *q = hearth_realloc(w->tensors, cap * sizeof *q);
        if (!q) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "gguf writer: out of memory");
        w->tensors = q;
        w->cap_tensors = cap;
    }
    char *nm = hearth_strdup(name);
    if (!nm) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "gguf writer: out of memory");
    wtensor *t = &w->tensors[w->n_tensors++];
    *t = (wtensor){.name = nm, .name_len = strlen(nm), .type = type, .n_dims = n_dims,
                   .data = data, .nbytes = nbytes};
    memcpy(t->ne, dims, sizeof dims);
    return HEARTH_OK;
}

/* ---- layout and output ----------------------------------------------------------------------- */

typedef struct {
    size_t alignment;
    uint64_t header_len;  /* bytes before the data section, unpadded */
    uint64_t data_offset; /* aligned */
    uint64_t total;
} layout;

static uint64_t align_up(uint64_t x, uint64_t a) { return x + (a - x % a) % a; }

static hearth_status plan(const hearth_gguf_writer *w, layout *L, hearth_error *err) {
    L->alignment = GGUF_DEFAULT_ALIGNMENT;
    uint64_t n = 4 + 4 + 8 + 8;
    for (size_t i = 0; i < w->n_kv; i++) {
        const wkv *kv = &w->kvs[i];
        if (!strcmp(kv->key, GGUF_KEY_ALIGNMENT)) {
            uint32_t a;
            if (kv->type != HEARTH_GGUF_UINT32)
                return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: %s must be u32",
                                   GGUF_KEY_ALIGNMENT);
            memcpy(&a, kv->val, sizeof a);
            if (!a || (a & (a - 1)) || a > GGUF_MAX_ALIGNMENT)
                return HEARTH_FAIL(err, HEARTH_E_ARG,
                                   "gguf writer: %s = %" PRIu32
                                   " is not a power of two up to %u",
                                   GGUF_KEY_ALIGNMENT, a, GGUF_MAX_ALIGNMENT);
            L->alignment = a;
        }
        n += 8 + kv->key_len + 4 + kv->val_len;
    }
    for (size_t i = 0; i < w->n_tensors; i++)
        n += 8 + w->tensors[i].name_len + 4 + 8 * (uint64_t)w->tensors[i].n_dims + 4 + 8;
    L->header_len = n;
    L->data_offset = align_up(n, L->alignment);
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_tensors; i++) off += align_up(w->tensors[i].nbytes, L->alignment);
    L->total = L->data_offset + off;
    return HEARTH_OK;
}

/* Output sink: a memory buffer or a FILE. */
typedef struct {
    uint8_t *mem;
    size_t pos;
    FILE *f;
    bool failed;
} sink;

static void put(sink *s, const void *p, size_t n) {
    if (s->failed || !n) return;
    if (s->f) {
        if (fwrite(p, 1, n, s->f) != n) s->failed = true;
    } else {
        memcpy(s->mem + s->pos, p, n);
    }
    s->pos += n;
}

static void put_u32(sink *s, uint32_t v) { put(s, &v, sizeof v); }
static void put_u64(sink *s, uint64_t v) { put(s, &v, sizeof v); }

static void put_zeros(sink *s, size_t n) {
    static const uint8_t zeros[256];
    while (n) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        put(s, zeros, k);
        n -= k;
    }
}

static void emit(const hearth_gguf_writer *w, const layout *L, sink *s) {
    put(s, "GGUF", 4);
    put_u32(s, 3);
    put_u64(s, w->n_tensors);
    put_u64(s, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        const wkv *kv = &w->kvs[i];
        put_u64(s, kv->key_len);
        put(s, kv->key, kv->key_len);
        put_u32(s, kv->type);
        put(s, kv->val, kv->val_len);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        const wtensor *t = &w->tensors[i];
        put_u64(s, t->name_len);
        put(s, t->name, t->name_len);
        put_u32(s, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) put_u64(s, (uint64_t)t->ne[d]);
        put_u32(s, (uint32_t)t->type);
        put_u64(s, off);
        off += align_up(t->nbytes, L->alignment);
    }
    put_zeros(s, (size_t)(L->data_offset - L->header_len));
    for (size_t i = 0; i < w->n_tensors; i++) {
        const wtensor *t = &w->tensors[i];
        put(s, t->data, t->nbytes);
        put_zeros(s, (size_t)(align_up(t->nbytes, L->alignment) - t->nbytes));
    }
}

hearth_status hearth_gguf_writer_write_buffer(const hearth_gguf_writer *w, void **out,
                                              size_t *len, hearth_error *err) {
    if (!w || !out || !len) return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: NULL argument");
    *out = NULL;
    *len = 0;
    layout L;
    hearth_status st = plan(w, &L, err);
    if (st) return st;
    if (L.total > SIZE_MAX) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "gguf writer: too large");
    sink s = {.mem = hearth_malloc((size_t)L.total)};
    if (!s.mem) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "gguf writer: out of memory");
    emit(w, &L, &s);
    if (HEARTH_NEVER(s.pos != L.total)) {
        hearth_free(s.mem);
        return HEARTH_FAIL(err, HEARTH_E_STATE, "gguf writer: layout mismatch");
    }
    *out = s.mem;
    *len = s.pos;
    return HEARTH_OK;
}

hearth_status hearth_gguf_writer_write_file(const hearth_gguf_writer *w, const char *path,
                                            hearth_error *err) {
    if (!w || !path) return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf writer: NULL argument");
    layout L;
    hearth_status st = plan(w, &L, err);
    if (st) return st;

    size_t n = strlen(path);
    char *tmp = hearth_malloc(n + 16);
    if (!tmp) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "gguf writer: out of memory");
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        st = HEARTH_FAIL(err, HEARTH_E_IO, "%s: cannot create temporary file: %s", path,
                         strerror(errno));
        hearth_free(tmp);
        return st;
    }
    /* mkstemp makes the file 0600; a model file is not secret. (Reading the
     * umask would mean changing it, which is process-wide state.) */
    (void)fchmod(fd, 0644);
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        st = HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", tmp, strerror(errno));
        close(fd);
        goto fail;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    sink s = {.f = f};
    emit(w, &L, &s);
    int e = s.failed ? errno : 0;
    if (!e && fflush(f)) e = errno;
    if (!e && fsync(fileno(f))) e = errno;
    if (fclose(f) && !e) e = errno;
    if (e || s.failed) {
        st = HEARTH_FAIL(err, HEARTH_E_IO, "%s: write failed: %s", tmp, strerror(e ? e : EIO));
        goto fail;
    }
    if (rename(tmp, path)) {
        st = HEARTH_FAIL(err, HEARTH_E_IO, "%s: rename from %s: %s", path, tmp, strerror(errno));
        goto fail;
    }
    hearth_free(tmp);
    return HEARTH_OK;
fail:
    unlink(tmp);
    hearth_free(tmp);
    return st;
}
