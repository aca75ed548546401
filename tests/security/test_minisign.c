/*
 * test_minisign.c: the minisign parsers and checks (security/minisign.c)
 * and the strict base64 decoder (base64.c), on files built here with
 * libsodium: every rejection path gives its message (line number and what
 * is wrong); good files in LF and CRLF form parse; prehashed and legacy
 * signatures made here verify, and fail for another message, another key,
 * or an altered trusted comment. (Interoperability with the real minisign
 * tool is test_verify_minisign.sh.)
 */
#include "test.h"

#include "security/verify_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char pk[32], sk[64];
static const uint8_t key_id[8] = {1, 2, 3, 4, 5, 6, 7, 8};

static void b64(const void *bin, size_t n, char *out, size_t cap) {
    sodium_bin2base64(out, cap, bin, n, sodium_base64_VARIANT_ORIGINAL);
}

/* A public key file's text with alg (2 bytes) and extra bytes appended. */
static void key_text(char *out, size_t cap, const char *alg, size_t extra, bool comment) {
    uint8_t raw[64] = {0};
    memcpy(raw, alg, 2);
    memcpy(raw + 2, key_id, 8);
    memcpy(raw + 10, pk, 32);
    char enc[200];
    b64(raw, 42 + extra, enc, sizeof enc);
    snprintf(out, cap, "%s%s\n", comment ? "untrusted comment: minisign public key\n" : "", enc);
}

/* A .minisig over msg; prehashed or legacy; with comment tc. */
static void sig_text(char *out, size_t cap, const void *msg, size_t len, bool prehashed,
                     const char *tc, const char *eol) {
    uint8_t raw[74];
    memcpy(raw, prehashed ? "ED" : "Ed", 2);
    memcpy(raw + 2, key_id, 8);
    if (prehashed) {
        uint8_t h[64];
        crypto_generichash(h, 64, msg, len, NULL, 0);
        crypto_sign_detached(raw + 10, NULL, h, 64, sk);
    } else {
        crypto_sign_detached(raw + 10, NULL, msg, len, sk);
    }
    size_t tl = strlen(tc);
    uint8_t *g = malloc(64 + tl);
    memcpy(g, raw + 10, 64);
    memcpy(g + 64, tc, tl);
    uint8_t gs[64];
    crypto_sign_detached(gs, NULL, g, 64 + tl, sk);
    free(g);
    char e1[200], e2[200];
    b64(raw, 74, e1, sizeof e1);
    b64(gs, 64, e2, sizeof e2);
    snprintf(out, cap, "untrusted comment: x%s%s%strusted comment: %s%s%s%s", eol, e1, eol, tc,
             eol, e2, eol);
}

static void key_rejects(const char *text, const char *want) {
    sec_minisign_key k;
    hearth_error e = {0};
    hearth_status st = sec_minisign_key_parse(text, strlen(text), &k, &e);
    CHECKF(st == HEARTH_E_FORMAT && strstr(e.msg, want), "key '%.40s': want '%s', got %d '%s'",
           text, want, (int)st, e.msg);
}

static void sig_rejects(const char *text, size_t len, const char *want) {
    static sec_minisign_sig s;
    hearth_error e = {0};
    hearth_status st = sec_minisign_sig_parse(text, len, &s, &e);
    CHECKF(st == HEARTH_E_FORMAT && strstr(e.msg, want), "sig '%.40s': want '%s', got %d '%s'",
           text, want, (int)st, e.msg);
}

/* Replaces line n (1-based) of src with repl into dst. */
static void with_line(const char *src, int n, const char *repl, char *dst, size_t cap) {
    dst[0] = '\0';
    const char *p = src;
    for (int i = 1; *p; i++) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        size_t used = strlen(dst);
        if (i == n) snprintf(dst + used, cap - used, "%s\n", repl);
        else snprintf(dst + used, cap - used, "%.*s\n", (int)l, p);
        p += l + (nl ? 1 : 0);
    }
}

int main(void) {
    REQUIRE(sodium_init() >= 0);
    crypto_sign_keypair(pk, sk);
    static char text[40000], bad[40000];
    sec_minisign_key k;
    static sec_minisign_sig s;
    hearth_error e;

    /* ---- base64 ---- */
    uint8_t out[16];
    size_t n;
    CHECK(sec_b64_decode("aGVsbG8=", 8, false, out, sizeof out, &n) && n == 5 && !memcmp(out, "hello", 5));
    CHECK(!sec_b64_decode("aGVsbG8", 7, false, out, sizeof out, &n));  /* padding required */
    CHECK(sec_b64_decode("aGVsbG8", 7, true, out, sizeof out, &n) && n == 5);
    CHECK(!sec_b64_decode("aGVsbG9=", 8, false, out, sizeof out, &n)); /* trailing bits */
    CHECK(!sec_b64_decode("aGV=sbG8", 8, false, out, sizeof out, &n));
    CHECK(!sec_b64_decode("aGVsbG8==", 9, false, out, sizeof out, &n));
    CHECK(!sec_b64_decode("aGVs bG8=", 9, false, out, sizeof out, &n));
    CHECK(!sec_b64_decode("a-8=", 4, false, out, sizeof out, &n));
    CHECK(sec_b64_decode("_-8=", 4, true, out, sizeof out, &n) && n == 2);
    CHECK(!sec_b64_decode("aGVsbG8=", 8, false, out, 4, &n)); /* too long for the buffer */
    CHECK(sec_b64_decode("", 0, false, out, sizeof out, &n) && n == 0);
    CHECK(!sec_b64_decode("a", 1, true, out, sizeof out, &n));

    /* ---- public keys ---- */
    key_text(text, sizeof text, "Ed", 0, true);
    CHECK_EQ_INT(sec_minisign_key_parse(text, strlen(text), &k, &e), HEARTH_OK);
    CHECK(!memcmp(k.key_id, key_id, 8) && !memcmp(k.pk, pk, 32));
    char id[17];
    sec_minisign_key_id_str(k.key_id, id);
    CHECK_STR(id, "807060504030201"); /* as minisign prints it: no leading zero */
    {
        uint8_t zero[8] = {0}, one[8] = {1};
        sec_minisign_key_id_str(zero, id);
        CHECK_STR(id, "0");
        sec_minisign_key_id_str(one, id);
        CHECK_STR(id, "1");
    }
    key_text(text, sizeof text, "Ed", 0, false);
    CHECK_EQ_INT(sec_minisign_key_parse(text, strlen(text), &k, &e), HEARTH_OK);
    key_rejects("", "empty key file");
    key_rejects("untrusted comment: x\n", "no key line");
    key_rejects("untrusted comment: x\nnot base64!\n", "line 2: not base64");
    key_text(text, sizeof text, "ED", 0, true);
    key_rejects(text, "expected \"Ed\"");
    key_text(text, sizeof text, "Ed", 3, true);
    key_rejects(text, "45 bytes, a minisign key has 42");
    key_rejects("untrusted comment: x\nAAAA\n", "3 bytes");
    key_text(text, sizeof text, "Ed", 0, true);
    strcat(text, "more\n");
    key_rejects(text, "unexpected text");
    memset(bad, 'A', 30000);
    bad[30000] = '\0';
    key_rejects(bad, "too long");
    key_text(text, sizeof text, "Ed", 0, true);
    text[25] = '\0';
    CHECK(sec_minisign_key_parse(text, strlen(text) + 5, &k, NULL) == HEARTH_E_FORMAT); /* NUL */

    /* ---- signatures: good, LF and CRLF, prehashed and legacy ---- */
    const char msg[] = "the model's bytes";
    sig_text(text, sizeof text, msg, sizeof msg - 1, true, "release 1", "\n");
    CHECK_EQ_INT(sec_minisign_sig_parse(text, strlen(text), &s, &e), HEARTH_OK);
    CHECK(s.prehashed);
    CHECK_STR(s.trusted_comment, "release 1");
    key_text(bad, sizeof bad, "Ed", 0, true);
    REQUIRE(sec_minisign_key_parse(bad, strlen(bad), &k, NULL) == HEARTH_OK);
    CHECK(sec_minisign_global_ok(&s, &k));
    uint8_t h[64];
    crypto_generichash(h, 64, (const uint8_t *)msg, sizeof msg - 1, NULL, 0);
    CHECK(sec_minisign_file_ok(&s, &k, h, NULL, 0));
    h[0] ^= 1;
    CHECK(!sec_minisign_file_ok(&s, &k, h, NULL, 0));
    /* another key with the same id: nothing verifies */
    sec_minisign_key other = k;
    other.pk[5] ^= 0x20;
    CHECK(!sec_minisign_global_ok(&s, &other));
    /* an altered trusted comment */
    s.trusted_comment[0] = 'R';
    CHECK(!sec_minisign_global_ok(&s, &k));

    sig_text(text, sizeof text, msg, sizeof msg - 1, false, "legacy", "\r\n");
    CHECK_EQ_INT(sec_minisign_sig_parse(text, strlen(text), &s, &e), HEARTH_OK);
    CHECK(!s.prehashed);
    CHECK_STR(s.trusted_comment, "legacy");
    CHECK(sec_minisign_global_ok(&s, &k));
    CHECK(sec_minisign_file_ok(&s, &k, NULL, msg, sizeof msg - 1));
    CHECK(!sec_minisign_file_ok(&s, &k, NULL, msg, sizeof msg - 2));
    strcat(text, "\n\n"); /* empty lines after the end are fine */
    CHECK_EQ_INT(sec_minisign_sig_parse(text, strlen(text), &s, &e), HEARTH_OK);
    /* the empty trusted comment is allowed */
    sig_text(text, sizeof text, msg, sizeof msg - 1, true, "", "\n");
    CHECK_EQ_INT(sec_minisign_sig_parse(text, strlen(text), &s, &e), HEARTH_OK);
    CHECK(sec_minisign_global_ok(&s, &k));

    /* ---- signatures: every rejection ---- */
    sig_text(text, sizeof text, msg, sizeof msg - 1, true, "c", "\n");
    sig_rejects("", 0, "0 lines");
    sig_rejects(text, strchr(strchr(text, '\n') + 1, '\n') - text, "2 lines");
    with_line(text, 1, "comment: x", bad, sizeof bad);
    sig_rejects(bad, strlen(bad), "line 1: expected");
    with_line(text, 2, "!!!!", bad, sizeof bad);
    sig_rejects(bad, strlen(bad), "line 2: not base64");
    with_line(text, 2, "AAAA", bad, sizeof bad);
    sig_rejects(bad, strlen(bad), "line 2: 3 bytes, a signature has 74");
    {
        uint8_t raw[74] = {'X', 'x'};
        char enc[200];
        b64(raw, 74, enc, sizeof enc);
        with_line(text, 2, enc, bad, sizeof bad);
        sig_rejects(bad, strlen(bad), "line 2: algorithm 0x5878");
    }
    with_line(text, 3, "trusted: c", bad, sizeof bad);
    sig_rejects(bad, strlen(bad), "line 3: expected");
    {
        char *tc = malloc(SEC_MINISIGN_COMMENT_MAX + 64);
        int w = snprintf(tc, SEC_MINISIGN_COMMENT_MAX + 64, "trusted comment: ");
        memset(tc + w, 'c', SEC_MINISIGN_COMMENT_MAX + 1);
        tc[w + SEC_MINISIGN_COMMENT_MAX + 1] = '\0';
        with_line(text, 3, tc, bad, sizeof bad);
        sig_rejects(bad, strlen(bad), "trusted comment longer than 8192");
        free(tc);
    }
    with_line(text, 4, "?", bad, sizeof bad);
    sig_rejects(bad, strlen(bad), "line 4: not base64");
    with_line(text, 4, "AAAAAAAA", bad, sizeof bad);
    sig_rejects(bad, strlen(bad), "line 4: 6 bytes, a global signature has 64");
    snprintf(bad, sizeof bad, "%sjunk\n", text);
    sig_rejects(bad, strlen(bad), "unexpected text after line 4");
    memset(bad, 'u', 20000);
    bad[20000] = '\n';
    memcpy(bad + 20001, text, strlen(text) + 1);
    sig_rejects(bad, strlen(bad), "line 1: too long");
    memcpy(bad, text, strlen(text) + 1);
    bad[5] = '\0';
    sig_rejects(bad, strlen(text), "line 1: NUL byte");
    return test_done();
}
