/*
 * test_gguf_write.c: the GGUF writer. Every value type and array kind, tensors
 * of several types and shapes, alignment from general.alignment: each file
 * written must read back identically (through both the buffer and the file
 * entry points), writes must be deterministic, and bad arguments rejected.
 */
#include "hearth.h"
#include "test.h"
#include "util/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *strs[] = {"", "hello", "with\ttab", "caf\xc3\xa9", "<|im_start|>"};

/* Builds a writer with one key of every scalar type, every numeric array
 * type, a string array with an embedded NUL, and tensors. */
static hearth_gguf_writer *build(uint8_t *tdata, size_t tlen, uint32_t alignment) {
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    REQUIRE(w);
    hearth_error err;
    uint8_t u8 = 250;
    int8_t i8 = -120;
    uint16_t u16 = 65000;
    int16_t i16 = -32000;
    int64_t i64 = -5000000000LL;
    double f64 = 3.141592653589793;
    REQUIRE(!hearth_gguf_writer_set_str(w, "general.architecture", "llama", &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "t.u8", HEARTH_GGUF_UINT8, &u8, &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "t.i8", HEARTH_GGUF_INT8, &i8, &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "t.u16", HEARTH_GGUF_UINT16, &u16, &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "t.i16", HEARTH_GGUF_INT16, &i16, &err));
    REQUIRE(!hearth_gguf_writer_set_u32(w, "t.u32", 4000000000u, &err));
    REQUIRE(!hearth_gguf_writer_set_i32(w, "t.i32", -2000000000, &err));
    REQUIRE(!hearth_gguf_writer_set_f32(w, "t.f32", 1e-6f, &err));
    REQUIRE(!hearth_gguf_writer_set_bool(w, "t.bool", true, &err));
    REQUIRE(!hearth_gguf_writer_set_bool(w, "t.false", false, &err));
    REQUIRE(!hearth_gguf_writer_set_u64(w, "t.u64", 18000000000000000000ull, &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "t.i64", HEARTH_GGUF_INT64, &i64, &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "t.f64", HEARTH_GGUF_FLOAT64, &f64, &err));
    REQUIRE(!hearth_gguf_writer_set_str(w, "t.empty", "", &err));
    if (alignment) REQUIRE(!hearth_gguf_writer_set_u32(w, "general.alignment", alignment, &err));

    uint8_t a_u8[] = {1, 2, 255};
    int8_t a_i8[] = {-1, 0, 127};
    uint16_t a_u16[] = {1, 65535};
    int16_t a_i16[] = {-32768, 32767};
    uint32_t a_u32[] = {0, 1, 4294967295u};
    int32_t a_i32[] = {-7, 7, 0, 100};
    float a_f32[] = {0.5f, -1.25f, 1e30f};
    uint8_t a_bool[] = {1, 0, 1};
    uint64_t a_u64[] = {UINT64_MAX, 0};
    int64_t a_i64[] = {INT64_MIN, INT64_MAX};
    double a_f64[] = {1e-300, -2.5};
    struct { const char *k; hearth_gguf_type t; const void *d; uint64_t n; } arrs[] = {
        {"a.u8", HEARTH_GGUF_UINT8, a_u8, 3},     {"a.i8", HEARTH_GGUF_INT8, a_i8, 3},
        {"a.u16", HEARTH_GGUF_UINT16, a_u16, 2},  {"a.i16", HEARTH_GGUF_INT16, a_i16, 2},
        {"a.u32", HEARTH_GGUF_UINT32, a_u32, 3},  {"a.i32", HEARTH_GGUF_INT32, a_i32, 4},
        {"a.f32", HEARTH_GGUF_FLOAT32, a_f32, 3}, {"a.bool", HEARTH_GGUF_BOOL, a_bool, 3},
        {"a.u64", HEARTH_GGUF_UINT64, a_u64, 2},  {"a.i64", HEARTH_GGUF_INT64, a_i64, 2},
        {"a.f64", HEARTH_GGUF_FLOAT64, a_f64, 2}, {"a.empty", HEARTH_GGUF_INT32, NULL, 0},
    };
    for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++)
        REQUIRE(!hearth_gguf_writer_set_arr(w, arrs[i].k, arrs[i].t, arrs[i].d, arrs[i].n, &err));
    REQUIRE(!hearth_gguf_writer_set_arr_str(w, "a.str", strs, NULL, 5, &err));
    const char *withnul[] = {"a\0b", "xyz"};
    size_t lens[] = {3, 2};
    REQUIRE(!hearth_gguf_writer_set_arr_str(w, "a.strnul", withnul, lens, 2, &err));

    /* Tensors: F32 [8, 3], Q8_0 [64, 2] (2 blocks/row), F16 [5] (odd size:
     * padding follows), Q4_K [256] and an empty F32 [0, 4]. */
    size_t off = 0;
    int64_t ne1[] = {8, 3}, ne2[] = {64, 2}, ne3[] = {5}, ne4[] = {256}, ne5[] = {0, 4};
    struct { const char *n; hearth_type t; uint32_t nd; const int64_t *ne; size_t nb; } ts[] = {
        {"token_embd.weight", HEARTH_TYPE_F32, 2, ne1, 96},
        {"blk.0.attn_q.weight", HEARTH_TYPE_Q8_0, 2, ne2, 136},
        {"blk.0.attn_norm.weight", HEARTH_TYPE_F16, 1, ne3, 10},
        {"blk.0.ffn_up.weight", HEARTH_TYPE_Q4_K, 1, ne4, 144},
        {"empty", HEARTH_TYPE_F32, 2, ne5, 0},
    };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        REQUIRE(off + ts[i].nb <= tlen);
        REQUIRE(!hearth_gguf_writer_add_tensor(w, ts[i].n, ts[i].t, ts[i].nd, ts[i].ne,
                                               tdata + off, ts[i].nb, &err));
        off += ts[i].nb;
    }
    return w;
}

static void check_scalar(const hearth_gguf *g, const char *key, hearth_gguf_type t,
                         const void *want, size_t size) {
    int64_t i = hearth_gguf_find_key(g, key);
    CHECKF(i >= 0, "key %s", key);
    if (i < 0) return;
    hearth_gguf_value v;
    CHECK(!hearth_gguf_kv_value(g, i, &v));
    CHECKF(v.type == t && v.n == 1 && !memcmp(v.data, want, size), "key %s", key);
}

static void check_file(const hearth_gguf *g, const uint8_t *tdata, size_t align) {
    hearth_error err;
    CHECK_EQ_INT(hearth_gguf_version(g), 3);
    CHECK_EQ_INT(hearth_gguf_alignment(g), align);
    CHECK_EQ_INT(hearth_gguf_data_offset(g) % align, 0);
    CHECK_EQ_INT(hearth_gguf_n_kv(g), 28 + (hearth_gguf_find_key(g, "general.alignment") >= 0));
    CHECK_STR(hearth_gguf_kv_key(g, 0), "general.architecture");
    CHECK(hearth_gguf_kv_key(g, -1) == NULL);
    CHECK(hearth_gguf_kv_key(g, hearth_gguf_n_kv(g)) == NULL);

    uint8_t u8 = 250; int8_t i8 = -120; uint16_t u16 = 65000; int16_t i16 = -32000;
    uint32_t u32 = 4000000000u; int32_t i32 = -2000000000; float f32 = 1e-6f; uint8_t bt = 1;
    uint64_t u64 = 18000000000000000000ull; int64_t i64 = -5000000000LL;
    double f64 = 3.141592653589793;
    check_scalar(g, "t.u8", HEARTH_GGUF_UINT8, &u8, 1);
    check_scalar(g, "t.i8", HEARTH_GGUF_INT8, &i8, 1);
    check_scalar(g, "t.u16", HEARTH_GGUF_UINT16, &u16, 2);
    check_scalar(g, "t.i16", HEARTH_GGUF_INT16, &i16, 2);
    check_scalar(g, "t.u32", HEARTH_GGUF_UINT32, &u32, 4);
    check_scalar(g, "t.i32", HEARTH_GGUF_INT32, &i32, 4);
    check_scalar(g, "t.f32", HEARTH_GGUF_FLOAT32, &f32, 4);
    check_scalar(g, "t.bool", HEARTH_GGUF_BOOL, &bt, 1);
    check_scalar(g, "t.u64", HEARTH_GGUF_UINT64, &u64, 8);
    check_scalar(g, "t.i64", HEARTH_GGUF_INT64, &i64, 8);
    check_scalar(g, "t.f64", HEARTH_GGUF_FLOAT64, &f64, 8);

    const char *s;
    size_t len;
    CHECK(!hearth_gguf_get_str(g, "general.architecture", &s, &len, &err));
    CHECK_STR(s, "llama");
    CHECK_EQ_INT(len, 5);
    CHECK(!hearth_gguf_get_str(g, "t.empty", &s, &len, &err));
    CHECK_STR(s, "");
    CHECK_EQ_INT(len, 0);
    bool b = false;
    CHECK(!hearth_gguf_get_bool(g, "t.bool", &b, &err) && b);
    CHECK(!hearth_gguf_get_bool(g, "t.false", &b, &err) && !b);

    /* Arrays */
    hearth_gguf_value v;
    int64_t idx;
    int64_t a_i64[] = {INT64_MIN, INT64_MAX};
    CHECK(!hearth_gguf_get_arr(g, "a.i64", &v, &idx, &err));
    CHECK(v.type == HEARTH_GGUF_ARRAY && v.elem_type == HEARTH_GGUF_INT64 && v.n == 2);
    CHECK(v.data && !memcmp(v.data, a_i64, sizeof a_i64));
    float a_f32[] = {0.5f, -1.25f, 1e30f};
    CHECK(!hearth_gguf_get_arr(g, "a.f32", &v, NULL, &err));
    CHECK(v.elem_type == HEARTH_GGUF_FLOAT32 && v.n == 3 && !memcmp(v.data, a_f32, sizeof a_f32));
    uint8_t a_bool[] = {1, 0, 1};
    CHECK(!hearth_gguf_get_arr(g, "a.bool", &v, NULL, &err));
    CHECK(v.elem_type == HEARTH_GGUF_BOOL && v.n == 3 && !memcmp(v.data, a_bool, 3));
    uint16_t a_u16[] = {1, 65535};
    CHECK(!hearth_gguf_get_arr(g, "a.u16", &v, NULL, &err));
    CHECK(v.elem_type == HEARTH_GGUF_UINT16 && v.n == 2 && !memcmp(v.data, a_u16, 4));
    double a_f64[] = {1e-300, -2.5};
    CHECK(!hearth_gguf_get_arr(g, "a.f64", &v, NULL, &err));
    CHECK(v.elem_type == HEARTH_GGUF_FLOAT64 && v.n == 2 && !memcmp(v.data, a_f64, 16));
    CHECK(!hearth_gguf_get_arr(g, "a.empty", &v, NULL, &err));
    CHECK(v.elem_type == HEARTH_GGUF_INT32 && v.n == 0);

    CHECK(!hearth_gguf_get_arr(g, "a.str", &v, &idx, &err));
    CHECK(v.elem_type == HEARTH_GGUF_STRING && v.n == 5 && v.data == NULL);
    for (uint64_t j = 0; j < 5; j++) {
        const char *e = hearth_gguf_arr_str(g, idx, j, &len);
        CHECKF(e && len == strlen(strs[j]) && !memcmp(e, strs[j], len), "a.str[%d]", (int)j);
    }
    CHECK(hearth_gguf_arr_str(g, idx, 5, &len) == NULL);
    CHECK(hearth_gguf_arr_str(g, hearth_gguf_find_key(g, "a.i64"), 0, &len) == NULL);
    CHECK(!hearth_gguf_get_arr(g, "a.strnul", &v, &idx, &err));
    const char *e = hearth_gguf_arr_str(g, idx, 0, &len);
    CHECK(e && len == 3 && !memcmp(e, "a\0b", 3));
    e = hearth_gguf_arr_str(g, idx, 1, &len);
    CHECK(e && len == 2 && !memcmp(e, "xy", 2));

    /* Tensors */
    CHECK_EQ_INT(hearth_gguf_n_tensors(g), 5);
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(g, "blk.0.attn_q.weight");
    REQUIRE(t);
    CHECK(t == hearth_gguf_tensor_at(g, 1));
    CHECK(t->type == HEARTH_TYPE_Q8_0 && t->n_dims == 2 && t->ne[0] == 64 && t->ne[1] == 2 &&
          t->ne[2] == 1 && t->ne[3] == 1 && t->nbytes == 136);
    CHECK(t->data && !memcmp(t->data, tdata + 96, 136));
    size_t off = 0, sizes[] = {96, 136, 10, 144, 0};
    for (int i = 0; i < 5; i++) {
        t = hearth_gguf_tensor_at(g, i);
        REQUIRE(t);
        CHECK_EQ_INT(t->offset % align, 0);
        CHECK_EQ_INT(t->nbytes, sizes[i]);
        if (sizes[i]) CHECKF(!memcmp(t->data, tdata + off, sizes[i]), "tensor %d data", i);
        off += sizes[i];
    }
    t = hearth_gguf_find_tensor(g, "empty");
    CHECK(t && t->ne[0] == 0 && t->ne[1] == 4 && t->nbytes == 0);
    CHECK(hearth_gguf_find_tensor(g, "nope") == NULL);
    CHECK(hearth_gguf_tensor_at(g, 5) == NULL && hearth_gguf_tensor_at(g, -1) == NULL);
}

static void test_round_trip(uint32_t alignment) {
    uint8_t tdata[96 + 136 + 10 + 144];
    for (size_t i = 0; i < sizeof tdata; i++) tdata[i] = (uint8_t)(i * 37 + 11);
    hearth_gguf_writer *w = build(tdata, sizeof tdata, alignment);
    hearth_error err;
    void *buf;
    size_t len;
    REQUIRE(!hearth_gguf_writer_write_buffer(w, &buf, &len, &err));
    size_t align = alignment ? alignment : 32;
    CHECK_EQ_INT(len % align, 0);

    hearth_gguf *g;
    hearth_status st = hearth_gguf_open_buffer(buf, len, &g, &err);
    CHECKF(!st, "%s", err.msg);
    if (!st) {
        check_file(g, tdata, align);
        CHECK((hearth_gguf_find_key(g, "general.alignment") >= 0) == (alignment != 0));
        hearth_gguf_free(g);
    }

    /* Determinism: a second write gives the same bytes; a file too. */
    void *buf2;
    size_t len2;
    REQUIRE(!hearth_gguf_writer_write_buffer(w, &buf2, &len2, &err));
    CHECK(len == len2 && !memcmp(buf, buf2, len));
    hearth_free(buf2);

    char path[] = "/tmp/hearth_gguf_writeXXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    st = hearth_gguf_writer_write_file(w, path, &err);
    CHECKF(!st, "%s", err.msg);
    FILE *f = fopen(path, "rb");
    REQUIRE(f);
    uint8_t *fb = malloc(len + 1);
    size_t got = fread(fb, 1, len + 1, f);
    fclose(f);
    CHECK(got == len && !memcmp(fb, buf, len));
    free(fb);
    st = hearth_gguf_open(path, &g, &err);
    CHECKF(!st, "%s", err.msg);
    if (!st) {
        check_file(g, tdata, align);
        CHECK_EQ_INT(hearth_gguf_file_size(g), len);
        hearth_gguf_free(g);
    }
    unlink(path);
    hearth_free(buf);
    hearth_gguf_writer_free(w);
}

static void test_replace_and_errors(void) {
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    REQUIRE(w);
    hearth_error err;
    REQUIRE(!hearth_gguf_writer_set_u32(w, "a", 1, &err));
    REQUIRE(!hearth_gguf_writer_set_u32(w, "b", 2, &err));
    REQUIRE(!hearth_gguf_writer_set_str(w, "a", "replaced", &err)); /* keeps position 0 */
    float x[4] = {1, 2, 3, 4};
    int64_t ne[] = {4};
    CHECK(!hearth_gguf_writer_add_tensor(w, "t", HEARTH_TYPE_F32, 1, ne, x, 16, &err));
    CHECK(hearth_gguf_writer_add_tensor(w, "t", HEARTH_TYPE_F32, 1, ne, x, 16, &err) ==
          HEARTH_E_ARG);
    CHECK(strstr(err.msg, "duplicate tensor 't'"));
    CHECK(hearth_gguf_writer_add_tensor(w, "u", HEARTH_TYPE_F32, 1, ne, x, 12, &err) ==
          HEARTH_E_ARG);
    CHECK(strstr(err.msg, "12 bytes given"));
    int64_t ne_bad[] = {33};
    CHECK(hearth_gguf_writer_add_tensor(w, "q", HEARTH_TYPE_Q8_0, 1, ne_bad, x, 34, &err) ==
          HEARTH_E_ARG);
    CHECK(hearth_gguf_writer_add_tensor(w, "q", (hearth_type)4, 1, ne, x, 16, &err) == HEARTH_E_ARG);
    CHECK(hearth_gguf_writer_add_tensor(w, "q", HEARTH_TYPE_F32, 5, ne, x, 16, &err) ==
          HEARTH_E_ARG);
    int64_t ne_neg[] = {-4};
    CHECK(hearth_gguf_writer_add_tensor(w, "q", HEARTH_TYPE_F32, 1, ne_neg, x, 16, &err) ==
          HEARTH_E_ARG);
    CHECK(hearth_gguf_writer_set_scalar(w, "s", HEARTH_GGUF_STRING, "x", &err) == HEARTH_E_ARG);
    CHECK(hearth_gguf_writer_set_arr(w, "s", HEARTH_GGUF_ARRAY, x, 1, &err) == HEARTH_E_ARG);
    CHECK(hearth_gguf_writer_set_u32(w, NULL, 1, &err) == HEARTH_E_ARG);

    void *buf;
    size_t len;
    REQUIRE(!hearth_gguf_writer_write_buffer(w, &buf, &len, &err));
    hearth_gguf *g;
    REQUIRE(!hearth_gguf_open_buffer(buf, len, &g, &err));
    CHECK_EQ_INT(hearth_gguf_n_kv(g), 2);
    CHECK_STR(hearth_gguf_kv_key(g, 0), "a");
    const char *s;
    CHECK(!hearth_gguf_get_str(g, "a", &s, NULL, &err));
    CHECK_STR(s, "replaced");
    CHECK_EQ_INT(hearth_gguf_n_tensors(g), 1);
    hearth_gguf_free(g);
    hearth_free(buf);

    /* A bad general.alignment is refused at write time. */
    REQUIRE(!hearth_gguf_writer_set_u32(w, "general.alignment", 48, &err));
    CHECK(hearth_gguf_writer_write_buffer(w, &buf, &len, &err) == HEARTH_E_ARG);
    CHECK(strstr(err.msg, "power of two"));
    REQUIRE(!hearth_gguf_writer_set_u64(w, "general.alignment", 64, &err));
    CHECK(hearth_gguf_writer_write_buffer(w, &buf, &len, &err) == HEARTH_E_ARG);
    /* A file in a missing directory fails cleanly. */
    REQUIRE(!hearth_gguf_writer_set_u32(w, "general.alignment", 64, &err));
    CHECK(hearth_gguf_writer_write_file(w, "/nonexistent-dir/x.gguf", &err) == HEARTH_E_IO);
    hearth_gguf_writer_free(w);
    hearth_gguf_writer_free(NULL);
}

/* An empty writer gives a valid file with nothing in it. */
static void test_empty(void) {
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    REQUIRE(w);
    hearth_error err;
    void *buf;
    size_t len;
    REQUIRE(!hearth_gguf_writer_write_buffer(w, &buf, &len, &err));
    CHECK_EQ_INT(len, 32);
    hearth_gguf *g;
    CHECK(!hearth_gguf_open_buffer(buf, len, &g, &err));
    CHECK(hearth_gguf_n_kv(g) == 0 && hearth_gguf_n_tensors(g) == 0);
    hearth_gguf_free(g);
    hearth_free(buf);
    hearth_gguf_writer_free(w);
}

/* Allocation failures anywhere in write + read are reported, never crash. */
static void test_alloc_failures(void) {
    uint8_t tdata[96 + 136 + 10 + 144] = {0};
    for (long n = 1;; n++) {
        hearth_alloc_fail_after(0);
        hearth_gguf_writer *w = hearth_gguf_writer_new();
        REQUIRE(w);
        hearth_gguf_writer_free(w);
        w = build(tdata, sizeof tdata, 64);
        void *buf;
        size_t len;
        hearth_error err;
        REQUIRE(!hearth_gguf_writer_write_buffer(w, &buf, &len, &err));
        hearth_gguf_writer_free(w);
        hearth_gguf *g = NULL;
        hearth_alloc_fail_after(n);
        hearth_status st = hearth_gguf_open_buffer(buf, len, &g, &err);
        long made = hearth_alloc_fail_after(0);
        hearth_free(buf);
        if (st == HEARTH_OK) {
            hearth_gguf_free(g);
            CHECK(made < n); /* fewer allocations than n: nothing failed */
            break;
        }
        CHECKF(st == HEARTH_E_NOMEM && g == NULL, "n=%ld st=%d %s", n, st, err.msg);
        if (n > 1000) break;
    }
}

/* Allocation failures inside the writer: every call reports NOMEM or
 * succeeds, nothing leaks (checked by the ASan build) or crashes. */
static void test_writer_alloc_failures(void) {
    float x[32] = {0};
    int64_t ne[] = {32};
    const char *strs2[] = {"a", "b"};
    int done = 0;
    for (long n = 1; n < 200 && !done; n++) {
        hearth_error err;
        hearth_alloc_fail_after(n);
        hearth_gguf_writer *w = hearth_gguf_writer_new();
        int nomem = 0;
        if (w) {
            hearth_status st[6];
            st[0] = hearth_gguf_writer_set_u32(w, "a", 1, &err);
            st[1] = hearth_gguf_writer_set_str(w, "b", "text", &err);
            st[2] = hearth_gguf_writer_set_arr(w, "c", HEARTH_GGUF_FLOAT32, x, 32, &err);
            st[3] = hearth_gguf_writer_set_arr_str(w, "d", strs2, NULL, 2, &err);
            st[4] = hearth_gguf_writer_add_tensor(w, "t", HEARTH_TYPE_F32, 1, ne, x, 128, &err);
            void *buf = NULL;
            size_t len;
            st[5] = hearth_gguf_writer_write_buffer(w, &buf, &len, &err);
            for (int i = 0; i < 6; i++) {
                CHECKF(st[i] == HEARTH_OK || st[i] == HEARTH_E_NOMEM, "n=%ld call %d: %d", n, i,
                       st[i]);
                nomem += st[i] == HEARTH_E_NOMEM;
            }
            if (!st[5]) CHECK(buf != NULL);
            hearth_free(buf);
            hearth_gguf_writer_free(w);
        } else {
            nomem = 1;
        }
        long made = hearth_alloc_fail_after(0);
        if (!nomem) {
            CHECK(made < n);
            done = 1;
        }
    }
    CHECK(done);
}

int main(void) {
    test_writer_alloc_failures();
    test_round_trip(0);
    test_round_trip(32);
    test_round_trip(64);
    test_round_trip(1);
    test_round_trip(4096);
    test_replace_and_errors();
    test_empty();
    test_alloc_failures();
    return test_done();
}
