/*
 * test_gguf_parse.c: every rejection path of the GGUF reader (gguf_parse.c), through the
 * hand-made files in tests/data/ (made by tests/data/make_bad_gguf.py, listed
 * with their expected outcome in tests/data/gguf_cases.tsv). Each file is
 * opened through the mmap and the buffer entry points; both must give the
 * expected status, and the message the expected text (which names the key or
 * tensor, the field and the offset). Also: every truncation of a valid file
 * is rejected cleanly.
 */
#include "hearth.h"
#include "test.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static hearth_status parse_status(const char *s) {
    if (!strcmp(s, "OK")) return HEARTH_OK;
    if (!strcmp(s, "FORMAT")) return HEARTH_E_FORMAT;
    if (!strcmp(s, "UNSUPPORTED")) return HEARTH_E_UNSUPPORTED;
    if (!strcmp(s, "LIMIT")) return HEARTH_E_LIMIT;
    return (hearth_status)-1;
}

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    size_t k;
    while (b && (k = fread(b + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) b = realloc(b, cap *= 2);
    }
    fclose(f);
    *len = n;
    return b;
}

static int run_cases(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/gguf_cases.tsv", HEARTH_SOURCE_DIR);
    FILE *m = fopen(path, "r");
    REQUIRE(m);
    char line[1024];
    int n = 0, bad = 0;
    while (fgets(line, sizeof line, m)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        line[strcspn(line, "\n")] = '\0';
        char *file = strtok(line, "\t"), *status = strtok(NULL, "\t"), *text = strtok(NULL, "");
        REQUIRE(file && status);
        if (!text) text = "";
        hearth_status want = parse_status(status);
        REQUIRE((int)want >= 0);
        n++;
        if (want) bad++;

        char fpath[1200];
        snprintf(fpath, sizeof fpath, "%s/tests/data/%s", HEARTH_SOURCE_DIR, file);
        hearth_gguf *g = (hearth_gguf *)1;
        hearth_error err;
        hearth_status st = hearth_gguf_open(fpath, &g, &err);
        CHECKF(st == want, "%s: status %s, expected %s (%s)", file, hearth_status_str(st),
               hearth_status_str(want), st ? err.msg : "");
        if (st) {
            CHECKF(g == NULL, "%s: handle not NULL on failure", file);
            CHECKF(err.code == st, "%s: err.code", file);
            CHECKF(strstr(err.msg, text) != NULL, "%s:\n  got      '%s'\n  expected '...%s...'",
                   file, err.msg, text);
            CHECKF(strstr(err.msg, file) != NULL, "%s: message does not name the file", file);
            CHECKF(err.file && err.line > 0, "%s: no raising spot", file);
        } else {
            hearth_gguf_free(g);
        }

        /* The buffer entry point agrees (the empty file excepted: a zero-byte
         * file is refused before it is mapped, with its own wording). */
        size_t len;
        uint8_t *buf = slurp(fpath, &len);
        REQUIRE(buf);
        g = (hearth_gguf *)1;
        hearth_status st2 = hearth_gguf_open_buffer(buf, len, &g, &err);
        CHECKF(st2 == want, "%s (buffer): status %s (%s)", file, hearth_status_str(st2), err.msg);
        if (st2) {
            CHECK(g == NULL);
            if (len) CHECKF(strstr(err.msg, text) != NULL, "%s (buffer): got '%s'", file, err.msg);
        } else {
            hearth_gguf_free(g);
        }
        /* With allow_unsupported_types, files rejected only for their tensor
         * type open (both entry points); every other outcome is unchanged. */
        hearth_gguf_params p = hearth_gguf_default_params();
        p.allow_unsupported_types = true;
        int type_only = want == HEARTH_E_UNSUPPORTED && strstr(text, "tensor type");
        hearth_status want_ex = type_only ? HEARTH_OK : want;
        for (int via_buf = 0; via_buf < 2; via_buf++) {
            if (via_buf && !len) continue; /* the empty file: covered above */
            g = (hearth_gguf *)1;
            st = hearth_gguf_open_ex(fpath, via_buf ? buf : NULL, len, &p, &g, &err);
            CHECKF(st == want_ex, "%s (ex, buf %d): %s %s", file, via_buf, hearth_status_str(st),
                   st ? err.msg : "");
            if (!st) {
                const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, 0);
                if (type_only) CHECK(t && !hearth_type_supported(t->type) && t->data);
                hearth_gguf_free(g);
            } else {
                CHECK(g == NULL);
            }
        }
        free(buf);
    }
    fclose(m);
    fprintf(stderr, "%d hand-made files (%d bad)\n", n, bad);
    CHECK(bad >= 40);
    return n;
}

/* Every prefix of a valid file that cuts into its header or tensor data is
 * rejected, without reading past the end. */
static void test_truncations(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/gguf/seed_types.gguf", HEARTH_SOURCE_DIR);
    size_t len;
    uint8_t *buf = slurp(path, &len);
    REQUIRE(buf && len > 100);
    hearth_gguf *g;
    hearth_error err;
    REQUIRE(!hearth_gguf_open_buffer(buf, len, &g, &err));
    uint64_t data_off = hearth_gguf_data_offset(g), need = 0;
    for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        if (data_off + t->offset + t->nbytes > need) need = data_off + t->offset + t->nbytes;
    }
    hearth_gguf_free(g);
    REQUIRE(need > data_off && need < len); /* the file ends in padding */
    for (size_t n = 0; n < len; n++) {
        /* A copy of exactly n bytes so ASan sees any read past the end. */
        uint8_t *p = malloc(n ? n : 1);
        memcpy(p, buf, n);
        hearth_status st = hearth_gguf_open_buffer(p, n, &g, &err);
        /* Only the trailing padding may go. */
        hearth_status want = n >= need ? HEARTH_OK : HEARTH_E_FORMAT;
        CHECKF(st == want, "prefix %zu of %zu: %s %s", n, len, hearth_status_str(st),
               st ? err.msg : "");
        if (!st) hearth_gguf_free(g);
        free(p);
    }
    CHECK(data_off < len);
    free(buf);
}

/* Flipping each header byte must never crash; the outcome may be anything. */
static void test_bit_flips(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/gguf/seed_vocab.gguf", HEARTH_SOURCE_DIR);
    size_t len;
    uint8_t *buf = slurp(path, &len);
    REQUIRE(buf);
    int ok = 0, rejected = 0;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            buf[i] ^= (uint8_t)(1u << bit);
            hearth_gguf *g;
            hearth_error err;
            hearth_status st = hearth_gguf_open_buffer(buf, len, &g, &err);
            if (st == HEARTH_OK) {
                ok++;
                hearth_gguf_free(g);
            } else {
                rejected++;
                CHECK(err.msg[0] != '\0');
            }
            buf[i] ^= (uint8_t)(1u << bit);
        }
    }
    fprintf(stderr, "bit flips: %d accepted, %d rejected\n", ok, rejected);
    CHECK(rejected > 0 && ok > 0);
    free(buf);
}

int main(void) {
    run_cases();
    test_truncations();
    test_bit_flips();
    /* The reader refuses what is not a file. */
    hearth_gguf *g;
    hearth_error err;
    CHECK(hearth_gguf_open("/nonexistent/x.gguf", &g, &err) == HEARTH_E_IO && g == NULL);
    CHECK(strstr(err.msg, "/nonexistent/x.gguf"));
    CHECK(hearth_gguf_open("/tmp", &g, &err) == HEARTH_E_IO);
    CHECK(hearth_gguf_open_buffer(NULL, 5, &g, &err) == HEARTH_E_ARG);
    CHECK(hearth_gguf_open_ex(NULL, NULL, 0, NULL, &g, &err) == HEARTH_E_ARG && g == NULL);
    return test_done();
}
