/*
 * cmd_config.c: `hearth config`: the effective settings and where each came
 * from (a flag, a HEARTH_* variable, a config file line, the default), and
 * `hearth config --example`: a commented config file of every known key.
 * The known keys are the library's table (hearth_setting_known).
 */
#include "cli.h"
#include "run_chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Values never printed in full. */
static bool secret(const char *key) {
    return !strcmp(key, "api_key") || !strcmp(key, "cloud_api_key");
}

static void upper(const char *key, char *out, size_t cap) {
    size_t i = 0;
    for (; key[i] && i + 1 < cap; i++) out[i] = (char)(key[i] >= 'a' && key[i] <= 'z' ? key[i] - 32 : key[i]);
    out[i] = '\0';
}

static int example(void) {
    printf("# hearth config file: one 'key = value' a line; '#' starts a comment; quotes\n"
           "# around a value are optional. hearth reads $HEARTH_CONFIG, else\n"
           "# $XDG_CONFIG_HOME/hearth/config, else ~/.config/hearth/config.\n"
           "# Flags win over HEARTH_<KEY> variables, which win over this file.\n"
           "# Every key hearth knows is below, commented out, with its default where it\n"
           "# has one; `hearth config` shows what is in force.\n");
    const hearth_setting_info *k;
    for (size_t i = 0; (k = hearth_setting_known(i)); i++) {
        printf("\n# %s\n", k->help);
        printf("#%s = %s\n", k->key, k->example ? k->example : "");
    }
    return 0;
}

static int show(int argc, char **argv) {
    cli_agent_opts o;
    int rc = cli_agent_parse("config", argc, argv, &o);
    if (!rc && (o.n_rest || o.prompt))
        rc = cli_fail("config", NULL, "unexpected argument '%s'", o.n_rest ? o.rest[0] : o.prompt);
    if (rc) {
        cli_agent_opts_free(&o);
        return rc;
    }
    const hearth_settings *s = o.settings;
    const char *path = hearth_settings_config_path(s);
    printf("# config file: ");
    cli_put_safe(stdout, path, strlen(path), CLI_SAFE_LINE);
    printf("%s\n", access(path, R_OK) == 0 ? "" : " (none)");
    const hearth_setting_info *k;
    for (size_t i = 0; (k = hearth_setting_known(i)); i++) {
        hearth_setting_source src;
        const char *v = hearth_settings_get(s, k->key, &src);
        char where[128];
        char env[80];
        switch (src) {
        case HEARTH_SETTING_FLAG: snprintf(where, sizeof where, "flag"); break;
        case HEARTH_SETTING_ENV:
            upper(k->key, env, sizeof env);
            snprintf(where, sizeof where, "HEARTH_%s", env);
            break;
        case HEARTH_SETTING_FILE:
            snprintf(where, sizeof where, "config file line %ld", hearth_settings_file_line(s, k->key));
            break;
        case HEARTH_SETTING_DEFAULT: snprintf(where, sizeof where, "default"); break;
        default: snprintf(where, sizeof where, "not set"); break;
        }
        printf("%-26s = ", k->key);
        int w = 0;
        if (!v) {
            w = 0;
        } else if (secret(k->key) && *v) {
            fputs("(set, not shown)", stdout);
            w = 16;
        } else {
            char *safe = cli_safe_dup(v, CLI_SAFE_LINE);
            fputs(safe ? safe : "", stdout);
            w = safe ? (int)strlen(safe) : 0;
            free(safe);
        }
        printf("%*s # %s\n", w < 24 ? 24 - w : 1, "", where);
    }
    if (!o.quiet && hearth_settings_warning(s, 0))
        fprintf(stderr, "hearth config: the config file has keys hearth does not know (above)\n");
    cli_agent_opts_free(&o);
    return 0;
}

static int run(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "--example")) return example();
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--example"))
            return cli_fail("config", NULL, "--example takes no other arguments");
    return show(argc, argv);
}

static const char usage[] =
    "usage: hearth config [options]\n"
    "       hearth config --example\n\n"
    "Prints every setting hearth knows with the value in force and where it came\n"
    "from: a flag, a HEARTH_<KEY> environment variable, a line of the config file,\n"
    "or the default. Keys are lower case (max_context); HEARTH_MAX_CONTEXT sets the\n"
    "same key. A config file line with an unknown key is warned about with the\n"
    "nearest known key. API keys are never shown.\n\n"
    "  --example            print a commented config file with every known key\n\n"
    "The flags of hearth run are accepted, to see what they change:\n" CLI_AGENT_OPTIONS_USAGE;

const cli_command cli_cmd_config = {
    .name = "config",
    .summary = "show the settings in force and where each came from",
    .usage = usage,
    .run = run,
};
