/*
 * serve_ab.h: the A/B flags of `hearth serve`: --variant NAME=FILE
 * (repeatable) and --split W1,W2,... (default: equal), checked and turned
 * into hearth_server_params' variant fields.
 */
#ifndef HEARTH_CLI_SERVE_AB_H
#define HEARTH_CLI_SERVE_AB_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>

#define SERVE_AB_MAX 16

typedef struct {
    const char *names[SERVE_AB_MAX];
    const char *paths[SERVE_AB_MAX];
    unsigned weights[SERVE_AB_MAX];
    char buf[SERVE_AB_MAX][HEARTH_AB_NAME_MAX]; /* the names */
    size_t n;
    const char *split; /* as given, or NULL */
} serve_ab;

/* If argv[*i] is --variant or --split, takes it and its value (advancing
 * *i) and returns 1; 0 if it is another flag; -1 after printing why a value
 * is bad (NAME=FILE, a name of [A-Za-z0-9._-], 1 to 63 bytes, no name twice). */
int serve_ab_arg(serve_ab *ab, int argc, char **argv, int *i);

/* After all flags: checks the split against the variants and fills p
 * (model_path becomes the first variant's file). Returns 0, or 1 after
 * printing why. A single --variant is refused (nothing to compare), as is
 * --split without variants and an update channel (update_every) with them. */
int serve_ab_finish(serve_ab *ab, const hearth_settings *set, hearth_server_params *p);

#endif
