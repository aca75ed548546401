/*
 * cmd_history.c: `hearth history [--session NAME] [--last N] [--json]`: the
 * messages of one conversation in the local store, oldest first.
 */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: hearth history [--session NAME] [--last N] [--json]\n"
    "       hearth history --sessions [--json]\n"
    "\n"
    "Prints the messages of a conversation kept in the local store ($HEARTH_HOME,\n"
    "default ~/.local/share/hearth), oldest first. An unknown session has no messages.\n"
    "\n"
    "options:\n"
    "  --session NAME   the conversation (default: \"default\")\n"
    "  --last N         only the newest N messages\n"
    "  --sessions       list the sessions instead, most recent first\n"
    "  --json           a JSON array of messages: id, role, content, tokens, model,\n"
    "                   source and confidence (answers), created (UTC, ISO 8601)\n"
    "                   and created_ms\n"
    "\n"
    "Without --json, control characters in names and messages are shown as escapes\n"
    "(ESC as \\x1b, CR as \\r; newlines and tabs in messages are kept), so stored text\n"
    "cannot drive the terminal.\n";

static int list_sessions(hearth_store *s, bool json) {
    hearth_session *ss = NULL;
    size_t n = 0;
    hearth_error e;
    if (hearth_store_session_list(s, &ss, &n, &e) != HEARTH_OK)
        return cli_fail("history", &e, "cannot list sessions");
    json_t *arr = json ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        char when[32];
        cli_iso_utc(ss[i].updated_ms, when, sizeof when);
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "name", cli_json_str(ss[i].name));
            json_object_set_new(o, "messages", json_integer(ss[i].n_messages));
            json_object_set_new(o, "updated", json_string(when));
            json_array_append_new(arr, o);
        } else {
            char *name = cli_safe_dup(ss[i].name, CLI_SAFE_LINE);
            printf("%-24s %6lld messages  %s\n", name ? name : "?", (long long)ss[i].n_messages,
                   when);
            free(name);
        }
    }
    if (json) cli_print_json(arr);
    hearth_free(ss);
    return 0;
}

static int run(int argc, char **argv) {
    const char *name = "default";
    bool json = false, sessions = false;
    long last = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = true;
        else if (!strcmp(argv[i], "--sessions")) sessions = true;
        else if (!strcmp(argv[i], "--session") && i + 1 < argc) name = argv[++i];
        else if (!strncmp(argv[i], "--session=", 10)) name = argv[i] + 10;
        else if (!strcmp(argv[i], "--last") && i + 1 < argc) {
            if (!cli_parse_long(argv[++i], 1, 1000000000L, &last)) {
                fprintf(stderr, "hearth history: --last: '%s' is not a positive number\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "hearth history: unexpected argument '%s'\n(see hearth history --help)\n", argv[i]);
            return 2;
        }
    }
    hearth_store *s = NULL;
    hearth_error e;
    if (hearth_store_open(NULL, &s, &e) != HEARTH_OK) return cli_fail("history", &e, "cannot open the store");
    int rc = 0;
    if (sessions) {
        rc = list_sessions(s, json);
        hearth_store_free(s);
        return rc;
    }
    int64_t sid = 0;
    hearth_message *m = NULL;
    size_t n = 0;
    hearth_status st = hearth_store_session_find(s, name, &sid, &e);
    if (st == HEARTH_OK) {
        hearth_message_query q = hearth_message_query_default();
        q.session_id = sid;
        q.last_n = last;
        st = hearth_store_messages(s, &q, &m, &n, &e);
    } else if (st == HEARTH_E_NOTFOUND) {
        st = HEARTH_OK; /* no such session yet: no messages */
    }
    if (st) {
        rc = cli_fail("history", &e, "cannot read session '%s'", name);
    } else if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_object();
            char when[32];
            cli_iso_utc(m[i].created_ms, when, sizeof when);
            json_object_set_new(o, "id", json_integer(m[i].id));
            json_object_set_new(o, "role", cli_json_str(m[i].role));
            /* invalid UTF-8 as U+FFFD: the message stays visible, the JSON valid */
            json_object_set_new(o, "content", cli_json_str(m[i].content));
            json_object_set_new(o, "tokens", json_integer(m[i].n_tokens));
            json_object_set_new(o, "model", m[i].model ? cli_json_str(m[i].model) : json_null());
            json_object_set_new(o, "source", m[i].source ? cli_json_str(m[i].source) : json_null());
            json_object_set_new(o, "confidence",
                                m[i].confidence >= 0 ? json_real(m[i].confidence) : json_null());
            json_object_set_new(o, "created", json_string(when));
            json_object_set_new(o, "created_ms", json_integer(m[i].created_ms));
            json_array_append_new(arr, o);
        }
        cli_print_json(arr);
    } else {
        /* names and text from the store may come from anyone (a web page can
         * POST a chat): nothing in them may reach the terminal as a control */
        for (size_t i = 0; i < n; i++) {
            cli_put_safe(stdout, m[i].role, strlen(m[i].role), CLI_SAFE_LINE);
            fputs(": ", stdout);
            cli_put_safe(stdout, m[i].content, strlen(m[i].content), CLI_SAFE_TEXT);
            putchar('\n');
        }
    }
    hearth_free(m);
    hearth_store_free(s);
    return rc;
}

const cli_command cli_cmd_history = {
    .name = "history",
    .summary = "show a conversation's messages (--json for a JSON array)",
    .usage = usage,
    .run = run,
};
