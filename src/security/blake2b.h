/*
 * blake2b.h: BLAKE2b (RFC 7693), unkeyed, for the browser build: minisign's
 * prehashed ("ED") signatures are over the BLAKE2b-512 of the file, and
 * WebCrypto has no BLAKE2b, so web/hearth_wasm.c hashes the model with this
 * while it downloads. The native build hashes with libsodium
 * (security/sha256.c); tests/security/test_blake2b.c checks this one against
 * it. Written from the RFC; no SIMD (the browser's time goes to the
 * download, and a 64-bit add per word is what wasm does well).
 */
#ifndef HEARTH_SECURITY_BLAKE2B_H
#define HEARTH_SECURITY_BLAKE2B_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t h[8];      /* chain value */
    uint64_t t[2];      /* bytes compressed so far (128-bit counter) */
    uint8_t buf[128];   /* the block not yet compressed (the last one is flagged) */
    size_t buf_len;
    size_t out_len;     /* digest bytes, 1..64 */
} sec_blake2b;

/* Starts a hash of out_len bytes (1..64; 64 is BLAKE2b-512). Returns 0, or
 * -1 when out_len is out of range. One thread per state. */
int sec_blake2b_init(sec_blake2b *s, size_t out_len);

/* Hashes n more bytes of p (NULL allowed when n is 0). */
void sec_blake2b_update(sec_blake2b *s, const void *p, size_t n);

/* Writes the digest (out_len bytes) to out. The state is spent: init again
 * to reuse it. */
void sec_blake2b_final(sec_blake2b *s, uint8_t *out);

#endif
