/*
 * gguf_index.c: the name -> position hash index of an open GGUF file (keys
 * and tensor names). Open addressing with linear probing over a power-of-two
 * table at most half full, so lookups and duplicate detection at open time
 * stay O(1) however many tensors a file has. The hash is seeded per index
 * (heap address and clock), so a file cannot be crafted with names that all
 * land in one probe chain and make opening quadratic.
 */
#include "gguf/gguf_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <string.h>
#include <time.h>

static uint64_t hash_name(uint64_t seed, const char *s, size_t len) {
    /* Seeded FNV-1a, then a 64-bit finalizer (MurmurHash3's fmix64) so the
     * table index depends on every bit of the state. */
    uint64_t h = 1469598103934665603ull ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 1099511628211ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

bool gguf_index_init(gguf_index *ix, uint32_t n) {
    memset(ix, 0, sizeof *ix);
    uint32_t cap = 16;
    while (cap < 2 * (uint64_t)n) cap <<= 1;
    ix->slots = hearth_calloc(cap, sizeof *ix->slots);
    ix->names = hearth_calloc(n ? n : 1, sizeof *ix->names);
    if (!ix->slots || !ix->names) {
        gguf_index_free(ix);
        return false;
    }
    ix->mask = cap - 1;
    ix->cap_names = n;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ix->seed = (uint64_t)(uintptr_t)ix->slots * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_nsec ^
               ((uint64_t)ts.tv_sec << 32);
    return true;
}

void gguf_index_free(gguf_index *ix) {
    hearth_free(ix->slots);
    hearth_free(ix->names);
    memset(ix, 0, sizeof *ix);
}

static int64_t probe(const gguf_index *ix, const char *name, size_t len, uint32_t *slot) {
    uint32_t i = (uint32_t)hash_name(ix->seed, name, len) & ix->mask;
    for (;;) {
        uint32_t s = ix->slots[i];
        if (!s) {
            *slot = i;
            return -1;
        }
        const char *other = ix->names[s - 1];
        if (!strncmp(other, name, len) && other[len] == '\0') return (int64_t)s - 1;
        i = (i + 1) & ix->mask;
    }
}

int64_t gguf_index_add(gguf_index *ix, const char *name, size_t len) {
    uint32_t slot;
    if (!ix->slots) return -1;
    int64_t found = probe(ix, name, len, &slot);
    if (found >= 0) return found;
    if (HEARTH_NEVER(ix->count >= ix->cap_names)) return -1;
    ix->names[ix->count] = name;
    ix->slots[slot] = ++ix->count;
    return -1;
}

int64_t gguf_index_find(const gguf_index *ix, const char *name, size_t len) {
    uint32_t slot;
    if (!ix->slots) return -1;
    return probe(ix, name, len, &slot);
}
