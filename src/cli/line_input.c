/*
 * line_input.c: `hearth chat`'s input lines (line_input.h): libedit's
 * editor and history on a terminal, getline otherwise.
 */
#include "line_input.h"

#include <fcntl.h>
#include <histedit.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HISTORY_LINES 1000

struct cli_line_input {
    bool tty;
    char *prompt;
    char *history_path; /* NULL: no file */
    EditLine *el;
    History *hist;
    HistEvent ev;
    char *line; /* the line returned last */
    size_t cap;
};

static char *prompt_of(EditLine *el) {
    void *ud = NULL;
    el_get(el, EL_CLIENTDATA, &ud);
    return ((cli_line_input *)ud)->prompt;
}

cli_line_input *cli_line_open(const char *prompt, const char *history_path) {
    cli_line_input *li = calloc(1, sizeof *li);
    if (!li) return NULL;
    li->tty = isatty(STDIN_FILENO);
    li->prompt = strdup(prompt ? prompt : "");
    if (history_path) li->history_path = strdup(history_path);
    if (!li->prompt || (history_path && !li->history_path)) {
        cli_line_close(li);
        return NULL;
    }
    if (!li->tty || !isatty(STDOUT_FILENO)) return li; /* plain reads, prompt shown */
    li->el = el_init("hearth", stdin, stdout, stderr);
    li->hist = history_init();
    if (!li->el || !li->hist) {
        /* no editor after all: plain reads still work */
        if (li->el) el_end(li->el);
        if (li->hist) history_end(li->hist);
        li->el = NULL;
        li->hist = NULL;
        return li;
    }
    history(li->hist, &li->ev, H_SETSIZE, HISTORY_LINES);
    history(li->hist, &li->ev, H_SETUNIQUE, 1);
    if (li->history_path) history(li->hist, &li->ev, H_LOAD, li->history_path);
    el_set(li->el, EL_CLIENTDATA, li);
    el_set(li->el, EL_PROMPT, prompt_of);
    el_set(li->el, EL_EDITOR, "emacs");
    /* libedit puts the terminal back before a signal's own handler runs */
    el_set(li->el, EL_SIGNAL, 1);
    el_set(li->el, EL_HIST, history, li->hist);
    return li;
}

const char *cli_line_read(cli_line_input *li) {
    ssize_t len;
    if (li->el) {
        int n = 0;
        const char *s = el_gets(li->el, &n);
        if (!s || n <= 0) return NULL;
        if ((size_t)n + 1 > li->cap) {
            char *p = realloc(li->line, (size_t)n + 1);
            if (!p) return NULL;
            li->line = p;
            li->cap = (size_t)n + 1;
        }
        memcpy(li->line, s, (size_t)n);
        li->line[n] = '\0';
        len = n;
    } else {
        if (li->tty) {
            fputs(li->prompt, stdout);
            fflush(stdout);
        }
        len = getline(&li->line, &li->cap, stdin);
        if (len < 0) return NULL;
    }
    while (len > 0 && (li->line[len - 1] == '\n' || li->line[len - 1] == '\r')) li->line[--len] = '\0';
    return li->line;
}

/* Writes the history file now (so a chat ended by Ctrl-C keeps it too). */
static void save(cli_line_input *li) {
    if (!li->hist || !li->history_path) return;
    /* what was typed is private: the file is the user's alone */
    int fd = open(li->history_path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return;
    fchmod(fd, 0600);
    close(fd);
    history(li->hist, &li->ev, H_SAVE, li->history_path);
}

void cli_line_remember(cli_line_input *li, const char *line) {
    if (!li->hist || !*line) return;
    history(li->hist, &li->ev, H_ENTER, line);
    save(li);
}

bool cli_line_is_tty(const cli_line_input *li) { return li->tty; }

void cli_line_close(cli_line_input *li) {
    if (!li) return;
    if (li->el) el_end(li->el);
    if (li->hist) history_end(li->hist);
    free(li->line);
    free(li->prompt);
    free(li->history_path);
    free(li);
}
