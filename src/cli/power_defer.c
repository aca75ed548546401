/*
 * power_defer.c: background work waits for AC (power_defer.h).
 */
#include "power_defer.h"

#include "agent/power_settings.h"
#include "util/power.h"

#include <stdio.h>

bool cli_power_defer_now(cli_power_defer *d, const hearth_settings *s, const char *what) {
    hearth_power_policy pp;
    hearth_error err = {0};
    bool defer = hearth_power_policy_from_settings(s, &pp, &err) == HEARTH_OK && hearth_power_should_defer(&pp);
    if (defer && !d->postponed)
        fprintf(stderr, "hearth serve: %s postponed: on battery (battery_policy); waiting for AC\n", what);
    else if (!defer && d->postponed)
        fprintf(stderr, "hearth serve: %s resumed: no longer on battery\n", what);
    d->postponed = defer;
    return defer;
}
