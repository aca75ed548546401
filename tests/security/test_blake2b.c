/* test_blake2b.c: security/blake2b.c (the browser build's BLAKE2b, for
 * minisign's prehashed signatures) against RFC 7693's example and against
 * libsodium's crypto_generichash (what the native verifier uses), for every
 * digest length, message lengths around the 128-byte block and fed in
 * chunks of every size (a download arrives in pieces of any length). */
#include "test.h"

#include "security/blake2b.h"

#include <sodium.h>

static void hash_chunked(const uint8_t *m, size_t n, size_t chunk, size_t out_len, uint8_t *out) {
    sec_blake2b s;
    REQUIRE(sec_blake2b_init(&s, out_len) == 0);
    for (size_t i = 0; i < n; i += chunk) sec_blake2b_update(&s, m + i, n - i < chunk ? n - i : chunk);
    sec_blake2b_final(&s, out);
}

int main(void) {
    REQUIRE(sodium_init() >= 0);
    /* RFC 7693 appendix A: BLAKE2b-512("abc") */
    static const uint8_t abc[64] = {
        0xBA, 0x80, 0xA5, 0x3F, 0x98, 0x1C, 0x4D, 0x0D, 0x6A, 0x27, 0x97, 0xB6, 0x9F, 0x12, 0xF6,
        0xE9, 0x4C, 0x21, 0x2F, 0x14, 0x68, 0x5A, 0xC4, 0xB7, 0x4B, 0x12, 0xBB, 0x6F, 0xDB, 0xFF,
        0xA2, 0xD1, 0x7D, 0x87, 0xC5, 0x39, 0x2A, 0xAB, 0x79, 0x2D, 0xC2, 0x52, 0xD5, 0xDE, 0x45,
        0x33, 0xCC, 0x95, 0x18, 0xD3, 0x8A, 0xA8, 0xDB, 0xF1, 0x92, 0x5A, 0xB9, 0x23, 0x86, 0xED,
        0xD4, 0x00, 0x99, 0x23};
    uint8_t got[64], want[64];
    hash_chunked((const uint8_t *)"abc", 3, 3, 64, got);
    CHECK(!memcmp(got, abc, 64));

    /* out of range lengths are refused */
    sec_blake2b s;
    CHECK(sec_blake2b_init(&s, 0) == -1);
    CHECK(sec_blake2b_init(&s, 65) == -1);

    enum { N = 1200 };
    uint8_t *m = malloc(N);
    REQUIRE(m);
    for (size_t i = 0; i < N; i++) m[i] = (uint8_t)(i * 131 + (i >> 7) * 7 + 1);

    /* every length 0..N in one piece, the 512-bit digest */
    for (size_t n = 0; n <= N; n++) {
        hash_chunked(m, n, n ? n : 1, 64, got);
        crypto_generichash(want, 64, m, n, NULL, 0);
        CHECKF(!memcmp(got, want, 64), "length %zu", n);
    }
    /* every digest length, a few message lengths */
    static const size_t lens[] = {0, 1, 127, 128, 129, 256, 1000};
    for (size_t ol = 1; ol <= 64; ol++)
        for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
            hash_chunked(m, lens[i], 7, ol, got);
            crypto_generichash(want, ol, m, lens[i], NULL, 0);
            CHECKF(!memcmp(got, want, ol), "out_len %zu, length %zu", ol, lens[i]);
        }
    /* chunked: every chunk size over lengths that end on, before and after
     * a block boundary */
    static const size_t cl[] = {255, 256, 257, 1024, N};
    for (size_t i = 0; i < sizeof cl / sizeof *cl; i++) {
        crypto_generichash(want, 64, m, cl[i], NULL, 0);
        for (size_t chunk = 1; chunk <= 300; chunk++) {
            hash_chunked(m, cl[i], chunk, 64, got);
            CHECKF(!memcmp(got, want, 64), "length %zu in chunks of %zu", cl[i], chunk);
        }
    }
    /* 4 MiB in 1 MiB pieces (the size the worker hashes at a time) */
    size_t big = (size_t)4 << 20;
    uint8_t *b = malloc(big);
    REQUIRE(b);
    for (size_t i = 0; i < big; i++) b[i] = (uint8_t)(i ^ (i >> 11));
    hash_chunked(b, big, (size_t)1 << 20, 64, got);
    crypto_generichash(want, 64, b, big, NULL, 0);
    CHECK(!memcmp(got, want, 64));
    free(b);
    free(m);
    return test_done();
}
