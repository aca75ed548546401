/*
 * gguf_int.h: private layout of an open GGUF file (hearth_gguf) and of the
 * writer, the hard limits every parsed field is checked against, and the
 * helpers the reader's files share.
 *
 * Invariants of an open hearth_gguf (established by gguf_parse before the
 * handle is returned, never changed afterwards, so every read-only accessor
 * may run on any thread):
 *  - every kv and tensor lies wholly inside [base, base+len);
 *  - keys and tensor names are unique, NUL-free, NUL-terminated copies;
 *  - every tensor has a known type, 1..4 non-negative dimensions whose
 *    product and byte size fit, an aligned offset, and a byte range inside
 *    the data section that overlaps no other tensor.
 */
#ifndef HEARTH_GGUF_INT_H
#define HEARTH_GGUF_INT_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hard limits (beyond "must fit in the bytes left"). Real files stay far
 * below them: keys are short, the largest arrays are vocabularies of a few
 * hundred thousand entries, and chat templates are tens of KB. */
#define GGUF_MAX_KEY_LEN 65535u        /* the GGUF spec's limit for keys */
#define GGUF_MAX_NAME_LEN 1024u        /* tensor names (ggml itself uses < 64) */
#define GGUF_MAX_STRING_LEN (64u << 20) /* one string value or array element */
#define GGUF_MAX_ARRAY_LEN (1u << 28)  /* elements of one array */
#define GGUF_MAX_DEPTH 4               /* arrays of arrays nest at most this deep */
#define GGUF_MAX_KV (1u << 20)
#define GGUF_MAX_TENSORS (1u << 20)
#define GGUF_MAX_ALIGNMENT (1u << 20)  /* larger than any page size in use */
#define GGUF_MAX_DIMS 4
#define GGUF_DEFAULT_ALIGNMENT 32u
#define GGUF_KEY_ALIGNMENT "general.alignment"

/* Bytes a field needs at minimum, used to reject counts that cannot fit in
 * the bytes left before anything is allocated for them. */
#define GGUF_MIN_KV_BYTES 13u     /* key length (8) + type (4) + 1-byte value */
#define GGUF_MIN_TENSOR_BYTES 32u /* name len 8, n_dims 4, one dim 8, type 4, offset 8 */

/* Size in bytes of a scalar value type; 0 for STRING, ARRAY and numbers
 * outside the enum. */
size_t gguf_scalar_size(uint32_t type);
/* Short name of a value type ("u32", "str", "arr"); "?" if out of range. */
const char *gguf_type_str(uint32_t type);

/* Open-addressing hash index from a NUL-terminated name to its position in
 * a caller-kept names array. Sized once; never grows. */
typedef struct {
    uint32_t *slots;     /* position + 1; 0 is empty */
    const char **names;  /* borrowed from the handle's pool, by position */
    uint32_t mask;
    uint32_t count;
    uint32_t cap_names;
    uint64_t seed;       /* per-index hash seed */
} gguf_index;

/* Sizes the index for n names (n <= GGUF_MAX_KV). false on allocation
 * failure. */
bool gguf_index_init(gguf_index *ix, uint32_t n);
void gguf_index_free(gguf_index *ix);
/* Adds name at position count (names must outlive the index); returns -1 on
 * success or the position of an equal name already present (then nothing is
 * added). */
int64_t gguf_index_add(gguf_index *ix, const char *name, size_t len);
/* Position of name, or -1. */
int64_t gguf_index_find(const gguf_index *ix, const char *name, size_t len);

/* One metadata entry. */
typedef struct {
    const char *key;         /* NUL-terminated, in the pool */
    hearth_gguf_value v;     /* data points into the input */
    const char *str;         /* scalar strings: NUL-terminated copy in the pool */
    uint64_t *elem_off;      /* string arrays: input offset of each element's
                                length prefix (owned); else NULL */
    uint64_t off;            /* input offset of the entry (its key length) */
} gguf_kv;

typedef struct gguf_pool_chunk gguf_pool_chunk;

struct hearth_gguf {
    const uint8_t *base; /* the whole input */
    size_t len;
    void *map;           /* mmap'd region to unmap, or NULL for a caller buffer */
    size_t map_len;

    bool allow_unsupported; /* hearth_gguf_params.allow_unsupported_types */

    uint32_t version;
    size_t alignment;
    uint64_t data_offset;

    int64_t n_kv;
    gguf_kv *kvs;              /* (n_kv) */
    gguf_index kv_index;

    int64_t n_tensors;
    hearth_gguf_tensor *tensors; /* (n_tensors) */
    gguf_index tensor_index;

    gguf_pool_chunk *pool;     /* keys, names and scalar strings */
};

/* Parses and validates the GGUF image g->base[0..g->len) into g (other
 * fields zeroed by the caller). On failure g holds partial state that
 * gguf_release frees. */
hearth_status gguf_parse(hearth_gguf *g, hearth_error *err);
/* Frees everything g owns except g itself and the mapping. */
void gguf_release(hearth_gguf *g);

#endif
