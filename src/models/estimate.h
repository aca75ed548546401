/*
 * estimate.h: what a model costs on this device, before it is loaded: its
 * size, parameters, the bytes one decode step reads (per weight type), the
 * expected time per generated token and per prompt, and the RAM it needs
 * for a context length. A model is described either from a GGUF file's
 * header and tensor table (nothing is loaded or mapped) or from a shape
 * plus a quantization mix named as llama.cpp names them (Q4_0, Q4_K_M,
 * Q8_0, F16, ...), with llama.cpp's per-tensor type rules, so catalog
 * entries need no file. docs/recommend.md gives the model and its error.
 */
#ifndef HEARTH_MODELS_ESTIMATE_H
#define HEARTH_MODELS_ESTIMATE_H

#include "hearth.h"
#include "models/device.h"

#include <stdbool.h>
#include <stdint.h>

/* A transformer's shape (llama-style decoder: llama, qwen2). */
typedef struct {
    char arch[16];      /* "llama", "qwen2" */
    int32_t n_layer, n_embd, n_ff, n_head, n_head_kv, n_vocab;
    bool tied;          /* output reuses token_embd */
    bool qkv_bias;
} hearth_shape;

typedef struct {
    hearth_shape shape;
    char quant[16];            /* mix name: "Q4_K_M" (from general.file_type for files) */
    int64_t n_params;          /* every element of every tensor */
    uint64_t file_bytes;       /* the GGUF file (tensor data for shapes, plus a header estimate) */
    /* bytes and elements of the matrices one decode step reads, by type */
    uint64_t read_bytes[HEARTH_TYPE_COUNT];
    uint64_t read_elems[HEARTH_TYPE_COUNT];
    uint64_t read_rows[HEARTH_TYPE_COUNT];
} hearth_model_desc;

/* Describes the GGUF file at path from its header (hearth_gguf_open: the
 * tensor table only). OUT: *d. Errors: those of hearth_gguf_open;
 * HEARTH_E_FORMAT for missing shape keys; HEARTH_E_UNSUPPORTED for an
 * architecture other than llama or qwen2. Any thread. */
hearth_status hearth_model_desc_from_file(const char *path, hearth_model_desc *d, hearth_error *err);

/* Describes shape s quantized with mix (F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0
 * Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K Q4_K_S Q4_K_M Q5_K_S Q5_K_M, any case) with
 * the rules of llama.cpp (and of hearth-genmodel): output Q6_K (Q8_0 when
 * rows are not a multiple of 256; the base type for Q8_0 and float mixes),
 * Q4_K_M/Q5_K_M attn_v and ffn_down Q6_K in use_more_bits layers, K-quant
 * fallbacks for rows not a multiple of 256. OUT: *d. Errors: HEARTH_E_ARG
 * for an unknown mix or a bad shape. Any thread. */
hearth_status hearth_model_desc_from_shape(const hearth_shape *s, const char *mix, hearth_model_desc *d,
                                           hearth_error *err);

typedef struct {
    double decode_ms;     /* per generated token, at position n_pos */
    double tokens_per_s;  /* 1000 / decode_ms */
    double prompt_ms;     /* a prompt of n_prompt tokens into an empty context */
    uint64_t ram_bytes;   /* weights + KV cache at n_ctx + compute buffers */
    uint64_t kv_bytes;    /* the KV cache at n_ctx, in the cache types asked for */
    bool runnable;        /* every weight type has a measured rate */
} hearth_estimate;

/* Estimates d on device dev: decode_ms = sum over weight types of
 * read_bytes / gemv rate + rows * per-row cost + KV bytes read at n_pos / bandwidth; prompt_ms =
 * 2 * elements * n_prompt / gemm rate + attention; ram_bytes for n_ctx
 * positions. kv_elem_bytes: bytes a key element and a value element take
 * together in the KV cache (4 for F16 keys and values; Q8_0 both 2.125: see
 * hearth_kv_elem_bytes). Pure. Any thread. */
hearth_estimate hearth_estimate_model(const hearth_model_desc *d, const hearth_device *dev, int32_t n_ctx,
                                      int32_t n_pos, int32_t n_prompt, double kv_elem_bytes);

/* Bytes of one key element plus one value element in cache types type_k and
 * type_v (F32, F16 or the 32-element block types). */
double hearth_kv_elem_bytes(hearth_type type_k, hearth_type type_v);

/* The llama.cpp file-type name of general.file_type ft ("Q4_K_M"), or NULL. */
const char *hearth_file_type_name(uint32_t ft);

#endif
