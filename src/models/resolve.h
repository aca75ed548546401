/*
 * resolve.h: what "-m MODEL" (the setting "model") means for run, chat and
 * serve: a path to a file if one exists there, else a name in the registry
 * (NAME[:TAG][@VERSION] or sha256-<hex>); no model given: the registry's
 * default model, else the caller's fallback (the bundled demo model). On
 * battery below the level, a smaller installed variant may stand in for a
 * registry name (models_resolve_pick).
 */
#ifndef HEARTH_MODELS_RESOLVE_H
#define HEARTH_MODELS_RESOLVE_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>

/* Resolves model (NULL or "": none given) into path (cap bytes). s gives
 * "home" (NULL: load the settings). The registry is only read, never
 * created. Errors: HEARTH_E_NOTFOUND when model is neither a file nor a
 * registered name (the message says both), HEARTH_E_ARG when nothing is
 * given and fallback is NULL, other codes from the registry. Any thread. */
hearth_status models_resolve_model(const hearth_settings *s, const char *model,
                                   const char *fallback, char *path, size_t cap,
                                   hearth_error *err);
/* As models_resolve_model; OUT: name (name_cap bytes): the registry name
 * ("NAME:TAG") the model resolved through, "" for a file path or the
 * fallback. */
hearth_status models_resolve_model_name(const hearth_settings *s, const char *model,
                                        const char *fallback, char *path, size_t cap,
                                        char *name, size_t name_cap, hearth_error *err);

/* What models_resolve_pick chose. */
typedef struct {
    char path[4096];
    char name[201];  /* "NAME:TAG" it resolved through; "" for a file path or the fallback */
    bool swapped;    /* a smaller variant replaced the model asked for */
    char asked[201]; /* when swapped: the name that was asked for (or the default) */
    char asked_path[4096];
} models_pick;

/* As models_resolve_model_name; with prefer_smaller (the battery policy's
 * decision), a model that resolved through the registry (never a file path
 * or the fallback) is replaced by its smallest installed variant
 * (variant.h), when there is a smaller one. OUT: *out. */
hearth_status models_resolve_pick(const hearth_settings *s, const char *model, const char *fallback,
                                  bool prefer_smaller, models_pick *out, hearth_error *err);

#endif
