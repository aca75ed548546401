/*
 * ref_bert.h: a plain float reference of the BERT encoder (GGUF files of
 * architecture "bert", llama.cpp's names), written for clarity: every weight
 * dequantized to float with the reference dequantizers, accumulations in
 * double, nothing shared with the engine but the GGUF reader. For tests only.
 */
#ifndef HEARTH_TEST_REF_BERT_H
#define HEARTH_TEST_REF_BERT_H

#include <stdint.h>

typedef struct ref_bert ref_bert;

/* NULL on failure (message on stderr). */
ref_bert *ref_bert_open(const char *path);
void ref_bert_free(ref_bert *r);
int ref_bert_n_embd(const ref_bert *r);

/* The pooled (as bert.pooling_type says), L2-normalized embedding of
 * tokens[0..n) into out (n_embd floats). */
void ref_bert_embed(const ref_bert *r, const int32_t *tokens, int n, float *out);

#endif
