/*
 * ref_forward.h: a plain float32 reference forward pass for llama, qwen2,
 * qwen3, gemma3 and phi3 GGUF files, written for clarity rather than speed. It shares nothing with
 * the engine but the GGUF reader and the reference dequantizers (to_float):
 * every weight is dequantized to float once, and every step recomputes the
 * whole sequence from scratch (no KV cache), so there is nothing to get out
 * of sync. For tests only.
 */
#ifndef HEARTH_TEST_REF_FORWARD_H
#define HEARTH_TEST_REF_FORWARD_H

#include <stdint.h>

typedef struct ref_model ref_model;

/* NULL on failure (message on stderr). */
ref_model *ref_open(const char *path);
void ref_free(ref_model *r);
int ref_n_vocab(const ref_model *r);
/* The context size the engine runs with (LongRoPE picks its factors by
 * it; default 64). */
void ref_set_n_ctx(ref_model *r, int n_ctx);

/* Logits of every position of tokens[0..n): returns (n, n_vocab) floats,
 * malloc'd (free with free). */
float *ref_forward(const ref_model *r, const int32_t *tokens, int n);

#endif
