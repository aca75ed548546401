/*
 * catalog.h: the model catalog shipped with hearth (models/catalog.json):
 * real published models, each with its architecture shape and the
 * quantizations commonly published for it, plus the accuracy figures of
 * those quantizations. Nothing is downloaded: sizes and bytes per token are
 * computed from the shape (estimate.h) unless the catalog states a size.
 */
#ifndef HEARTH_MODELS_CATALOG_H
#define HEARTH_MODELS_CATALOG_H

#include "hearth.h"
#include "models/estimate.h"

#include <stdbool.h>

typedef struct {
    char name[96];       /* "Qwen2.5-0.5B-Instruct" */
    char family[64];     /* variants of one model share it: "qwen2.5-instruct" */
    hearth_model_desc desc;
    bool has_ppl;        /* ppl_delta is known */
    double ppl_delta;    /* perplexity increase against F16 (catalog figure) */
    char ppl_source[96]; /* where the figure comes from */
} hearth_catalog_entry;

/* Reads the catalog at path: one entry per (model, quantization). OUT:
 * *out (owned: hearth_free), *n. Every count and string is checked; a bad
 * shape or an unknown quantization is HEARTH_E_FORMAT naming the model.
 * Errors: HEARTH_E_IO (unreadable), HEARTH_E_FORMAT, HEARTH_E_NOMEM. Any thread. */
hearth_status hearth_catalog_load(const char *path, hearth_catalog_entry **out, size_t *n,
                                  hearth_error *err);

/* The catalog's accuracy figure for quantization quant ("Q4_K_M") in the
 * catalog at path, for models that are not in it (installed files).
 * OUT: *delta, source (cap bytes). False when unknown. Any thread. */
bool hearth_catalog_ppl_delta(const char *path, const char *quant, double *delta, char *source, size_t cap);

#endif
