/*
 * output.c: small output helpers the subcommands share: UTC timestamps in
 * ISO 8601 and printing a JSON value on one line.
 */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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
