/*
 * block.c: the one-allocation result builder (see block.h).
 */
#include "store/block.h"

#include "util/alloc.h"
#include "util/error.h"

#include <string.h>

#define AREA_HEAP ((uint64_t)1 << 63)

void blk_init(blk *b, size_t rec_size) {
    memset(b, 0, sizeof *b);
    b->rec_size = rec_size;
}

void blk_discard(blk *b) {
    hearth_free(b->recs);
    hearth_free(b->heap);
    hearth_free(b->slots);
    size_t rs = b->rec_size;
    blk_init(b, rs);
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem) return false;
        c *= 2;
    }
    void *q = hearth_realloc(*p, c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

size_t blk_rec(blk *b) {
    if (b->failed) return SIZE_MAX;
    if (!grow((void **)&b->recs, &b->cap_recs, b->n + 1, b->rec_size)) {
        b->failed = true;
        return SIZE_MAX;
    }
    memset(b->recs + b->n * b->rec_size, 0, b->rec_size);
    return b->n++;
}

void *blk_field(blk *b, size_t i, size_t off) { return b->recs + i * b->rec_size + off; }

/* Reserves len bytes at an 8-aligned heap offset; SIZE_MAX on failure. */
static size_t heap_take(blk *b, size_t len) {
    if (b->failed) return SIZE_MAX;
    size_t at = (b->heap_len + 7) & ~(size_t)7;
    if (len > SIZE_MAX - at - 8 || !grow((void **)&b->heap, &b->cap_heap, at + len, 1)) {
        b->failed = true;
        return SIZE_MAX;
    }
    b->heap_len = at + len;
    return at;
}

static void add_slot(blk *b, uint64_t where, size_t heap_off) {
    if (b->failed) return;
    if (!grow((void **)&b->slots, &b->cap_slots, b->n_slots + 1, sizeof *b->slots)) {
        b->failed = true;
        return;
    }
    b->slots[b->n_slots++] = where;
    uint8_t *slot = (where & AREA_HEAP) ? b->heap + (where & ~AREA_HEAP) : b->recs + where;
    uint64_t v = heap_off;
    memcpy(slot, &v, sizeof v);
}

static size_t heap_str(blk *b, const void *src, size_t len) {
    if (len == SIZE_MAX) {
        b->failed = true;
        return SIZE_MAX;
    }
    size_t at = heap_take(b, len + 1);
    if (at == SIZE_MAX) return SIZE_MAX;
    if (len) memcpy(b->heap + at, src, len);
    b->heap[at + len] = '\0';
    return at;
}

void blk_set_str(blk *b, size_t i, size_t off, const void *src, size_t len) {
    if (!src || b->failed || i == SIZE_MAX) return;
    size_t at = heap_str(b, src, len);
    if (at == SIZE_MAX) return;
    add_slot(b, i * b->rec_size + off, at);
}

size_t blk_set_ptr_array(blk *b, size_t i, size_t off, size_t n) {
    if (b->failed || i == SIZE_MAX) return SIZE_MAX;
    if (n > SIZE_MAX / sizeof(void *)) {
        b->failed = true;
        return SIZE_MAX;
    }
    size_t at = heap_take(b, n * sizeof(void *));
    if (at == SIZE_MAX) return SIZE_MAX;
    memset(b->heap + at, 0, n * sizeof(void *));
    add_slot(b, i * b->rec_size + off, at);
    return at;
}

void blk_set_array_str(blk *b, size_t arr, size_t j, const void *src, size_t len) {
    if (b->failed || arr == SIZE_MAX || !src) return;
    size_t at = heap_str(b, src, len);
    if (at == SIZE_MAX) return;
    add_slot(b, AREA_HEAP | (arr + j * sizeof(void *)), at);
}

_Static_assert(sizeof(void *) == sizeof(uint64_t), "block slots hold 64-bit offsets");

hearth_status blk_finish(blk *b, void **out, size_t *n, hearth_error *err) {
    *out = NULL;
    *n = 0;
    if (b->failed) {
        blk_discard(b);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory building a query result");
    }
    if (b->n == 0) {
        blk_discard(b);
        return HEARTH_OK;
    }
    size_t recs_len = (b->n * b->rec_size + 7) & ~(size_t)7;
    uint8_t *blkp = hearth_malloc(recs_len + b->heap_len);
    if (!blkp) {
        blk_discard(b);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory building a query result");
    }
    memcpy(blkp, b->recs, b->n * b->rec_size);
    if (b->heap_len) memcpy(blkp + recs_len, b->heap, b->heap_len);
    for (size_t k = 0; k < b->n_slots; k++) {
        uint64_t w = b->slots[k];
        uint8_t *slot = (w & AREA_HEAP) ? blkp + recs_len + (w & ~AREA_HEAP) : blkp + w;
        uint64_t off;
        memcpy(&off, slot, sizeof off);
        void *ptr = blkp + recs_len + off;
        memcpy(slot, &ptr, sizeof ptr);
    }
    *out = blkp;
    *n = b->n;
    blk_discard(b);
    return HEARTH_OK;
}
