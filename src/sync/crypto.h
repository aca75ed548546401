/*
 * crypto.h: end-to-end encryption of sync payloads (docs/sync-protocol.md,
 * "Encryption"): a key from the user's passphrase by Argon2id, rows sealed
 * with XChaCha20-Poly1305 bound to their collection and row id, and the key
 * check that tells a wrong passphrase from a right one. libsodium; no other
 * file calls it for sync.
 */
#ifndef HEARTH_SYNC_CRYPTO_H
#define HEARTH_SYNC_CRYPTO_H

#include "hearth.h"

#include <stddef.h>
#include <stdint.h>

#define SYNC_KEY_BYTES 32
#define SYNC_SALT_BYTES 16
#define SYNC_SEAL_OVERHEAD 40 /* nonce (24) + tag (16) */

typedef struct {
    uint8_t key[SYNC_KEY_BYTES];
} sync_key;

/* Argon2id costs: libsodium's INTERACTIVE limits by default; tests may lower
 * them through HEARTH_SYNC_KDF=fast (opslimit 1, memlimit 8 MiB), which the
 * key info on the server records so every device derives the same key. */
void sync_kdf_limits(uint64_t *opslimit, uint64_t *memlimit);

/* A new random salt. */
void sync_salt_new(uint8_t salt[SYNC_SALT_BYTES]);

/* Derives the key. Errors: HEARTH_E_ARG (empty passphrase, limits outside
 * libsodium's range), HEARTH_E_NOMEM (Argon2id could not get its memory). */
hearth_status sync_key_derive(const char *passphrase, const uint8_t salt[SYNC_SALT_BYTES],
                              uint64_t opslimit, uint64_t memlimit, sync_key *out,
                              hearth_error *err);

/* Seals plaintext for (collection, row): *out (malloc'ed, free()) holds
 * nonce || ciphertext || tag, *out_len = len + SYNC_SEAL_OVERHEAD. */
hearth_status sync_seal(const sync_key *k, const char *collection, const char *row,
                        const void *plaintext, size_t len, uint8_t **out, size_t *out_len,
                        hearth_error *err);

/* Opens a sealed payload of (collection, row): *out (malloc'ed, free(),
 * NUL-terminated beyond *out_len) is the plaintext. Errors: HEARTH_E_FORMAT
 * when the payload is short, was sealed under another key or for another
 * row, or was altered (the message says so; nothing is returned). */
hearth_status sync_open(const sync_key *k, const char *collection, const char *row,
                        const uint8_t *payload, size_t len, uint8_t **out, size_t *out_len,
                        hearth_error *err);

/* The key check stored on the server beside the salt. */
hearth_status sync_keycheck_make(const sync_key *k, uint8_t **out, size_t *out_len,
                                 hearth_error *err);
/* HEARTH_OK when check opens under k; HEARTH_E_STATE with "wrong sync
 * passphrase" when it does not. */
hearth_status sync_keycheck_verify(const sync_key *k, const uint8_t *check, size_t len,
                                   hearth_error *err);

/* Zeroes a key (sodium_memzero). */
void sync_key_wipe(sync_key *k);

#endif
