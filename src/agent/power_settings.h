/*
 * power_settings.h: the battery policy (util/power.h) as the settings give
 * it: battery_policy (on|off), battery_low_percent, battery_threads,
 * battery_pick (on|off: swap the model for a smaller variant when low).
 */
#ifndef HEARTH_AGENT_POWER_SETTINGS_H
#define HEARTH_AGENT_POWER_SETTINGS_H

#include "hearth.h"
#include "util/power.h"

/* Fills *p from s. A value that does not parse is HEARTH_E_ARG naming the
 * key (as hearth_settings_get_int); battery_policy and battery_pick accept on/off, 1/0,
 * true/false, yes/no. Any thread (s is read only). */
hearth_status hearth_power_policy_from_settings(const hearth_settings *s, hearth_power_policy *p,
                                                hearth_error *err);

#endif
