/*
 * sync_bg.c: the policy gate for sync requests and the background sync of
 * `hearth serve --sync-every` (see sync_bg.h).
 */
#include "sync_bg.h"

#include "power_defer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool cli_sync_gate(void *user, const char *host, char *reason, size_t cap) {
    (void)host;
    const hearth_settings *set = user;
    const char *v = set ? hearth_settings_get(set, "policy_sync", NULL) : NULL;
    if (v && (!strcmp(v, "never") || !strcmp(v, "local-only") || !strcmp(v, "off"))) {
        snprintf(reason, cap, "setting 'policy_sync' is '%s': sync may not leave this device", v);
        return false;
    }
    return true;
}

struct cli_sync_bg {
    const hearth_settings *set;
    long every;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

/* One sync with a fresh store handle. true: the server was reached. */
static bool sync_once(cli_sync_bg *b, char *msg, size_t cap) {
    hearth_error e;
    hearth_store_params sp = hearth_store_default_params();
    sp.data_dir = hearth_settings_get(b->set, "home", NULL);
    hearth_store *store = NULL;
    if (hearth_store_open(&sp, &store, &e)) {
        snprintf(msg, cap, "cannot open the store: %s", e.msg);
        return false;
    }
    hearth_sync_params p = hearth_sync_default_params();
    p.store = store;
    p.gate = cli_sync_gate;
    p.gate_user = (void *)b->set;
    hearth_sync *s = NULL;
    hearth_sync_report r;
    bool ok = false;
    if (hearth_sync_open(&p, &s, &e) || hearth_sync_run(s, &r, &e)) {
        snprintf(msg, cap, "%s", e.msg);
    } else if (r.state == HEARTH_SYNC_OFFLINE) {
        snprintf(msg, cap, "offline: %s", r.reason);
    } else {
        ok = true;
        snprintf(msg, cap, "%s: pushed %lld, pulled %lld, conflicts %lld, resolved %lld",
                 hearth_sync_state_name(r.state), (long long)r.pushed, (long long)r.pulled,
                 (long long)r.conflicts, (long long)r.resolved);
    }
    hearth_sync_free(s);
    hearth_store_free(store);
    return ok;
}

static void *loop(void *arg) {
    cli_sync_bg *b = arg;
    long wait_s = 0, max_s = b->every > 3600 ? b->every : 3600;
    bool was_ok = true;
    char msg[512];
    cli_power_defer pd = {0};
    pthread_mutex_lock(&b->mu);
    while (!b->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += wait_s;
        while (!b->stop && wait_s > 0 &&
               pthread_cond_timedwait(&b->cv, &b->mu, &until) == 0) {
        }
        if (b->stop) break;
        pthread_mutex_unlock(&b->mu);
        /* on battery (battery_policy): look again each period, sync once on AC */
        if (cli_power_defer_now(&pd, b->set, "sync")) {
            wait_s = b->every;
            pthread_mutex_lock(&b->mu);
            continue;
        }
        bool ok = sync_once(b, msg, sizeof msg);
        if (!ok) {
            wait_s = wait_s < b->every ? b->every : wait_s * 2;
            if (wait_s > max_s) wait_s = max_s;
            fprintf(stderr, "hearth serve: sync: %s; next try in %lds\n", msg, wait_s);
        } else {
            if (!was_ok || strncmp(msg, "no_changes", 10))
                fprintf(stderr, "hearth serve: sync: %s\n", msg);
            wait_s = b->every;
        }
        was_ok = ok;
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

hearth_status cli_sync_bg_start(const hearth_settings *settings, long every, cli_sync_bg **out,
                                hearth_error *err) {
    *out = NULL;
    cli_sync_bg *b = calloc(1, sizeof *b);
    if (!b) {
        if (err) {
            err->code = HEARTH_E_NOMEM;
            snprintf(err->msg, sizeof err->msg, "out of memory");
        }
        return HEARTH_E_NOMEM;
    }
    b->set = settings;
    b->every = every;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&b->mu, NULL);
    if (pthread_create(&b->thread, NULL, loop, b) != 0) {
        pthread_cond_destroy(&b->cv);
        pthread_mutex_destroy(&b->mu);
        free(b);
        if (err) {
            err->code = HEARTH_E_IO;
            snprintf(err->msg, sizeof err->msg, "cannot start the sync thread");
        }
        return HEARTH_E_IO;
    }
    *out = b;
    return HEARTH_OK;
}

void cli_sync_bg_stop(cli_sync_bg *b) {
    if (!b) return;
    pthread_mutex_lock(&b->mu);
    b->stop = true;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->thread, NULL);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b);
}
