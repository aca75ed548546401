/*
 * catalog.c: reads models/catalog.json (catalog.h) with jansson; every field
 * is type-checked and every shape goes through hearth_model_desc_from_shape's
 * bounds, so a hand-edited catalog can not make the estimate divide by zero.
 */
#include "models/catalog.h"

#include "util/alloc.h"
#include "util/error.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_ENTRIES 4096

static bool get_int(json_t *o, const char *k, int32_t *out) {
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (1 << 30)) return false;
    *out = (int32_t)json_integer_value(v);
    return true;
}

static bool delta_for(json_t *root, const char *quant, double *delta, char *src, size_t cap) {
    json_t *acc = json_object_get(root, "accuracy");
    json_t *tab = json_object_get(acc, "ppl_delta");
    const char *k;
    json_t *v;
    json_object_foreach(tab, k, v) {
        if (strcasecmp(k, quant) || !json_is_number(v)) continue;
        *delta = json_number_value(v);
        const char *s = json_string_value(json_object_get(acc, "source"));
        snprintf(src, cap, "%s", s ? s : "catalog");
        return true;
    }
    return false;
}

bool hearth_catalog_ppl_delta(const char *path, const char *quant, double *delta, char *source, size_t cap) {
    json_t *root = json_load_file(path, 0, NULL);
    bool ok = root && quant && delta_for(root, quant, delta, source, cap);
    json_decref(root);
    return ok;
}

hearth_status hearth_catalog_load(const char *path, hearth_catalog_entry **out, size_t *n, hearth_error *err) {
    *out = NULL;
    *n = 0;
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) return HEARTH_FAIL(err, HEARTH_E_IO, "catalog %s: %s (line %d)", path, je.text, je.line);
    hearth_status st = HEARTH_OK;
    json_t *models = json_object_get(root, "models");
    hearth_catalog_entry *v = NULL;
    size_t cnt = 0, cap = 0;
    if (!json_is_array(models)) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "catalog %s: no \"models\" array", path);
        goto out;
    }
    size_t i;
    json_t *m;
    json_array_foreach(models, i, m) {
        const char *name = json_string_value(json_object_get(m, "name"));
        const char *family = json_string_value(json_object_get(m, "family"));
        json_t *sh = json_object_get(m, "shape"), *quants = json_object_get(m, "quants");
        hearth_shape s;
        memset(&s, 0, sizeof s);
        const char *arch = json_string_value(json_object_get(sh, "arch"));
        if (!name || !family || !arch || strlen(name) >= sizeof v->name || strlen(family) >= sizeof v->family ||
            strlen(arch) >= sizeof s.arch || !get_int(sh, "n_layer", &s.n_layer) ||
            !get_int(sh, "n_embd", &s.n_embd) || !get_int(sh, "n_ff", &s.n_ff) ||
            !get_int(sh, "n_head", &s.n_head) || !get_int(sh, "n_head_kv", &s.n_head_kv) ||
            !get_int(sh, "n_vocab", &s.n_vocab) || !json_is_boolean(json_object_get(sh, "tied")) ||
            !json_is_array(quants)) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "catalog %s: model %zu (%s): missing or bad fields", path, i,
                             name ? name : "?");
            goto out;
        }
        snprintf(s.arch, sizeof s.arch, "%s", arch);
        s.tied = json_is_true(json_object_get(sh, "tied"));
        s.qkv_bias = json_is_true(json_object_get(sh, "qkv_bias"));
        size_t j;
        json_t *q;
        json_array_foreach(quants, j, q) {
            const char *qn = json_string_value(json_is_object(q) ? json_object_get(q, "quant") : q);
            if (cnt == MAX_ENTRIES) {
                st = HEARTH_FAIL(err, HEARTH_E_LIMIT, "catalog %s: more than %d entries", path, MAX_ENTRIES);
                goto out;
            }
            if (cnt == cap) {
                size_t nc = cap ? cap * 2 : 32;
                hearth_catalog_entry *nv = hearth_realloc(v, nc * sizeof *nv);
                if (!nv) {
                    st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "catalog: out of memory");
                    goto out;
                }
                v = nv;
                cap = nc;
            }
            hearth_catalog_entry *e = &v[cnt];
            memset(e, 0, sizeof *e);
            if ((st = hearth_model_desc_from_shape(&s, qn, &e->desc, err))) {
                hearth_error_prefix(err, "catalog %s: model %s", path, name);
                if (err) err->code = HEARTH_E_FORMAT;
                st = HEARTH_E_FORMAT;
                goto out;
            }
            /* a published size, where the catalog states one, wins */
            json_t *sz = json_is_object(q) ? json_object_get(q, "size_bytes") : NULL;
            if (json_is_integer(sz) && json_integer_value(sz) > 0) e->desc.file_bytes = (uint64_t)json_integer_value(sz);
            snprintf(e->name, sizeof e->name, "%s", name);
            snprintf(e->family, sizeof e->family, "%s", family);
            e->has_ppl = delta_for(root, e->desc.quant, &e->ppl_delta, e->ppl_source, sizeof e->ppl_source);
            cnt++;
        }
    }
out:
    json_decref(root);
    if (st) {
        hearth_free(v);
        return st;
    }
    *out = v;
    *n = cnt;
    return HEARTH_OK;
}
