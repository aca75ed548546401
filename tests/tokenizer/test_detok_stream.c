/*
 * test_detok_stream.c: the streaming detokenizer never hands out part of a
 * UTF-8 character: fed random ids (pieces that split characters anywhere,
 * byte tokens, invalid bytes), every chunk is valid UTF-8 on its own, and the
 * chunks add up to the whole text with each invalid part replaced by one
 * U+FFFD. Plus the hand-checked cases: an emoji split over four byte tokens,
 * a truncated character at flush, the SPM leading space.
 */
#include "test.h"
#include "tok_util.h"

#include "tokenizer/unicode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool valid_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += hearth_utf8_decode((const uint8_t *)s + i, n - i, &cp);
        if (cp >= 0x110000) return false;
    }
    return true;
}

/* Reference: s with each maximal invalid subpart replaced by U+FFFD (a
 * lead byte followed by a valid but short run of continuation bytes counts
 * as one subpart). */
static size_t sanitize(const uint8_t *s, size_t n, char *out) {
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = hearth_utf8_decode(s + i, n - i, &cp);
        if (cp < 0x110000) {
            memcpy(out + k, s + i, l);
            k += l;
            i += l;
            continue;
        }
        /* Length of the maximal subpart: a valid prefix of some sequence. */
        size_t m = 1;
        uint8_t c = s[i];
        int need = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 1;
        while ((int)m < need && i + m < n) {
            uint8_t x = s[i + m], lo = 0x80, hi = 0xBF;
            if (m == 1) {
                if (c == 0xE0) lo = 0xA0;
                if (c == 0xED) hi = 0x9F;
                if (c == 0xF0) lo = 0x90;
                if (c == 0xF4) hi = 0x8F;
            }
            if (x < lo || x > hi) break;
            m++;
        }
        memcpy(out + k, "\xef\xbf\xbd", 3);
        k += 3;
        i += m;
    }
    return k;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static void random_streams(const char *name) {
    hearth_tokenizer *t = tok_load_vocab(name);
    REQUIRE(t != NULL);
    int32_t nv = hearth_tokenizer_n_vocab(t);
    hearth_detok *d;
    REQUIRE(hearth_detok_new(t, false, false, &d, NULL) == HEARTH_OK);
    for (int iter = 0; iter < 300; iter++) {
        int32_t ids[32];
        int n = 1 + (int)rnd(32);
        for (int i = 0; i < n; i++) {
            /* Favour byte tokens (SPM ids 3..258) and multi-byte pieces. */
            ids[i] = rnd(2) ? (int32_t)(3 + rnd(256)) : (int32_t)rnd((uint32_t)nv);
            if (hearth_token_get_type(t, ids[i]) == HEARTH_TOKEN_CONTROL) ids[i] = 300;
        }
        char *whole;
        size_t wlen;
        REQUIRE(hearth_detokenize(t, ids, (size_t)n, false, &whole, &wlen, NULL) == HEARTH_OK);
        char *want = malloc(wlen * 3 + 4), *got = malloc(wlen * 3 + 4);
        size_t nwant = sanitize((const uint8_t *)whole, wlen, want), ngot = 0;
        /* With text_start false the SPM leading space stays, as in whole
         * only when it was not stripped: compare from a stream that starts
         * like hearth_detokenize does. */
        hearth_detok *d2;
        REQUIRE(hearth_detok_new(t, false, true, &d2, NULL) == HEARTH_OK);
        bool chunks_ok = true;
        for (int i = 0; i < n; i++) {
            const char *p;
            size_t l;
            REQUIRE(hearth_detok_push(d2, ids[i], &p, &l, NULL) == HEARTH_OK);
            if (!valid_utf8(p, l)) chunks_ok = false;
            memcpy(got + ngot, p, l);
            ngot += l;
            /* The other decoder only checks chunk validity. */
            REQUIRE(hearth_detok_push(d, ids[i], &p, &l, NULL) == HEARTH_OK);
            if (!valid_utf8(p, l)) chunks_ok = false;
        }
        const char *p;
        size_t l;
        REQUIRE(hearth_detok_flush(d2, &p, &l, NULL) == HEARTH_OK);
        if (!valid_utf8(p, l)) chunks_ok = false;
        memcpy(got + ngot, p, l);
        ngot += l;
        CHECKF(chunks_ok, "%s: every chunk is valid UTF-8", name);
        CHECKF(ngot == nwant && !memcmp(got, want, ngot), "%s: stream == sanitized whole", name);
        hearth_detok_free(d2);
        free(want);
        free(got);
        hearth_free(whole);
    }
    hearth_detok_free(d);
    hearth_tokenizer_free(t);
}

static void expect_push(hearth_detok *d, int32_t id, const char *want) {
    const char *p;
    size_t l;
    REQUIRE(hearth_detok_push(d, id, &p, &l, NULL) == HEARTH_OK);
    CHECKF(l == strlen(want) && !memcmp(p, want, l), "push %d gave '%.*s', want '%s'", id, (int)l,
           p, want);
}

static void expect_flush(hearth_detok *d, const char *want) {
    const char *p;
    size_t l;
    REQUIRE(hearth_detok_flush(d, &p, &l, NULL) == HEARTH_OK);
    CHECKF(l == strlen(want) && !memcmp(p, want, l), "flush gave '%.*s', want '%s'", (int)l, p, want);
}

static void hand_cases(void) {
    hearth_tokenizer *t = tok_load_vocab("llama-spm");
    REQUIRE(t != NULL);
    /* <0xNN> is id NN + 3 in Llama 2's vocabulary. */
    int32_t b[256];
    for (int i = 0; i < 256; i++) {
        char txt[8];
        snprintf(txt, sizeof txt, "<0x%02X>", i);
        b[i] = hearth_token_find(t, txt, 6);
        REQUIRE(b[i] >= 0);
    }
    hearth_detok *d;
    REQUIRE(hearth_detok_new(t, false, true, &d, NULL) == HEARTH_OK);
    /* 🦙 = F0 9F A6 99 */
    expect_push(d, b[0xF0], "");
    expect_push(d, b[0x9F], "");
    expect_push(d, b[0xA6], "");
    expect_push(d, b[0x99], "\xf0\x9f\xa6\x99");
    /* A truncated character comes out as U+FFFD at flush. */
    expect_push(d, b[0xE2], "");
    expect_push(d, b[0x82], "");
    expect_flush(d, "\xef\xbf\xbd");
    /* ... and right away when the next byte can not continue it. */
    expect_push(d, b[0xE2], "");
    expect_push(d, b['A'], "\xef\xbf\xbd" "A");
    expect_push(d, b[0xFF], "\xef\xbf\xbd");
    /* Leading space rule: the first piece after the start loses its space. */
    hearth_detok_reset(d);
    int32_t hello = hearth_token_find(t, "\xe2\x96\x81Hello", 8);
    REQUIRE(hello >= 0);
    expect_push(d, hearth_token_bos(t), "");
    expect_push(d, hello, "Hello");
    expect_push(d, hello, " Hello");
    hearth_detok_free(d);
    /* Continuing text keeps it. */
    REQUIRE(hearth_detok_new(t, false, false, &d, NULL) == HEARTH_OK);
    expect_push(d, hello, " Hello");
    const char *p;
    size_t l;
    hearth_error err = {0};
    CHECK(hearth_detok_push(d, 32000, &p, &l, &err) == HEARTH_E_ARG);
    CHECK(strstr(err.msg, "32000") != NULL);
    hearth_detok_free(d);
    hearth_tokenizer_free(t);
}

int main(void) {
    hand_cases();
    random_streams("llama-spm");
    random_streams("gpt-2");
    return test_done();
}
