/*
 * attn.h: the attention kernel: `group` query rows that share one KV head
 * (the query heads of a group, for one token or for a block of tokens)
 * attend over positions [0, np) of the cache: scores, softmax, weighted sum
 * of values. A portable version (attn.c), an AVX2/FMA/F16C one
 * (attn_avx2.c), an AVX-512 one (attn_avx512.c), an AArch64 NEON one
 * (attn_neon.c) and a WebAssembly SIMD128 one (attn_wasm.c) with the same
 * contract; the choice is made once per context. Keys and values are each
 * F32, F16 or a block type (Q8_0 keys; Q8_0 or Q4_0 values: a quantized
 * cache); the x86 kernels read the block types themselves (converting
 * blocks of rows to floats as they do F16), the NEON and WebAssembly ones
 * hand those calls to the portable kernel.
 *
 * Results over disjoint position ranges merge exactly (up to rounding):
 * each carries its rows' score maximum m and sum l of exp(score - m), and
 * hearth_attn_merge weighs the two normalized outputs by l * exp(m - M).
 * That is how decode splits one head's positions over threads
 * (flash-decoding) and how hearth_attn_chunked bounds the scores scratch.
 */
#ifndef HEARTH_MODEL_ATTN_H
#define HEARTH_MODEL_ATTN_H

#include "hearth.h"

#include "kernels/quants.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const float *q;    /* (group, hd) queries, already scaled by nothing */
    const void *k;     /* row 0 of this KV head's keys; rows kv_stride elements apart */
    const void *v;     /* same for values */
    size_t kv_stride;  /* elements between positions (a multiple of 32 when
                          a type is a block type) */
    hearth_type type_k; /* F32, F16 or Q8_0 (blocks of 32 along hd) */
    hearth_type type_v; /* F32, F16, Q8_0 or Q4_0 */
    int32_t np;        /* positions attended: [0, np) */
    int hd, group;
    float scale;       /* 1/sqrt(hd) */
    float *scores;     /* (group, score_stride) scratch */
    size_t score_stride;
    float *rowbuf;     /* (2*hd) scratch */
    float *out;        /* (group, hd) result */
    float *ml;         /* OUT, optional: (group, 2) each row's score maximum and
                          sum of exp(score - maximum) over [0, np) */
} hearth_attn_args;

/* Bytes that e elements of a K or V row take in type t (e a multiple of 32
 * for the block types): the byte offset of element e from the row start. */
static inline size_t hearth_attn_bytes(hearth_type t, size_t e) {
    switch (t) {
    case HEARTH_TYPE_F32: return e * 4;
    case HEARTH_TYPE_Q8_0: return e / QK8_0 * sizeof(hearth_block_q8_0);
    case HEARTH_TYPE_Q4_0: return e / QK4_0 * sizeof(hearth_block_q4_0);
    default: return e * 2; /* F16 */
    }
}

/* true if keys or values are in a block type: the kernels that only read
 * floats (NEON, WebAssembly) hand such calls to hearth_attn_ref. */
static inline bool hearth_attn_blocks(const hearth_attn_args *a) {
    return a->type_k == HEARTH_TYPE_Q8_0 || a->type_v == HEARTH_TYPE_Q8_0 || a->type_v == HEARTH_TYPE_Q4_0;
}

typedef void (*hearth_attn_fn)(const hearth_attn_args *a);

/* The F16 conversion the forward pass stores keys and values with:
 * hearth_f16_from_float_ref (kernels/quants.h), or its F16C twin (x86 with
 * AVX2, 8 at a time), which writes the same bytes for every input (NaN
 * included), so an F16 cache holds the same bytes on every CPU. */
void hearth_f16_from_float_f16c(const float *src, void *dst, int64_t n);
/* The one for this CPU (the AVX2 level or above of the kernels), any thread. */
hearth_from_float_fn hearth_f16_store_pick(void);

void hearth_attn_ref(const hearth_attn_args *a);
void hearth_attn_avx2(const hearth_attn_args *a);
void hearth_attn_avx512(const hearth_attn_args *a);
void hearth_attn_neon(const hearth_attn_args *a);
void hearth_attn_wasm(const hearth_attn_args *a);

/* Merges a result over other positions (out2, ml2) into (out, ml), both
 * (nq, hd) outputs normalized over their own ranges with their (nq, 2)
 * maxima and sums; out and ml then cover the union. Any thread. */
void hearth_attn_merge(int nq, int hd, float *out, float *ml, const float *out2, const float *ml2);

/* fn over positions [0, a->np) in pieces of at most `chunk` positions, so
 * a->scores need hold only min(chunk, np) per row; the pieces are merged in
 * order. Same result as fn(a) up to rounding; a->ml is filled if set.
 * tmp: (group * hd + 2 * group) floats of scratch; ml_tmp: (group, 2) used
 * when a->ml is NULL. a->np >= 1. Any thread (on its own buffers). */
void hearth_attn_chunked(hearth_attn_fn fn, const hearth_attn_args *a, int32_t chunk, float *tmp,
                         float *ml_tmp);

/* The best kernel this CPU runs for head size hd (the portable one under
 * HEARTH_FORCE_SCALAR=1). Any thread. */
hearth_attn_fn hearth_attn_pick(int hd);

#endif
