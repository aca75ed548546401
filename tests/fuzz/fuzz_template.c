/*
 * fuzz_template.c: libFuzzer target over the chat templates: template text
 * -> hearth_template_detect and tmpl_default_system; messages ->
 * tmpl_pieces_render and hearth_template_render with two small in-memory
 * vocabularies (byte-level BPE with the markers typed control, SentencePiece
 * with them typed user-defined). Invariants: detection never fails; a
 * default system prompt is literal text of the template (a substring with
 * no template syntax, at most 4096 bytes); a bad role is HEARTH_E_ARG; and
 * every control token the template emits appears in the rendered ids
 * exactly as often as the template emits it, whatever the messages say.
 *
 * Input: byte 0 picks the family (low 3 bits) and the vocabulary (bit 3);
 * the rest is split at NUL bytes: the template text, then messages, each
 * segment's first byte picking its role (system, user, assistant, or an
 * invalid one) and the rest its content. Seeds: tests/fuzz/corpus/template.
 */
#include "hearth.h"

#include "agent/template.h"
#include "tokenizer/tokenizer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c)                                                                      \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "fuzz_template: invariant failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

static hearth_tokenizer *vocab[2];

static const char *const markers[] = {
    "<|im_start|>", "<|im_end|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
    "<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "<start_of_turn>", "<end_of_turn>",
    "[INST]", "[/INST]"};
#define N_MARKERS (sizeof markers / sizeof markers[0])

static char texts[600][8];

static hearth_tokenizer *make(bool spm) {
    static const char *tok[600];
    static size_t len[600];
    static int32_t type[600];
    static float score[600];
    size_t n = 0;
    if (spm) {
        static const char *const first[] = {"<unk>", "<s>", "</s>"};
        for (int i = 0; i < 3; i++) {
            tok[n] = first[i];
            len[n] = strlen(first[i]);
            type[n++] = i ? HEARTH_TOKEN_CONTROL : HEARTH_TOKEN_UNKNOWN;
        }
        for (unsigned b = 0; b < 256; b++) {
            snprintf(texts[n], sizeof texts[n], "<0x%02X>", b);
            tok[n] = texts[n];
            len[n] = 6;
            type[n++] = HEARTH_TOKEN_BYTE;
        }
        static const char *const words[] = {"\xe2\x96\x81", "a", "b", "\xe2\x96\x81\x61", "ab"};
        for (int i = 0; i < 5; i++) {
            tok[n] = words[i];
            len[n] = strlen(words[i]);
            score[n] = (float)-i;
            type[n++] = HEARTH_TOKEN_NORMAL;
        }
    } else {
        for (unsigned b = 0; b < 256; b++) {
            bool kept = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            unsigned cp = b, k = 0;
            if (!kept) {
                for (unsigned x = 0; x < b; x++)
                    k += !((x >= 33 && x <= 126) || (x >= 161 && x <= 172) ||
                           (x >= 174 && x <= 255));
                cp = 256 + k;
            }
            if (cp < 0x80) {
                texts[n][0] = (char)cp;
                len[n] = 1;
            } else {
                texts[n][0] = (char)(0xC0 | (cp >> 6));
                texts[n][1] = (char)(0x80 | (cp & 0x3F));
                len[n] = 2;
            }
            tok[n] = texts[n];
            type[n++] = HEARTH_TOKEN_NORMAL;
        }
        tok[n] = "ab";
        len[n] = 2;
        type[n++] = HEARTH_TOKEN_NORMAL;
        tok[n] = "</s>";
        len[n] = 4;
        type[n++] = HEARTH_TOKEN_CONTROL;
    }
    for (size_t i = 0; i < N_MARKERS; i++) {
        tok[n] = markers[i];
        len[n] = strlen(markers[i]);
        type[n++] = spm ? HEARTH_TOKEN_USER_DEFINED : HEARTH_TOKEN_CONTROL;
    }
    static const char *const merges[] = {"a b"};
    static const size_t mlens[] = {3};
    hearth_tok_src s = {.model = spm ? "llama" : "gpt2", .n_vocab = n, .tokens = tok,
                        .token_lens = len, .scores = score, .types = type,
                        .n_merges = spm ? 0 : 1, .merges = merges, .merge_lens = mlens,
                        .bos = spm ? 1 : -1, .eos = spm ? 2 : 257, .unk = -1, .pad = -1,
                        .eot = -1, .eom = -1, .add_bos = -1, .add_eos = -1,
                        .add_space_prefix = -1};
    hearth_tokenizer *t = NULL;
    hearth_error err;
    if (hearth_tokenizer_build(&s, &t, &err)) {
        fprintf(stderr, "fuzz_template: vocabulary: %s\n", err.msg);
        abort();
    }
    return t;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    vocab[0] = make(false);
    vocab[1] = make(true);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    hearth_template f = (hearth_template)((data[0] & 7) % HEARTH_TEMPLATE_COUNT);
    const hearth_tokenizer *t = vocab[(data[0] >> 3) & 1];
    /* A NUL-terminated copy, so segments are C strings. */
    char *buf = malloc(size);
    FUZZ_ASSERT(buf != NULL);
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    const char *tmpl = buf;
    size_t tlen = strlen(tmpl);

    bool known;
    hearth_template d = hearth_template_detect(tmpl, &known);
    FUZZ_ASSERT((unsigned)d < HEARTH_TEMPLATE_COUNT);
    FUZZ_ASSERT(known || d == HEARTH_TEMPLATE_CHATML);
    char *sys = (char *)1;
    FUZZ_ASSERT(tmpl_default_system(tmpl, &sys, NULL) == HEARTH_OK);
    if (sys) {
        size_t n = strlen(sys);
        FUZZ_ASSERT(n > 0 && n <= 4096 && strstr(tmpl, sys) != NULL);
        FUZZ_ASSERT(strpbrk(sys, "{}'\"+\\") == NULL);
        hearth_free(sys);
    }

    static const char *const roles[] = {"system", "user", "assistant", "tool"};
    hearth_chat_message m[16];
    size_t nm = 0;
    bool bad_role = false;
    for (size_t off = tlen + 1; off < size - 1 && nm < 16;) {
        const char *seg = buf + off;
        size_t l = strlen(seg);
        int r = l ? (unsigned char)seg[0] % 4 : 1;
        m[nm].role = roles[r];
        m[nm].content = l ? seg + 1 : seg;
        bad_role |= r == 3;
        nm++;
        off += l + 1;
    }
    int32_t *ids = NULL;
    size_t n = 0;
    hearth_error err;
    hearth_status st = hearth_template_render(f, t, m, nm, &ids, &n, &err);
    if (bad_role) {
        FUZZ_ASSERT(st == HEARTH_E_ARG && ids == NULL);
        free(buf);
        return 0;
    }
    FUZZ_ASSERT(st == HEARTH_OK);
    tmpl_pieces p;
    FUZZ_ASSERT(tmpl_pieces_render(f, m, nm, false, &p, NULL) == HEARTH_OK);
    for (size_t k = 0; k < N_MARKERS; k++) {
        int32_t id = hearth_token_find(t, markers[k], strlen(markers[k]));
        FUZZ_ASSERT(id >= 0);
        size_t want = 0, got = 0;
        for (size_t i = 0; i < p.n; i++)
            want += p.v[i].kind == TP_CTRL && !strcmp(p.v[i].text, markers[k]);
        for (size_t i = 0; i < n; i++) got += ids[i] == id;
        if (got != want)
            fprintf(stderr, "fuzz_template: '%s': %zu in the ids, %zu emitted\n", markers[k], got,
                    want);
        FUZZ_ASSERT(got == want);
    }
    int32_t nv = hearth_tokenizer_n_vocab(t);
    for (size_t i = 0; i < n; i++) FUZZ_ASSERT(ids[i] >= 0 && ids[i] < nv);
    tmpl_pieces_free(&p);
    hearth_free(ids);
    free(buf);
    return 0;
}
