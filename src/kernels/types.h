/*
 * types.h: the type-traits table, one row per ggml tensor type, indexed by
 * hearth_type. Everything that needs a type's layout (the GGUF reader's size
 * checks, quantize/dequantize, the kernels' dispatch) reads it from here.
 *
 * Invariants: blck_size > 0 and type_size > 0 for every named type (also the
 * ones hearth cannot run, so files holding them can be sized and rejected by
 * name); to_float and from_float_ref are non-NULL exactly for the types
 * hearth supports.
 */
#ifndef HEARTH_KERNELS_TYPES_H
#define HEARTH_KERNELS_TYPES_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* QK_K: elements per super-block of the K-quants. */
#define QK_K 256

/* Dequantizes n elements (a multiple of the block size) from src to dst. */
typedef void (*hearth_to_float_fn)(const void *src, float *dst, int64_t n);
/* Quantizes n elements (a multiple of the block size) with the reference
 * (scalar, deterministic) algorithm. */
typedef void (*hearth_from_float_fn)(const float *src, void *dst, int64_t n);

typedef struct {
    const char *name;        /* "Q4_K"; NULL for numbers no ggml version used */
    int64_t blck_size;       /* elements per block */
    size_t type_size;        /* bytes per block */
    bool is_quantized;
    bool supported;          /* hearth can load and run it */
    hearth_to_float_fn to_float;
    hearth_from_float_fn from_float_ref;
} hearth_type_traits;

/* Row of the table, or NULL if type is outside [0, HEARTH_TYPE_COUNT) or an
 * unused number. Any thread. */
const hearth_type_traits *hearth_type_traits_get(int type);

#endif
