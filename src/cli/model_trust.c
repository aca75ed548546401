/*
 * model_trust.c: the CLI's side of model signatures: reading the policy
 * from settings and refusing a model before it is loaded (model_trust.h).
 */
#include "model_trust.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static int parse_bool(const char *v, bool *out) {
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(v, yes[i])) return *out = true, 0;
        if (!strcasecmp(v, no[i])) return *out = false, 0;
    }
    return -1;
}

int cli_trust_from_settings(const char *cmd, const hearth_settings *s, cli_trust *t) {
    memset(t, 0, sizeof *t);
    t->p = hearth_verify_default_params();
    hearth_setting_source src;
    const char *v = hearth_settings_get(s, "require_signature", &src);
    if (v && *v && parse_bool(v, &t->p.require_signature))
        return cli_fail(cmd, NULL, "setting 'require_signature' = '%s' (from %s) is not true or false",
                        v, hearth_setting_source_name(src));
    const char *home = hearth_settings_get(s, "home", NULL);
    const char *dir = hearth_settings_get(s, "trusted_keys", NULL);
    if (dir && *dir) {
        snprintf(t->trust_dir, sizeof t->trust_dir, "%s", dir);
        t->p.trust_dir = t->trust_dir;
    } else if (home && *home) {
        snprintf(t->trust_dir, sizeof t->trust_dir, "%s/trusted-keys", home);
        t->p.trust_dir = t->trust_dir;
    }
    if (home && *home) {
        snprintf(t->state_path, sizeof t->state_path, "%s/verified-state", home);
        t->p.state_path = t->state_path;
    }
    return 0;
}

void cli_trust_make_home(const hearth_settings *s) {
    /* the state file lives beside the store: its directory made as the
     * store makes it (0700); if that fails, nothing is remembered */
    const char *home = hearth_settings_get(s, "home", NULL);
    if (home && *home) mkdir(home, 0700);
}

int cli_model_gate(const char *cmd, const hearth_settings *s, const char *model_path) {
    hearth_settings *own = NULL;
    hearth_error err = {0};
    if (!s) {
        if (hearth_settings_load(&own, &err)) return cli_fail(cmd, &err, "settings");
        s = own;
    }
    cli_trust t;
    int rc = cli_trust_from_settings(cmd, s, &t);
    if (!rc && t.p.require_signature) {
        cli_trust_make_home(s);
        hearth_verify_result r;
        if (hearth_verify_file(model_path, &t.p, &r, &err))
            rc = cli_fail(cmd, &err, "refusing model '%s'", model_path);
    }
    hearth_settings_free(own);
    return rc;
}
