/*
 * cmd_version.c: `hearth version`, the same as `hearth --version`.
 */
#include "cli.h"

#include <stdio.h>

static int run(int argc, char **argv) {
    (void)argv;
    if (argc > 1) return cli_fail("version", NULL, "takes no arguments");
    cli_print_version(stdout);
    return 0;
}

const cli_command cli_cmd_version = {
    .name = "version",
    .summary = "print the version",
    .usage = "usage: hearth version\n\nPrints hearth's version, the commit it was built from, the build type and the\nkernels chosen on this CPU (also: hearth --version).\n",
    .run = run,
};
