/*
 * variant.h: "a smaller installed variant of the same model" for the
 * battery policy: another name in the registry whose active version has the
 * same shape (architecture, layers, widths, heads, vocabulary: hence the
 * same parameter count) but a smaller file, e.g. a lower quantization. Used
 * by run, chat and serve when they resolve their model (resolve.h) and by
 * `models recommend` for its battery_pick, so both name the same file.
 */
#ifndef HEARTH_MODELS_VARIANT_H
#define HEARTH_MODELS_VARIANT_H

#include "hearth.h"
#include "models/estimate.h"
#include "models/registry.h"

#include <stdbool.h>
#include <stddef.h>

/* Same transformer shape (the fields that fix the parameter count). Pure. */
bool models_shape_same(const hearth_shape *a, const hearth_shape *b);

/* The smallest installed model (the active version of each name of r) of
 * ref's shape whose file is smaller than ref->file_bytes. Names whose blob
 * is not a GGUF hearth can describe are skipped. OUT: name (NAME:TAG) and
 * path, and *desc (optional) of the pick. HEARTH_E_NOTFOUND when none is
 * smaller; HEARTH_E_LIMIT when a buffer is too small. One thread per r. */
hearth_status models_smaller_variant(const registry *r, const hearth_model_desc *ref, char *name,
                                     size_t name_cap, char *path, size_t path_cap, hearth_model_desc *desc,
                                     hearth_error *err);

#endif
