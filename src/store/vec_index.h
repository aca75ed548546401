/*
 * vec_index.h: the in-memory copy of the embeddings a store handle searches,
 * and the brute-force cosine top-k over it.
 *
 * One vec_set per (model, dimension). Vectors are kept L2-normalized (a zero
 * vector stays zero), contiguous and 64-byte aligned, so cosine similarity is
 * one dot product per row and a search streams through memory once.
 * Removal swaps the last row into the hole (order is not kept; ties are
 * broken by id at selection time).
 */
#ifndef HEARTH_STORE_VEC_INDEX_H
#define HEARTH_STORE_VEC_INDEX_H

#include "hearth.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *model;         /* owned */
    int32_t dim;
    size_t n, cap;
    float *vecs;         /* (cap, dim), normalized rows, 64-byte aligned */
    int64_t *ids;        /* (cap) embedding ids */
    int64_t *owner_ids;  /* (cap) */
    int64_t *group_ids;  /* (cap) */
    uint16_t *kinds;     /* (cap) index into vec_index.kinds */
} vec_set;

typedef struct {
    vec_set *sets;
    size_t n_sets, cap_sets;
    char (*kinds)[HEARTH_EMBED_KIND_MAX]; /* owner kind names seen so far */
    size_t n_kinds, cap_kinds;
    /* models whose rows are all in sets (loaded from the database) */
    char **loaded;
    size_t n_loaded, cap_loaded;
    int64_t data_version; /* PRAGMA data_version when loaded */
} vec_index;

void vec_index_init(vec_index *x);
/* Frees everything; the index is empty and unloaded afterwards. */
void vec_index_clear(vec_index *x);

bool vec_index_is_loaded(const vec_index *x, const char *model);
/* Marks model as loaded (its rows are then kept current by upserts). */
hearth_status vec_index_mark_loaded(vec_index *x, const char *model, hearth_error *err);

/* Inserts or replaces embedding id. vec (dim floats) is copied, normalized. */
hearth_status vec_index_upsert(vec_index *x, int64_t id, const char *kind, int64_t owner_id,
                               int64_t group_id, const char *model, const float *vec,
                               int32_t dim, hearth_error *err);
/* Removes embedding id from whichever set holds it (no-op if none). */
void vec_index_remove(vec_index *x, int64_t id);

/* Top-k of set (model, dim) for query q (dim floats, need not be
 * normalized), filtered by kind (NULL: any) and group (0: any). out has room
 * for k; OUT: *n_out. Unknown model/dim: zero hits. */
hearth_status vec_index_search(const vec_index *x, const char *model, const char *kind,
                               int64_t group_id, const float *q, int32_t dim, size_t k,
                               hearth_embedding_hit *out, size_t *n_out, hearth_error *err);

/* ---- dot product kernels (vec_dot.c, vec_dot_avx2.c) ---- */

/* out[r] = dot(q, rows + r*dim) for r in [0, nrows). rows is 64-byte aligned
 * with dim a row stride in floats. */
typedef void (*vec_dot_rows_fn)(const float *q, const float *rows, int32_t dim, size_t nrows,
                                float *out);

/* The scalar reference (the specification) and the AVX2+FMA version. */
void vec_dot_rows_ref(const float *q, const float *rows, int32_t dim, size_t nrows, float *out);
void vec_dot_rows_avx2(const float *q, const float *rows, int32_t dim, size_t nrows,
                       float *out);
/* The implementation for this CPU (AVX2+FMA if present, unless
 * HEARTH_FORCE_SCALAR=1), chosen once. Any thread. */
vec_dot_rows_fn vec_dot_rows_get(void);

#endif
