/*
 * genutil.h: test helpers: make a model with hearth-genmodel into a
 * temporary directory, rewrite a GGUF file with changes, and compare logit
 * vectors.
 */
#ifndef HEARTH_TEST_GENUTIL_H
#define HEARTH_TEST_GENUTIL_H

#include <stddef.h>
#include <stdint.h>

/* A fresh temporary directory for this test (removed by tmpdir_cleanup). */
const char *tmpdir_path(void);
void tmpdir_cleanup(void);

/* Runs $HEARTH_GENMODEL with args (e.g. "--arch qwen2 --type Q4_0") writing
 * to tmpdir/name; returns the path (static buffer per call count) or NULL. */
const char *genmodel(const char *name, const char *args);

/* Rewriting a GGUF file with changes (tests of damaged or unusual models). */
typedef struct {
    const char *drop_prefix; /* leave out every key starting with this, or NULL */
    int64_t vocab_rows;      /* > 0: keep only this many rows of token_embd and
                                output, and set <arch>.vocab_size to match */
    /* Called on a private copy of each tensor's bytes before it is written;
     * may change them. NULL: none. */
    void (*patch)(void *user, const char *name, int type, uint8_t *data, size_t nbytes);
    void *user;
} gguf_edit;

/* Copies the GGUF file src to dst with ed applied. 0 on success; prints why
 * and returns -1 on failure. */
int gguf_rewrite(const char *src, const char *dst, const gguf_edit *ed);

/* max |a-b| and max |b| over n floats. */
void logit_diff(const float *a, const float *b, size_t n, double *max_abs, double *max_ref);

/* Index of the largest value (lowest index on ties). */
int32_t argmax_f(const float *v, int32_t n);

#endif
