/*
 * main.c: the `hearth` binary: dispatches to the subcommand named by argv[1].
 * The subcommand table is generated from src/cli/cmd_*.c (see cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_commands.inc" /* defines: static const cli_command *const commands[] */

static void print_help(FILE *f) {
    fprintf(f,
            "hearth %s: a privacy-first runtime for AI agents on your own device\n\n"
            "usage: hearth COMMAND [ARGS...]\n"
            "       hearth --version\n\n"
            "commands:\n",
            hearth_version());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\nRun `hearth COMMAND --help` for a command's options.\n");
}

bool cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return true;
    }
    return false;
}

int cli_fail(const char *cmd, const hearth_error *err, const char *fmt, ...) {
    fprintf(stderr, "hearth %s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (err && err->msg[0]) fprintf(stderr, ": %s", err->msg);
    fputc('\n', stderr);
    return 1;
}

bool cli_parse_long(const char *s, long min, long max, long *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max) return false;
    *out = v;
    return true;
}

bool cli_parse_float(const char *s, float *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || *end || !isfinite(v)) return false;
    *out = v;
    return true;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        print_help(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("hearth %s\n", hearth_version());
        return 0;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        print_help(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const cli_command *c = commands[i];
        if (strcmp(argv[1], c->name)) continue;
        if (cli_wants_help(argc - 1, argv + 1)) {
            fputs(c->usage, stdout);
            return 0;
        }
        return c->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "hearth: unknown command '%s'\n\n", argv[1]);
    print_help(stderr);
    return 2;
}
