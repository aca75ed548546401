/*
 * crypto.c: end-to-end encryption of sync payloads (crypto.h,
 * docs/sync-protocol.md "Encryption"). The key comes from the passphrase by
 * Argon2id (crypto_pwhash, ALG_ARGON2ID13); a row is sealed as
 * nonce (24) || XChaCha20-Poly1305-IETF(key, nonce, plaintext, ad) with
 * ad = "hearth-sync-v1\0" collection "\0" row, so a payload moved to another
 * row or collection no longer opens. The key check is the seal of a fixed
 * plaintext for (keycheck, v1). Every function here is safe on any thread
 * (libsodium's initialisation is itself thread-safe and idempotent).
 */
#include "sync/crypto.h"

#include "util/error.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define AD_PREFIX "hearth-sync-v1"
#define KEYCHECK_COLLECTION "keycheck"
#define KEYCHECK_ROW "v1"
#define KEYCHECK_TEXT "hearth-sync-key-check"

_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == 24, "nonce size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == 16, "tag size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == SYNC_KEY_BYTES, "key size");
_Static_assert(crypto_pwhash_SALTBYTES == SYNC_SALT_BYTES, "salt size");
_Static_assert(SYNC_SEAL_OVERHEAD == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                                         crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "seal overhead");

/* sodium_init returns 0 the first time, 1 after; -1 only when the system
 * has no usable randomness source. */
static hearth_status sodium_ready(hearth_error *err) {
    if (sodium_init() < 0) return HEARTH_FAIL(err, HEARTH_E_STATE, "libsodium could not start");
    return HEARTH_OK;
}

void sync_kdf_limits(uint64_t *opslimit, uint64_t *memlimit) {
    const char *mode = getenv("HEARTH_SYNC_KDF");
    if (mode && !strcmp(mode, "fast")) {
        *opslimit = 1;
        *memlimit = 8u << 20;
    } else {
        *opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        *memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    }
}

void sync_salt_new(uint8_t salt[SYNC_SALT_BYTES]) {
    /* randombytes_buf works (and initialises on first use) even if
     * sodium_init failed, so its answer does not matter here. */
    if (sodium_init() < 0) {
        /* fall through: randombytes_buf picks its own source */
    }
    randombytes_buf(salt, SYNC_SALT_BYTES);
}

hearth_status sync_key_derive(const char *passphrase, const uint8_t salt[SYNC_SALT_BYTES],
                              uint64_t opslimit, uint64_t memlimit, sync_key *out,
                              hearth_error *err) {
    if (!passphrase || !*passphrase)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "empty sync passphrase");
    if (!salt || !out) return HEARTH_FAIL(err, HEARTH_E_ARG, "sync_key_derive: NULL argument");
    size_t plen = strlen(passphrase);
    if (plen > crypto_pwhash_PASSWD_MAX)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sync passphrase too long (%zu bytes)", plen);
    if (opslimit < crypto_pwhash_OPSLIMIT_MIN || opslimit > crypto_pwhash_OPSLIMIT_MAX)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "Argon2id opslimit %llu outside [%llu, %llu]",
                           (unsigned long long)opslimit,
                           (unsigned long long)crypto_pwhash_OPSLIMIT_MIN,
                           (unsigned long long)crypto_pwhash_OPSLIMIT_MAX);
    /* memlimit is a size_t in libsodium: check against both its range and
     * SIZE_MAX (32-bit targets). */
    if (memlimit < crypto_pwhash_MEMLIMIT_MIN || memlimit > (uint64_t)crypto_pwhash_MEMLIMIT_MAX ||
        memlimit > (uint64_t)SIZE_MAX)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "Argon2id memlimit %llu outside [%llu, %llu]",
                           (unsigned long long)memlimit,
                           (unsigned long long)crypto_pwhash_MEMLIMIT_MIN,
                           (unsigned long long)crypto_pwhash_MEMLIMIT_MAX);
    hearth_status st = sodium_ready(err);
    if (st) return st;
    if (crypto_pwhash(out->key, sizeof out->key, passphrase, plen, salt, opslimit,
                      (size_t)memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_memzero(out->key, sizeof out->key);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "Argon2id could not get %llu bytes of memory",
                           (unsigned long long)memlimit);
    }
    return HEARTH_OK;
}

/* The associated data "hearth-sync-v1\0" collection "\0" row, malloc'ed. */
static hearth_status make_ad(const char *collection, const char *row, uint8_t **ad,
                             size_t *ad_len, hearth_error *err) {
    if (!collection || !row) return HEARTH_FAIL(err, HEARTH_E_ARG, "sync payload: NULL collection or row");
    size_t pl = sizeof AD_PREFIX; /* with its NUL */
    size_t cl = strlen(collection), rl = strlen(row);
    /* Each part is a C string, so none can be within SIZE_MAX of the others. */
    size_t n = pl + cl + 1 + rl;
    uint8_t *p = malloc(n);
    if (!p) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "sync payload: no memory for %zu bytes", n);
    memcpy(p, AD_PREFIX, pl);
    memcpy(p + pl, collection, cl);
    p[pl + cl] = 0;
    memcpy(p + pl + cl + 1, row, rl);
    *ad = p;
    *ad_len = n;
    return HEARTH_OK;
}

hearth_status sync_seal(const sync_key *k, const char *collection, const char *row,
                        const void *plaintext, size_t len, uint8_t **out, size_t *out_len,
                        hearth_error *err) {
    if (!k || !out || !out_len || (len && !plaintext))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sync_seal: NULL argument");
    *out = NULL;
    *out_len = 0;
    if (len > SIZE_MAX - SYNC_SEAL_OVERHEAD)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sync_seal: plaintext of %zu bytes too large", len);
    hearth_status st = sodium_ready(err);
    if (st) return st;
    uint8_t *ad;
    size_t ad_len;
    if ((st = make_ad(collection, row, &ad, &ad_len, err))) return st;
    size_t n = len + SYNC_SEAL_OVERHEAD;
    uint8_t *buf = malloc(n);
    if (!buf) {
        free(ad);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "sync_seal: no memory for %zu bytes", n);
    }
    uint8_t *nonce = buf;
    randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(buf + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                               &clen, plaintext, len, ad, ad_len, NULL, nonce,
                                               k->key);
    free(ad);
    if (HEARTH_NEVER(clen != len + crypto_aead_xchacha20poly1305_ietf_ABYTES)) {
        free(buf);
        return HEARTH_FAIL(err, HEARTH_E_STATE, "sync_seal: unexpected ciphertext length");
    }
    *out = buf;
    *out_len = n;
    return HEARTH_OK;
}

hearth_status sync_open(const sync_key *k, const char *collection, const char *row,
                        const uint8_t *payload, size_t len, uint8_t **out, size_t *out_len,
                        hearth_error *err) {
    if (!k || !out || !out_len || (len && !payload))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sync_open: NULL argument");
    *out = NULL;
    *out_len = 0;
    if (len < SYNC_SEAL_OVERHEAD)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "sync payload of %s/%s: %zu bytes, shorter than nonce and tag (%d)",
                           collection ? collection : "?", row ? row : "?", len,
                           SYNC_SEAL_OVERHEAD);
    hearth_status st = sodium_ready(err);
    if (st) return st;
    uint8_t *ad;
    size_t ad_len;
    if ((st = make_ad(collection, row, &ad, &ad_len, err))) return st;
    size_t plen = len - SYNC_SEAL_OVERHEAD;
    uint8_t *buf = malloc(plen + 1);
    if (!buf) {
        free(ad);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "sync_open: no memory for %zu bytes", plen + 1);
    }
    const uint8_t *nonce = payload;
    unsigned long long mlen = 0;
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
        buf, &mlen, NULL, payload + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
        len - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, ad, ad_len, nonce, k->key);
    free(ad);
    if (rc != 0 || mlen != plen) {
        sodium_memzero(buf, plen + 1);
        free(buf);
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "sync payload of %s/%s does not open: sealed under another key, "
                           "for another row, or altered",
                           collection, row);
    }
    buf[plen] = 0;
    *out = buf;
    *out_len = plen;
    return HEARTH_OK;
}

hearth_status sync_keycheck_make(const sync_key *k, uint8_t **out, size_t *out_len,
                                 hearth_error *err) {
    return sync_seal(k, KEYCHECK_COLLECTION, KEYCHECK_ROW, KEYCHECK_TEXT,
                     sizeof KEYCHECK_TEXT - 1, out, out_len, err);
}

hearth_status sync_keycheck_verify(const sync_key *k, const uint8_t *check, size_t len,
                                   hearth_error *err) {
    uint8_t *plain = NULL;
    size_t plen = 0;
    hearth_error e = {0};
    hearth_status st = sync_open(k, KEYCHECK_COLLECTION, KEYCHECK_ROW, check, len, &plain, &plen, &e);
    if (st == HEARTH_E_FORMAT)
        return HEARTH_FAIL(err, HEARTH_E_STATE,
                           "wrong sync passphrase: the server's key check does not open under "
                           "the key derived from it");
    if (st) {
        if (err) *err = e;
        return st;
    }
    bool same = plen == sizeof KEYCHECK_TEXT - 1 && !memcmp(plain, KEYCHECK_TEXT, plen);
    free(plain);
    if (!same)
        return HEARTH_FAIL(err, HEARTH_E_STATE,
                           "wrong sync passphrase: the server's key check holds other text");
    return HEARTH_OK;
}

void sync_key_wipe(sync_key *k) {
    if (k) sodium_memzero(k->key, sizeof k->key);
}
