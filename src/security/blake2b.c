/*
 * blake2b.c: BLAKE2b as RFC 7693 specifies it (section 3: the G mixing
 * function, 12 rounds of the message schedule SIGMA, the 128-bit byte
 * counter and the final-block flag), unkeyed. See blake2b.h.
 */
#include "security/blake2b.h"

#include <string.h>

/* The initialization vector: SHA-512's (RFC 7693 section 2.6). */
static const uint64_t IV[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

/* The message word permutations (section 2.7); rounds 10 and 11 reuse rows
 * 0 and 1. */
static const uint8_t SIGMA[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

static inline uint64_t rotr64(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

static inline uint64_t load64_le(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* The mixing function G (section 3.1) on v[a], v[b], v[c], v[d]. */
static inline void mix(uint64_t v[16], int a, int b, int c, int d, uint64_t x, uint64_t y) {
    v[a] = v[a] + v[b] + x;
    v[d] = rotr64(v[d] ^ v[a], 32);
    v[c] = v[c] + v[d];
    v[b] = rotr64(v[b] ^ v[c], 24);
    v[a] = v[a] + v[b] + y;
    v[d] = rotr64(v[d] ^ v[a], 16);
    v[c] = v[c] + v[d];
    v[b] = rotr64(v[b] ^ v[c], 63);
}

/* The compression function F (section 3.2) on one 128-byte block. */
static void compress(sec_blake2b *s, const uint8_t block[128], int last) {
    uint64_t m[16], v[16];
    for (int i = 0; i < 16; i++) m[i] = load64_le(block + 8 * i);
    for (int i = 0; i < 8; i++) {
        v[i] = s->h[i];
        v[i + 8] = IV[i];
    }
    v[12] ^= s->t[0];
    v[13] ^= s->t[1];
    if (last) v[14] = ~v[14];
    for (int r = 0; r < 12; r++) {
        const uint8_t *sg = SIGMA[r];
        mix(v, 0, 4, 8, 12, m[sg[0]], m[sg[1]]);
        mix(v, 1, 5, 9, 13, m[sg[2]], m[sg[3]]);
        mix(v, 2, 6, 10, 14, m[sg[4]], m[sg[5]]);
        mix(v, 3, 7, 11, 15, m[sg[6]], m[sg[7]]);
        mix(v, 0, 5, 10, 15, m[sg[8]], m[sg[9]]);
        mix(v, 1, 6, 11, 12, m[sg[10]], m[sg[11]]);
        mix(v, 2, 7, 8, 13, m[sg[12]], m[sg[13]]);
        mix(v, 3, 4, 9, 14, m[sg[14]], m[sg[15]]);
    }
    for (int i = 0; i < 8; i++) s->h[i] ^= v[i] ^ v[i + 8];
}

static void count(sec_blake2b *s, uint64_t n) {
    s->t[0] += n;
    if (s->t[0] < n) s->t[1]++;
}

int sec_blake2b_init(sec_blake2b *s, size_t out_len) {
    if (out_len < 1 || out_len > 64) return -1;
    memset(s, 0, sizeof *s);
    memcpy(s->h, IV, sizeof s->h);
    /* the parameter block's first word: digest length, no key, fanout 1,
     * depth 1 (section 2.5) */
    s->h[0] ^= 0x01010000ULL ^ (uint64_t)out_len;
    s->out_len = out_len;
    return 0;
}

void sec_blake2b_update(sec_blake2b *s, const void *p, size_t n) {
    const uint8_t *in = p;
    while (n > 0) {
        /* a full buffer is compressed only once more input follows: the
         * last block, full or not, is compressed by final with the flag */
        if (s->buf_len == sizeof s->buf) {
            count(s, sizeof s->buf);
            compress(s, s->buf, 0);
            s->buf_len = 0;
        }
        /* whole blocks straight from the input, keeping at least one byte
         * back for the buffer */
        while (s->buf_len == 0 && n > sizeof s->buf) {
            count(s, sizeof s->buf);
            compress(s, in, 0);
            in += sizeof s->buf;
            n -= sizeof s->buf;
        }
        size_t k = sizeof s->buf - s->buf_len;
        if (k > n) k = n;
        memcpy(s->buf + s->buf_len, in, k);
        s->buf_len += k;
        in += k;
        n -= k;
    }
}

void sec_blake2b_final(sec_blake2b *s, uint8_t *out) {
    count(s, s->buf_len);
    memset(s->buf + s->buf_len, 0, sizeof s->buf - s->buf_len);
    compress(s, s->buf, 1);
    uint8_t full[64];
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) full[8 * i + j] = (uint8_t)(s->h[i] >> (8 * j));
    memcpy(out, full, s->out_len);
    memset(s, 0, sizeof *s);
}
