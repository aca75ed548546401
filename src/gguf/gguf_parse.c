/*
 * gguf_parse.c: parses and validates a GGUF v2/v3 image (little-endian).
 *
 * Layout: magic "GGUF", u32 version, u64 n_tensors, u64 n_kv, n_kv entries
 * (u64-length key, u32 value type, value), n_tensors tensor infos (u64-length
 * name, u32 n_dims, n_dims x i64 dims, u32 type, u64 offset), padding to the
 * alignment, tensor data. v2 and v3 share this layout (v3 only added the
 * big-endian variant, which hearth does not read).
 *
 * Everything is read through the bounds-checked cursor (util/cursor.h); each
 * count and length is checked against the bytes left before it is used and
 * against a hard limit (gguf_int.h), and every product is overflow-checked.
 * Errors name the key or tensor, the field and its offset in the file.
 * Nothing but names and scalar strings is copied: values and tensor data stay
 * in the input, which the handle borrows.
 */
#include "gguf/gguf_int.h"

#include "kernels/types.h"
#include "util/alloc.h"
#include "util/cursor.h"
#include "util/error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- string pool: keys, tensor names, scalar strings ----------------------- */

struct gguf_pool_chunk {
    gguf_pool_chunk *next;
    size_t used, cap;
    char data[];
};

#define POOL_CHUNK 16384u

/* NUL-terminated copy of s[0..n) owned by g; NULL on allocation failure. */
static char *pool_copy(hearth_gguf *g, const uint8_t *s, size_t n) {
    gguf_pool_chunk *c = g->pool;
    if (!c || c->cap - c->used < n + 1) {
        size_t cap = n + 1 > POOL_CHUNK ? n + 1 : POOL_CHUNK;
        c = hearth_malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->used = 0;
        c->cap = cap;
        if (cap > POOL_CHUNK && g->pool) {
            /* A big string gets a chunk of its own behind the current one,
             * so the current chunk's free space is not wasted. */
            c->next = g->pool->next;
            g->pool->next = c;
        } else {
            c->next = g->pool;
            g->pool = c;
        }
    }
    char *d = c->data + c->used;
    if (n) memcpy(d, s, n);
    d[n] = '\0';
    c->used += n + 1;
    return d;
}

/* ---- value types ------------------------------------------------------------- */

static const uint8_t scalar_size[HEARTH_GGUF_TYPE_COUNT] = {
    [HEARTH_GGUF_UINT8] = 1,   [HEARTH_GGUF_INT8] = 1,    [HEARTH_GGUF_UINT16] = 2,
    [HEARTH_GGUF_INT16] = 2,   [HEARTH_GGUF_UINT32] = 4,  [HEARTH_GGUF_INT32] = 4,
    [HEARTH_GGUF_FLOAT32] = 4, [HEARTH_GGUF_BOOL] = 1,    [HEARTH_GGUF_STRING] = 0,
    [HEARTH_GGUF_ARRAY] = 0,   [HEARTH_GGUF_UINT64] = 8,  [HEARTH_GGUF_INT64] = 8,
    [HEARTH_GGUF_FLOAT64] = 8,
};

static const char *const type_str[HEARTH_GGUF_TYPE_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64",
};

size_t gguf_scalar_size(uint32_t type) {
    return type < HEARTH_GGUF_TYPE_COUNT ? scalar_size[type] : 0;
}

const char *gguf_type_str(uint32_t type) {
    return type < HEARTH_GGUF_TYPE_COUNT ? type_str[type] : "?";
}

/* ---- parser state and errors --------------------------------------------------- */

typedef struct {
    hearth_gguf *g;
    rd r;
    hearth_error *err;
    char who[128]; /* "key 'general.name'", "tensor 'blk.0.attn_q.weight'", "header" */
} parser;

/* Fails naming what is being parsed (ps->who), the problem and the offset. */
#define PFAIL(ps, code, off, fmt, ...)                                                 \
    HEARTH_FAIL((ps)->err, (code), "%s: " fmt " (at offset %" PRIu64 ")", (ps)->who,    \
                ##__VA_ARGS__, (uint64_t)(off))

#define NOMEM(ps) HEARTH_FAIL((ps)->err, HEARTH_E_NOMEM, "%s: out of memory", (ps)->who)

static uint64_t here(const parser *ps) { return rd_offset(&ps->r); }

static hearth_status truncated(parser *ps, const char *field, uint64_t off) {
    return PFAIL(ps, HEARTH_E_FORMAT, off, "%s truncated: file ends (%zu bytes left)", field,
                 ps->r.left);
}

static hearth_status read_u32(parser *ps, const char *field, uint32_t *v) {
    uint64_t off = here(ps);
    return rd_u32(&ps->r, v) ? HEARTH_OK : truncated(ps, field, off);
}

static hearth_status read_u64(parser *ps, const char *field, uint64_t *v) {
    uint64_t off = here(ps);
    return rd_u64(&ps->r, v) ? HEARTH_OK : truncated(ps, field, off);
}

/* A u64-length string: the length checked against the bytes left, then the
 * hard limit max. *s points into the input. */
static hearth_status read_str(parser *ps, const char *field, uint64_t max, const uint8_t **s,
                              uint64_t *n) {
    uint64_t off = here(ps), len;
    if (!rd_u64(&ps->r, &len)) return truncated(ps, field, off);
    if (len > max)
        return PFAIL(ps, HEARTH_E_LIMIT, off, "%s length %" PRIu64 " exceeds the limit %" PRIu64,
                     field, len, max);
    if (len > ps->r.left)
        return PFAIL(ps, HEARTH_E_FORMAT, off, "%s length %" PRIu64 " exceeds the %zu bytes left",
                     field, len, ps->r.left);
    if (HEARTH_NEVER(!rd_take(&ps->r, (size_t)len, s))) return truncated(ps, field, off);
    *n = len;
    return HEARTH_OK;
}

/* A key or tensor name: as read_str, and free of NUL bytes (a name with one
 * could never be looked up, and would defeat duplicate detection). */
static hearth_status read_name(parser *ps, const char *field, uint64_t max, const char **out,
                               size_t *n_out) {
    uint64_t off = here(ps), n = 0;
    const uint8_t *s = NULL;
    hearth_status st = read_str(ps, field, max, &s, &n);
    if (st) return st;
    if (memchr(s, 0, (size_t)n)) return PFAIL(ps, HEARTH_E_FORMAT, off, "%s contains a NUL byte", field);
    char *c = pool_copy(ps->g, s, (size_t)n);
    if (!c) return NOMEM(ps);
    *out = c;
    *n_out = (size_t)n;
    return HEARTH_OK;
}

/* ---- metadata ------------------------------------------------------------------ */

/* The array after its ARRAY type tag. kv is NULL for a nested array (which
 * is validated and skipped, not exposed). depth is 1 for a top-level array. */
static hearth_status parse_array(parser *ps, gguf_kv *kv, int depth) {
    hearth_status st;
    uint64_t toff = here(ps), noff, n = 0;
    uint32_t et = 0;
    if ((st = read_u32(ps, "array element type", &et))) return st;
    if (et >= HEARTH_GGUF_TYPE_COUNT)
        return PFAIL(ps, HEARTH_E_FORMAT, toff, "array element type %" PRIu32 " out of range 0..%d",
                     et, HEARTH_GGUF_TYPE_COUNT - 1);
    noff = here(ps);
    if ((st = read_u64(ps, "array length", &n))) return st;

    size_t esize = gguf_scalar_size(et);
    /* Least bytes one element takes, to reject impossible counts up front. */
    size_t emin = esize ? esize : et == HEARTH_GGUF_STRING ? 8 : 12;
    if (n > GGUF_MAX_ARRAY_LEN)
        return PFAIL(ps, HEARTH_E_LIMIT, noff, "array length %" PRIu64 " exceeds the limit %u", n,
                     GGUF_MAX_ARRAY_LEN);
    if (n > ps->r.left / emin)
        return PFAIL(ps, HEARTH_E_FORMAT, noff,
                     "array length %" PRIu64 " of %s (%zu+ bytes each) exceeds the %zu bytes left",
                     n, gguf_type_str(et), emin, ps->r.left);

    const uint8_t *first = NULL;
    if (esize) {
        if (HEARTH_NEVER(!rd_take(&ps->r, (size_t)n * esize, &first)))
            return truncated(ps, "array", noff);
    } else if (et == HEARTH_GGUF_STRING) {
        if (kv && n) {
            kv->elem_off = hearth_malloc((size_t)n * sizeof *kv->elem_off);
            if (!kv->elem_off) return NOMEM(ps);
        }
        for (uint64_t j = 0; j < n; j++) {
            const uint8_t *s = NULL;
            uint64_t len = 0;
            rd save = ps->r;
            if (kv) kv->elem_off[j] = here(ps);
            /* Fast path for vocabularies of 100k+ tokens; on any problem,
             * re-read through read_str for the error with the element named. */
            if (rd_u64(&ps->r, &len) && len <= GGUF_MAX_STRING_LEN && rd_take(&ps->r, (size_t)len, &s))
                continue;
            char field[48];
            snprintf(field, sizeof field, "string %" PRIu64, j);
            ps->r = save;
            if ((st = read_str(ps, field, GGUF_MAX_STRING_LEN, &s, &len))) return st;
            if (HEARTH_NEVER(true)) return truncated(ps, field, here(ps)); /* read_str fails too */
        }
    } else {
        if (depth >= GGUF_MAX_DEPTH)
            return PFAIL(ps, HEARTH_E_LIMIT, toff, "arrays nested deeper than %d", GGUF_MAX_DEPTH);
        /* An element of an array of arrays is an array body (element type,
         * length, data) with no type tag of its own. */
        for (uint64_t j = 0; j < n; j++)
            if ((st = parse_array(ps, NULL, depth + 1))) return st;
    }
    if (kv) {
        kv->v.type = HEARTH_GGUF_ARRAY;
        kv->v.elem_type = (hearth_gguf_type)et;
        kv->v.n = n;
        kv->v.data = first;
    }
    return HEARTH_OK;
}

static hearth_status parse_kv(parser *ps, int64_t i) {
    hearth_gguf *g = ps->g;
    gguf_kv *kv = &g->kvs[i];
    hearth_status st;
    size_t klen;

    kv->off = here(ps);
    snprintf(ps->who, sizeof ps->who, "kv %" PRId64, i);
    if ((st = read_name(ps, "key", GGUF_MAX_KEY_LEN, &kv->key, &klen))) return st;
    snprintf(ps->who, sizeof ps->who, "key '%.96s'", kv->key);
    int64_t dup = gguf_index_add(&g->kv_index, kv->key, klen);
    if (dup >= 0)
        return PFAIL(ps, HEARTH_E_FORMAT, kv->off, "duplicate key (first at offset %" PRIu64 ")",
                     g->kvs[dup].off);

    uint64_t toff = here(ps);
    uint32_t type = 0;
    if ((st = read_u32(ps, "value type", &type))) return st;
    if (type >= HEARTH_GGUF_TYPE_COUNT)
        return PFAIL(ps, HEARTH_E_FORMAT, toff, "value type %" PRIu32 " out of range 0..%d", type,
                     HEARTH_GGUF_TYPE_COUNT - 1);
    kv->v.type = (hearth_gguf_type)type;
    if (type == HEARTH_GGUF_ARRAY) return parse_array(ps, kv, 1);
    if (type == HEARTH_GGUF_STRING) {
        const uint8_t *s = NULL;
        uint64_t n = 0;
        if ((st = read_str(ps, "string value", GGUF_MAX_STRING_LEN, &s, &n))) return st;
        kv->v.n = n;
        kv->v.data = s;
        kv->str = pool_copy(g, s, (size_t)n);
        return kv->str ? HEARTH_OK : NOMEM(ps);
    }
    const uint8_t *p;
    if (!rd_take(&ps->r, scalar_size[type], &p)) return truncated(ps, "value", here(ps));
    kv->v.n = 1;
    kv->v.data = p;
    return HEARTH_OK;
}

static hearth_status read_alignment(parser *ps) {
    hearth_gguf *g = ps->g;
    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    int64_t i = gguf_index_find(&g->kv_index, GGUF_KEY_ALIGNMENT, strlen(GGUF_KEY_ALIGNMENT));
    if (i < 0) return HEARTH_OK;
    const gguf_kv *kv = &g->kvs[i];
    snprintf(ps->who, sizeof ps->who, "key '%s'", GGUF_KEY_ALIGNMENT);
    if (kv->v.type != HEARTH_GGUF_UINT32)
        return PFAIL(ps, HEARTH_E_FORMAT, kv->off, "type %s, expected u32",
                     gguf_type_str(kv->v.type));
    uint32_t a;
    memcpy(&a, kv->v.data, sizeof a);
    if (a == 0 || (a & (a - 1)))
        return PFAIL(ps, HEARTH_E_FORMAT, kv->off, "alignment %" PRIu32 " is not a power of two", a);
    if (a > GGUF_MAX_ALIGNMENT)
        return PFAIL(ps, HEARTH_E_LIMIT, kv->off, "alignment %" PRIu32 " exceeds the limit %u", a,
                     GGUF_MAX_ALIGNMENT);
    g->alignment = a;
    return HEARTH_OK;
}

/* ---- tensor infos ---------------------------------------------------------------- */

/* Where each tensor's info lies, kept while validating the data ranges. */
typedef struct {
    uint64_t info_off;  /* start of the tensor info (its name length) */
    uint64_t field_off; /* its offset field */
    uint64_t begin, end; /* data range relative to the data section */
    int64_t idx;
} tspan;

static hearth_status parse_tensor(parser *ps, int64_t i, tspan *spans) {
    tspan *sp = &spans[i];
    hearth_gguf *g = ps->g;
    hearth_gguf_tensor *t = &g->tensors[i];
    hearth_status st;
    size_t nlen;

    sp->info_off = here(ps);
    sp->idx = i;
    snprintf(ps->who, sizeof ps->who, "tensor %" PRId64, i);
    if ((st = read_name(ps, "name", GGUF_MAX_NAME_LEN, &t->name, &nlen))) return st;
    snprintf(ps->who, sizeof ps->who, "tensor '%.96s'", t->name);
    int64_t dup = gguf_index_add(&g->tensor_index, t->name, nlen);
    if (dup >= 0)
        return PFAIL(ps, HEARTH_E_FORMAT, sp->info_off,
                     "duplicate tensor name (first at offset %" PRIu64 ")", spans[dup].info_off);

    uint64_t doff = here(ps);
    uint32_t n_dims = 0;
    if ((st = read_u32(ps, "n_dims", &n_dims))) return st;
    if (n_dims < 1 || n_dims > GGUF_MAX_DIMS)
        return PFAIL(ps, HEARTH_E_FORMAT, doff, "n_dims %" PRIu32 " outside 1..%d", n_dims,
                     GGUF_MAX_DIMS);
    t->n_dims = n_dims;
    uint64_t neoff = here(ps);
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if (d >= n_dims) continue;
        uint64_t off = here(ps);
        char field[16];
        snprintf(field, sizeof field, "ne[%" PRIu32 "]", d);
        if (!rd_i64(&ps->r, &t->ne[d])) return truncated(ps, field, off);
        if (t->ne[d] < 0)
            return PFAIL(ps, HEARTH_E_FORMAT, off, "%s is negative (%" PRId64 ")", field, t->ne[d]);
    }

    uint64_t toff = here(ps);
    uint32_t type = 0;
    if ((st = read_u32(ps, "type", &type))) return st;
    const hearth_type_traits *tt = hearth_type_traits_get((int)type);
    if (!tt)
        return PFAIL(ps, HEARTH_E_FORMAT, toff, "type %" PRIu32 " is not a ggml tensor type",
                     type);
    t->type = (hearth_type)type;
    sp->field_off = here(ps);
    if ((st = read_u64(ps, "offset", &t->offset))) return st;

    /* Sizes: rows (ne1*ne2*ne3), elements and bytes, each overflow-checked.
     * The product of the non-zero dimensions too: a zero dimension makes
     * the count 0 in any order, but a reader multiplying ne[0] * ne[1]
     * first would overflow on [64, 2^62, 0] (the imatrix fuzzer's find). */
    int64_t rows, nel, nz = 1;
    for (uint32_t d = 0; d < 4; d++)
        if (t->ne[d] > 0 && __builtin_mul_overflow(nz, t->ne[d], &nz))
            return PFAIL(ps, HEARTH_E_FORMAT, neoff,
                         "element count of [%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
                         "] overflows",
                         t->ne[0], t->ne[1], t->ne[2], t->ne[3]);
    if (__builtin_mul_overflow(t->ne[1], t->ne[2], &rows) ||
        __builtin_mul_overflow(rows, t->ne[3], &rows) ||
        __builtin_mul_overflow(rows, t->ne[0], &nel))
        return PFAIL(ps, HEARTH_E_FORMAT, neoff,
                     "element count of [%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
                     "] overflows",
                     t->ne[0], t->ne[1], t->ne[2], t->ne[3]);
    if (t->ne[0] % tt->blck_size)
        return PFAIL(ps, HEARTH_E_FORMAT, neoff,
                     "row length ne[0] = %" PRId64 " is not a multiple of %s's block size %" PRId64,
                     t->ne[0], tt->name, tt->blck_size);
    size_t row, nbytes;
    if (__builtin_mul_overflow((uint64_t)(t->ne[0] / tt->blck_size), (uint64_t)tt->type_size, &row) ||
        __builtin_mul_overflow(row, (uint64_t)rows, &nbytes))
        return PFAIL(ps, HEARTH_E_FORMAT, neoff, "byte size of %" PRId64 " %s elements overflows",
                     nel, tt->name);
    t->nbytes = nbytes;
    if (!tt->supported && !g->allow_unsupported)
        return PFAIL(ps, HEARTH_E_UNSUPPORTED, toff, "tensor type %s is not supported by hearth",
                     tt->name);
    if (t->offset % g->alignment)
        return PFAIL(ps, HEARTH_E_FORMAT, sp->field_off,
                     "data offset %" PRIu64 " is not a multiple of the alignment %zu", t->offset,
                     g->alignment);
    sp->begin = t->offset;
    if (__builtin_add_overflow(t->offset, (uint64_t)nbytes, &sp->end))
        return PFAIL(ps, HEARTH_E_FORMAT, sp->field_off,
                     "data range [%" PRIu64 ", +%zu) overflows", t->offset, nbytes);
    return HEARTH_OK;
}

static int span_cmp(const void *a, const void *b) {
    const tspan *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Checks every tensor's range against the data section and the others, and
 * points each tensor at its data. */
static hearth_status place_tensors(parser *ps, tspan *sp) {
    hearth_gguf *g = ps->g;
    uint64_t data_len = g->data_offset <= g->len ? g->len - g->data_offset : 0;
    int64_t n = g->n_tensors;
    for (int64_t i = 0; i < n; i++) {
        hearth_gguf_tensor *t = &g->tensors[i];
        snprintf(ps->who, sizeof ps->who, "tensor '%.96s'", t->name);
        if (t->offset > data_len || t->nbytes > data_len - t->offset)
            return PFAIL(ps, HEARTH_E_FORMAT, sp[i].field_off,
                         "data [%" PRIu64 ", +%zu) outside the data section (%" PRIu64
                         " bytes at file offset %" PRIu64 ")",
                         t->offset, t->nbytes, data_len, g->data_offset);
        t->data = NULL;
        if (t->nbytes) {
            rd r = rd_init(g->base, g->len);
            const uint8_t *p;
            if (HEARTH_NEVER(!rd_skip(&r, (size_t)(g->data_offset + t->offset)) ||
                             !rd_take(&r, t->nbytes, &p)))
                return PFAIL(ps, HEARTH_E_FORMAT, sp[i].field_off, "data outside the file");
            t->data = p;
        }
    }
    /* Overlap: sort by start; each non-empty range must end before the next
     * non-empty one starts. */
    qsort(sp, (size_t)n, sizeof *sp, span_cmp);
    const tspan *prev = NULL;
    for (int64_t i = 0; i < n; i++) {
        if (sp[i].begin == sp[i].end) continue;
        if (prev && sp[i].begin < prev->end) {
            snprintf(ps->who, sizeof ps->who, "tensor '%.96s'", g->tensors[sp[i].idx].name);
            return PFAIL(ps, HEARTH_E_FORMAT, sp[i].field_off,
                         "data [%" PRIu64 ", %" PRIu64 ") overlaps tensor '%.64s' [%" PRIu64
                         ", %" PRIu64 ")",
                         sp[i].begin, sp[i].end, g->tensors[prev->idx].name, prev->begin,
                         prev->end);
        }
        prev = &sp[i];
    }
    return HEARTH_OK;
}

/* ---- the whole file -------------------------------------------------------------- */

static hearth_status parse_header(parser *ps, uint64_t *n_tensors, uint64_t *n_kv) {
    hearth_status st;
    const uint8_t *magic;
    snprintf(ps->who, sizeof ps->who, "header");
    if (!rd_take(&ps->r, 4, &magic))
        return PFAIL(ps, HEARTH_E_FORMAT, 0, "not a GGUF file: only %zu bytes", ps->g->len);
    if (memcmp(magic, "GGUF", 4))
        return PFAIL(ps, HEARTH_E_FORMAT, 0,
                     "not a GGUF file: magic %02x %02x %02x %02x, expected \"GGUF\"", magic[0],
                     magic[1], magic[2], magic[3]);
    uint32_t v = 0;
    if ((st = read_u32(ps, "version", &v))) return st;
    if (v != 2 && v != 3) {
        uint32_t sw = __builtin_bswap32(v);
        if (sw >= 1 && sw <= 3)
            return PFAIL(ps, HEARTH_E_UNSUPPORTED, 4,
                         "big-endian GGUF (version %" PRIu32 ") is not supported", sw);
        return PFAIL(ps, HEARTH_E_UNSUPPORTED, 4,
                     "GGUF version %" PRIu32 " is not supported (only 2 and 3)", v);
    }
    ps->g->version = v;
    if ((st = read_u64(ps, "tensor count", n_tensors))) return st;
    if ((st = read_u64(ps, "kv count", n_kv))) return st;
    if (*n_tensors > GGUF_MAX_TENSORS)
        return PFAIL(ps, HEARTH_E_LIMIT, 8, "tensor count %" PRIu64 " exceeds the limit %u",
                     *n_tensors, GGUF_MAX_TENSORS);
    if (*n_kv > GGUF_MAX_KV)
        return PFAIL(ps, HEARTH_E_LIMIT, 16, "kv count %" PRIu64 " exceeds the limit %u", *n_kv,
                     GGUF_MAX_KV);
    /* Both counts are small enough here that the products cannot wrap. */
    if (*n_tensors * GGUF_MIN_TENSOR_BYTES + *n_kv * GGUF_MIN_KV_BYTES > ps->r.left)
        return PFAIL(ps, HEARTH_E_FORMAT, 8,
                     "tensor count %" PRIu64 " and kv count %" PRIu64
                     " cannot fit in the %zu bytes left",
                     *n_tensors, *n_kv, ps->r.left);
    return HEARTH_OK;
}

hearth_status gguf_parse(hearth_gguf *g, hearth_error *err) {
    parser ps = {.g = g, .r = rd_init(g->base, g->len), .err = err};
    hearth_status st;
    uint64_t n_tensors = 0, n_kv = 0;
    g->alignment = GGUF_DEFAULT_ALIGNMENT;

    if ((st = parse_header(&ps, &n_tensors, &n_kv))) return st;

    g->kvs = hearth_calloc((size_t)n_kv, sizeof *g->kvs);
    g->tensors = hearth_calloc((size_t)n_tensors, sizeof *g->tensors);
    if (!g->kvs || !g->tensors || !gguf_index_init(&g->kv_index, (uint32_t)n_kv) ||
        !gguf_index_init(&g->tensor_index, (uint32_t)n_tensors))
        return NOMEM(&ps);

    for (uint64_t i = 0; i < n_kv; i++) {
        g->n_kv = (int64_t)i + 1; /* so gguf_release frees what this entry allocates */
        if ((st = parse_kv(&ps, (int64_t)i))) return st;
    }
    if ((st = read_alignment(&ps))) return st;

    tspan *sp = hearth_malloc((size_t)(n_tensors ? n_tensors : 1) * sizeof *sp);
    if (!sp) return NOMEM(&ps);
    g->n_tensors = (int64_t)n_tensors;
    for (uint64_t i = 0; i < n_tensors && !st; i++) st = parse_tensor(&ps, (int64_t)i, sp);
    if (!st) {
        /* The data section starts at the next multiple of the alignment. A
         * file with no tensor data may end before that (vocab-only files). */
        uint64_t end = here(&ps);
        g->data_offset = end + (g->alignment - end % g->alignment) % g->alignment;
        st = place_tensors(&ps, sp);
    }
    hearth_free(sp);
    return st;
}

void gguf_release(hearth_gguf *g) {
    for (int64_t i = 0; i < g->n_kv; i++) hearth_free(g->kvs[i].elem_off);
    hearth_free(g->kvs);
    hearth_free(g->tensors);
    gguf_index_free(&g->kv_index);
    gguf_index_free(&g->tensor_index);
    while (g->pool) {
        gguf_pool_chunk *next = g->pool->next;
        hearth_free(g->pool);
        g->pool = next;
    }
}
