/*
 * main.c: the `hearth` binary: dispatches to the subcommand named by argv[1].
 * The subcommand table is generated from src/cli/cmd_*.c (see cli.h).
 */
#include "cli.h"
#include "kernels/dot.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_commands.inc" /* defines: static const cli_command *const commands[] */

#ifndef HEARTH_COMMIT
#define HEARTH_COMMIT "unknown"
#endif
#ifndef HEARTH_BUILD_TYPE
#define HEARTH_BUILD_TYPE "unknown"
#endif

#define N_COMMANDS (sizeof commands / sizeof commands[0])

void cli_print_version(FILE *f) {
    fprintf(f, "hearth %s\ncommit %s, %s build, kernels: %s (chosen on this CPU)\n",
            hearth_version(), HEARTH_COMMIT, HEARTH_BUILD_TYPE, hearth_dot_impl_name());
}

size_t cli_command_count(void) { return N_COMMANDS; }

const cli_command *cli_command_at(size_t i) { return i < N_COMMANDS ? commands[i] : NULL; }

const cli_command *cli_find_command(const char *name) {
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i]->name, name)) return commands[i];
    return NULL;
}

size_t cli_usage_flags(const char *usage, char flags[][CLI_FLAG_MAX], size_t max) {
    size_t n = 0;
    for (const char *p = usage; *p && n < max; p++) {
        /* a flag starts a word: "-x" or "--long-name" */
        if (*p != '-' || (p > usage && !isspace((unsigned char)p[-1]) && p[-1] != '[' &&
                          p[-1] != '(' && p[-1] != '|' && p[-1] != ','))
            continue;
        size_t l = 1;
        if (p[1] == '-') l = 2;
        if (!isalpha((unsigned char)p[l])) continue;
        while (isalnum((unsigned char)p[l]) || p[l] == '-') l++;
        if (p[l - 1] == '-' || l >= CLI_FLAG_MAX || (p[1] != '-' && l != 2)) {
            p += l - 1;
            continue;
        }
        bool dup = false;
        for (size_t i = 0; i < n && !dup; i++) dup = strlen(flags[i]) == l && !memcmp(flags[i], p, l);
        if (!dup) {
            memcpy(flags[n], p, l);
            flags[n++][l] = '\0';
        }
        p += l - 1;
    }
    return n;
}

int cli_unknown_option(const char *cmd, const char *opt) {
    char first[64];
    snprintf(first, sizeof first, "%s", cmd);
    char *sp = strchr(first, ' ');
    if (sp) *sp = '\0';
    const cli_command *c = cli_find_command(first);
    const char *near = NULL;
    char flags[128][CLI_FLAG_MAX];
    const char *names[128];
    char want[CLI_FLAG_MAX];
    snprintf(want, sizeof want, "%.*s", (int)strcspn(opt, "="), opt);
    if (c) {
        size_t n = cli_usage_flags(c->usage, flags, 128);
        for (size_t i = 0; i < n; i++) names[i] = flags[i];
        near = hearth_nearest_word(want, names, n);
    }
    fprintf(stderr, "hearth %s: unknown option '", cmd);
    cli_put_safe(stderr, opt, strlen(opt), CLI_SAFE_LINE);
    if (near) fprintf(stderr, "' (did you mean '%s'? see hearth %s --help)\n", near, cmd);
    else fprintf(stderr, "' (see hearth %s --help)\n", cmd);
    return 1;
}

static void print_help(FILE *f) {
    fprintf(f,
            "hearth %s: a privacy-first runtime for AI agents on your own device\n\n"
            "usage: hearth COMMAND [ARGS...]\n"
            "       hearth --version\n\n"
            "commands:\n",
            hearth_version());
    for (size_t i = 0; i < N_COMMANDS; i++)
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
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* "cannot add FILE" + "FILE: No such file": name the file once */
    char *sp = strrchr(msg, ' ');
    if (err && err->msg[0] && sp) {
        char *w = sp + 1;
        size_t wl = strlen(w);
        if (wl > 2 && w[0] == '\'' && w[wl - 1] == '\'') w++, wl -= 2;
        if (wl && !strncmp(err->msg, w, wl) && err->msg[wl] == ':') *sp = '\0';
    }
    fprintf(stderr, "hearth %s: %s", cmd, msg);
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
        cli_print_version(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        print_help(stdout);
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const cli_command *c = commands[i];
        if (strcmp(argv[1], c->name)) continue;
        if (cli_wants_help(argc - 1, argv + 1)) {
            fputs(c->usage, stdout);
            return 0;
        }
        return c->run(argc - 1, argv + 1);
    }
    const char *names[N_COMMANDS];
    for (size_t i = 0; i < N_COMMANDS; i++) names[i] = commands[i]->name;
    const char *near = hearth_nearest_word(argv[1], names, N_COMMANDS);
    fputs("hearth: unknown command '", stderr);
    cli_put_safe(stderr, argv[1], strlen(argv[1]), CLI_SAFE_LINE);
    if (near) {
        fprintf(stderr, "' (did you mean 'hearth %s'?)\n", near);
        return 2;
    }
    fputs("'\n\n", stderr);
    print_help(stderr);
    return 2;
}
