/*
 * resolve.c: -m MODEL to a file (resolve.h). A path that exists always wins,
 * so `-m ./x.gguf` keeps working whatever the registry holds.
 */
#include "models/resolve.h"

#include "models/registry.h"
#include "models/variant.h"
#include "util/error.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* <home>/models, if it holds a registry.json. */
static bool registry_dir_of(const hearth_settings *s, char *dir, size_t cap) {
    const char *home = s ? hearth_settings_get(s, "home", NULL) : NULL;
    char def[4096];
    hearth_error e;
    if (!home || !*home) {
        if (hearth_store_default_dir(def, sizeof def, &e)) return false;
        home = def;
    }
    if (snprintf(dir, cap, "%s/models", home) >= (int)cap) return false;
    char f[4200];
    struct stat sb;
    snprintf(f, sizeof f, "%s/registry.json", dir);
    return !stat(f, &sb);
}

hearth_status models_resolve_model(const hearth_settings *s, const char *model,
                                   const char *fallback, char *path, size_t cap,
                                   hearth_error *err) {
    return models_resolve_model_name(s, model, fallback, path, cap, NULL, 0, err);
}

hearth_status models_resolve_model_name(const hearth_settings *s, const char *model,
                                        const char *fallback, char *path, size_t cap,
                                        char *name, size_t name_cap, hearth_error *err) {
    if (name && name_cap) name[0] = '\0';
    if (!path || !cap) return HEARTH_FAIL(err, HEARTH_E_ARG, "models_resolve_model: no buffer");
    hearth_settings *own = NULL;
    if (!s) {
        hearth_status st = hearth_settings_load(&own, err);
        if (st) return st;
        s = own;
    }
    hearth_status st = HEARTH_OK;
    struct stat sb;
    char dir[4096];
    bool have_reg = registry_dir_of(s, dir, sizeof dir);
    if (model && *model && !stat(model, &sb)) {
        if (snprintf(path, cap, "%s", model) >= (int)cap)
            st = HEARTH_FAIL(err, HEARTH_E_LIMIT, "model path too long");
        goto out;
    }
    registry *r = NULL;
    if (have_reg) {
        st = registry_open(dir, &r, err);
        if (st) goto out;
    }
    registry_resolved res;
    if (model && *model) {
        if (!r) {
            st = HEARTH_FAIL(err, HEARTH_E_NOTFOUND,
                             "'%.200s' is neither a file nor a model in the registry (none yet: "
                             "hearth models add / hearth pull)", model);
        } else if ((st = registry_resolve(r, model, &res, err))) {
            if (st == HEARTH_E_NOTFOUND)
                hearth_error_prefix(err, "'%.200s' is not a file, and in the registry", model);
        }
    } else if (r && registry_default(r)) {
        st = registry_resolve(r, NULL, &res, err);
    } else if (fallback) {
        registry_free(r);
        r = NULL;
        if (snprintf(path, cap, "%s", fallback) >= (int)cap)
            st = HEARTH_FAIL(err, HEARTH_E_LIMIT, "model path too long");
        goto out;
    } else {
        st = HEARTH_FAIL(err, HEARTH_E_ARG, "no model given and no default model set "
                                            "(hearth models use NAME)");
    }
    if (!st && snprintf(path, cap, "%s", res.path) >= (int)cap)
        st = HEARTH_FAIL(err, HEARTH_E_LIMIT, "model path too long");
    if (!st && name && name_cap) snprintf(name, name_cap, "%s", res.name);
    registry_free(r);
out:
    hearth_settings_free(own);
    return st;
}

hearth_status models_resolve_pick(const hearth_settings *s, const char *model, const char *fallback,
                                  bool prefer_smaller, models_pick *out, hearth_error *err) {
    memset(out, 0, sizeof *out);
    hearth_status st = models_resolve_model_name(s, model, fallback, out->path, sizeof out->path, out->name,
                                                 sizeof out->name, err);
    if (st || !prefer_smaller || !out->name[0]) return st;
    /* only through the registry: a file path given is never swapped */
    hearth_model_desc cur;
    hearth_error e;
    if (hearth_model_desc_from_file(out->path, &cur, &e)) return HEARTH_OK;
    registry *r = NULL;
    if (registry_open_settings(s, &r, &e)) return HEARTH_OK;
    char name[sizeof out->name], path[sizeof out->path];
    if (!models_smaller_variant(r, &cur, name, sizeof name, path, sizeof path, NULL, &e)) {
        memcpy(out->asked, out->name, sizeof out->asked);
        memcpy(out->asked_path, out->path, sizeof out->asked_path);
        memcpy(out->name, name, sizeof out->name);
        memcpy(out->path, path, sizeof out->path);
        out->swapped = true;
    }
    registry_free(r);
    return HEARTH_OK;
}
