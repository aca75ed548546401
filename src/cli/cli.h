/*
 * cli.h: what each `hearth` subcommand provides. Every src/cli/cmd_NAME.c
 * defines `const cli_command cli_cmd_NAME`; the build generates the table of
 * them (cli_commands.inc), so adding a subcommand touches no shared file.
 * The CLI uses only the public header hearth.h plus this file's helpers.
 */
#ifndef HEARTH_CLI_H
#define HEARTH_CLI_H

#include "hearth.h"

#include <stdbool.h>

typedef struct {
    const char *name;    /* "inspect" */
    const char *summary; /* one line for `hearth --help` */
    const char *usage;   /* full text for `hearth NAME --help` */
    /* argv[0] is the subcommand name. Returns the process exit status. */
    int (*run)(int argc, char **argv);
} cli_command;

/* True if any of argv[1..] is -h or --help (before a "--"). */
bool cli_wants_help(int argc, char **argv);

/* Prints "hearth NAME: msg" (and the error's message if err is non-NULL) to
 * stderr; returns 1, the exit status for a failed command. */
int cli_fail(const char *cmd, const hearth_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses a whole decimal integer in [min, max]; false otherwise. */
bool cli_parse_long(const char *s, long min, long max, long *out);
/* Parses a whole finite float; false otherwise. */
bool cli_parse_float(const char *s, float *out);

#endif
