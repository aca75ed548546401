/*
 * rng.h: the deterministic random numbers of hearth-genmodel.
 *
 * splitmix64 (Steele, Lea, Flood 2014) drives everything: it is tiny, passes
 * BigCrush, and a stream can be started anywhere from one 64-bit seed, which
 * is what lets every tensor row have its own stream (rows fill in parallel
 * and the bytes never depend on the thread count).
 *
 * Normal variates use Irwin-Hall over four 16-bit uniforms taken from one
 * 64-bit draw: mean 0, variance exactly 1 after scaling, bounded at +-3.46.
 * Integer-only up to the final scale, so no libm (log/cos) whose last bit
 * could differ between machines: same arguments, same bytes, anywhere.
 */
#ifndef HEARTH_GENMODEL_RNG_H
#define HEARTH_GENMODEL_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s;
} gm_rng;

static inline uint64_t gm_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t gm_rng_next(gm_rng *r) {
    r->s += 0x9e3779b97f4a7c15ULL;
    return gm_mix64(r->s);
}

/* Uniform in [0, n) for n > 0 (multiply-shift; the bias is below 2^-32 for
 * the small n used here). */
static inline uint64_t gm_rng_below(gm_rng *r, uint64_t n) {
    return (uint64_t)(((unsigned __int128)gm_rng_next(r) * n) >> 64);
}

/* Approximately N(0, 1): (sum of four U{0..65535}) centred and scaled to
 * unit variance. Var(U{0..M-1}) = (M^2-1)/12, so the sum of four has
 * variance (M^2-1)/3. */
static inline float gm_rng_normal(gm_rng *r) {
    uint64_t x = gm_rng_next(r);
    int32_t s = (int32_t)(x & 0xffff) + (int32_t)((x >> 16) & 0xffff) +
                (int32_t)((x >> 32) & 0xffff) + (int32_t)(x >> 48);
    /* 2*(sum - 2*(M-1)) is an exact integer; 1/(2*sqrt((M^2-1)/3)). */
    const float k = (float)(1.0 / 75674.45447441297);
    return (float)(2 * s - 4 * 65535) * k;
}

/* Seed of the stream for row `row` of the tensor whose name hashes to h. */
static inline uint64_t gm_row_seed(uint64_t seed, uint64_t h, uint64_t row) {
    /* Mixed, not just offset: offsetting by row * step would make row r+1's
     * stream row r's shifted by one draw. */
    uint64_t t = gm_mix64(gm_mix64(seed ^ 0x6a09e667f3bcc909ULL) ^ h);
    return gm_mix64(t + gm_mix64(row + 0x3c6ef372fe94f82bULL));
}

/* FNV-1a of a NUL-terminated string, for the tensor-name part of a seed. */
static inline uint64_t gm_hash_str(const char *s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
    return h;
}

#endif
