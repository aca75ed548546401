/*
 * power_settings.c: the battery policy from the settings (power_settings.h).
 */
#include "agent/power_settings.h"

#include "util/error.h"

#include <strings.h>

/* key as on/off into *on (unset: unchanged). */
static hearth_status get_onoff(const hearth_settings *s, const char *key, bool *on, hearth_error *err) {
    const char *v = hearth_settings_get(s, key, NULL);
    if (!v) return HEARTH_OK;
    if (!strcasecmp(v, "on") || !strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"))
        *on = true;
    else if (!strcasecmp(v, "off") || !strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no"))
        *on = false;
    else
        return HEARTH_FAIL(err, HEARTH_E_ARG, "%s: '%s' is not on or off", key, v);
    return HEARTH_OK;
}

hearth_status hearth_power_policy_from_settings(const hearth_settings *s, hearth_power_policy *p,
                                                hearth_error *err) {
    *p = (hearth_power_policy){.enabled = true, .low_percent = 20, .battery_threads = 0};
    bool pick = true;
    hearth_status st0 = get_onoff(s, "battery_policy", &p->enabled, err);
    if (!st0) st0 = get_onoff(s, "battery_pick", &pick, err);
    if (st0) return st0;
    p->keep_model = !pick;
    int64_t x;
    hearth_status st = hearth_settings_get_int(s, "battery_low_percent", &x, err);
    if (st == HEARTH_OK) {
        if (x < 0 || x > 100) return HEARTH_FAIL(err, HEARTH_E_ARG, "battery_low_percent: %lld outside 0..100", (long long)x);
        p->low_percent = (int)x;
    } else if (st != HEARTH_E_NOTFOUND) {
        return st;
    }
    st = hearth_settings_get_int(s, "battery_threads", &x, err);
    if (st == HEARTH_OK) {
        if (x < 0 || x > 1024) return HEARTH_FAIL(err, HEARTH_E_ARG, "battery_threads: %lld outside 0..1024", (long long)x);
        p->battery_threads = (int)x;
    } else if (st != HEARTH_E_NOTFOUND) {
        return st;
    }
    hearth_error_clear(err);
    return HEARTH_OK;
}
