/*
 * fuzz_gguf.c: libFuzzer target over hearth_gguf_open_buffer. Any input must
 * either be rejected with a message or open into a handle whose every
 * accessor stays inside the input; an accepted file must also survive a
 * round trip through the writer (rewrite, reopen, same keys, values and
 * tensor bytes). Crashes, sanitizer reports and failed invariants abort.
 */
#include "hearth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c)                                                                 \
    do {                                                                               \
        if (!(c)) {                                                                    \
            fprintf(stderr, "fuzz_gguf: invariant failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                   \
        }                                                                              \
    } while (0)

static const uint8_t *in_lo, *in_hi;

static void in_input(const void *p, size_t n) {
    const uint8_t *q = p;
    FUZZ_ASSERT(q >= in_lo && q <= in_hi && n <= (size_t)(in_hi - q));
}

static size_t elem_size(hearth_gguf_type t) {
    switch (t) {
    case HEARTH_GGUF_UINT8: case HEARTH_GGUF_INT8: case HEARTH_GGUF_BOOL: return 1;
    case HEARTH_GGUF_UINT16: case HEARTH_GGUF_INT16: return 2;
    case HEARTH_GGUF_UINT32: case HEARTH_GGUF_INT32: case HEARTH_GGUF_FLOAT32: return 4;
    case HEARTH_GGUF_UINT64: case HEARTH_GGUF_INT64: case HEARTH_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

/* Reads every accessor; returns a byte sum so nothing is optimized away. */
static unsigned walk(const hearth_gguf *g, bool allow_unsupported) {
    unsigned sum = 0;
    hearth_error err;
    for (int64_t i = 0; i < hearth_gguf_n_kv(g); i++) {
        const char *key = hearth_gguf_kv_key(g, i);
        FUZZ_ASSERT(key);
        FUZZ_ASSERT(hearth_gguf_find_key(g, key) == i);
        hearth_gguf_value v;
        FUZZ_ASSERT(!hearth_gguf_kv_value(g, i, &v));
        uint32_t u32; int32_t i32; uint64_t u64; float f32; bool b; int64_t i64; double f64;
        const char *s; size_t len;
        hearth_gguf_value av;
        hearth_gguf_get_u32(g, key, &u32, &err);
        hearth_gguf_get_i32(g, key, &i32, &err);
        hearth_gguf_get_u64(g, key, &u64, &err);
        hearth_gguf_get_f32(g, key, &f32, &err);
        hearth_gguf_get_bool(g, key, &b, &err);
        hearth_gguf_get_int(g, key, &i64, &err);
        hearth_gguf_get_float(g, key, &f64, &err);
        if (!hearth_gguf_get_str(g, key, &s, &len, &err)) {
            FUZZ_ASSERT(s[len] == '\0');
            in_input(v.data, len);
            FUZZ_ASSERT(!memcmp(s, v.data, len));
        }
        if (v.type == HEARTH_GGUF_ARRAY) {
            int64_t idx = -1;
            FUZZ_ASSERT(!hearth_gguf_get_arr(g, key, &av, &idx, &err) && idx == i);
            if (v.elem_type == HEARTH_GGUF_STRING) {
                for (uint64_t j = 0; j < v.n && j < 256; j++) {
                    const char *e = hearth_gguf_arr_str(g, i, j, &len);
                    FUZZ_ASSERT(e);
                    in_input(e, len);
                    if (len) sum += (uint8_t)e[len - 1];
                }
                FUZZ_ASSERT(!hearth_gguf_arr_str(g, i, v.n, &len));
            } else if (elem_size(v.elem_type)) {
                in_input(v.data, v.n * elem_size(v.elem_type));
                if (v.n) sum += ((const uint8_t *)v.data)[v.n * elem_size(v.elem_type) - 1];
            }
        } else if (v.type != HEARTH_GGUF_STRING) {
            in_input(v.data, elem_size(v.type));
        }
    }
    for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        FUZZ_ASSERT(t && hearth_gguf_find_tensor(g, t->name) == t);
        FUZZ_ASSERT(t->n_dims >= 1 && t->n_dims <= 4);
        FUZZ_ASSERT(allow_unsupported || hearth_type_supported(t->type));
        size_t row = hearth_type_row_size(t->type, t->ne[0]);
        FUZZ_ASSERT(row || t->ne[0] == 0);
        FUZZ_ASSERT(t->nbytes == row * (size_t)(t->ne[1] * t->ne[2] * t->ne[3]));
        if (t->nbytes) {
            in_input(t->data, t->nbytes);
            sum += ((const uint8_t *)t->data)[0] + ((const uint8_t *)t->data)[t->nbytes - 1];
        }
    }
    return sum;
}

/* Rewrites g with the writer and checks the result reads back the same. */
static void round_trip(const hearth_gguf *g) {
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    if (!w) return;
    hearth_error err;
    for (int64_t i = 0; i < hearth_gguf_n_kv(g); i++) {
        const char *key = hearth_gguf_kv_key(g, i);
        hearth_gguf_value v;
        hearth_gguf_kv_value(g, i, &v);
        if (v.type == HEARTH_GGUF_STRING) {
            if (memchr(v.data, 0, v.n)) goto done; /* set_str takes C strings */
            char *s = malloc(v.n + 1);
            memcpy(s, v.data, v.n);
            s[v.n] = 0;
            FUZZ_ASSERT(!hearth_gguf_writer_set_str(w, key, s, &err));
            free(s);
        } else if (v.type != HEARTH_GGUF_ARRAY) {
            FUZZ_ASSERT(!hearth_gguf_writer_set_scalar(w, key, v.type, v.data, &err));
        } else if (v.elem_type == HEARTH_GGUF_STRING) {
            const char **strs = malloc((v.n ? v.n : 1) * sizeof *strs);
            size_t *lens = malloc((v.n ? v.n : 1) * sizeof *lens);
            for (uint64_t j = 0; j < v.n; j++) strs[j] = hearth_gguf_arr_str(g, i, j, &lens[j]);
            FUZZ_ASSERT(!hearth_gguf_writer_set_arr_str(w, key, strs, lens, v.n, &err));
            free(strs);
            free(lens);
        } else if (v.elem_type == HEARTH_GGUF_ARRAY) {
            goto done; /* nested arrays: the writer does not make them */
        } else {
            FUZZ_ASSERT(!hearth_gguf_writer_set_arr(w, key, v.elem_type, v.data, v.n, &err));
        }
    }
    for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        FUZZ_ASSERT(!hearth_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data,
                                                   t->nbytes, &err));
    }
    void *buf;
    size_t len;
    if (hearth_gguf_writer_write_buffer(w, &buf, &len, &err)) goto done; /* e.g. too large */
    hearth_gguf *h;
    hearth_status st = hearth_gguf_open_buffer(buf, len, &h, &err);
    if (st) fprintf(stderr, "fuzz_gguf: rewritten file rejected: %s\n", err.msg);
    FUZZ_ASSERT(st == HEARTH_OK);
    FUZZ_ASSERT(hearth_gguf_n_kv(h) == hearth_gguf_n_kv(g));
    FUZZ_ASSERT(hearth_gguf_n_tensors(h) == hearth_gguf_n_tensors(g));
    FUZZ_ASSERT(hearth_gguf_alignment(h) == hearth_gguf_alignment(g));
    for (int64_t i = 0; i < hearth_gguf_n_kv(g); i++) {
        hearth_gguf_value a, b;
        hearth_gguf_kv_value(g, i, &a);
        hearth_gguf_kv_value(h, i, &b);
        FUZZ_ASSERT(!strcmp(hearth_gguf_kv_key(g, i), hearth_gguf_kv_key(h, i)));
        FUZZ_ASSERT(a.type == b.type && a.n == b.n);
        if (a.type == HEARTH_GGUF_ARRAY) {
            FUZZ_ASSERT(a.elem_type == b.elem_type);
            if (a.elem_type == HEARTH_GGUF_STRING) {
                for (uint64_t j = 0; j < a.n; j++) {
                    size_t la, lb;
                    const char *sa = hearth_gguf_arr_str(g, i, j, &la);
                    const char *sb = hearth_gguf_arr_str(h, i, j, &lb);
                    FUZZ_ASSERT(la == lb && !memcmp(sa, sb, la));
                }
            } else {
                FUZZ_ASSERT(!memcmp(a.data, b.data, a.n * elem_size(a.elem_type)));
            }
        } else {
            size_t n = a.type == HEARTH_GGUF_STRING ? a.n : elem_size(a.type);
            FUZZ_ASSERT(!memcmp(a.data, b.data, n));
        }
    }
    for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
        const hearth_gguf_tensor *a = hearth_gguf_tensor_at(g, i), *b = hearth_gguf_tensor_at(h, i);
        FUZZ_ASSERT(!strcmp(a->name, b->name) && a->type == b->type && a->n_dims == b->n_dims);
        FUZZ_ASSERT(!memcmp(a->ne, b->ne, sizeof a->ne) && a->nbytes == b->nbytes);
        FUZZ_ASSERT(!a->nbytes || !memcmp(a->data, b->data, a->nbytes));
    }
    hearth_gguf_free(h);
    hearth_free(buf);
done:
    hearth_gguf_writer_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hearth_gguf *g = NULL;
    hearth_error err;
    in_lo = data;
    in_hi = data + size;
    hearth_status st = hearth_gguf_open_buffer(data, size, &g, &err);
    bool allow = false;
    if (st == HEARTH_E_UNSUPPORTED && strstr(err.msg, "tensor type")) {
        /* Only the tensor type was in the way: the permissive open (used by
         * hearth inspect) must accept the file and keep every other check. */
        hearth_gguf_params p = hearth_gguf_default_params();
        p.allow_unsupported_types = true;
        st = hearth_gguf_open_ex(NULL, data, size, &p, &g, &err);
        allow = true;
    }
    if (st) {
        FUZZ_ASSERT(g == NULL && err.code == st && memchr(err.msg, 0, sizeof err.msg));
        FUZZ_ASSERT(err.msg[0] != '\0');
        return 0;
    }
    volatile unsigned sink = walk(g, allow);
    (void)sink;
    /* The rewrite copies the tensor data; keep it to inputs of modest size. */
    if (size < (1u << 20) && !allow) round_trip(g);
    hearth_gguf_free(g);
    return 0;
}
