/*
 * block.h: builds query results as ONE allocation (records first, then the
 * strings and arrays they point to), so a caller frees any result with a
 * single hearth_free.
 *
 * While building, pointer fields hold offsets into the heap area and the
 * builder remembers where each such slot is; blk_finish copies everything
 * into the final block and turns every remembered offset into an address.
 * Records are therefore written only through blk_rec / blk_set_str /
 * blk_set_ptr; the returned record pointer is valid until the next call.
 */
#ifndef HEARTH_STORE_BLOCK_H
#define HEARTH_STORE_BLOCK_H

#include "hearth.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t rec_size;            /* bytes per record */
    size_t n;                   /* records so far */
    uint8_t *recs;              /* (n, rec_size) */
    size_t cap_recs;
    uint8_t *heap;              /* strings and arrays, 8-aligned pieces */
    size_t heap_len, cap_heap;
    /* a slot is a pointer-sized location holding a heap offset:
     * (area << 63) | byte offset, area 0 = recs, 1 = heap */
    uint64_t *slots;
    size_t n_slots, cap_slots;
    bool failed;                /* an allocation failed; finish reports it */
} blk;

void blk_init(blk *b, size_t rec_size);
/* Frees everything (after a failure, or when the result is not wanted). */
void blk_discard(blk *b);

/* Appends a zeroed record; returns its index, or SIZE_MAX on NOMEM. */
size_t blk_rec(blk *b);
/* Address of field at byte offset off of record i (valid until the next
 * blk_ call). */
void *blk_field(blk *b, size_t i, size_t off);

/* Copies len bytes (plus a NUL) into the heap and points the pointer field
 * at byte offset off of record i at it. NULL src leaves the field NULL. */
void blk_set_str(blk *b, size_t i, size_t off, const void *src, size_t len);

/* Reserves n pointers in the heap (an array of strings) and points field
 * off of record i at it; returns the array's heap offset (or SIZE_MAX). */
size_t blk_set_ptr_array(blk *b, size_t i, size_t off, size_t n);
/* Copies a string into the heap and stores it as element j of the array at
 * heap offset arr. */
void blk_set_array_str(blk *b, size_t arr, size_t j, const void *src, size_t len);

/* Produces the block. OUT: *out (owned, free with hearth_free; NULL when
 * there are no records), *n. HEARTH_E_NOMEM if any step failed. Always
 * releases the builder. */
hearth_status blk_finish(blk *b, void **out, size_t *n, hearth_error *err);

#endif
