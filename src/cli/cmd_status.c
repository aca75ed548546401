/*
 * cmd_status.c: `hearth status [--json]`: the power state (util/power.h),
 * the battery policy as configured and what it decides now, and the active
 * model (the "model" setting, a file or a registry name; else the
 * registry's default, `hearth models use`; else the shipped demo model).
 */
#include "cli.h"

#include "agent/power_settings.h"
#include "models/registry.h"
#include "models/resolve.h"
#include "util/power.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef HEARTH_DEFAULT_MODEL
#define HEARTH_DEFAULT_MODEL "models/hearth-demo.gguf"
#endif

static const char USAGE[] =
    "usage: hearth status [--json]\n\n"
    "Shows the power source and battery charge (/sys/class/power_supply; root\n"
    "$HEARTH_SYSFS_ROOT), the battery policy (settings battery_policy,\n"
    "battery_low_percent, battery_threads) and what it decides now, and the active model.\n";

static int run(int argc, char **argv) {
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = true;
        else {
            fprintf(stderr, "hearth status: unknown argument '%s'\n(see hearth status --help)\n", argv[i]);
            return 2;
        }
    }
    hearth_settings *set;
    hearth_error e = {0};
    if (hearth_settings_load(&set, &e)) return cli_fail("status", &e, "settings");
    hearth_power_policy pol;
    if (hearth_power_policy_from_settings(set, &pol, &e)) {
        hearth_settings_free(set);
        return cli_fail("status", &e, "settings");
    }
    int64_t th = 0;
    if (hearth_settings_get_int(set, "threads", &th, NULL) || th < 0) th = 0;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int normal = th > 0 ? (int)th : (ncpu > 0 ? (int)ncpu : 1);
    hearth_setting_source msrc = HEARTH_SETTING_UNSET;
    const char *model = hearth_settings_get(set, "model", &msrc);
    const char *from = NULL;
    char name[REGISTRY_NAME_MAX + 1] = "";
    registry_resolved res;
    registry *reg = NULL;
    if (!model || !*model) {
        /* the registry's default (`hearth models use NAME`), else the demo model */
        hearth_error re;
        if (!registry_open_settings(set, &reg, &re) && registry_default(reg) &&
            !registry_resolve(reg, NULL, &res, &re)) {
            model = res.path;
            snprintf(name, sizeof name, "%s", res.name);
            from = "registry";
        } else {
            model = HEARTH_DEFAULT_MODEL;
            msrc = HEARTH_SETTING_DEFAULT;
        }
        registry_free(reg);
    } else if (!strchr(model, '/') && access(model, F_OK)) {
        /* -m NAME / model = NAME: a registry name, as run and serve resolve it */
        hearth_error re;
        if (!registry_open_settings(set, &reg, &re) && !registry_resolve(reg, model, &res, &re)) {
            snprintf(name, sizeof name, "%s", res.name);
            model = res.path;
        }
        registry_free(reg);
    }
    if (!from) from = hearth_setting_source_name(msrc);
    struct stat sb;
    long long msize = stat(model, &sb) == 0 ? (long long)sb.st_size : -1;
    hearth_power_state ps;
    hearth_power_read(NULL, &ps);
    hearth_power_decision d = hearth_power_decide(&ps, &pol, normal);
    /* what run, chat and serve load instead on low battery (model_pick.h) */
    models_pick pk;
    hearth_error pe;
    bool swapped = d.prefer_smaller &&
                   !models_resolve_pick(set, hearth_settings_get(set, "model", NULL), HEARTH_DEFAULT_MODEL, true,
                                        &pk, &pe) &&
                   pk.swapped;
    if (json) {
        json_t *o = json_object(), *p = json_object(), *po = json_object(), *f = json_object(), *m = json_object();
        json_object_set_new(p, "source", json_string(hearth_power_source_name(ps.source)));
        json_object_set_new(p, "percent", ps.percent >= 0 ? json_integer(ps.percent) : json_null());
        json_object_set_new(p, "battery", ps.battery[0] ? cli_json_str(ps.battery) : json_null());
        json_object_set_new(p, "status", ps.status[0] ? cli_json_str(ps.status) : json_null());
        json_object_set_new(o, "power", p);
        json_object_set_new(po, "enabled", json_boolean(pol.enabled));
        json_object_set_new(po, "low_percent", json_integer(pol.low_percent));
        json_object_set_new(po, "battery_threads", json_integer(pol.battery_threads));
        json_object_set_new(o, "policy", po);
        json_object_set_new(f, "on_battery", json_boolean(d.on_battery));
        json_object_set_new(f, "low", json_boolean(d.low));
        json_object_set_new(f, "threads", json_integer(d.threads));
        json_object_set_new(f, "normal_threads", json_integer(normal));
        json_object_set_new(f, "prefer_smaller_model", json_boolean(d.prefer_smaller));
        json_object_set_new(f, "postpone_background", json_boolean(d.postpone_background));
        json_object_set_new(o, "in_force", f);
        json_object_set_new(m, "path", cli_json_str(model));
        json_object_set_new(m, "name", name[0] ? cli_json_str(name) : json_null());
        json_object_set_new(m, "from", json_string(from));
        json_object_set_new(m, "size_bytes", msize >= 0 ? json_integer(msize) : json_null());
        json_object_set_new(m, "battery_pick", swapped ? cli_json_str(pk.name) : json_null());
        json_object_set_new(o, "model", m);
        cli_print_json(o);
    } else {
        printf("power      %s", hearth_power_source_name(ps.source));
        if (ps.percent >= 0) printf(" %d%%", ps.percent);
        if (ps.battery[0]) {
            printf(" (");
            cli_put_safe(stdout, ps.battery, strlen(ps.battery), CLI_SAFE_LINE);
            if (ps.status[0]) {
                printf(", ");
                cli_put_safe(stdout, ps.status, strlen(ps.status), CLI_SAFE_LINE);
            }
            printf(")");
        }
        printf("\npolicy     battery_policy %s, battery_low_percent %d, battery_threads %d%s\n",
               pol.enabled ? "on" : "off", pol.low_percent, pol.battery_threads,
               pol.battery_threads ? "" : " (half)");
        if (d.on_battery)
            printf("in force   on battery: %d threads (%d on AC)%s, background work (serve --sync-every, "
                   "--update-every) waits for AC\n",
                   d.threads, normal, d.prefer_smaller ? ", a smaller installed variant of the model preferred" : "");
        else
            printf("in force   none (%s): %d threads\n",
                   !pol.enabled ? "policy off" : ps.source == HEARTH_POWER_AC ? "on AC" : "power source unknown",
                   d.threads);
        printf("model      ");
        if (name[0]) {
            cli_put_safe(stdout, name, strlen(name), CLI_SAFE_LINE);
            printf(" = ");
        }
        cli_put_safe(stdout, model, strlen(model), CLI_SAFE_LINE);
        if (msize >= 0) printf(" (%.1f MB", msize / 1048576.0);
        else printf(" (missing");
        printf(", from %s)\n", from);
        if (swapped) {
            printf("battery    run, chat and serve load ");
            cli_put_safe(stdout, pk.name, strlen(pk.name), CLI_SAFE_LINE);
            printf(" instead (its smallest installed variant; battery_pick = off keeps the model)\n");
        }
    }
    hearth_settings_free(set);
    return 0;
}

const cli_command cli_cmd_status = {
    .name = "status",
    .summary = "power state, battery policy in force and the active model",
    .usage = USAGE,
    .run = run,
};
