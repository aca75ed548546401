/*
 * fixture.h: shared set-up of the agent tests: a private data directory
 * (HEARTH_HOME) in /tmp, tiny models made by hearth-genmodel, an agent.
 * Header-only, so that only the tests that include it link the agent.
 */
#ifndef HEARTH_TEST_AGENT_FIXTURE_H
#define HEARTH_TEST_AGENT_FIXTURE_H

#include "hearth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void fx_die(const char *what, const char *detail) {
    fprintf(stderr, "fixture: %s: %s\n", what, detail ? detail : "");
    exit(1);
}

/* A fresh directory under /tmp (owned string; remove with fx_cleanup). */
static inline char *fx_tmpdir(void) {
    char *d = strdup("/tmp/hearth-agent-test-XXXXXX");
    if (!d || !mkdtemp(d)) fx_die("mkdtemp", "failed");
    return d;
}

/* Writes a model with hearth-genmodel ($HEARTH_GENMODEL) into dir/name with
 * the given arguments; returns its path (owned: free). Exits on failure. */
static inline char *fx_model(const char *dir, const char *name, const char *args) {
    const char *gen = getenv("HEARTH_GENMODEL");
    if (!gen) fx_die("HEARTH_GENMODEL", "not set");
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    if (!path) fx_die("malloc", NULL);
    sprintf(path, "%s/%s", dir, name);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' -q %s -o '%s'", gen, args, path);
    if (system(cmd) != 0) fx_die("genmodel failed", cmd);
    return path;
}

static inline void fx_warn_cb(void *ud, const char *msg) {
    (void)ud;
    fprintf(stderr, "agent warning: %s\n", msg);
}

/* An agent on model with its store in home (greedy, 8-token answers, one
 * thread). max_context 0: default. Exits on failure. */
static inline hearth_agent *fx_agent(const char *model, const char *home, int max_context) {
    hearth_agent_params p = hearth_agent_default_params();
    p.model_path = model;
    p.data_dir = home;
    p.max_context = max_context;
    p.n_threads = 1;
    p.temperature = 0.0f;
    p.max_tokens = 8;
    p.warn = fx_warn_cb;
    hearth_agent *a = NULL;
    hearth_error err = {0};
    if (hearth_agent_open(&p, &a, &err)) fx_die("hearth_agent_open", err.msg);
    return a;
}

/* rm -rf dir. */
static inline void fx_cleanup(const char *dir) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "fixture: could not remove %s\n", dir);
}

/* Number of messages stored in session (0 if it does not exist). */
static inline long fx_count_messages(hearth_store *s, const char *session) {
    int64_t sid;
    hearth_error err = {0};
    hearth_status st = hearth_store_session_find(s, session, &sid, &err);
    if (st == HEARTH_E_NOTFOUND) return 0;
    if (st) fx_die("session_find", err.msg);
    hearth_message_query q = hearth_message_query_default();
    q.session_id = sid;
    hearth_message *m = NULL;
    size_t n = 0;
    if (hearth_store_messages(s, &q, &m, &n, &err)) fx_die("messages", err.msg);
    hearth_free(m);
    return (long)n;
}

#endif
