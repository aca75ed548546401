/*
 * test_gguf_get.c: the typed getters (src/gguf/gguf_get.c): each accepts
 * exactly its type (the widening _get_int and _get_float accept every
 * integer / float width), fails with HEARTH_E_FORMAT naming key, actual and
 * expected type on a mismatch, HEARTH_E_NOTFOUND on an absent key, and
 * leaves *out untouched on failure; the string getter refuses a value with
 * a NUL byte. Also: kv/tensor accessors out of range,
 * v2 files, alignment 1 and the alignment key itself.
 */
#include "hearth.h"
#include "test.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static hearth_gguf *open_written(hearth_gguf_writer *w, void **buf) {
    size_t len;
    hearth_error err;
    REQUIRE(!hearth_gguf_writer_write_buffer(w, buf, &len, &err));
    hearth_gguf *g;
    hearth_status st = hearth_gguf_open_buffer(*buf, len, &g, &err);
    if (st) fprintf(stderr, "open: %s\n", err.msg);
    REQUIRE(!st);
    return g;
}

static void test_getters(void) {
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    REQUIRE(w);
    hearth_error err;
    uint8_t u8 = 200;
    int8_t i8 = -100;
    uint16_t u16 = 60000;
    int16_t i16 = -30000;
    int64_t i64 = -(1LL << 40);
    uint64_t big = 1ull << 63, small = 12345;
    double f64 = -0.125;
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "u8", HEARTH_GGUF_UINT8, &u8, &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "i8", HEARTH_GGUF_INT8, &i8, &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "u16", HEARTH_GGUF_UINT16, &u16, &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "i16", HEARTH_GGUF_INT16, &i16, &err));
    REQUIRE(!hearth_gguf_writer_set_u32(w, "u32", 3000000000u, &err));
    REQUIRE(!hearth_gguf_writer_set_i32(w, "i32", -5, &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "i64", HEARTH_GGUF_INT64, &i64, &err));
    REQUIRE(!hearth_gguf_writer_set_u64(w, "u64big", big, &err));
    REQUIRE(!hearth_gguf_writer_set_u64(w, "u64", small, &err));
    REQUIRE(!hearth_gguf_writer_set_f32(w, "f32", 2.5f, &err));
    REQUIRE(!hearth_gguf_writer_set_scalar(w, "f64", HEARTH_GGUF_FLOAT64, &f64, &err));
    REQUIRE(!hearth_gguf_writer_set_bool(w, "bool", true, &err));
    REQUIRE(!hearth_gguf_writer_set_str(w, "str", "text", &err));
    int32_t arr[] = {1, 2, 3};
    REQUIRE(!hearth_gguf_writer_set_arr(w, "arr", HEARTH_GGUF_INT32, arr, 3, &err));
    void *buf;
    hearth_gguf *g = open_written(w, &buf);
    hearth_gguf_writer_free(w);

    /* Widening getters. */
    struct { const char *k; int64_t v; } ints[] = {
        {"u8", 200}, {"i8", -100}, {"u16", 60000}, {"i16", -30000}, {"u32", 3000000000LL},
        {"i32", -5}, {"i64", -(1LL << 40)}, {"u64", 12345},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int64_t v = 0;
        hearth_status st = hearth_gguf_get_int(g, ints[i].k, &v, &err);
        CHECKF(!st && v == ints[i].v, "get_int %s: st %d v %lld", ints[i].k, st, (long long)v);
    }
    int64_t iv = 77;
    CHECK(hearth_gguf_get_int(g, "u64big", &iv, &err) == HEARTH_E_FORMAT && iv == 77);
    CHECK(strstr(err.msg, "'u64big'") && strstr(err.msg, "does not fit"));
    CHECK(hearth_gguf_get_int(g, "f32", &iv, &err) == HEARTH_E_FORMAT && iv == 77);
    CHECK(strstr(err.msg, "has type f32, expected an integer"));
    CHECK(hearth_gguf_get_int(g, "bool", &iv, &err) == HEARTH_E_FORMAT);
    CHECK(hearth_gguf_get_int(g, "arr", &iv, &err) == HEARTH_E_FORMAT);
    CHECK(strstr(err.msg, "has type arr[i32]"));
    double dv = 0;
    CHECK(!hearth_gguf_get_float(g, "f32", &dv, &err) && dv == 2.5);
    CHECK(!hearth_gguf_get_float(g, "f64", &dv, &err) && dv == -0.125);
    dv = 9;
    CHECK(hearth_gguf_get_float(g, "u32", &dv, &err) == HEARTH_E_FORMAT && dv == 9);
    CHECK(strstr(err.msg, "expected f32 or f64"));

    /* Exact getters. */
    uint32_t u = 1;
    CHECK(!hearth_gguf_get_u32(g, "u32", &u, &err) && u == 3000000000u);
    u = 1;
    CHECK(hearth_gguf_get_u32(g, "i32", &u, &err) == HEARTH_E_FORMAT && u == 1);
    CHECK(strstr(err.msg, "key 'i32' has type i32, expected u32"));
    CHECK(strstr(err.msg, "(at offset "));
    CHECK(hearth_gguf_get_u32(g, "u64", &u, &err) == HEARTH_E_FORMAT && u == 1);
    int32_t i = 0;
    CHECK(!hearth_gguf_get_i32(g, "i32", &i, &err) && i == -5);
    CHECK(hearth_gguf_get_i32(g, "u32", &i, &err) == HEARTH_E_FORMAT);
    uint64_t u64v = 0;
    CHECK(!hearth_gguf_get_u64(g, "u64big", &u64v, &err) && u64v == big);
    CHECK(hearth_gguf_get_u64(g, "i64", &u64v, &err) == HEARTH_E_FORMAT);
    float f = 0;
    CHECK(!hearth_gguf_get_f32(g, "f32", &f, &err) && f == 2.5f);
    CHECK(hearth_gguf_get_f32(g, "f64", &f, &err) == HEARTH_E_FORMAT && f == 2.5f);
    bool b = false;
    CHECK(!hearth_gguf_get_bool(g, "bool", &b, &err) && b);
    CHECK(hearth_gguf_get_bool(g, "u8", &b, &err) == HEARTH_E_FORMAT);
    const char *s = NULL;
    size_t len = 0;
    CHECK(!hearth_gguf_get_str(g, "str", &s, &len, &err) && len == 4);
    CHECK_STR(s, "text");
    CHECK(!hearth_gguf_get_str(g, "str", &s, NULL, NULL)); /* len and err optional */
    s = NULL;
    CHECK(hearth_gguf_get_str(g, "arr", &s, &len, &err) == HEARTH_E_FORMAT && s == NULL);
    hearth_gguf_value v;
    int64_t idx = -5;
    CHECK(!hearth_gguf_get_arr(g, "arr", &v, &idx, &err));
    CHECK(v.n == 3 && v.elem_type == HEARTH_GGUF_INT32 && idx == hearth_gguf_find_key(g, "arr"));
    CHECK(!memcmp(v.data, arr, sizeof arr));
    CHECK(hearth_gguf_get_arr(g, "str", &v, &idx, &err) == HEARTH_E_FORMAT);
    CHECK(strstr(err.msg, "has type str, expected arr"));

    /* Absent keys. */
    CHECK(hearth_gguf_get_u32(g, "missing", &u, &err) == HEARTH_E_NOTFOUND);
    CHECK(strstr(err.msg, "'missing' not found"));
    CHECK(hearth_gguf_get_int(g, "missing", &iv, NULL) == HEARTH_E_NOTFOUND);
    CHECK(hearth_gguf_get_str(g, NULL, &s, &len, &err) == HEARTH_E_NOTFOUND);
    CHECK(hearth_gguf_find_key(g, "missing") == -1 && hearth_gguf_find_key(g, NULL) == -1);
    CHECK(hearth_gguf_find_key(g, "u8") == 0 && hearth_gguf_find_key(g, "arr") == 13);
    CHECK(hearth_gguf_find_key(g, "u") == -1 && hearth_gguf_find_key(g, "u88") == -1);

    /* Out of range. */
    CHECK(hearth_gguf_kv_value(g, -1, &v) == HEARTH_E_ARG);
    CHECK(hearth_gguf_kv_value(g, 14, &v) == HEARTH_E_ARG);
    CHECK(hearth_gguf_arr_str(g, 99, 0, &len) == NULL);
    CHECK(hearth_gguf_find_tensor(g, NULL) == NULL);
    CHECK_EQ_INT(hearth_gguf_alignment(g), 32);
    hearth_gguf_free(g);
    hearth_free(buf);
}

/* Hand-made valid files from tests/data/. */
static void test_good_files(void) {
    char path[1024];
    hearth_gguf *g;
    hearth_error err;
    uint32_t u;

    snprintf(path, sizeof path, "%s/tests/data/good_v2.gguf", HEARTH_SOURCE_DIR);
    REQUIRE(!hearth_gguf_open(path, &g, &err));
    CHECK_EQ_INT(hearth_gguf_version(g), 2);
    CHECK(!hearth_gguf_get_u32(g, "llama.embedding_length", &u, &err) && u == 8);
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(g, "w");
    CHECK(t && t->nbytes == 32);
    float x[8];
    memcpy(x, t->data, sizeof x);
    CHECK(x[0] == 0 && x[7] == 7);
    hearth_gguf_free(g);

    snprintf(path, sizeof path, "%s/tests/data/good_nested.gguf", HEARTH_SOURCE_DIR);
    REQUIRE(!hearth_gguf_open(path, &g, &err));
    hearth_gguf_value v;
    CHECK(!hearth_gguf_get_arr(g, "n", &v, NULL, &err));
    CHECK(v.elem_type == HEARTH_GGUF_ARRAY && v.n == 1 && v.data == NULL);
    hearth_gguf_free(g);

    snprintf(path, sizeof path, "%s/tests/data/good_vocab_no_padding.gguf", HEARTH_SOURCE_DIR);
    REQUIRE(!hearth_gguf_open(path, &g, &err));
    CHECK(hearth_gguf_data_offset(g) > hearth_gguf_file_size(g));
    int64_t idx;
    CHECK(!hearth_gguf_get_arr(g, "tokenizer.ggml.tokens", &v, &idx, &err) && v.n == 2);
    size_t len;
    const char *s = hearth_gguf_arr_str(g, idx, 1, &len);
    CHECK(s && len == 1 && s[0] == 'b');
    hearth_gguf_free(g);

    snprintf(path, sizeof path, "%s/tests/data/good_any_order.gguf", HEARTH_SOURCE_DIR);
    REQUIRE(!hearth_gguf_open(path, &g, &err));
    CHECK_EQ_INT(hearth_gguf_n_tensors(g), 4);
    t = hearth_gguf_find_tensor(g, "b");
    CHECK(t && t->offset == 64 && t->data);
    t = hearth_gguf_find_tensor(g, "e");
    CHECK(t && t->nbytes == 0 && t->data == NULL && t->ne[1] == 3);
    t = hearth_gguf_find_tensor(g, "z");
    CHECK(t && t->nbytes == 0 && t->type == HEARTH_TYPE_Q8_0);
    hearth_gguf_free(g);

    snprintf(path, sizeof path, "%s/tests/data/good_align1.gguf", HEARTH_SOURCE_DIR);
    REQUIRE(!hearth_gguf_open(path, &g, &err));
    CHECK_EQ_INT(hearth_gguf_alignment(g), 1);
    t = hearth_gguf_find_tensor(g, "b");
    CHECK(t && t->offset == 6 && t->nbytes == 4);
    hearth_gguf_free(g);
}

/* A string value with a NUL byte: the C-string getter refuses it naming the
 * key (a caller would read "a" for "a\0b"); the raw value keeps all bytes. */
static void test_str_nul(void) {
    char path[1024];
    hearth_gguf *g;
    hearth_error err;
    snprintf(path, sizeof path, "%s/tests/data/bad_str_nul_name.gguf", HEARTH_SOURCE_DIR);
    REQUIRE(!hearth_gguf_open(path, &g, &err));
    const char *s = "untouched";
    size_t len = 99;
    CHECK(hearth_gguf_get_str(g, "general.name", &s, &len, &err) == HEARTH_E_FORMAT);
    CHECKF(strstr(err.msg, "'general.name'") && strstr(err.msg, "NUL byte at byte 1 of 3"), "%s",
           err.msg);
    CHECK(!strcmp(s, "untouched") && len == 99);
    CHECK(hearth_gguf_get_str(g, "general.name", NULL, NULL, NULL) == HEARTH_E_FORMAT);
    CHECK(!hearth_gguf_get_str(g, "general.architecture", &s, &len, &err) && !strcmp(s, "llama"));
    hearth_gguf_value v;
    CHECK(!hearth_gguf_kv_value(g, hearth_gguf_find_key(g, "general.name"), &v));
    CHECK(v.type == HEARTH_GGUF_STRING && v.n == 3 && !memcmp(v.data, "a\0b", 3));
    hearth_gguf_free(g);
}

/* Many tensors and keys: every one is found by name (hash index). */
static void test_many(void) {
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    REQUIRE(w);
    hearth_error err;
    static float data[4];
    int64_t ne[] = {4};
    enum { N = 3000 };
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "blk.%d.w", i);
        REQUIRE(!hearth_gguf_writer_add_tensor(w, name, HEARTH_TYPE_F32, 1, ne, data, 16, &err));
        snprintf(name, sizeof name, "k.%d", i);
        REQUIRE(!hearth_gguf_writer_set_u32(w, name, (uint32_t)i, &err));
    }
    void *buf;
    hearth_gguf *g = open_written(w, &buf);
    hearth_gguf_writer_free(w);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        char name[32];
        uint32_t u;
        snprintf(name, sizeof name, "blk.%d.w", i);
        if (hearth_gguf_find_tensor(g, name) != hearth_gguf_tensor_at(g, i)) bad++;
        snprintf(name, sizeof name, "k.%d", i);
        if (hearth_gguf_get_u32(g, name, &u, &err) || u != (uint32_t)i) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    hearth_gguf_free(g);
    hearth_free(buf);
}

int main(void) {
    test_getters();
    test_good_files();
    test_str_nul();
    test_many();
    return test_done();
}
