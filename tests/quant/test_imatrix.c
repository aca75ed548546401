/*
 * test_imatrix.c: importance matrices (src/quant/imatrix.c,
 * imatrix_collect.c).
 *  - legacy .dat: the bytes follow llama.cpp's layout (checked field by
 *    field here, independently of the reader), and parse back to the same
 *    means; GGUF: written and read back the same, with llama.cpp's keys and
 *    tensor names;
 *  - every truncation of a valid file, and files with a bad count, a bad
 *    name length, a too-large nval or a NaN, are rejected cleanly;
 *  - collecting over a generated model gives one entry per block matrix
 *    (7 per layer, no output), each as long as the matrix's rows, with
 *    positive means; attn_q/k/v see the same (normed) input.
 */
#include "genutil.h"
#include "quant/imatrix.h"
#include "test.h"
#include "util/alloc.h"

#include <stdint.h>

static int32_t rd32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

static hearth_imatrix *sample(void) {
    hearth_imatrix *im;
    hearth_error e = {0};
    REQUIRE(!hearth_imatrix_new(8, &im, &e));
    float x[3 * 4];
    for (int i = 0; i < 12; i++) x[i] = (float)(i % 4 + 1) * (i < 4 ? 1.f : 2.f); /* rows */
    /* b before a: the file is sorted by name */
    REQUIRE(!hearth_imatrix_add(im, "blk.0.b.weight", x, 3, 4, &e));
    REQUIRE(!hearth_imatrix_add(im, "blk.0.a.weight", x, 2, 6, &e));
    CHECK(hearth_imatrix_add(im, "blk.0.a.weight", x, 1, 5, &e) == HEARTH_E_ARG);
    REQUIRE(!hearth_imatrix_set_dataset(im, "calib.txt", &e));
    im->n_chunks = 3;
    return im;
}

static void test_dat_layout(void) {
    hearth_imatrix *im = sample();
    hearth_error e = {0};
    void *buf;
    size_t len;
    REQUIRE(!hearth_imatrix_write_dat(im, &buf, &len, &e));
    const uint8_t *p = buf;
    CHECK_EQ_INT(rd32(p), 2);
    p += 4;
    /* entry 0: blk.0.a.weight, 2 rows over chunk size 8 -> ncall 1 */
    CHECK_EQ_INT(rd32(p), 14);
    CHECK(!memcmp(p + 4, "blk.0.a.weight", 14));
    p += 18;
    CHECK_EQ_INT(rd32(p), 1);     /* ncall */
    CHECK_EQ_INT(rd32(p + 4), 6); /* nval */
    p += 8;
    /* column 0 of the 2 rows of 6: x[0]=1, x[6]=3*2=6 -> mean (1+36)/2, times ncall 1 */
    float v0;
    memcpy(&v0, p, 4);
    CHECKF(fabsf(v0 - 18.5f) < 1e-5f, "%g", (double)v0);
    p += 6 * 4;
    CHECK_EQ_INT(rd32(p), 14);
    CHECK(!memcmp(p + 4, "blk.0.b.weight", 14));
    p += 18 + 8 + 4 * 4;
    CHECK_EQ_INT(rd32(p), 3); /* chunks */
    CHECK_EQ_INT(rd32(p + 4), 9);
    CHECK(!memcmp(p + 8, "calib.txt", 9));
    CHECK_EQ_INT((size_t)(p + 17 - (const uint8_t *)buf), len);

    /* and back */
    hearth_imatrix *back;
    REQUIRE(!hearth_imatrix_parse(buf, len, 8, &back, &e));
    CHECK_EQ_INT(back->n_entries, 2);
    CHECK_EQ_INT(back->n_chunks, 3);
    CHECK_STR(back->dataset, "calib.txt");
    for (int k = 0; k < 2; k++) {
        const hearth_imatrix_entry *a = &im->e[k], *b = hearth_imatrix_find(back, a->name);
        REQUIRE(b && b->n == a->n);
        float ma[8], mb[8];
        hearth_imatrix_mean(a, ma);
        hearth_imatrix_mean(b, mb);
        for (int64_t i = 0; i < a->n; i++) CHECKF(fabsf(ma[i] - mb[i]) < 1e-5f * ma[i], "%g %g", ma[i], mb[i]);
    }
    hearth_imatrix_free(back);

    /* every truncation fails cleanly or (past the entries: the trailer is
     * optional) parses */
    for (size_t n = 0; n < len; n++) {
        hearth_imatrix *t = NULL;
        hearth_status st = hearth_imatrix_parse(buf, n, 8, &t, &e);
        size_t entries_end = len - 17;
        CHECKF(n >= entries_end ? st == HEARTH_OK : st == HEARTH_E_FORMAT, "prefix %zu: %d", n, st);
        hearth_imatrix_free(t);
    }
    /* damaged fields */
    uint8_t *d = malloc(len);
    int32_t bad[] = {0, -1, 70000};
    for (int k = 0; k < 3; k++) {
        memcpy(d, buf, len);
        memcpy(d, &bad[k], 4); /* entry count */
        hearth_imatrix *t = NULL;
        CHECK(hearth_imatrix_parse(d, len, 8, &t, &e) == HEARTH_E_FORMAT);
        memcpy(d, buf, len);
        memcpy(d + 4, &bad[k], 4); /* name length */
        CHECK(hearth_imatrix_parse(d, len, 8, &t, &e) == HEARTH_E_FORMAT);
        memcpy(d, buf, len);
        memcpy(d + 4 + 18 + 4, &bad[k], 4); /* nval */
        CHECK(hearth_imatrix_parse(d, len, 8, &t, &e) == HEARTH_E_FORMAT);
    }
    memcpy(d, buf, len);
    float nan = NAN;
    memcpy(d + 4 + 18 + 8, &nan, 4);
    hearth_imatrix *t = NULL;
    CHECK(hearth_imatrix_parse(d, len, 8, &t, &e) == HEARTH_E_FORMAT);
    free(d);
    hearth_free(buf);
    hearth_imatrix_free(im);
}

static void test_gguf_round_trip(void) {
    hearth_imatrix *im = sample();
    hearth_error e = {0};
    char path[4096];
    snprintf(path, sizeof path, "%s/im.gguf", tmpdir_path());
    REQUIRE(!hearth_imatrix_save(im, path, &e));
    hearth_gguf *g;
    REQUIRE(!hearth_gguf_open(path, &g, &e));
    const char *type;
    CHECK(!hearth_gguf_get_str(g, "general.type", &type, NULL, &e) && !strcmp(type, "imatrix"));
    uint32_t cs = 0, cc = 0;
    CHECK(!hearth_gguf_get_u32(g, "imatrix.chunk_size", &cs, &e) && cs == 8);
    CHECK(!hearth_gguf_get_u32(g, "imatrix.chunk_count", &cc, &e) && cc == 3);
    const hearth_gguf_tensor *s = hearth_gguf_find_tensor(g, "blk.0.b.weight.in_sum2");
    const hearth_gguf_tensor *c = hearth_gguf_find_tensor(g, "blk.0.b.weight.counts");
    REQUIRE(s && c);
    CHECK(s->type == HEARTH_TYPE_F32 && s->ne[0] == 4 && c->ne[0] == 1);
    float cnt, s0;
    memcpy(&cnt, c->data, 4);
    memcpy(&s0, s->data, 4);
    CHECK(cnt == 3.f);
    CHECK(s0 == 1.f + 4.f + 4.f); /* column 0 over rows 1, 2, 2 */
    hearth_gguf_free(g);
    hearth_imatrix *back;
    REQUIRE(!hearth_imatrix_load(path, 512, &back, &e));
    CHECK_EQ_INT(back->n_entries, 2);
    CHECK_EQ_INT(back->chunk_size, 8);
    CHECK_STR(back->dataset, "calib.txt");
    const hearth_imatrix_entry *b = hearth_imatrix_find(back, "blk.0.b.weight");
    REQUIRE(b);
    CHECK(b->count == 3 && b->sum2[0] == 9.0);
    hearth_imatrix_free(back);
    /* .dat by file name */
    snprintf(path, sizeof path, "%s/im.dat", tmpdir_path());
    REQUIRE(!hearth_imatrix_save(im, path, &e));
    REQUIRE(!hearth_imatrix_load(path, 8, &back, &e));
    CHECK_EQ_INT(back->n_entries, 2);
    hearth_imatrix_free(back);
    hearth_imatrix_free(im);
}

static void test_collect(void) {
    const char *path = genmodel("m.gguf", "--arch llama --preset tiny256 --n-layer 2 --n-ff 512 --type F16");
    REQUIRE(path);
    hearth_error e = {0};
    hearth_model_params mp = hearth_model_default_params();
    hearth_model *m;
    REQUIRE(!hearth_model_open(path, &mp, &m, &e));
    int32_t toks[64 * 3];
    for (int i = 0; i < 64 * 3; i++) toks[i] = (i * 37 + 11) % hearth_model_n_vocab(m);
    hearth_imatrix *im;
    REQUIRE(!hearth_imatrix_new(64, &im, &e));
    REQUIRE(!hearth_imatrix_collect(m, toks, 64 * 3, 64, 2, 2, im, NULL, NULL, &e));
    CHECK_EQ_INT(im->n_chunks, 2);
    CHECK_EQ_INT(im->n_entries, 14);
    CHECK(!hearth_imatrix_find(im, "output.weight"));
    const char *names[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
    for (int il = 0; il < 2; il++)
        for (int k = 0; k < 7; k++) {
            char n[64];
            snprintf(n, sizeof n, "blk.%d.%s.weight", il, names[k]);
            const hearth_imatrix_entry *x = hearth_imatrix_find(im, n);
            CHECKF(x != NULL, "%s missing", n);
            if (!x) continue;
            CHECK_EQ_INT(x->n, !strcmp(names[k], "ffn_down") ? 512 : 256);
            CHECK_EQ_INT(x->count, 128);
            for (int64_t i = 0; i < x->n; i++) CHECK(x->sum2[i] > 0);
        }
    const hearth_imatrix_entry *q = hearth_imatrix_find(im, "blk.1.attn_q.weight"),
                               *v = hearth_imatrix_find(im, "blk.1.attn_v.weight");
    REQUIRE(q && v);
    CHECK(!memcmp(q->sum2, v->sum2, (size_t)q->n * sizeof *q->sum2));
    /* too few tokens */
    CHECK(hearth_imatrix_collect(m, toks, 10, 64, 0, 1, im, NULL, NULL, &e) == HEARTH_E_ARG);
    hearth_imatrix_free(im);
    hearth_model_free(m);
}

int main(void) {
    test_dat_layout();
    test_gguf_round_trip();
    test_collect();
    tmpdir_cleanup();
    return test_done();
}
