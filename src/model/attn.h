/*
 * attn.h: the attention kernel for one (query token, KV head) pair: the
 * group of query heads that share the KV head attend over positions
 * [0, np) of the cache: scores, softmax, weighted sum of values. A portable
 * version (attn.c), an AVX2/FMA/F16C one (attn_avx2.c), an AArch64 NEON
 * one (attn_neon.c) and a WebAssembly SIMD128 one (attn_wasm.c) with the
 * same contract; the choice is made once per context.
 */
#ifndef HEARTH_MODEL_ATTN_H
#define HEARTH_MODEL_ATTN_H

#include "hearth.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const float *q;    /* (group, hd) queries, already scaled by nothing */
    const void *k;     /* row 0 of this KV head's keys; rows kv_stride elements apart */
    const void *v;     /* same for values */
    size_t kv_stride;  /* elements between positions */
    hearth_type type;  /* F16 or F32 */
    int32_t np;        /* positions attended: [0, np) */
    int hd, group;
    float scale;       /* 1/sqrt(hd) */
    float *scores;     /* (group, score_stride) scratch */
    size_t score_stride;
    float *rowbuf;     /* (2*hd) scratch */
    float *out;        /* (group, hd) result */
} hearth_attn_args;

typedef void (*hearth_attn_fn)(const hearth_attn_args *a);

void hearth_attn_ref(const hearth_attn_args *a);
void hearth_attn_avx2(const hearth_attn_args *a);
void hearth_attn_neon(const hearth_attn_args *a);
void hearth_attn_wasm(const hearth_attn_args *a);

/* The best kernel this CPU runs for head size hd (the portable one under
 * HEARTH_FORCE_SCALAR=1). Any thread. */
hearth_attn_fn hearth_attn_pick(int hd);

#endif
