/*
 * quantize.h: rewriting a GGUF model in another tensor type or llama.cpp mix
 * (`hearth quantize`), optionally weighing each block's scale search by an
 * importance matrix (src/quant/imatrix.h).
 *
 * A job quantizes every tensor into memory (rows in parallel over
 * n_threads), keeps the writer with all metadata, and can then write the
 * file any number of times (e.g. to a temporary name for the accuracy check,
 * then, with the measured figures added to the metadata, to the final name).
 * The source file stays mapped for the job's lifetime (unchanged tensors are
 * written straight from it).
 */
#ifndef HEARTH_QUANT_QUANTIZE_H
#define HEARTH_QUANT_QUANTIZE_H

#include "hearth.h"
#include "quant/imatrix.h"
#include "quant/mix.h"

/* GGML_QNT_VERSION: the general.quantization_version llama.cpp writes. */
#define HEARTH_QUANT_VERSION 2

/* Called after each tensor (on the calling thread): index i of n, its name,
 * the type it had and the one it got, and whether an imatrix entry was used. */
typedef void (*hearth_quant_progress_fn)(void *ud, int64_t i, int64_t n, const char *name,
                                         hearth_type from, hearth_type to, bool weighted);

typedef struct {
    const hearth_qmix *mix;          /* required */
    const hearth_imatrix *imatrix;   /* NULL: unweighted (the reference quantizers) */
    int n_threads;                   /* <= 0: 1 */
    bool pure;                       /* no mix rules */
    hearth_quant_progress_fn progress; /* optional */
    void *progress_ud;
} hearth_quant_params;

/* Defaults: no mix (must be set), no imatrix, 1 thread, not pure. */
hearth_quant_params hearth_quant_default_params(void);

typedef struct hearth_quant_job hearth_quant_job;

/* Opens in_path and quantizes it as p says. Source tensors of 2D weights
 * must be F32, F16, BF16 or Q8_0 (else HEARTH_E_UNSUPPORTED naming the
 * tensor); other tensors are copied as they are. An imatrix entry whose
 * length differs from the tensor's row is HEARTH_E_ARG. general.file_type
 * and general.quantization_version are set as llama.cpp writes them, and
 * hearth.quantize.imatrix (the imatrix's dataset or "none"). On success *out
 * owns the job (hearth_quant_job_free). */
hearth_status hearth_quant_job_run(const char *in_path, const hearth_quant_params *p,
                                   hearth_quant_job **out, hearth_error *err);
/* The job's writer, borrowed: add or replace metadata before a write. */
hearth_gguf_writer *hearth_quant_job_writer(hearth_quant_job *j);
/* Writes the file (hearth_gguf_writer_write_file: temporary name, then
 * rename). */
hearth_status hearth_quant_job_write(const hearth_quant_job *j, const char *path, hearth_error *err);
/* Counts over the tensors: how many were quantized (changed type) and how
 * many used an imatrix entry; bytes of tensor data in and out. */
void hearth_quant_job_stats(const hearth_quant_job *j, int64_t *n_quantized, int64_t *n_weighted,
                            uint64_t *bytes_in, uint64_t *bytes_out);
/* The type tensor `name` got; -1 if there is no such tensor. */
int hearth_quant_job_tensor_type(const hearth_quant_job *j, const char *name);
/* NULL is a no-op. */
void hearth_quant_job_free(hearth_quant_job *j);

/* Quantizes nrows rows of ne0 floats into type at dst (rows of
 * hearth_type_row_size(type, ne0) bytes), weighing by imp (ne0 column
 * importances, or NULL) with the type's _quantize_imp function. HEARTH_E_ARG
 * for a type that cannot be written or a row not a multiple of its block.
 * Thread-safe. */
hearth_status hearth_quant_rows(hearth_type type, const float *src, void *dst, int64_t nrows,
                                int64_t ne0, const float *imp, hearth_error *err);

/* Copies metadata entry i of src into w (strings, scalars, numeric and
 * string arrays; an array of arrays or a string with a NUL byte is
 * HEARTH_E_UNSUPPORTED naming the key). */
hearth_status hearth_quant_copy_kv(const hearth_gguf *src, int64_t i, hearth_gguf_writer *w,
                                   hearth_error *err);

#endif
