/*
 * variant.c: the smallest installed variant of a model's shape (variant.h).
 */
#include "models/variant.h"

#include "util/error.h"

#include <stdio.h>
#include <string.h>

bool models_shape_same(const hearth_shape *a, const hearth_shape *b) {
    return !strcmp(a->arch, b->arch) && a->n_layer == b->n_layer && a->n_embd == b->n_embd && a->n_ff == b->n_ff &&
           a->n_head == b->n_head && a->n_head_kv == b->n_head_kv && a->n_vocab == b->n_vocab;
}

hearth_status models_smaller_variant(const registry *r, const hearth_model_desc *ref, char *name,
                                     size_t name_cap, char *path, size_t path_cap, hearth_model_desc *desc,
                                     hearth_error *err) {
    const registry_model *best = NULL;
    hearth_model_desc best_d;
    char best_p[4096] = "";
    for (size_t i = 0; i < registry_count(r); i++) {
        const registry_model *m = registry_model_at(r, i);
        char p[4096];
        /* the registry knows the size: skip bigger files without opening them */
        if (!m || m->active->size >= ref->file_bytes) continue;
        if (best && m->active->size >= best_d.file_bytes) continue;
        if (!registry_blob_path(r, m->active->sha256, p, sizeof p)) continue;
        hearth_model_desc d;
        hearth_error e;
        if (hearth_model_desc_from_file(p, &d, &e) || !models_shape_same(&d.shape, &ref->shape) ||
            d.file_bytes >= ref->file_bytes)
            continue;
        best = m;
        best_d = d;
        snprintf(best_p, sizeof best_p, "%s", p);
    }
    if (!best) return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no smaller installed variant");
    if (snprintf(name, name_cap, "%s", best->name) >= (int)name_cap ||
        snprintf(path, path_cap, "%s", best_p) >= (int)path_cap)
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "model name or path too long");
    if (desc) *desc = best_d;
    return HEARTH_OK;
}
