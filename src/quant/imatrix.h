/*
 * imatrix.h: importance matrices: per weight matrix, the sum of squared
 * input activations of each column and the number of rows (tokens) summed,
 * so that mean = sum2 / count is what quantization weighs by.
 *
 * Files: llama.cpp's two formats, both read and written.
 *  - legacy ".dat": int32 n_entries; per entry int32 name length, name bytes,
 *    int32 ncall, int32 nval, nval float32 values (= mean * ncall); then
 *    int32 chunk count and, optionally, int32 length + dataset name. All
 *    little-endian. ncall = ceil(count / chunk_size).
 *  - GGUF (general.type = "imatrix"): per entry tensors NAME.in_sum2 (F32,
 *    nval x 1, the sums) and NAME.counts (F32, 1 x 1), keys imatrix.datasets
 *    (string array), imatrix.chunk_count and imatrix.chunk_size (u32).
 * Readers treat the bytes as untrusted: every length is checked against
 * what is left and against hard limits, and a malformed file is
 * HEARTH_E_FORMAT saying where.
 *
 * Thread-safety: one thread per imatrix while it is being changed;
 * concurrent reads are fine.
 */
#ifndef HEARTH_QUANT_IMATRIX_H
#define HEARTH_QUANT_IMATRIX_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hard limits for files read: entries, values per entry, name bytes. */
#define HEARTH_IMATRIX_MAX_ENTRIES 65536
#define HEARTH_IMATRIX_MAX_VALUES (1 << 24)
#define HEARTH_IMATRIX_MAX_NAME 1024

typedef struct {
    char *name;    /* tensor name, NUL-terminated */
    int64_t n;     /* values (input columns) */
    double *sum2;  /* (n) sums of squared activations */
    int64_t count; /* rows summed */
} hearth_imatrix_entry;

typedef struct {
    hearth_imatrix_entry *e; /* (n_entries), in the order added / read */
    int64_t n_entries, cap;
    int32_t chunk_size;      /* tokens per chunk (for ncall and chunk counts) */
    int32_t n_chunks;        /* chunks processed */
    char *dataset;           /* calibration file name, or NULL */
} hearth_imatrix;

/* An empty imatrix with chunk_size; *out owned (hearth_imatrix_free). */
hearth_status hearth_imatrix_new(int32_t chunk_size, hearth_imatrix **out, hearth_error *err);
/* NULL is a no-op. */
void hearth_imatrix_free(hearth_imatrix *im);
/* Sets the dataset name (copied). */
hearth_status hearth_imatrix_set_dataset(hearth_imatrix *im, const char *name, hearth_error *err);

/* Adds nrows rows of n activations (x row-major) to entry `name` (created on
 * first use). A later call with another n is HEARTH_E_ARG. */
hearth_status hearth_imatrix_add(hearth_imatrix *im, const char *name, const float *x,
                                 int64_t nrows, int64_t n, hearth_error *err);
/* The entry called name, or NULL. */
const hearth_imatrix_entry *hearth_imatrix_find(const hearth_imatrix *im, const char *name);
/* out[0..e->n) = mean squared activation (sum2 / count; 1 where count is 0,
 * as llama.cpp stores partial data). */
void hearth_imatrix_mean(const hearth_imatrix_entry *e, float *out);

/* Runs m over tokens[0..n) in windows of n_ctx (at most max_chunks when
 * > 0; each from an empty context, the first token BOS when the model adds
 * one) and adds, per weight matrix (named by its tensor; the output matrix
 * is left out), the squared float activations entering it. im->chunk_size
 * should be n_ctx. progress (optional) after each window. Fewer than n_ctx
 * tokens is HEARTH_E_ARG. One thread per model while it runs (the context
 * it makes uses n_threads). */
hearth_status hearth_imatrix_collect(const hearth_model *m, const int32_t *tokens, size_t n,
                                     int32_t n_ctx, int32_t max_chunks, int n_threads,
                                     hearth_imatrix *im,
                                     void (*progress)(void *ud, int32_t chunk, int32_t n_chunks),
                                     void *ud, hearth_error *err);

/* Serializes in the legacy format; *out owned (hearth_free). Entries are
 * written sorted by name, as llama.cpp does. */
hearth_status hearth_imatrix_write_dat(const hearth_imatrix *im, void **out, size_t *len,
                                       hearth_error *err);
/* Writes the GGUF format to path (temporary name, then rename). */
hearth_status hearth_imatrix_write_gguf(const hearth_imatrix *im, const char *path,
                                        hearth_error *err);
/* Writes path in the GGUF format when it ends in ".gguf", else legacy
 * (through a temporary name and a rename). */
hearth_status hearth_imatrix_save(const hearth_imatrix *im, const char *path, hearth_error *err);

/* Parses a legacy file image (buf, len: untrusted). chunk_size is the
 * chunk length to assume (the format does not store it; llama.cpp assumes
 * its -c). *out owned. */
hearth_status hearth_imatrix_parse_dat(const void *buf, size_t len, int32_t chunk_size,
                                       hearth_imatrix **out, hearth_error *err);
/* Parses either format from memory: GGUF when it starts with "GGUF", else
 * legacy. */
hearth_status hearth_imatrix_parse(const void *buf, size_t len, int32_t chunk_size,
                                   hearth_imatrix **out, hearth_error *err);
/* Reads and parses a file (at most 1 GiB). */
hearth_status hearth_imatrix_load(const char *path, int32_t chunk_size, hearth_imatrix **out,
                                  hearth_error *err);

#endif
