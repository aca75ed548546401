/*
 * tok_util.c: see tok_util.h.
 */
#include "tok_util.h"

#include <stdio.h>
#include <stdlib.h>

const char *tok_vocab_dir(void) {
    static char dir[4096];
    const char *s = getenv("HEARTH_SHARED_DIR");
    if (!s || !*s) s = HEARTH_SHARED_DIR;
    snprintf(dir, sizeof dir, "%s/testdata/vocab", s);
    return dir;
}

hearth_tokenizer *tok_load_vocab(const char *name) {
    char path[16384];
    snprintf(path, sizeof path, "%s/ggml-vocab-%s.gguf", tok_vocab_dir(), name);
    hearth_error err = {0};
    hearth_gguf *g = NULL;
    if (hearth_gguf_open(path, &g, &err)) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        return NULL;
    }
    hearth_tokenizer *t = NULL;
    if (hearth_tokenizer_load(g, &t, &err)) fprintf(stderr, "%s: %s\n", path, err.msg);
    hearth_gguf_free(g);
    return t;
}

char *tok_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    for (;;) {
        if (n == cap) b = realloc(b, (cap *= 2) + 1);
        size_t r = fread(b + n, 1, cap - n, f);
        if (r == 0) break;
        n += r;
    }
    fclose(f);
    b[n] = '\0';
    if (len) *len = n;
    return b;
}
