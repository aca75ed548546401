/*
 * gm_helpers.h: shared helpers of the hearth-genmodel tests: run the tool
 * ($HEARTH_GENMODEL) into a private temporary directory, open what it wrote,
 * and read metadata and tensors back.
 */
#ifndef HEARTH_TEST_GM_HELPERS_H
#define HEARTH_TEST_GM_HELPERS_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Creates the temporary directory (once); returns its path. Exits on failure. */
const char *gm_dir(void);
/* Removes the temporary directory and everything in it. */
void gm_cleanup(void);
/* Path of file `name` inside gm_dir(), in a static buffer (one per call
 * site's lifetime: copied by the caller when kept). */
const char *gm_path(const char *name);
/* Runs "$HEARTH_GENMODEL -q ARGS" (printf-style) with stdout/stderr to
 * gm_dir()/log; returns its exit status (or -1 if it did not exit). */
int gm_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Opens a GGUF file; exits with a message on failure. */
hearth_gguf *gm_open(const char *path);
/* Metadata readers; each records a test failure when the key is missing or
 * has another type, and then returns 0 / "" / false. */
uint32_t gm_u32(const hearth_gguf *g, const char *key);
float gm_f32(const hearth_gguf *g, const char *key);
bool gm_bool(const hearth_gguf *g, const char *key);
const char *gm_str(const hearth_gguf *g, const char *key);
/* Whole tensor dequantized to floats (owned: free()); exits if absent. */
float *gm_tensor_f32(const hearth_gguf *g, const char *name, int64_t *n);
/* true if two files have identical bytes. */
bool gm_same_bytes(const char *a, const char *b);

/* Counts failures into the test.h counters of the calling test. */
extern int *gm_failures, *gm_checks;

#endif
