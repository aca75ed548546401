/*
 * power_defer.h: the one gate `hearth serve`'s background loops (sync
 * --sync-every, update checks --update-every) ask before their work: the
 * battery policy postpones background work while on battery
 * (hearth_power_should_defer). It logs once on stderr when it starts
 * postponing and once when it resumes, not at every period.
 */
#ifndef HEARTH_CLI_POWER_DEFER_H
#define HEARTH_CLI_POWER_DEFER_H

#include "hearth.h"

#include <stdbool.h>

/* The state of one loop (zero-initialize it). */
typedef struct {
    bool postponed; /* the last check postponed */
} cli_power_defer;

/* True when the loop should skip its work now. Reads the policy from s and
 * the power state (sysfs) at each call; a policy that does not parse does
 * not postpone. what names the work in the log lines ("sync", "update
 * check"). One thread per d. */
bool cli_power_defer_now(cli_power_defer *d, const hearth_settings *s, const char *what);

#endif
