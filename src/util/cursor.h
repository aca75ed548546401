/*
 * cursor.h: the bounds-checked reader through which all parsing of untrusted
 * bytes goes (model files, payloads, signatures). Nothing else does pointer
 * arithmetic on input bytes. Every take checks against the bytes left, so a
 * length field larger than the input fails instead of reading past it.
 * Values are little-endian, read unaligned through memcpy.
 */
#ifndef HEARTH_UTIL_CURSOR_H
#define HEARTH_UTIL_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const uint8_t *base; /* start of the whole input (for offsets in errors) */
    const uint8_t *p;    /* next byte */
    size_t left;         /* bytes after p */
} rd;

static inline rd rd_init(const void *buf, size_t len) {
    rd r = {(const uint8_t *)buf, (const uint8_t *)buf, len};
    return r;
}

/* Offset of the next byte from the start of the input. */
static inline size_t rd_offset(const rd *r) { return (size_t)(r->p - r->base); }

static inline bool rd_take(rd *r, size_t n, const uint8_t **out) {
    if (n > r->left) return false;
    *out = r->p;
    r->p += n;
    r->left -= n;
    return true;
}

static inline bool rd_skip(rd *r, size_t n) {
    const uint8_t *unused;
    return rd_take(r, n, &unused);
}

#define HEARTH_RD_SCALAR(name, type)                                                   \
    static inline bool rd_##name(rd *r, type *out) {                                   \
        const uint8_t *p;                                                              \
        if (!rd_take(r, sizeof(type), &p)) return false;                               \
        memcpy(out, p, sizeof(type));                                                  \
        return true;                                                                   \
    }
HEARTH_RD_SCALAR(u8, uint8_t)
HEARTH_RD_SCALAR(u16, uint16_t)
HEARTH_RD_SCALAR(u32, uint32_t)
HEARTH_RD_SCALAR(u64, uint64_t)
HEARTH_RD_SCALAR(i32, int32_t)
HEARTH_RD_SCALAR(i64, int64_t)
HEARTH_RD_SCALAR(f32, float)
HEARTH_RD_SCALAR(f64, double)
#undef HEARTH_RD_SCALAR

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "hearth reads little-endian files with memcpy and needs a little-endian host"
#endif

#endif
