/*
 * cmd_chat.c: `hearth chat`: an interactive conversation with the agent,
 * answers streamed as they are made, kept in a session of the store.
 * Commands: /reset (forget the session), /history, /quit (or end of input).
 * Ctrl-C stops the answer being written; at the prompt it ends the chat.
 * On a terminal the line is edited with libedit (line_input.c).
 */
#include "cli.h"
#include "line_input.h"
#include "run_chat.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static hearth_agent *chat_agent;      /* for the signal handler only */
static volatile sig_atomic_t generating;

static void on_sigint(int sig) {
    (void)sig;
    if (generating && chat_agent) {
        hearth_agent_cancel(chat_agent); /* an atomic store: async-signal-safe */
        return;
    }
    _exit(130);
}

static void show_history(hearth_agent *a, const char *session) {
    hearth_store *s = hearth_agent_store(a);
    hearth_error err = {0};
    int64_t sid;
    hearth_status st = hearth_store_session_find(s, session, &sid, &err);
    if (st == HEARTH_E_NOTFOUND) {
        printf("(no messages in session '%s')\n", session);
        return;
    }
    if (st) {
        cli_fail("chat", &err, "history");
        return;
    }
    hearth_message_query q = hearth_message_query_default();
    q.session_id = sid;
    hearth_message *m = NULL;
    size_t n = 0;
    if (hearth_store_messages(s, &q, &m, &n, &err)) {
        cli_fail("chat", &err, "history");
        return;
    }
    if (n == 0) printf("(no messages in session '%s')\n", session);
    for (size_t i = 0; i < n; i++) printf("%s: %s\n", m[i].role, m[i].content);
    hearth_free(m);
}

static int run(int argc, char **argv) {
    cli_agent_opts o;
    int rc = cli_agent_parse("chat", argc, argv, &o);
    if (!rc && o.json) rc = cli_fail("chat", NULL, "--json is for hearth run");
    if (!rc && (o.n_rest || o.prompt))
        rc = cli_fail("chat", NULL, "unexpected argument '%s' (chat reads its input)",
                      o.n_rest ? o.rest[0] : o.prompt);
    hearth_agent *a = NULL;
    if (!rc) rc = cli_agent_open("chat", &o, &a);
    if (rc) {
        cli_agent_opts_free(&o);
        return rc;
    }
    /* history in HOME/chat_history; in incognito mode never on disk */
    char hist[4096] = "";
    const char *home = hearth_settings_get(o.settings, "home", NULL);
    if (!o.incognito && home && *home) snprintf(hist, sizeof hist, "%s/chat_history", home);
    cli_line_input *in = cli_line_open("> ", hist[0] ? hist : NULL);
    if (!in) {
        hearth_agent_free(a);
        cli_agent_opts_free(&o);
        return cli_fail("chat", NULL, "out of memory");
    }
    bool tty = cli_line_is_tty(in);
    chat_agent = a;
    signal(SIGINT, on_sigint);
    if (tty)
        fprintf(stderr, "hearth chat: session '%s' (/history, /reset, /quit)\n", o.session);
    const char *line;
    while ((line = cli_line_read(in))) {
        if (!line[strspn(line, " \t")]) continue;
        if (!strcmp(line, "/quit") || !strcmp(line, "/exit")) break;
        cli_line_remember(in, line); /* (not /quit: Up would end the next chat) */
        if (!strcmp(line, "/history")) {
            show_history(a, o.session);
            continue;
        }
        if (!strcmp(line, "/reset")) {
            hearth_error err = {0};
            if (hearth_agent_reset_session(a, o.session, &err)) cli_fail("chat", &err, "reset");
            else printf("(session '%s' cleared)\n", o.session);
            continue;
        }
        if (line[0] == '/' && !strchr(line, ' ')) {
            printf("(unknown command %s: /history, /reset, /quit)\n", line);
            continue;
        }
        hearth_agent_request r = cli_agent_request(a, &o);
        r.user = line;
        think_filter tf;
        think_filter_init(&tf, o.show_think);
        r.on_text = cli_think_stream;
        r.user_data = &tf;
        hearth_agent_response resp;
        hearth_error err = {0};
        generating = 1;
        hearth_status st = hearth_agent_process(a, &r, &resp, &err);
        generating = 0;
        if (st) {
            cli_fail("chat", &err, "no answer");
            continue;
        }
        cli_think_end(&tf);
        fputc('\n', stdout);
        if (resp.finish == HEARTH_FINISH_CANCELLED) fputs("(stopped)\n", stdout);
        fflush(stdout);
        if (o.verbose) cli_print_route("chat", &resp);
        if (o.verbose)
            fprintf(stderr, "[prompt %d tokens, %.1f ms; answer %d tokens, "
                    "%.1f ms]\n", resp.prompt_tokens, resp.prompt_ms,
                    resp.completion_tokens, resp.generate_ms);
        hearth_agent_response_clear(&resp);
    }
    cli_line_close(in);
    signal(SIGINT, SIG_DFL);
    chat_agent = NULL;
    hearth_agent_free(a);
    cli_agent_opts_free(&o);
    return 0;
}

static const char usage[] =
    "usage: hearth chat [-m MODEL] [--session NAME] [options]\n\n"
    "An interactive conversation with the local model; answers are streamed and\n"
    "the conversation is kept in the session (default \"default\").\n"
    "Commands: /history  /reset  /quit\n\noptions:\n" CLI_AGENT_OPTIONS_USAGE;

const cli_command cli_cmd_chat = {
    .name = "chat",
    .summary = "interactive conversation with the agent",
    .usage = usage,
    .run = run,
};
