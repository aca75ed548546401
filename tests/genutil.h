/*
 * genutil.h: test helpers: make a model with hearth-genmodel into a
 * temporary directory, and compare logit vectors.
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

/* max |a-b| and max |b| over n floats. */
void logit_diff(const float *a, const float *b, size_t n, double *max_abs, double *max_ref);

/* Index of the largest value (lowest index on ties). */
int32_t argmax_f(const float *v, int32_t n);

#endif
