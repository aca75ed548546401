/*
 * test_crypto.c: src/sync/crypto.c. A sealed row opens under its key for its
 * (collection, row) only: another key, another row or collection, a flipped
 * byte anywhere and every truncation are refused with HEARTH_E_FORMAT and
 * return nothing. The key check tells a wrong passphrase (HEARTH_E_STATE)
 * from a right one; derivation is deterministic for one salt and differs
 * across salts and passphrases; bad arguments are HEARTH_E_ARG.
 */
#include "sync/crypto.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static void derive(const char *pass, const uint8_t salt[SYNC_SALT_BYTES], sync_key *k) {
    uint64_t ops, mem;
    sync_kdf_limits(&ops, &mem);
    hearth_error err = {0};
    hearth_status st = sync_key_derive(pass, salt, ops, mem, k, &err);
    REQUIRE(st == HEARTH_OK);
}

/* Expects sync_open to refuse with HEARTH_E_FORMAT and return nothing. */
static void expect_refused(const sync_key *k, const char *coll, const char *row,
                           const uint8_t *p, size_t n, const char *what) {
    uint8_t *out = (uint8_t *)1;
    size_t out_len = 7;
    hearth_error err = {0};
    hearth_status st = sync_open(k, coll, row, p, n, &out, &out_len, &err);
    CHECKF(st == HEARTH_E_FORMAT, "%s: status %d (%s)", what, (int)st, err.msg);
    CHECKF(out == NULL && out_len == 0, "%s: output returned", what);
    CHECKF(err.code == HEARTH_E_FORMAT && err.msg[0], "%s: no error message", what);
}

int main(void) {
    setenv("HEARTH_SYNC_KDF", "fast", 1);
    uint64_t ops, mem;
    sync_kdf_limits(&ops, &mem);
    CHECK_EQ_INT(ops, 1);
    CHECK_EQ_INT(mem, 8u << 20);

    uint8_t salt[SYNC_SALT_BYTES], salt2[SYNC_SALT_BYTES];
    sync_salt_new(salt);
    sync_salt_new(salt2);
    CHECK(memcmp(salt, salt2, SYNC_SALT_BYTES) != 0);

    /* Deterministic for one salt; different for another salt or passphrase. */
    sync_key k, k_again, k_salt2, k_wrong;
    derive("correct horse battery staple", salt, &k);
    derive("correct horse battery staple", salt, &k_again);
    derive("correct horse battery staple", salt2, &k_salt2);
    derive("correct horse battery stapler", salt, &k_wrong);
    CHECK(!memcmp(k.key, k_again.key, SYNC_KEY_BYTES));
    CHECK(memcmp(k.key, k_salt2.key, SYNC_KEY_BYTES) != 0);
    CHECK(memcmp(k.key, k_wrong.key, SYNC_KEY_BYTES) != 0);

    /* A fixed vector pins the algorithm and its parameters (Argon2id v1.3,
     * opslimit 1, 8 MiB, salt 00..0f, passphrase "hearth"), so a change of
     * algorithm, of the limits or of libsodium's output fails here rather
     * than as devices that can no longer read each other. */
    static const uint8_t want[SYNC_KEY_BYTES] = {
        0x98, 0x94, 0x47, 0x17, 0x49, 0x7c, 0x85, 0x16, 0x49, 0x6e, 0xec, 0xa0, 0x97, 0xe3, 0x99, 0xe8,
        0x4d, 0x28, 0xfa, 0xb9, 0x60, 0x03, 0x83, 0x5b, 0xd2, 0x17, 0x02, 0xfe, 0x67, 0xa6, 0x26, 0x0f};
    uint8_t zsalt[SYNC_SALT_BYTES];
    for (int i = 0; i < SYNC_SALT_BYTES; i++) zsalt[i] = (uint8_t)i;
    sync_key kz;
    derive("hearth", zsalt, &kz);
    CHECK(!memcmp(kz.key, want, SYNC_KEY_BYTES));

    /* Bad arguments. */
    hearth_error err = {0};
    sync_key junk;
    CHECK_EQ_INT(sync_key_derive("", salt, ops, mem, &junk, &err), HEARTH_E_ARG);
    CHECK_EQ_INT(sync_key_derive(NULL, salt, ops, mem, &junk, &err), HEARTH_E_ARG);
    CHECK_EQ_INT(sync_key_derive("x", salt, 0, mem, &junk, &err), HEARTH_E_ARG);
    CHECK_EQ_INT(sync_key_derive("x", salt, ops, 1024, &junk, &err), HEARTH_E_ARG);

    /* Round trip, including an empty plaintext. */
    const char *text = "{\"title\":\"buy milk\",\"done\":false}";
    size_t tlen = strlen(text);
    uint8_t *sealed = NULL, *plain = NULL;
    size_t slen = 0, plen = 0;
    REQUIRE(sync_seal(&k, "tasks", "0193abcd-row", text, tlen, &sealed, &slen, &err) == HEARTH_OK);
    CHECK_EQ_INT(slen, tlen + SYNC_SEAL_OVERHEAD);
    CHECK(memmem(sealed, slen, "milk", 4) == NULL);
    REQUIRE(sync_open(&k, "tasks", "0193abcd-row", sealed, slen, &plain, &plen, &err) == HEARTH_OK);
    CHECK_EQ_INT(plen, tlen);
    CHECK(!memcmp(plain, text, tlen));
    CHECK(plain[plen] == 0);
    free(plain);
    plain = NULL;
    /* The same key opens it (derived again), salt-only change does not. */
    REQUIRE(sync_open(&k_again, "tasks", "0193abcd-row", sealed, slen, &plain, &plen, &err) ==
            HEARTH_OK);
    free(plain);
    plain = NULL;

    /* Two seals of one plaintext differ (random nonce). */
    uint8_t *sealed2 = NULL;
    size_t slen2 = 0;
    REQUIRE(sync_seal(&k, "tasks", "0193abcd-row", text, tlen, &sealed2, &slen2, &err) == HEARTH_OK);
    CHECK(slen2 == slen && memcmp(sealed, sealed2, slen) != 0);
    free(sealed2);

    uint8_t *empty = NULL;
    size_t elen = 0;
    REQUIRE(sync_seal(&k, "settings", "theme", "", 0, &empty, &elen, &err) == HEARTH_OK);
    CHECK_EQ_INT(elen, SYNC_SEAL_OVERHEAD);
    REQUIRE(sync_open(&k, "settings", "theme", empty, elen, &plain, &plen, &err) == HEARTH_OK);
    CHECK_EQ_INT(plen, 0);
    CHECK(plain && plain[0] == 0);
    free(plain);
    plain = NULL;
    free(empty);

    /* Refusals. */
    expect_refused(&k_wrong, "tasks", "0193abcd-row", sealed, slen, "wrong passphrase");
    expect_refused(&k_salt2, "tasks", "0193abcd-row", sealed, slen, "other salt");
    expect_refused(&k, "tasks", "0193abcd-row2", sealed, slen, "other row");
    expect_refused(&k, "tasks", "0193abcd-ro", sealed, slen, "row prefix");
    expect_refused(&k, "settings", "0193abcd-row", sealed, slen, "other collection");
    /* The NUL separator binds the split: ("tasks0", "193...") is another ad. */
    expect_refused(&k, "tasks0", "193abcd-row", sealed, slen, "shifted separator");
    for (size_t i = 0; i < slen; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            uint8_t *bad = malloc(slen);
            REQUIRE(bad);
            memcpy(bad, sealed, slen);
            bad[i] ^= (uint8_t)(1u << bit);
            char what[64];
            snprintf(what, sizeof what, "flipped byte %zu bit %d", i, bit);
            expect_refused(&k, "tasks", "0193abcd-row", bad, slen, what);
            free(bad);
        }
    }
    for (size_t n = 0; n < slen; n++) {
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu", n);
        expect_refused(&k, "tasks", "0193abcd-row", sealed, n, what);
    }
    {
        /* One byte appended is refused too. */
        uint8_t *longer = malloc(slen + 1);
        REQUIRE(longer);
        memcpy(longer, sealed, slen);
        longer[slen] = 0;
        expect_refused(&k, "tasks", "0193abcd-row", longer, slen + 1, "extended");
        free(longer);
    }
    free(sealed);

    /* Key check: right passphrase passes; wrong one is HEARTH_E_STATE with
     * the words "wrong sync passphrase"; an altered check too. */
    uint8_t *check = NULL;
    size_t clen = 0;
    REQUIRE(sync_keycheck_make(&k, &check, &clen, &err) == HEARTH_OK);
    CHECK_EQ_INT(sync_keycheck_verify(&k, check, clen, &err), HEARTH_OK);
    CHECK_EQ_INT(sync_keycheck_verify(&k_again, check, clen, &err), HEARTH_OK);
    hearth_error werr = {0};
    CHECK_EQ_INT(sync_keycheck_verify(&k_wrong, check, clen, &werr), HEARTH_E_STATE);
    CHECKF(strstr(werr.msg, "wrong sync passphrase") != NULL, "message: %s", werr.msg);
    CHECK_EQ_INT(sync_keycheck_verify(&k_salt2, check, clen, &werr), HEARTH_E_STATE);
    check[clen - 1] ^= 1;
    CHECK_EQ_INT(sync_keycheck_verify(&k, check, clen, &werr), HEARTH_E_STATE);
    CHECK_EQ_INT(sync_keycheck_verify(&k, check, 3, &werr), HEARTH_E_STATE);
    free(check);
    /* A row payload sealed under the right key is not a key check. */
    uint8_t *notcheck = NULL;
    size_t nclen = 0;
    REQUIRE(sync_seal(&k, "tasks", "v1", "hearth-sync-key-check", 21, &notcheck, &nclen, &err) ==
            HEARTH_OK);
    CHECK_EQ_INT(sync_keycheck_verify(&k, notcheck, nclen, &werr), HEARTH_E_STATE);
    free(notcheck);
    /* The check's plaintext is the documented one, under (keycheck, v1). */
    REQUIRE(sync_keycheck_make(&k, &check, &clen, &err) == HEARTH_OK);
    REQUIRE(sync_open(&k, "keycheck", "v1", check, clen, &plain, &plen, &err) == HEARTH_OK);
    CHECK(plen == 21 && !memcmp(plain, "hearth-sync-key-check", 21));
    free(plain);
    free(check);

    /* Wipe zeroes. */
    sync_key w = k;
    sync_key_wipe(&w);
    uint8_t zero[SYNC_KEY_BYTES] = {0};
    CHECK(!memcmp(w.key, zero, SYNC_KEY_BYTES));
    sync_key_wipe(NULL);

    /* The default limits are libsodium's INTERACTIVE ones. */
    unsetenv("HEARTH_SYNC_KDF");
    sync_kdf_limits(&ops, &mem);
    CHECK(ops >= 2 && mem >= (64u << 20));
    return test_done();
}
