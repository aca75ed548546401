/*
 * model_pick.h: the model run, chat and serve use: -m MODEL (or the
 * setting "model", or the registry's default) resolved through the
 * registry, with the battery policy applied: on battery below
 * battery_low_percent, with battery_pick on, a smaller installed variant
 * of the same model stands in (models_resolve_pick), and one line on
 * stderr says which and why.
 */
#ifndef HEARTH_CLI_MODEL_PICK_H
#define HEARTH_CLI_MODEL_PICK_H

#include "hearth.h"
#include "models/resolve.h"

#include <stddef.h>

/* Resolves model for command cmd ("run", "serve") into *out. OUT: why
 * (cap bytes): when out->swapped, the reason ("on battery at 10%, below
 * battery_low_percent 20"), else "". Returns 0, or cli_fail's code (the
 * message printed). */
int cli_pick_model(const char *cmd, const hearth_settings *s, const char *model, const char *fallback,
                   models_pick *out, char *why, size_t cap);

#endif
