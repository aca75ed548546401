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
#include <stddef.h>
#include <stdio.h>

typedef struct {
    const char *name;    /* "inspect" */
    const char *summary; /* one line for `hearth --help` */
    const char *usage;   /* full text for `hearth NAME --help` */
    /* argv[0] is the subcommand name. Returns the process exit status. */
    int (*run)(int argc, char **argv);
} cli_command;

/* The bundled demo model: PREFIX/share/hearth/hearth-demo.gguf beside an
 * installed binary (PREFIX/bin), else BUILD/share/hearth/ in the build tree
 * (default_model.c). Found once; the same string after. Any thread. */
const char *cli_default_model(void);
/* The directory of the running binary (from /proc/self/exe); "" if unknown. */
const char *cli_exe_dir(void);

/* The command table (main.c): how many, the i-th (NULL past the end), and
 * the one named name (NULL: none). */
size_t cli_command_count(void);
const cli_command *cli_command_at(size_t i);
const cli_command *cli_find_command(const char *name);
/* Longest flag cli_usage_flags reports, with its NUL. */
#define CLI_FLAG_MAX 32
/* The flags ("-m", "--model") a usage text names, each once, in order of
 * first appearance; at most max of them. Returns how many. */
size_t cli_usage_flags(const char *usage, char flags[][CLI_FLAG_MAX], size_t max);
/* Prints "hearth CMD: unknown option 'OPT' (did you mean '--X'? ...)" with
 * the nearest flag of CMD's usage (its first word names the command);
 * returns 1, as cli_fail. */
int cli_unknown_option(const char *cmd, const char *opt);
/* On a terminal (stderr), for a model file of 256 MiB or more: reads it
 * once with a progress line ("hearth CMD: loading NAME [###...] 42% of 4.1
 * GiB") that is erased when done. Nothing on a pipe, when quiet, or for a
 * smaller or missing file (load_progress.c). */
void cli_load_progress(const char *cmd, const char *path, bool quiet);
/* hearth --version: version, commit, build type and the kernels in use. */
void cli_print_version(FILE *f);

/* True if any of argv[1..] is -h or --help (before a "--"). */
bool cli_wants_help(int argc, char **argv);

/* Prints "hearth NAME: msg" (and the error's message if err is non-NULL) to
 * stderr; returns 1, the exit status for a failed command. When msg ends
 * with the word (a file name, quoted or not) that the error's message starts
 * with ("FILE: ..."), that word is left out of msg: the file is named once. */
int cli_fail(const char *cmd, const hearth_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses a whole decimal integer in [min, max]; false otherwise. */
bool cli_parse_long(const char *s, long min, long max, long *out);
/* Parses a whole finite float; false otherwise. */
bool cli_parse_float(const char *s, float *out);

/* How cli_put_safe shows text that is not hearth's own (safe_text.c). */
typedef enum {
    CLI_SAFE_LINE,   /* one line: newline, CR and tab escaped too (\n \r \t) */
    CLI_SAFE_TEXT,   /* multi-line text: newlines and tabs kept as they are */
    CLI_SAFE_QUOTED, /* inside "...": as LINE, plus \" and \\ */
} cli_safe_mode;

/* Writes s[0..n) to f with every byte a terminal could act on shown as a
 * visible escape: C0 controls and DEL as \xNN (\n \r \t by name), C1
 * controls as \uNNNN, bytes that are not valid UTF-8 as \xNN; the rest as
 * is. For all human (non-JSON) output of user or file text, whether or not
 * f is a terminal. s NULL: writes nothing. Thread-safe as stdio is. */
void cli_put_safe(FILE *f, const char *s, size_t n, cli_safe_mode mode);

/* The escaped form of the string s (NULL: "") as cli_put_safe writes it,
 * NUL-terminated; owned by the caller (free), NULL when out of memory. */
char *cli_safe_dup(const char *s, cli_safe_mode mode);

/* A new JSON string (jansson json_t, one reference) holding s (NULL: ""),
 * with U+FFFD in place of each byte that is not valid UTF-8, so that
 * json_dumps of what holds it cannot fail; NULL when out of memory. */
struct json_t *cli_json_str(const char *s);

/* ms (Unix epoch milliseconds) as "YYYY-MM-DDTHH:MM:SSZ" into buf (output.c). */
void cli_iso_utc(int64_t ms, char *buf, size_t cap);
/* Prints v compactly on one line of stdout and drops the reference. */
void cli_print_json(struct json_t *v);
/* Prints the warnings hearth_settings_load found (unknown config keys) to
 * stderr, one "hearth: warning: ..." line each. */
void cli_settings_warn(const hearth_settings *s);
/* True if output may use color: stdout and stderr are terminals, NO_COLOR is
 * unset or empty (no-color.org) and TERM is not "dumb". */
bool cli_color(void);
/* Speculative decoding's figures of one generation (spec_text.c): as
 * `,"speculative":{...}` inside a JSON object, or as one "CMD: ..." line. */
void cli_print_spec_json(FILE *f, const hearth_gen_result *r);
void cli_print_spec_line(FILE *f, const char *cmd, const hearth_gen_result *r);

#endif
