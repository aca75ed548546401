/*
 * assign.c: deterministic assignment of requests to A/B variants (see
 * assign.h). SipHash-2-4 (Aumasson and Bernstein, 2012) rather than a
 * plain FNV: its output bits are uniform for similar keys ("user-1",
 * "user-2", ...), so a 50/50 split stays 50/50 over sequential names.
 */
#include "ab/assign.h"

#include "util/error.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t AB_KEY[16] = {'h', 'e', 'a', 'r', 't', 'h', '-', 'a',
                                   'b', '-', 's', 'p', 'l', 'i', 't', '1'};

static uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

static uint64_t load64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

#define SIPROUND                                                                           \
    do {                                                                                   \
        v0 += v1, v1 = rotl(v1, 13), v1 ^= v0, v0 = rotl(v0, 32);                          \
        v2 += v3, v3 = rotl(v3, 16), v3 ^= v2;                                             \
        v0 += v3, v3 = rotl(v3, 21), v3 ^= v0;                                             \
        v2 += v1, v1 = rotl(v1, 17), v1 ^= v2, v2 = rotl(v2, 32);                          \
    } while (0)

uint64_t ab_siphash(const uint8_t k[16], const void *data, size_t len) {
    const uint8_t *in = data;
    uint64_t k0 = load64(k), k1 = load64(k + 8);
    uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
    uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
    size_t full = len - len % 8;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load64(in + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < len % 8; i++) b |= (uint64_t)in[full + i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

size_t ab_assign(const char *key, const unsigned *w, size_t n) {
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) total += w[i];
    if (n == 0 || total == 0) return 0;
    /* the top 53 bits as a point in [0, 1), scaled to the weights' total */
    double u = (double)(ab_siphash(AB_KEY, key, strlen(key)) >> 11) * 0x1p-53 * (double)total;
    uint64_t cum = 0;
    for (size_t i = 0; i < n; i++) {
        cum += w[i];
        if (u < (double)cum) return i;
    }
    for (size_t i = n; i-- > 0;) /* rounding at the very top: the last weighted one */
        if (w[i]) return i;
    return 0;
}

hearth_status ab_parse_split(const char *s, unsigned *w, size_t n, hearth_error *err) {
    size_t k = 0;
    uint64_t total = 0;
    const char *p = s;
    while (*p) {
        if (k == n)
            return HEARTH_FAIL(err, HEARTH_E_ARG, "split '%.64s' has more than %zu numbers (one per variant)", s, n);
        char *end;
        if (*p < '0' || *p > '9')
            return HEARTH_FAIL(err, HEARTH_E_ARG, "split '%.64s': expected numbers such as 50,50", s);
        unsigned long v = strtoul(p, &end, 10);
        if (v > 1000000) return HEARTH_FAIL(err, HEARTH_E_ARG, "split '%.64s': %lu is too large", s, v);
        w[k++] = (unsigned)v;
        total += v;
        p = end;
        if (*p == ',') {
            p++;
            if (!*p) return HEARTH_FAIL(err, HEARTH_E_ARG, "split '%.64s' ends with a comma", s);
        } else if (*p) {
            return HEARTH_FAIL(err, HEARTH_E_ARG, "split '%.64s': expected numbers such as 50,50", s);
        }
    }
    if (k != n)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "split '%.64s' has %zu numbers for %zu variants", s, k, n);
    if (total == 0) return HEARTH_FAIL(err, HEARTH_E_ARG, "split '%.64s' is all zeros", s);
    return HEARTH_OK;
}
