/*
 * test_pretok.c: the hand-written pre-tokenizers against their regexes.
 * tests/tokenizer/data/splits.txt holds, for every pre-tokenizer and every
 * test string of the shared vocab test data (including llama-bpe and qwen2,
 * whose vocabularies are not here), the piece lengths that the real regexes
 * give (computed by tools/unicode/gen_split_expect.py with Python's regex
 * module). Also hand-derived splits for the corner cases of each regex.
 */
#include "test.h"
#include "tok_util.h"

#include "tokenizer/pretok.h"
#include "tokenizer/unicode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Splits UTF-8 s with pre and writes piece lengths (code points) as text. */
static void split_lens(hearth_pre_kind pre, const char *s, size_t n, char *out, size_t cap) {
    uint32_t *cps = malloc((n + 1) * 4), *ends = malloc((n + 1) * 4), *tmp = malloc((n + 1) * 4);
    uint32_t nc = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += hearth_utf8_decode((const uint8_t *)s + i, n - i, &cp);
        cps[nc++] = cp;
    }
    uint32_t np = 0;
    if (nc) hearth_pre_split(pre, cps, nc, ends, tmp, &np);
    size_t k = 0;
    out[0] = '\0';
    uint32_t a = 0;
    for (uint32_t p = 0; p < np && k + 12 < cap; p++) {
        k += (size_t)snprintf(out + k, cap - k, " %u", ends[p] - a);
        a = ends[p];
    }
    free(cps);
    free(ends);
    free(tmp);
}

/* String case i of an .inp file. */
static const char *nth_case(const char *inp, int i, size_t *len) {
    static const char SEP[] = "\n__ggml_vocab_test__\n";
    const char *p = inp;
    for (int k = 0;; k++) {
        const char *sep = strstr(p, SEP);
        if (!sep) return NULL;
        if (k == i) {
            *len = (size_t)(sep - p);
            return p;
        }
        p = sep + sizeof SEP - 1;
    }
}

static void check_generated(void) {
    const char *src = getenv("HEARTH_SOURCE_DIR");
    if (!src || !*src) src = HEARTH_SOURCE_DIR;
    char path[8192];
    snprintf(path, sizeof path, "%s/tests/tokenizer/data/splits.txt", src);
    char *all = tok_read_file(path, NULL);
    REQUIRE(all != NULL);
    char cur_file[512] = "";
    char *inp = NULL;
    int n_lines = 0, n_bad = 0;
    for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        char pre_name[64], file[512];
        int idx, off = 0;
        if (sscanf(line, "%63s %511s %d:%n", pre_name, file, &idx, &off) != 3) continue;
        hearth_pre_kind pre;
        REQUIRE(hearth_pre_find(pre_name, &pre));
        if (strcmp(file, cur_file)) {
            free(inp);
            char p2[9000];
            snprintf(p2, sizeof p2, "%s/%s", tok_vocab_dir(), file);
            inp = tok_read_file(p2, NULL);
            snprintf(cur_file, sizeof cur_file, "%s", file);
        }
        if (!inp) continue;
        size_t len;
        const char *s = nth_case(inp, idx, &len);
        CHECKF(s != NULL, "%s case %d exists", file, idx);
        if (!s) continue;
        char got[16384];
        split_lens(pre, s, len, got, sizeof got);
        n_lines++;
        if (strcmp(got, line + off)) {
            n_bad++;
            CHECKF(0, "%s %s case %d: want%s got%s", pre_name, file, idx, line + off, got);
        }
    }
    fprintf(stderr, "generated splits: %d cases, %d wrong\n", n_lines, n_bad);
    CHECK(n_lines > 1000);
    free(inp);
    free(all);
}

/* Hand-derived splits: pieces separated by '|' in want. */
static void check_split(const char *pre_name, const char *text, const char *want) {
    hearth_pre_kind pre;
    REQUIRE(hearth_pre_find(pre_name, &pre));
    size_t n = strlen(text);
    uint32_t cps[256], ends[256], tmp[256], offs[257];
    uint32_t nc = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        offs[nc] = (uint32_t)i;
        i += hearth_utf8_decode((const uint8_t *)text + i, n - i, &cp);
        cps[nc++] = cp;
    }
    offs[nc] = (uint32_t)n;
    uint32_t np = 0;
    if (nc) hearth_pre_split(pre, cps, nc, ends, tmp, &np);
    char got[1024];
    size_t k = 0;
    uint32_t a = 0;
    for (uint32_t p = 0; p < np; p++) {
        if (p) got[k++] = '|';
        memcpy(got + k, text + offs[a], offs[ends[p]] - offs[a]);
        k += offs[ends[p]] - offs[a];
        a = ends[p];
    }
    got[k] = '\0';
    CHECKF(!strcmp(got, want), "%s: '%s' -> '%s', want '%s'", pre_name, text, got, want);
}

int main(void) {
    check_generated();

    /* GPT-2: contractions are lowercase only; a space joins the next word;
     * a white-space run before a word leaves its last space to the word (a
     * tab is not taken by the word). */
    check_split("gpt-2", "I'm here, it'S   ok\t\tyes  ", "I|'m| here|,| it|'|S|  | ok|\t|\t|yes|  ");
    check_split("gpt-2", "abc123 456!!?", "abc|123| 456|!!?");
    check_split("gpt-2", "\xc3\xa9t\xc3\xa9 \xd9\xa3\xd9\xa4", "\xc3\xa9t\xc3\xa9| \xd9\xa3\xd9\xa4");
    /* Llama 3: case-insensitive contractions, digits in threes, a non-letter
     * prefix joins letters, newlines stay with punctuation. */
    check_split("llama-bpe", "I'M 1234567 $hello\n\n  x.\n\n", "I|'M| |123|456|7| $|hello|\n\n| | x|.\n\n");
    check_split("llama-bpe", "a \n b", "a| \n| b");
    check_split("qwen2", "12345 ab", "1|2|3|4|5| ab");
    /* DeepSeek Coder: letters, punctuation and single digits. */
    check_split("deepseek-coder", "x=12;\n", "x|=|1|2|;|\n");
    /* Starcoder: digits one by one first. */
    check_split("starcoder", "a 123", "a| |1|2|3");
    /* Invalid bytes are one-byte units outside every class. */
    check_split("gpt-2", "a\xff\xfe b", "a|\xff\xfe| b");
    return test_done();
}
