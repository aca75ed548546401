/*
 * test_load_cases.c: files that parse as GGUF but that loading must refuse
 * (or, for the good_* ones, accept), made by tests/data/make_bad_gguf.py and
 * listed in tests/data/load_cases.tsv with the loader to use
 * (hearth_model_open or hearth_tokenizer_load), the status and the text the
 * message must contain. Today these are the strings hearth interprets as C
 * strings (general.architecture, general.name, tokenizer.chat_template,
 * rope.scaling.type, tokenizer.ggml.model / .pre): one with a NUL byte would
 * be read as its prefix, so it is refused naming the key. Token texts are
 * not C strings: a NUL in one is kept (good_tok_nul_piece.gguf), and the
 * token stays distinct from the one its prefix names.
 */
#include "test.h"

#include "hearth.h"

#include <stdio.h>
#include <string.h>

static hearth_status parse_status(const char *s) {
    if (!strcmp(s, "OK")) return HEARTH_OK;
    if (!strcmp(s, "FORMAT")) return HEARTH_E_FORMAT;
    if (!strcmp(s, "UNSUPPORTED")) return HEARTH_E_UNSUPPORTED;
    return (hearth_status)-1;
}

/* A token whose text holds a NUL byte is its own token, whole. */
static void check_nul_piece(const hearth_tokenizer *tok) {
    /* the 256 byte tokens, then "a\0b", "\0", "ab" */
    CHECK_EQ_INT(hearth_tokenizer_n_vocab(tok), 259);
    int32_t a = hearth_token_find(tok, "a", 1);
    CHECK_EQ_INT(a, 'a');
    CHECK_EQ_INT(hearth_token_find(tok, "a\0b", 3), 256);
    CHECK_EQ_INT(hearth_token_find(tok, "\0", 1), 257);
    size_t len = 0;
    const char *t = hearth_token_text(tok, 256, &len);
    CHECK(t && len == 3 && !memcmp(t, "a\0b", 3));
    t = hearth_token_to_piece(tok, 256, &len);
    CHECKF(t && len == 3 && !memcmp(t, "a\0b", 3), "piece of token 256: %zu bytes", len);
    int32_t ids[] = {256, a, 257};
    char *out = NULL;
    hearth_error e = {0};
    CHECK(hearth_detokenize(tok, ids, 3, false, &out, &len, &e) == HEARTH_OK);
    CHECKF(out && len == 5 && !memcmp(out, "a\0ba\0", 5), "detokenized %zu bytes", len);
    hearth_free(out);
}

int main(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/load_cases.tsv", HEARTH_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    REQUIRE(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        line[strcspn(line, "\n")] = '\0';
        char *file = strtok(line, "\t"), *loader = strtok(NULL, "\t"), *status = strtok(NULL, "\t"),
             *text = strtok(NULL, "");
        REQUIRE(file && loader && status);
        if (!text) text = "";
        hearth_status want = parse_status(status);
        REQUIRE((int)want >= 0);
        n++;
        char fpath[1200];
        snprintf(fpath, sizeof fpath, "%s/tests/data/%s", HEARTH_SOURCE_DIR, file);
        hearth_error e = {0};
        hearth_status st;
        if (!strcmp(loader, "model")) {
            hearth_model *m = (hearth_model *)1;
            st = hearth_model_open(fpath, NULL, &m, &e);
            if (st) CHECKF(m == NULL, "%s: model not NULL on failure", file);
            else hearth_model_free(m);
        } else {
            REQUIRE(!strcmp(loader, "tokenizer"));
            hearth_gguf *g;
            REQUIRE(hearth_gguf_open(fpath, &g, &e) == HEARTH_OK); /* the file itself parses */
            hearth_tokenizer *tok = NULL;
            st = hearth_tokenizer_load(g, &tok, &e);
            if (st) CHECKF(tok == NULL, "%s: tokenizer not NULL on failure", file);
            if (tok && strstr(file, "nul_piece")) check_nul_piece(tok);
            hearth_tokenizer_free(tok);
            hearth_gguf_free(g);
        }
        CHECKF(st == want, "%s: status %s, expected %s (%s)", file, hearth_status_str(st),
               hearth_status_str(want), st ? e.msg : "");
        if (st && want)
            CHECKF(strstr(e.msg, text) != NULL, "%s:\n  got      '%s'\n  expected '...%s...'", file,
                   e.msg, text);
    }
    fclose(f);
    printf("%d cases\n", n);
    CHECK(n > 0);
    return test_done();
}
