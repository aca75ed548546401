/*
 * line_input.h: the input lines of `hearth chat`: on a terminal through
 * libedit (line editing, arrow keys, history kept in a file), otherwise
 * plain reads of whole lines.
 */
#ifndef HEARTH_CLI_LINE_INPUT_H
#define HEARTH_CLI_LINE_INPUT_H

#include <stdbool.h>
#include <stdio.h>

typedef struct cli_line_input cli_line_input;

/* Reads lines from stdin, showing prompt first when stdin is a terminal
 * (then libedit edits the line). history_path: the history file, loaded now
 * and rewritten (mode 0600) by each cli_line_remember; NULL: history only in
 * memory.
 * NULL when out of memory. */
cli_line_input *cli_line_open(const char *prompt, const char *history_path);
/* The next line without its line end (borrowed until the next call), or
 * NULL at the end of input. */
const char *cli_line_read(cli_line_input *li);
/* Adds line to the history (on a terminal; a no-op otherwise). */
void cli_line_remember(cli_line_input *li, const char *line);
/* True if input comes from a terminal. */
bool cli_line_is_tty(const cli_line_input *li);
/* Frees li (the terminal is as before); NULL is a no-op. */
void cli_line_close(cli_line_input *li);

#endif
