/*
 * fuzz_tokenizer.c: libFuzzer target: tokenizing arbitrary bytes with real
 * vocabularies (GPT-2 byte-level BPE and Llama 2 SentencePiece, from the
 * shared test data) never crashes, and the documented invariants hold: with
 * special parsing off no control token comes out; for GPT-2, which has a
 * token for every byte, detokenize(tokenize(s)) == s byte for byte; the
 * streaming decoder only hands out valid UTF-8.
 *
 * The first input byte picks the vocabulary and the flags; the rest is text.
 * Vocabularies come from $HEARTH_SHARED_DIR/testdata/vocab, else from
 * ../shared next to the source tree.
 */
#include "hearth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c)                                                                     \
    do {                                                                                   \
        if (!(c)) {                                                                        \
            fprintf(stderr, "fuzz_tokenizer: invariant failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

static hearth_tokenizer *vocab[2];

static hearth_tokenizer *load(const char *name) {
    char dir[4096], path[8192];
    const char *env = getenv("HEARTH_SHARED_DIR");
    if (env && *env) {
        snprintf(dir, sizeof dir, "%s", env);
    } else {
        /* __FILE__ is .../tests/fuzz/fuzz_tokenizer.c; shared/ sits beside
         * the source tree. */
        snprintf(dir, sizeof dir, "%s", __FILE__);
        char *cut = strstr(dir, "/tests/fuzz/");
        if (cut) strcpy(cut, "/../shared");
        else snprintf(dir, sizeof dir, "../shared");
    }
    snprintf(path, sizeof path, "%s/testdata/vocab/ggml-vocab-%s.gguf", dir, name);
    hearth_error err = {0};
    hearth_gguf *g;
    hearth_tokenizer *t = NULL;
    if (hearth_gguf_open(path, &g, &err) || hearth_tokenizer_load(g, &t, &err)) {
        fprintf(stderr, "fuzz_tokenizer: %s: %s\n", path, err.msg);
        abort();
    }
    hearth_gguf_free(g);
    return t;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    vocab[0] = load("gpt-2");
    vocab[1] = load("llama-spm");
    return 0;
}

static bool valid_utf8(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t l = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        if (!l || i + l > n) return false;
        for (size_t j = 1; j < l; j++)
            if ((s[i + j] & 0xC0) != 0x80) return false;
        if (c == 0xE0 && s[i + 1] < 0xA0) return false;
        if (c == 0xED && s[i + 1] > 0x9F) return false;
        if (c == 0xF0 && s[i + 1] < 0x90) return false;
        if (c == 0xF4 && s[i + 1] > 0x8F) return false;
        i += l;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    uint8_t sel = data[0];
    const hearth_tokenizer *t = vocab[sel & 1];
    bool parse_special = sel & 2, add_special = sel & 4;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    int32_t *ids = NULL;
    size_t n = 0;
    FUZZ_ASSERT(hearth_tokenize(t, text, len, add_special, parse_special, &ids, &n, NULL) ==
                HEARTH_OK);
    int32_t nv = hearth_tokenizer_n_vocab(t);
    for (size_t i = 0; i < n; i++) {
        FUZZ_ASSERT(ids[i] >= 0 && ids[i] < nv);
        if (!parse_special && !(add_special && i == 0 && ids[i] == hearth_token_bos(t)) &&
            !(add_special && i + 1 == n && ids[i] == hearth_token_eos(t)))
            FUZZ_ASSERT(!hearth_token_is_control(t, ids[i]));
    }
    char *back = NULL;
    size_t blen = 0;
    FUZZ_ASSERT(hearth_detokenize(t, ids, n, false, &back, &blen, NULL) == HEARTH_OK);
    if ((sel & 1) == 0 && !parse_special)
        FUZZ_ASSERT(blen == len && !memcmp(back, text, len));
    hearth_detok *d = NULL;
    FUZZ_ASSERT(hearth_detok_new(t, true, true, &d, NULL) == HEARTH_OK);
    for (size_t i = 0; i < n; i++) {
        const char *p;
        size_t l;
        FUZZ_ASSERT(hearth_detok_push(d, ids[i], &p, &l, NULL) == HEARTH_OK);
        FUZZ_ASSERT(valid_utf8((const unsigned char *)p, l));
    }
    const char *p;
    size_t l;
    FUZZ_ASSERT(hearth_detok_flush(d, &p, &l, NULL) == HEARTH_OK);
    FUZZ_ASSERT(valid_utf8((const unsigned char *)p, l));
    hearth_detok_free(d);
    hearth_free(back);
    hearth_free(ids);
    return 0;
}
