/*
 * test_load.c: building tokenizers from small hand-made GGUF files in
 * memory: BPE merge order on a toy vocabulary, SPM scores and byte
 * fallback, every load error (each names what is wrong), and the
 * allocation-failure sweep (every allocation of load, tokenize and
 * detokenize made to fail in turn: a clean HEARTH_E_NOMEM, no leak).
 */
#include "test.h"
#include "tok_util.h"

#include "util/alloc.h"

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

/* "Ġ" is the byte-level character of the space. The toy BPE vocabulary is
 * these 9 tokens, then the byte-level characters of the other 252 bytes (a
 * "gpt2" vocabulary must have a token for every byte text may hold). */
static const char *const toy_tokens[] = {"a", "b", "c", "\xc4\xa0", "bc", "ab", "abc", "\304\240a",
                                         "<|end|>"};
#define N_BPE (9 + 252)
static const char *bpe_tokens[N_BPE];
static int32_t bpe_types[N_BPE];
static char byte_chars[256][3];

/* GPT-2's byte-level character of byte b, as UTF-8. */
static void byte_char(unsigned b, char out[3]) {
    unsigned cp = b, k = 0;
    bool kept = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    if (!kept) {
        for (unsigned x = 0; x < b; x++)
            if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255))) k++;
        cp = 256 + k;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        out[1] = 0;
    } else {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        out[2] = 0;
    }
}

static void make_bpe_vocab(void) {
    int n = 0;
    for (int i = 0; i < 9; i++) {
        bpe_tokens[n] = toy_tokens[i];
        bpe_types[n++] = i == 8 ? 3 : 1;
    }
    for (unsigned b = 0; b < 256; b++) {
        if (b == 'a' || b == 'b' || b == 'c' || b == ' ') continue;
        byte_char(b, byte_chars[b]);
        bpe_tokens[n] = byte_chars[b];
        bpe_types[n++] = 1;
    }
    REQUIRE(n == N_BPE);
}

/* The toy vocabulary's id of byte b's token. */
static int32_t bpe_byte(unsigned char b) {
    if (b == 'a' || b == 'b' || b == 'c') return b - 'a';
    if (b == ' ') return 3;
    int32_t id = 9;
    for (unsigned x = 0; x < b; x++) id += !(x == 'a' || x == 'b' || x == 'c' || x == ' ');
    return id;
}

static void toy_bpe(void) {
    /* The lower rank wins: "b c" (rank 0) before "a b" (rank 1), so "abc"
     * is a + bc, and then "a bc" has no merge... unless listed. */
    const char *const merges1[] = {"b c", "a b", "ab c"};
    spec s = {"gpt2", "gpt-2", bpe_tokens, N_BPE, merges1, 3, bpe_types, N_BPE, NULL, -1};
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
    /* A byte without a merge stays its byte token. */
    n = tokenize(t, "ad", ids);
    CHECK(n == 2 && ids[0] == 0 && ids[1] == bpe_byte('d'));
    CHECK_EQ_INT(hearth_token_bos(t), -1);
    hearth_tokenizer_free(t);

    /* Llama 3 (llama-bpe) takes a piece that is a token whole, whatever the
     * merges say; GPT-2 merges. */
    const char *const merges3[] = {"a b", "\304\240 a"};
    s.merges = merges3;
    s.n_merges = 2;
    REQUIRE(load(&s, &t, &err) == HEARTH_OK);
    n = tokenize(t, "abc", ids);
    CHECK(n == 2 && ids[0] == 5 && ids[1] == 2);
    hearth_tokenizer_free(t);
    s.pre = "llama-bpe";
    REQUIRE(load(&s, &t, &err) == HEARTH_OK);
    CHECK_STR(hearth_tokenizer_pre(t), "llama-bpe");
    CHECK(hearth_tokenizer_add_bos(t) == false); /* no BOS id */
    n = tokenize(t, "abc", ids);
    CHECK(n == 1 && ids[0] == 6);
    hearth_tokenizer_free(t);
    s.pre = "qwen2";
    REQUIRE(load(&s, &t, &err) == HEARTH_OK);
    n = tokenize(t, "abc", ids);
    CHECK(n == 2 && ids[0] == 5 && ids[1] == 2);
    hearth_tokenizer_free(t);
}

static void toy_spm(void) {
    static const char *const tok[] = {"<unk>", "<s>", "</s>", "<0x41>", "<0xC3>", "<0xA9>",
                                      "\xe2\x96\x81", "a", "b", "\342\226\201a", "ab",
                                      "\342\226\201ab"};
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
    /* "ñ" is C3 B1 and there is no <0xB1>: one unk for the character, not
     * <0xC3> (half a character) and then unk. */
    n = tokenize(t, "\xc3\xb1", ids);
    CHECK(n == 2 && ids[0] == 6 && ids[1] == 0);
    hearth_tokenizer_free(t);
}

/* A "gpt2" vocabulary without a token for a byte that text holds is
 * rejected, naming the byte; one without a byte that text (nearly) never
 * holds loads, and that byte gives no token (there is no unk), cleanly. */
static void missing_bytes(void) {
    const char *tokens[N_BPE];
    int32_t types[N_BPE];
    const char *const merges[] = {"a b"};
    int n = 0;
    for (int i = 0; i < N_BPE; i++) {
        if (i == bpe_byte('\n')) continue;
        tokens[n] = bpe_tokens[i];
        types[n++] = bpe_types[i];
    }
    spec s = {"gpt2", "gpt-2", tokens, n, merges, 1, types, n, NULL, -1};
    expect_fail(&s, HEARTH_E_FORMAT, "gpt2 vocabulary has no token for byte 0x0A ('\xc4\x8a')");
    n = 0;
    for (int i = 0; i < N_BPE; i++) {
        if (i == bpe_byte(0x03) || i == bpe_byte(0xC0) || i == bpe_byte(0xFF)) continue;
        tokens[n] = bpe_tokens[i];
        types[n++] = bpe_types[i];
    }
    s.n_tokens = s.n_types = n;
    hearth_tokenizer *t;
    hearth_error err = {0};
    REQUIRE(load(&s, &t, &err) == HEARTH_OK);
    int32_t ids[16];
    /* A word of missing bytes only gives nothing (and no cache entry:
     * this was a null pointer offset under UBSan). */
    size_t k = tokenize(t, "\x03\x03\x03 ab\xc0\xff", ids);
    CHECK_EQ_INT(k, 2);
    CHECK(ids[0] == 3 && ids[1] == 5);
    hearth_tokenizer_free(t);

    /* The same for each byte that must be there. */
    int rejected = 0;
    for (unsigned b = 0; b < 256; b++) {
        n = 0;
        for (int i = 0; i < N_BPE; i++) {
            if (i == bpe_byte((unsigned char)b)) continue;
            tokens[n] = bpe_tokens[i];
            types[n++] = bpe_types[i];
        }
        s.n_tokens = s.n_types = n;
        s.merges = merges;
        s.n_merges = b == 'a' || b == 'b' ? 0 : 1;
        if (s.n_merges == 0) continue; /* "a b" names them */
        hearth_tokenizer *u = NULL;
        hearth_status st = load(&s, &u, &err);
        bool required = b == 9 || b == 10 || b == 13 || (b >= 0x20 && b <= 0x7E) ||
                        (b >= 0x80 && b <= 0xBF) || (b >= 0xC2 && b <= 0xF0);
        CHECKF((st == HEARTH_E_FORMAT) == required, "byte 0x%02X missing: %s (%s)", b,
               hearth_status_str(st), err.msg);
        rejected += st != HEARTH_OK;
        hearth_tokenizer_free(u);
    }
    CHECK(rejected > 150);

    /* The unknown id (0 by default for "llama") is a control token here: a
     * byte without a token is dropped rather than becoming it. */
    static const char *const sp[] = {"<s>", "</s>", "\xe2\x96\x81", "a"};
    static const int32_t spt[] = {3, 3, 1, 1};
    static const float sps[] = {0, 0, -1, -1};
    spec s2 = {"llama", NULL, sp, 4, NULL, 0, spt, 4, sps, -1};
    REQUIRE(load(&s2, &t, &err) == HEARTH_OK);
    CHECK_EQ_INT(hearth_token_unk(t), 0);
    k = tokenize(t, "a z", ids);
    CHECK(k == 3 && ids[0] == 2 && ids[1] == 3 && ids[2] == 2);
    for (size_t i = 0; i < k; i++) CHECK(!hearth_token_is_control(t, ids[i]));
    hearth_tokenizer_free(t);
}

static void errors(void) {
    int32_t bad_types[N_BPE];
    memcpy(bad_types, bpe_types, sizeof bad_types);
    bad_types[8] = 9;
    const char *const merges[] = {"a b"};
    const char *const merges_unknown[] = {"a b", "a zz"};
    const char *const merges_nospace[] = {"ab"};
    const char *const merges_result[] = {"c a"};
    spec s = {"wordpiece-x", NULL, bpe_tokens, N_BPE, merges, 1, bpe_types, N_BPE, NULL, -1};
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
    s.n_types = N_BPE;
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

    /* An unknown model is named. */
    spec s3 = {"t5", NULL, sp, 2, NULL, 0, spt, 2, NULL, -1};
    expect_fail(&s3, HEARTH_E_UNSUPPORTED, "'t5'");

    /* A real WordPiece vocabulary loads as "bert", [CLS] text [SEP]. */
    char path[16384];
    snprintf(path, sizeof path, "%s/ggml-vocab-bert-bge.gguf", tok_vocab_dir());
    hearth_gguf *g;
    if (hearth_gguf_open(path, &g, NULL) == HEARTH_OK) {
        hearth_tokenizer *t = NULL;
        hearth_error err = {0};
        CHECK(hearth_tokenizer_load(g, &t, &err) == HEARTH_OK);
        if (t) {
            CHECK(!strcmp(hearth_tokenizer_model(t), "bert"));
            CHECK(hearth_token_bos(t) == 101 && hearth_token_eos(t) == 102);
            CHECK(hearth_token_unk(t) == 100);
            int32_t *ids = NULL;
            size_t n = 0;
            CHECK(hearth_tokenize(t, "Hello world", 11, true, false, &ids, &n, &err) == HEARTH_OK);
            CHECK(n == 4 && ids[0] == 101 && ids[1] == 7592 && ids[2] == 2088 && ids[3] == 102);
            hearth_free(ids);
            /* BERT's word limit: more than 100 characters is one [UNK] */
            char w[160];
            memset(w, 'a', sizeof w);
            CHECK(hearth_tokenize(t, w, 101, false, false, &ids, &n, &err) == HEARTH_OK);
            CHECK(n == 1 && ids[0] == 100);
            hearth_free(ids);
            CHECK(hearth_tokenize(t, w, 100, false, false, &ids, &n, &err) == HEARTH_OK);
            CHECK(n > 1 && ids[0] != 100);
            hearth_free(ids);
            /* accents go, case folds, punctuation splits: "Ünïcode," = "unicode" "," */
            int32_t *ids2 = NULL;
            size_t n2 = 0;
            CHECK(hearth_tokenize(t, "\xc3\x9c" "n\xc3\xaf" "code,", 10, false, false, &ids, &n, &err) == HEARTH_OK);
            CHECK(hearth_tokenize(t, "unicode ,", 9, false, false, &ids2, &n2, &err) == HEARTH_OK);
            CHECK(n == n2 && n > 0 && !memcmp(ids, ids2, n * sizeof *ids));
            hearth_free(ids);
            hearth_free(ids2);
            hearth_tokenizer_free(t);
        }
        hearth_gguf_free(g);
    }
}

/* Runs load + tokenize + detokenize + stream on one GGUF image; returns the
 * first failing status. */
static hearth_status full_cycle(const hearth_gguf *g, const char *text) {
    hearth_tokenizer *t = NULL;
    hearth_status st = hearth_tokenizer_load(g, &t, NULL);
    if (st) {
        CHECK(t == NULL);
        return st;
    }
    int32_t *ids = NULL;
    size_t n = 0;
    char *back = NULL;
    size_t len;
    hearth_detok *d = NULL;
    if ((st = hearth_tokenize(t, text, strlen(text), true, true, &ids, &n, NULL))) goto out;
    if ((st = hearth_detokenize(t, ids, n, false, &back, &len, NULL))) goto out;
    if ((st = hearth_detok_new(t, false, true, &d, NULL))) goto out;
    for (size_t i = 0; i < n; i++) {
        const char *p;
        size_t l;
        if ((st = hearth_detok_push(d, ids[i], &p, &l, NULL))) goto out;
    }
out:
    hearth_detok_free(d);
    hearth_free(back);
    hearth_free(ids);
    hearth_tokenizer_free(t);
    return st;
}

static void alloc_sweep(const char *model, const char *pre, const char *const *tokens, int nt,
                        const char *const *merges, int nm, const int32_t *types,
                        const float *scores, const char *text) {
    spec s = {model, pre, tokens, nt, merges, nm, types, nt, scores, -1};
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    REQUIRE(w != NULL);
    REQUIRE(hearth_gguf_writer_set_str(w, "tokenizer.ggml.model", s.model, NULL) == 0);
    if (pre) REQUIRE(hearth_gguf_writer_set_str(w, "tokenizer.ggml.pre", pre, NULL) == 0);
    REQUIRE(hearth_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", tokens, NULL, (uint64_t)nt,
                                           NULL) == 0);
    if (nm)
        REQUIRE(hearth_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", merges, NULL,
                                               (uint64_t)nm, NULL) == 0);
    REQUIRE(hearth_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", HEARTH_GGUF_INT32, types,
                                       (uint64_t)nt, NULL) == 0);
    if (scores)
        REQUIRE(hearth_gguf_writer_set_arr(w, "tokenizer.ggml.scores", HEARTH_GGUF_FLOAT32,
                                           scores, (uint64_t)nt, NULL) == 0);
    void *buf;
    size_t len;
    REQUIRE(hearth_gguf_writer_write_buffer(w, &buf, &len, NULL) == HEARTH_OK);
    hearth_gguf_writer_free(w);
    hearth_gguf *g;
    REQUIRE(hearth_gguf_open_buffer(buf, len, &g, NULL) == HEARTH_OK);
    REQUIRE(full_cycle(g, text) == HEARTH_OK);
    int n_fail = 0;
    for (long n = 1; n < 100000; n++) {
        hearth_alloc_fail_after(n);
        hearth_status st = full_cycle(g, text);
        long made = hearth_alloc_fail_after(0);
        /* Success with a failed allocation is fine for the optional word
         * cache (tokenizing goes on without it); done once none failed. */
        if (st == HEARTH_OK) {
            if (made < n) break;
            continue;
        }
        CHECKF(st == HEARTH_E_NOMEM, "%s: allocation %ld failing gives %s", model, n,
               hearth_status_str(st));
        n_fail++;
    }
    CHECK(n_fail > 5);
    hearth_gguf_free(g);
    hearth_free(buf);
}

int main(void) {
    make_bpe_vocab();
    {
        const char *const merges[] = {"a b", "b c", "ab c", "\xc4\xa0 a"};
        alloc_sweep("gpt2", "gpt-2", bpe_tokens, N_BPE, merges, 4, bpe_types, NULL,
                    "abc abc<|end|> ab ca");
        static const char *const tok[] = {"<unk>", "<s>", "</s>", "<0x41>", "\xe2\x96\x81",
                                          "a", "b", "\342\226\201a"};
        static const int32_t ty[] = {2, 3, 3, 6, 1, 1, 1, 1};
        static const float sc[] = {0, 0, 0, 0, -5, -1, -1, -2};
        alloc_sweep("llama", NULL, tok, 8, NULL, 0, ty, sc, "ab A</s>ba");
    }
    toy_bpe();
    toy_spm();
    missing_bytes();
    errors();
    return test_done();
}
