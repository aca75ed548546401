/*
 * test_vocab_vectors.c: every ggml-vocab-NAME.gguf.inp/.out pair of the
 * shared test data whose vocabulary file is there: each test string
 * tokenized with no BOS/EOS and special parsing off must give exactly the
 * expected ids (the ids the model's own tokenizer gives).
 */
#include "test.h"
#include "tok_util.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char SEP[] = "\n__ggml_vocab_test__\n";

static void run_vocab(const char *name) {
    char path[16384];
    snprintf(path, sizeof path, "%s/ggml-vocab-%s.gguf.inp", tok_vocab_dir(), name);
    size_t inp_len;
    char *inp = tok_read_file(path, &inp_len);
    snprintf(path, sizeof path, "%s/ggml-vocab-%s.gguf.out", tok_vocab_dir(), name);
    char *outs = tok_read_file(path, NULL);
    if (!inp || !outs) {
        free(inp);
        free(outs);
        return;
    }
    hearth_tokenizer *t = tok_load_vocab(name);
    CHECKF(t != NULL, "vocab %s loads", name);
    if (!t) {
        free(inp);
        free(outs);
        return;
    }
    int n_cases = 0, n_bad = 0;
    char *p = inp, *o = outs;
    for (;;) {
        char *sep = strstr(p, SEP);
        if (!sep) break;
        size_t len = (size_t)(sep - p);
        char *eol = strchr(o, '\n');
        if (!eol) eol = o + strlen(o);
        /* expected ids */
        int32_t want[4096];
        size_t nw = 0;
        for (char *q = o; q < eol && nw < 4096;) {
            char *end;
            long v = strtol(q, &end, 10);
            if (end == q) break;
            want[nw++] = (int32_t)v;
            q = end;
        }
        int32_t *ids = NULL;
        size_t n = 0;
        hearth_error err = {0};
        hearth_status st = hearth_tokenize(t, p, len, false, false, &ids, &n, &err);
        bool same = st == HEARTH_OK && n == nw && (n == 0 || !memcmp(ids, want, n * 4));
        if (!same) {
            n_bad++;
            fprintf(stderr, "%s: case %d '%.*s':\n  want:", name, n_cases, (int)(len > 60 ? 60 : len), p);
            for (size_t i = 0; i < nw; i++) fprintf(stderr, " %d", want[i]);
            fprintf(stderr, "\n  got: ");
            for (size_t i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
            fprintf(stderr, "\n");
        }
        CHECK(same);
        hearth_free(ids);
        n_cases++;
        p = sep + sizeof SEP - 1;
        o = *eol ? eol + 1 : eol;
    }
    fprintf(stderr, "%s: %d cases, %d wrong\n", name, n_cases, n_bad);
    CHECK(n_cases > 0);
    hearth_tokenizer_free(t);
    free(inp);
    free(outs);
}

int main(void) {
    DIR *d = opendir(tok_vocab_dir());
    REQUIRE(d != NULL);
    int n_vocabs = 0;
    struct dirent *e;
    char names[64][128];
    int nn = 0;
    while ((e = readdir(d)) && nn < 64) {
        const char *s = e->d_name;
        size_t l = strlen(s);
        /* ggml-vocab-NAME.gguf with a .inp beside it */
        if (strncmp(s, "ggml-vocab-", 11) || l < 16 || strcmp(s + l - 5, ".gguf")) continue;
        snprintf(names[nn], sizeof names[nn], "%.*s", (int)(l - 16), s + 11);
        nn++;
    }
    closedir(d);
    for (int i = 0; i < nn; i++) {
        char path[16384];
        struct stat stt;
        snprintf(path, sizeof path, "%s/ggml-vocab-%s.gguf.inp", tok_vocab_dir(), names[i]);
        if (stat(path, &stt)) continue;
        run_vocab(names[i]);
        n_vocabs++;
    }
    CHECKF(n_vocabs >= 10, "found %d vocabularies with test vectors", n_vocabs);
    return test_done();
}
