/*
 * model_pick.c: the model with the battery policy applied (model_pick.h).
 */
#include "model_pick.h"

#include "agent/power_settings.h"
#include "cli.h"
#include "util/power.h"

#include <stdio.h>

int cli_pick_model(const char *cmd, const hearth_settings *s, const char *model, const char *fallback,
                   models_pick *out, char *why, size_t cap) {
    hearth_error err = {0};
    if (cap) why[0] = '\0';
    hearth_power_policy pol;
    if (hearth_power_policy_from_settings(s, &pol, &err)) return cli_fail(cmd, &err, "settings");
    hearth_power_state ps;
    hearth_power_read(NULL, &ps);
    /* threads do not matter here: only prefer_smaller is read */
    hearth_power_decision d = hearth_power_decide(&ps, &pol, 1);
    if (models_resolve_pick(s, model, fallback, d.prefer_smaller, out, &err)) return cli_fail(cmd, &err, "model");
    if (out->swapped) {
        if (ps.percent >= 0)
            snprintf(why, cap, "on battery at %d%%, below battery_low_percent %d", ps.percent, pol.low_percent);
        else
            snprintf(why, cap, "on battery, charge unknown (battery_low_percent %d)", pol.low_percent);
        fprintf(stderr, "hearth %s: using %s instead of %s: %s (its smallest installed variant; "
                        "battery_pick = off keeps the model)\n", cmd, out->name, out->asked, why);
    }
    return 0;
}
