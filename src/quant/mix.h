/*
 * mix.h: which tensor type each weight matrix gets under a quantization mix
 * (llama.cpp's llama_tensor_get_type rules for the mixes it names), shared by
 * `hearth quantize` (src/quant/quantize.c) and hearth-genmodel.
 *
 * Thread-safety: everything here is a pure function over immutable tables.
 */
#ifndef HEARTH_QUANT_MIX_H
#define HEARTH_QUANT_MIX_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Classes of 2D tensors; the mix rules and the per-class overrides work on
 * these. 1D tensors (norm weights, biases) are always F32. */
typedef enum {
    HEARTH_QCLASS_EMBD,      /* token_embd.weight */
    HEARTH_QCLASS_OUTPUT,    /* output.weight (untied models only) */
    HEARTH_QCLASS_ATTN_Q,
    HEARTH_QCLASS_ATTN_K,
    HEARTH_QCLASS_ATTN_V,
    HEARTH_QCLASS_ATTN_OUT,
    HEARTH_QCLASS_FFN_GATE,
    HEARTH_QCLASS_FFN_UP,
    HEARTH_QCLASS_FFN_DOWN,
    HEARTH_QCLASS_COUNT      /* not a weight matrix the rules know */
} hearth_qclass;

/* Per-class override slots (genmodel's --type-embd, --type-output,
 * --type-attn, --type-attn-v, --type-ffn, --type-ffn-down). A specific slot
 * (attn-v, ffn-down) wins over its general one (attn, ffn). */
typedef enum {
    HEARTH_QOVR_EMBD,
    HEARTH_QOVR_OUTPUT,
    HEARTH_QOVR_ATTN,
    HEARTH_QOVR_ATTN_V,
    HEARTH_QOVR_FFN,
    HEARTH_QOVR_FFN_DOWN,
    HEARTH_QOVR_COUNT
} hearth_qoverride;

/* The rule set of a mix (see mix.c for the rules). */
typedef enum {
    HEARTH_QMIX_FLOAT,  /* F32/F16/BF16: every 2D tensor in that type */
    HEARTH_QMIX_PLAIN,  /* Q4_0, Q4_1, Q5_0, Q5_1, Q3_K..Q5_K: base type, output Q6_K */
    HEARTH_QMIX_Q8_0,   /* everything Q8_0, the output too */
    HEARTH_QMIX_Q6_K,   /* everything Q6_K */
    HEARTH_QMIX_Q2_K,   /* Q2_K; attn_v Q3_K (Q4_K with GQA >= 4), ffn_down and attn_output Q3_K */
    HEARTH_QMIX_Q3_K_M, /* Q3_K; attn_v Q5_K (first 2) / Q4_K, ffn_down Q5_K (first 1/16) / Q4_K,
                           attn_output Q4_K */
    HEARTH_QMIX_Q4_K_S, /* Q4_K; first attn_v and ffn_down layers Q5_K */
    HEARTH_QMIX_Q4_K_M, /* Q4_K; half the attn_v/ffn_down layers Q6_K */
    HEARTH_QMIX_Q5_K_S, /* Q5_K */
    HEARTH_QMIX_Q5_K_M, /* Q5_K; half the attn_v/ffn_down layers Q6_K */
} hearth_qmix_kind;

typedef struct {
    const char *name;  /* canonical spelling, e.g. "Q4_K_M" */
    hearth_qmix_kind kind;
    hearth_type base;  /* the type most tensors get */
    uint32_t ftype;    /* general.file_type (llama.cpp's llama_ftype number) */
} hearth_qmix;

/* What the rules need to know of the model and the request. */
typedef struct {
    const hearth_qmix *mix;
    int64_t n_layer;
    int64_t n_gqa;      /* n_head / n_head_kv (1 when unknown) */
    bool tied;          /* token_embd is also the output (no output.weight) */
    bool pure;          /* no mix rules: every matrix mix->base */
    int override[HEARTH_QOVR_COUNT]; /* hearth_type, or -1 for none */
} hearth_qrules;

/* Finds a mix by name (case-insensitive); NULL if unknown. */
const hearth_qmix *hearth_qmix_find(const char *name);
/* Writes the accepted mix names, comma separated, to buf (NUL-terminated,
 * truncated to len). */
void hearth_qmix_list(char *buf, size_t len);
/* Parses a plain tensor type name (F32 .. Q6_K, case-insensitive) into *out;
 * false if it is not one that can be written. */
bool hearth_qtype_parse(const char *name, hearth_type *out);
/* Rules with no overrides, not pure, n_gqa 1, for mix and n_layer. */
hearth_qrules hearth_qrules_default(const hearth_qmix *mix, int64_t n_layer);

/* The class of a llama.cpp tensor name ("blk.3.ffn_down.weight" ->
 * FFN_DOWN, *il = 3); HEARTH_QCLASS_COUNT for names the rules do not know
 * (norms, biases, anything else). *il is -1 outside a block. */
hearth_qclass hearth_qclass_of(const char *name, int64_t *il);

/* The type tensor class c of layer il (ignored for embd/output) with row
 * length ne0 gets under r, after the mix rules, the overrides and the
 * K-quant fallback. *fell_back (optional) says whether the fallback changed
 * it. Pure function. */
hearth_type hearth_qrules_pick(const hearth_qrules *r, hearth_qclass c, int64_t il, int64_t ne0,
                               bool *fell_back);

/* The type to use instead of t for rows of ne0 elements when ne0 is not a
 * multiple of t's block size (llama.cpp's fallback: Q4_K->Q5_0, Q5_K->Q5_1,
 * Q6_K->Q8_0, Q2_K/Q3_K->Q4_0, then F16 when even 32 does not divide ne0);
 * t itself when it fits. */
hearth_type hearth_qtype_fallback(hearth_type t, int64_t ne0);

#endif
