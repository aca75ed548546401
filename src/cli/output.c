/*
 * output.c: small output helpers the subcommands share: UTC timestamps in
 * ISO 8601, printing a JSON value on one line, the settings' warnings, and
 * whether to use color.
 */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cli_iso_utc(int64_t ms, char *buf, size_t cap) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void cli_print_json(struct json_t *v) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s) puts(s);
    free(s);
    json_decref(v);
}

void cli_settings_warn(const hearth_settings *s) {
    const char *w;
    for (size_t i = 0; (w = hearth_settings_warning(s, i)); i++) {
        fputs("hearth: warning: ", stderr);
        cli_put_safe(stderr, w, strlen(w), CLI_SAFE_LINE);
        fputc('\n', stderr);
    }
}

bool cli_color(void) {
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc) return false;
    const char *term = getenv("TERM");
    if (term && !strcmp(term, "dumb")) return false;
    return isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
}
