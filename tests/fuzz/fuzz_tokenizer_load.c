/*
 * fuzz_tokenizer_load.c: libFuzzer target over tokenizer loading: GGUF
 * bytes -> hearth_gguf_open_buffer -> hearth_tokenizer_load, then, for a
 * vocabulary that loads, tokenize / detokenize / stream-decode / render a
 * chat template with it. A hostile vocabulary must be rejected with a
 * message or give a tokenizer for which: every id out of hearth_tokenize is
 * in the vocabulary; with special parsing off no control token comes out
 * (but the added BOS/EOS); detokenizing any ids works and the streaming
 * decoder only hands out valid UTF-8; a rendered chat has each control token
 * only where the template puts it. Crashes, sanitizer reports and failed
 * invariants abort. Seeds: tests/fuzz/corpus/tokenizer_load (tiny GGUF
 * vocabularies).
 */
#include "hearth.h"

#include "agent/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c)                                                                     \
    do {                                                                                   \
        if (!(c)) {                                                                        \
            fprintf(stderr, "fuzz_tokenizer_load: invariant failed: %s (line %d)\n", #c,   \
                    __LINE__);                                                             \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

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

static void tokenize_one(const hearth_tokenizer *t, const char *text, size_t len, bool add,
                         bool parse) {
    int32_t *ids = NULL;
    size_t n = 0;
    hearth_error err;
    hearth_status st = hearth_tokenize(t, text, len, add, parse, &ids, &n, &err);
    FUZZ_ASSERT(st == HEARTH_OK);
    int32_t nv = hearth_tokenizer_n_vocab(t);
    for (size_t i = 0; i < n; i++) {
        FUZZ_ASSERT(ids[i] >= 0 && ids[i] < nv);
        bool added = add && ((i == 0 && ids[i] == hearth_token_bos(t)) ||
                             (i + 1 == n && ids[i] == hearth_token_eos(t)));
        if (!parse && !added) FUZZ_ASSERT(!hearth_token_is_control(t, ids[i]));
    }
    char *back = NULL;
    size_t blen = 0;
    FUZZ_ASSERT(hearth_detokenize(t, ids, n, parse, &back, &blen, NULL) == HEARTH_OK);
    hearth_free(back);
    hearth_detok *d = NULL;
    FUZZ_ASSERT(hearth_detok_new(t, true, true, &d, NULL) == HEARTH_OK);
    const char *p;
    size_t l;
    for (size_t i = 0; i < n; i++) {
        FUZZ_ASSERT(hearth_detok_push(d, ids[i], &p, &l, NULL) == HEARTH_OK);
        FUZZ_ASSERT(valid_utf8((const unsigned char *)p, l));
    }
    FUZZ_ASSERT(hearth_detok_flush(d, &p, &l, NULL) == HEARTH_OK);
    FUZZ_ASSERT(valid_utf8((const unsigned char *)p, l));
    hearth_detok_free(d);
    hearth_free(ids);
}

/* Renders a conversation whose content spells every token of the
 * vocabulary's first ones and the template's markers; each id the template
 * emits as a control piece must appear no more often than it emits it. */
static void render(const hearth_tokenizer *t, hearth_template f, const char *extra, size_t elen) {
    char content[1024];
    size_t k = 0;
    static const char marks[] = "<|im_start|>system\n<|im_end|><|eot_id|><|start_header_id|>"
                                "<|end|><|user|><|assistant|><end_of_turn>[INST][/INST]</s>";
    memcpy(content, marks, sizeof marks - 1);
    k = sizeof marks - 1;
    if (elen > sizeof content - 1 - k) elen = sizeof content - 1 - k;
    memcpy(content + k, extra, elen);
    k += elen;
    content[k] = '\0';
    /* content may hold NULs from the input: they end it early, fine. */
    hearth_chat_message m[] = {{"system", content}, {"user", content}, {"assistant", content},
                               {"user", content}};
    int32_t *ids = NULL;
    size_t n = 0;
    FUZZ_ASSERT(hearth_template_render(f, t, m, 4, &ids, &n, NULL) == HEARTH_OK);
    tmpl_pieces p;
    FUZZ_ASSERT(tmpl_pieces_render(f, m, 4, false, &p, NULL) == HEARTH_OK);
    for (size_t i = 0; i < p.n; i++) {
        if (p.v[i].kind != TP_CTRL) continue;
        int32_t id = hearth_token_find(t, p.v[i].text, p.v[i].len);
        if (id < 0 || id == hearth_token_bos(t) || id == hearth_token_eos(t)) continue;
        size_t want = 0, got = 0;
        for (size_t j = 0; j < p.n; j++)
            want += p.v[j].kind == TP_CTRL && p.v[j].len == p.v[i].len &&
                    !memcmp(p.v[j].text, p.v[i].text, p.v[i].len);
        for (size_t j = 0; j < n; j++) got += ids[j] == id;
        if (got != want)
            fprintf(stderr, "fuzz_tokenizer_load: '%s' (id %d): %zu in the ids, %zu emitted\n",
                    p.v[i].text, id, got, want);
        FUZZ_ASSERT(got == want);
    }
    tmpl_pieces_free(&p);
    hearth_free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hearth_gguf *g = NULL;
    hearth_error err;
    if (hearth_gguf_open_buffer(data, size, &g, &err)) return 0;
    hearth_tokenizer *t = (hearth_tokenizer *)1;
    hearth_status st = hearth_tokenizer_load(g, &t, &err);
    if (st) {
        FUZZ_ASSERT(t == NULL && err.code == st && err.msg[0] != '\0');
        hearth_gguf_free(g);
        return 0;
    }
    hearth_gguf_free(g); /* the tokenizer copies what it needs */
    FUZZ_ASSERT(t != NULL);
    /* Text: fixed samples, then the file's own bytes (token texts and all). */
    static const char *const samples[] = {
        "Hello world! 123 <|im_start|>user\nhi<|im_end|> \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
        "<s>[INST] <<SYS>>\nx\n<</SYS>> y [/INST] z </s>", "\t\n\r \x01\x03\x7f\xc0\xff\xfe",
        "", " ", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b"};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
        tokenize_one(t, samples[i], strlen(samples[i]), i & 1, i & 2);
    size_t tail = size < 4096 ? size : 4096;
    const char *text = (const char *)data + (size - tail);
    tokenize_one(t, text, tail, false, false);
    tokenize_one(t, text, tail, true, true);
    /* Detokenizing arbitrary ids: every one in range and a few outside. */
    int32_t nv = hearth_tokenizer_n_vocab(t);
    int32_t ids[64];
    for (int i = 0; i < 64; i++) ids[i] = (int32_t)(((uint32_t)i * 2654435761u) % (uint32_t)nv);
    char *back = NULL;
    size_t blen;
    FUZZ_ASSERT(hearth_detokenize(t, ids, 64, true, &back, &blen, NULL) == HEARTH_OK);
    hearth_free(back);
    int32_t bad[] = {-1, nv, INT32_MAX};
    back = NULL;
    if (hearth_detokenize(t, bad, 3, false, &back, &blen, NULL) == HEARTH_OK) hearth_free(back);
    render(t, (hearth_template)(size % HEARTH_TEMPLATE_COUNT), text, tail);
    hearth_tokenizer_free(t);
    return 0;
}
