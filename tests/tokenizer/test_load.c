/*
 * test_load.c: building tokenizers from small hand-made GGUF files in
 * memory: BPE merge order on a toy vocabulary, SPM scores and byte
 * fallback, and every load error (each names what is wrong).
 */
#include "test.h"
#include "tok_util.h"

#include <stdint.h>
#include <string.h>

typedef struct {
    const char *model, *pre;
    const char *const *tokens;
    int n_tokens;
    const char *const *merges;
    int n_merges;
    const int32_t *types; /* NULL: none */
    int n_types;
    const float *scores;
    int64_t bos;          /* -1: none */
} spec;

/* Writes spec as a GGUF image and loads a tokenizer from it. */
static hearth_status load(const spec *s, hearth_tokenizer **out, hearth_error *err) {
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    REQUIRE(w != NULL);
    REQUIRE(hearth_gguf_writer_set_str(w, "general.architecture", "llama", NULL) == HEARTH_OK);
    if (s->model) REQUIRE(hearth_gguf_writer_set_str(w, "tokenizer.ggml.model", s->model, NULL) == 0);
    if (s->pre) REQUIRE(hearth_gguf_writer_set_str(w, "tokenizer.ggml.pre", s->pre, NULL) == 0);
    if (s->n_tokens)
        REQUIRE(hearth_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", s->tokens, NULL,
                                               (uint64_t)s->n_tokens, NULL) == 0);
    if (s->n_merges)
        REQUIRE(hearth_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", s->merges, NULL,
                                               (uint64_t)s->n_merges, NULL) == 0);
    if (s->types)
        REQUIRE(hearth_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", HEARTH_GGUF_INT32,
                                           s->types, (uint64_t)s->n_types, NULL) == 0);
    if (s->scores)
        REQUIRE(hearth_gguf_writer_set_arr(w, "tokenizer.ggml.scores", HEARTH_GGUF_FLOAT32,
                                           s->scores, (uint64_t)s->n_tokens, NULL) == 0);
    if (s->bos >= 0)
        REQUIRE(hearth_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)s->bos,
                                           NULL) == 0);
    void *buf;
    size_t len;
    REQUIRE(hearth_gguf_writer_write_buffer(w, &buf, &len, NULL) == HEARTH_OK);
    hearth_gguf_writer_free(w);
    hearth_gguf *g;
    REQUIRE(hearth_gguf_open_buffer(buf, len, &g, NULL) == HEARTH_OK);
    hearth_status st = hearth_tokenizer_load(g, out, err);
    /* The tokenizer copies what it needs: free the file first. */
    hearth_gguf_free(g);
    hearth_free(buf);
    return st;
}

static void expect_fail(const spec *s, hearth_status code, const char *needle) {
    hearth_tokenizer *t = (hearth_tokenizer *)1;
    hearth_error err = {0};
    hearth_status st = load(s, &t, &err);
    CHECKF(st == code, "status %s, want %s (%s)", hearth_status_str(st), hearth_status_str(code),
           err.msg);
    CHECK(t == NULL);
    CHECKF(strstr(err.msg, needle) != NULL, "message '%s' names '%s'", err.msg, needle);
    if (st == HEARTH_OK) hearth_tokenizer_free(t);
}

static size_t tokenize(const hearth_tokenizer *t, const char *s, int32_t *ids) {
    int32_t *v;
    size_t n;
    REQUIRE(hearth_tokenize(t, s, strlen(s), false, false, &v, &n, NULL) == HEARTH_OK);
    memcpy(ids, v, n * sizeof *v);
    hearth_free(v);
    return n;
}

/* "Ġ" is the byte-level character of the space. */
static const char *const bpe_tokens[] = {"a", "b", "c", "\xc4\xa0", "bc", "ab", "abc", "\xc4\xa0" "a",
                                         "<|end|>"};
static const int32_t bpe_types[] = {1, 1, 1, 1, 1, 1, 1, 1, 3};

static void toy_bpe(void) {
    /* The lower rank wins: "b c" (rank 0) before "a b" (rank 1), so "abc"
     * is a + bc, and then "a bc" has no merge... unless listed. */
    const char *const merges1[] = {"b c", "a b", "ab c"};
    spec s = {"gpt2", "gpt-2", bpe_tokens, 9, merges1, 3, bpe_types, 9, NULL, -1};
    hearth_tokenizer *t;
    hearth_error err = {0};
    REQUIRE(load(&s, &t, &err) == HEARTH_OK);
    int32_t ids[16];
    size_t n = tokenize(t, "abc", ids);
    CHECK(n == 2 && ids[0] == 0 && ids[1] == 4);
    hearth_tokenizer_free(t);
    const char *const merges2[] = {"a b", "b c", "ab c", "\xc4\xa0 a"};
    s.merges = merges2;
    s.n_merges = 4;
    REQUIRE(load(&s, &t, &err) == HEARTH_OK);
    n = tokenize(t, "abc", ids);
    CHECK(n == 1 && ids[0] == 6);
    /* " abc": "a b" (rank 0) goes before "Ġ a" (rank 3), so Ġ stays alone. */
    n = tokenize(t, "abc abc", ids);
    CHECK(n == 3 && ids[0] == 6 && ids[1] == 3 && ids[2] == 6);
    n = tokenize(t, " a", ids);
    CHECK(n == 1 && ids[0] == 7);
    /* Bytes without a token are dropped; control text stays text. */
    n = tokenize(t, "ad", ids);
    CHECK(n == 1 && ids[0] == 0);
    CHECK_EQ_INT(hearth_token_bos(t), -1);
    hearth_tokenizer_free(t);
}

static void toy_spm(void) {
    static const char *const tok[] = {"<unk>", "<s>", "</s>", "<0x41>", "<0xC3>", "<0xA9>",
                                      "\xe2\x96\x81", "a", "b", "\xe2\x96\x81" "a", "ab",
                                      "\xe2\x96\x81" "ab"};
    static const int32_t ty[] = {2, 3, 3, 6, 6, 6, 1, 1, 1, 1, 1, 1};
    static const float sc[] = {0, 0, 0, 0, 0, 0, -5, -1, -1, -2, -3, -1};
    spec s = {"llama", NULL, tok, 12, NULL, 0, ty, 12, sc, -1};
    hearth_tokenizer *t;
    hearth_error err = {0};
    REQUIRE(load(&s, &t, &err) == HEARTH_OK);
    CHECK_EQ_INT(hearth_token_bos(t), 1);
    CHECK_EQ_INT(hearth_token_eos(t), 2);
    CHECK_EQ_INT(hearth_token_unk(t), 0);
    CHECK(hearth_tokenizer_add_bos(t));
    int32_t ids[16];
    /* "▁ab": ▁a (-2) vs ab (-3): ▁a first, then ▁a+b = ▁ab. */
    size_t n = tokenize(t, "ab", ids);
    CHECK(n == 1 && ids[0] == 11);
    /* "A" has no token: byte fallback <0x41>; "é" is C3 A9. "Z" has no
     * byte token either: unk. */
    n = tokenize(t, "\xc3\xa9" "AZ", ids);
    CHECK(n == 5 && ids[0] == 6 && ids[1] == 4 && ids[2] == 5 && ids[3] == 3 && ids[4] == 0);
    hearth_tokenizer_free(t);
}

static void errors(void) {
    static const int32_t bad_types[] = {1, 1, 1, 1, 1, 1, 1, 1, 9};
    const char *const merges[] = {"a b"};
    const char *const merges_unknown[] = {"a b", "a zz"};
    const char *const merges_nospace[] = {"ab"};
    const char *const merges_result[] = {"c a"};
    spec s = {"wordpiece-x", NULL, bpe_tokens, 9, merges, 1, bpe_types, 9, NULL, -1};
    expect_fail(&s, HEARTH_E_UNSUPPORTED, "'wordpiece-x'");
    s.model = "gpt2";
    s.pre = "mystery-pre";
    expect_fail(&s, HEARTH_E_UNSUPPORTED, "'mystery-pre'");
    s.pre = "gpt-2";
    s.bos = 999;
    expect_fail(&s, HEARTH_E_FORMAT, "bos_token_id 999");
    s.bos = -1;
    s.merges = merges_unknown;
    s.n_merges = 2;
    expect_fail(&s, HEARTH_E_FORMAT, "'zz'");
    s.merges = merges_nospace;
    s.n_merges = 1;
    expect_fail(&s, HEARTH_E_FORMAT, "merges[0]");
    s.merges = merges_result;
    expect_fail(&s, HEARTH_E_FORMAT, "not in the vocabulary");
    s.merges = merges;
    s.n_types = 5;
    expect_fail(&s, HEARTH_E_FORMAT, "token_type has 5 entries");
    s.n_types = 9;
    s.types = bad_types;
    expect_fail(&s, HEARTH_E_FORMAT, "token_type[8] = 9");
    s.types = bpe_types;
    s.n_merges = 0;
    expect_fail(&s, HEARTH_E_FORMAT, "merges");
    s.n_tokens = 0;
    expect_fail(&s, HEARTH_E_FORMAT, "tokenizer.ggml.tokens");
    s.model = NULL;
    expect_fail(&s, HEARTH_E_FORMAT, "tokenizer.ggml.model");
    static const char *const sp[] = {"<unk>", "<0xZZ>"};
    static const int32_t spt[] = {2, 6};
    spec s2 = {"llama", NULL, sp, 2, NULL, 0, spt, 2, NULL, -1};
    expect_fail(&s2, HEARTH_E_FORMAT, "<0xZZ>");

    /* A real WordPiece vocabulary: named as unknown. */
    char path[16384];
    snprintf(path, sizeof path, "%s/ggml-vocab-bert-bge.gguf", tok_vocab_dir());
    hearth_gguf *g;
    if (hearth_gguf_open(path, &g, NULL) == HEARTH_OK) {
        hearth_tokenizer *t;
        hearth_error err = {0};
        CHECK(hearth_tokenizer_load(g, &t, &err) == HEARTH_E_UNSUPPORTED);
        CHECK(strstr(err.msg, "'bert'") != NULL);
        hearth_gguf_free(g);
    }
}

int main(void) {
    toy_bpe();
    toy_spm();
    errors();
    return test_done();
}
