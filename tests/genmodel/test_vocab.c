/*
 * test_vocab.c: the tokenizer hearth-genmodel writes. A generated vocabulary
 * is a valid GPT-2 style byte-level BPE (256 byte tokens, unique spellings,
 * every merge's parts and result are tokens, every merged token has a merge,
 * control tokens last) of exactly the requested size, small (merges learned
 * from text only) and large (synthetic merges too); --vocab copies every
 * tokenizer.* key of a vocab GGUF unchanged and takes n_vocab from it.
 */
#include "gm_helpers.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t len;
    int64_t id;
} tok;

static int cmp_tok(const void *a, const void *b) {
    const tok *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static int64_t find_tok(const tok *sorted, int64_t n, const char *s, size_t len) {
    tok key = {s, len, 0};
    const tok *t = bsearch(&key, sorted, (size_t)n, sizeof *sorted, cmp_tok);
    return t ? t->id : -1;
}

/* Decodes UTF-8 code point at s (1 or 2 bytes here); returns its length. */
static int utf8_cp(const char *s, size_t len, uint32_t *cp) {
    const uint8_t *u = (const uint8_t *)s;
    if (len >= 1 && u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    if (len >= 2 && (u[0] & 0xe0) == 0xc0 && (u[1] & 0xc0) == 0x80) {
        *cp = (uint32_t)(u[0] & 0x1f) << 6 | (u[1] & 0x3f);
        return 2;
    }
    return 0;
}

static void check_generated(const char *path, int64_t n_vocab, const char *arch) {
    hearth_gguf *g = gm_open(path);
    hearth_gguf_value v;
    int64_t ki, kt, km;
    REQUIRE(hearth_gguf_get_arr(g, "tokenizer.ggml.tokens", &v, &ki, NULL) == HEARTH_OK);
    CHECK_EQ_INT(v.n, n_vocab);
    CHECK_EQ_INT(v.elem_type, HEARTH_GGUF_STRING);
    char key[64];
    snprintf(key, sizeof key, "%s.vocab_size", arch);
    CHECK_EQ_INT(gm_u32(g, key), n_vocab);
    const hearth_gguf_tensor *emb = hearth_gguf_find_tensor(g, "token_embd.weight");
    CHECK(emb && emb->ne[1] == n_vocab);

    tok *t = calloc((size_t)n_vocab, sizeof *t);
    REQUIRE(t);
    for (int64_t i = 0; i < n_vocab; i++) {
        t[i].s = hearth_gguf_arr_str(g, ki, (uint64_t)i, &t[i].len);
        t[i].id = i;
        REQUIRE(t[i].s);
    }

    /* Types: normal, then the three control tokens. */
    REQUIRE(hearth_gguf_get_arr(g, "tokenizer.ggml.token_type", &v, &kt, NULL) == HEARTH_OK);
    CHECK_EQ_INT(v.elem_type, HEARTH_GGUF_INT32);
    CHECK_EQ_INT(v.n, n_vocab);
    int bad_type = 0;
    for (int64_t i = 0; i < n_vocab && v.n == (uint64_t)n_vocab; i++) {
        int32_t ty;
        memcpy(&ty, (const char *)v.data + 4 * i, 4);
        bad_type += ty != (i >= n_vocab - 3 ? 3 : 1);
    }
    CHECK_EQ_INT(bad_type, 0);
    const char *ctl[3] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    for (int k = 0; k < 3; k++) {
        const tok *c = &t[n_vocab - 3 + k];
        CHECKF(c->len == strlen(ctl[k]) && !memcmp(c->s, ctl[k], c->len), "control %d", k);
    }
    CHECK_EQ_INT(gm_u32(g, "tokenizer.ggml.bos_token_id"), n_vocab - 3);
    CHECK_EQ_INT(gm_u32(g, "tokenizer.ggml.eos_token_id"), n_vocab - 1);
    CHECK_EQ_INT(gm_u32(g, "tokenizer.ggml.padding_token_id"), n_vocab - 3);
    CHECK(strstr(gm_str(g, "tokenizer.chat_template"), "<|im_start|>") != NULL);
    CHECK_STR(gm_str(g, "tokenizer.ggml.model"), "gpt2");

    /* The first 256 tokens are the 256 bytes, each once, through the
     * bytes-to-unicode map (code points 33..126, 161..172, 174..255 stand for
     * themselves; 256..323 for the other 68 bytes). */
    int seen[324] = {0}, bad_byte = 0;
    for (int i = 0; i < 256; i++) {
        uint32_t cp = 0;
        int l = utf8_cp(t[i].s, t[i].len, &cp);
        if (l == 0 || (size_t)l != t[i].len || cp >= 324 || seen[cp]++) bad_byte++;
        bool printable = (cp >= 33 && cp <= 126) || (cp >= 161 && cp <= 172) || (cp >= 174 && cp <= 255);
        if (cp < 256 && !printable) bad_byte++;
    }
    CHECK_EQ_INT(bad_byte, 0);
    /* GPT-2's order: '!' first. */
    CHECK(t[0].len == 1 && t[0].s[0] == '!');

    /* Unique spellings. */
    tok *sorted = malloc((size_t)n_vocab * sizeof *sorted);
    REQUIRE(sorted);
    memcpy(sorted, t, (size_t)n_vocab * sizeof *sorted);
    qsort(sorted, (size_t)n_vocab, sizeof *sorted, cmp_tok);
    int dups = 0;
    for (int64_t i = 1; i < n_vocab; i++) dups += !cmp_tok(&sorted[i - 1], &sorted[i]);
    CHECK_EQ_INT(dups, 0);

    /* Merges: "left right", both parts and the result are tokens; every
     * non-byte, non-control token is some merge's result. */
    REQUIRE(hearth_gguf_get_arr(g, "tokenizer.ggml.merges", &v, &km, NULL) == HEARTH_OK);
    CHECK_EQ_INT(v.elem_type, HEARTH_GGUF_STRING);
    CHECK(v.n >= (uint64_t)(n_vocab - 259));
    char *made = calloc((size_t)n_vocab, 1);
    REQUIRE(made);
    int bad_merge = 0;
    for (uint64_t j = 0; j < v.n; j++) {
        size_t len;
        const char *m = hearth_gguf_arr_str(g, km, j, &len);
        const char *sp = m ? memchr(m, ' ', len) : NULL;
        if (!sp || memchr(sp + 1, ' ', len - (size_t)(sp - m) - 1)) {
            bad_merge++;
            continue;
        }
        size_t la = (size_t)(sp - m), lb = len - la - 1;
        int64_t a = find_tok(sorted, n_vocab, m, la), b = find_tok(sorted, n_vocab, sp + 1, lb);
        char cat[512];
        int64_t r = -1;
        if (la + lb <= sizeof cat) {
            memcpy(cat, m, la);
            memcpy(cat + la, sp + 1, lb);
            r = find_tok(sorted, n_vocab, cat, la + lb);
        }
        if (a < 0 || b < 0 || r < 0 || a >= n_vocab - 3 || b >= n_vocab - 3) {
            if (bad_merge++ < 5) fprintf(stderr, "bad merge %llu: '%.*s'\n", (unsigned long long)j, (int)len, m);
            continue;
        }
        made[r] = 1;
    }
    CHECK_EQ_INT(bad_merge, 0);
    int unmade = 0;
    for (int64_t i = 256; i < n_vocab - 3; i++) unmade += !made[i];
    CHECK_EQ_INT(unmade, 0);

    free(made);
    free(sorted);
    free(t);
    hearth_gguf_free(g);
}

static void test_generated(void) {
    /* Small: every merge learned from the built-in text. */
    REQUIRE(gm_run("--arch llama --n-vocab 300 --type F16 -o %s", gm_path("v1.gguf")) == 0);
    check_generated(gm_path("v1.gguf"), 300, "llama");
    /* Large: past what the text offers, synthetic merges fill the rest. */
    REQUIRE(gm_run("--arch qwen2 --n-vocab 20000 --type Q8_0 -o %s", gm_path("v2.gguf")) == 0);
    check_generated(gm_path("v2.gguf"), 20000, "qwen2");
    /* The smallest allowed size: bytes and control tokens only. */
    REQUIRE(gm_run("--arch llama --n-vocab 259 --type F32 -o %s", gm_path("v3.gguf")) == 0);
    check_generated(gm_path("v3.gguf"), 259, "llama");

    /* The vocabulary does not depend on the seed; the weights do. */
    REQUIRE(gm_run("--arch qwen2 --n-vocab 20000 --type Q8_0 --seed 9 -o %s",
                   gm_path("v4.gguf")) == 0);
    hearth_gguf *a = gm_open(gm_path("v2.gguf")), *b = gm_open(gm_path("v4.gguf"));
    CHECK_EQ_INT(hearth_gguf_data_offset(a), hearth_gguf_data_offset(b));
    hearth_gguf_free(a);
    hearth_gguf_free(b);
}

/* Every tokenizer.* key of src is in out with the same type and value. */
static void check_copied(const char *src_path, const char *out_path) {
    hearth_gguf *s = gm_open(src_path), *o = gm_open(out_path);
    int copied = 0;
    for (int64_t i = 0; i < hearth_gguf_n_kv(s); i++) {
        const char *key = hearth_gguf_kv_key(s, i);
        if (strncmp(key, "tokenizer.", 10)) continue;
        copied++;
        int64_t j = hearth_gguf_find_key(o, key);
        CHECKF(j >= 0, "key %s not copied", key);
        if (j < 0) continue;
        hearth_gguf_value a, b;
        REQUIRE(hearth_gguf_kv_value(s, i, &a) == HEARTH_OK && hearth_gguf_kv_value(o, j, &b) == HEARTH_OK);
        CHECKF(a.type == b.type && a.n == b.n, "key %s: type/length differ", key);
        if (a.type != b.type || a.n != b.n) continue;
        if (a.type == HEARTH_GGUF_ARRAY) {
            CHECKF(a.elem_type == b.elem_type, "key %s: element type", key);
            if (a.elem_type == HEARTH_GGUF_STRING) {
                uint64_t diff = 0;
                for (uint64_t k = 0; k < a.n; k++) {
                    size_t la, lb;
                    const char *x = hearth_gguf_arr_str(s, i, k, &la), *y = hearth_gguf_arr_str(o, j, k, &lb);
                    diff += !x || !y || la != lb || memcmp(x, y, la);
                }
                CHECKF(diff == 0, "key %s: %llu strings differ", key, (unsigned long long)diff);
            } else {
                static const size_t sz[HEARTH_GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
                CHECKF(!memcmp(a.data, b.data, (size_t)a.n * sz[a.elem_type]), "key %s: values", key);
            }
        } else if (a.type == HEARTH_GGUF_STRING) {
            CHECKF(!memcmp(a.data, b.data, (size_t)a.n), "key %s: string", key);
        } else {
            static const size_t sz[HEARTH_GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
            CHECKF(!memcmp(a.data, b.data, sz[a.type]), "key %s: value", key);
        }
    }
    CHECK(copied >= 3);
    hearth_gguf_value v;
    REQUIRE(hearth_gguf_get_arr(s, "tokenizer.ggml.tokens", &v, NULL, NULL) == HEARTH_OK);
    const hearth_gguf_tensor *emb = hearth_gguf_find_tensor(o, "token_embd.weight");
    CHECK(emb && (uint64_t)emb->ne[1] == v.n);
    CHECK_EQ_INT(gm_u32(o, "llama.vocab_size"), v.n);
    hearth_gguf_free(s);
    hearth_gguf_free(o);
}

static void test_copied(void) {
    char src[512];
    snprintf(src, sizeof src, "%s/testdata/vocab/ggml-vocab-gpt-2.gguf", HEARTH_SHARED_DIR);
    REQUIRE(gm_run("--arch llama --type Q8_0 --vocab %s -o %s", src, gm_path("c1.gguf")) == 0);
    check_copied(src, gm_path("c1.gguf"));
    hearth_gguf *g = gm_open(gm_path("c1.gguf"));
    CHECK_EQ_INT(gm_u32(g, "llama.vocab_size"), 50257);
    hearth_gguf_free(g);

    /* SentencePiece vocab: float scores and other numeric arrays copy too. */
    snprintf(src, sizeof src, "%s/testdata/vocab/ggml-vocab-llama-spm.gguf", HEARTH_SHARED_DIR);
    REQUIRE(gm_run("--arch llama --type F16 --vocab %s -o %s", src, gm_path("c2.gguf")) == 0);
    check_copied(src, gm_path("c2.gguf"));

    /* n_vocab comes from the file: a different --n-vocab is an error. */
    CHECK(gm_run("--arch llama --type F16 --n-vocab 1000 --vocab %s -o %s", src, gm_path("c3.gguf")) != 0);
    CHECK(gm_run("--arch llama --type F16 --vocab %s/nonexistent.gguf -o %s", gm_dir(),
                 gm_path("c4.gguf")) != 0);
}

int main(void) {
    gm_failures = &test_failures;
    gm_checks = &test_checks;
    test_generated();
    test_copied();
    gm_cleanup();
    return test_done();
}
