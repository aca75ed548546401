/*
 * serve_update.c: the background update check of `hearth serve` (see
 * serve_update.h). The thread sleeps on a condition variable (monotonic
 * clock) so that stopping the server does not wait out the interval.
 */
#include "serve_update.h"

#include "cli.h"
#include "models/registry.h"
#include "models/update.h"
#include "models_cli.h"
#include "power_defer.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct serve_updater {
    const hearth_settings *s;
    hearth_server *srv;
    char name[REGISTRY_NAME_MAX + 1];
    double interval_s;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    cli_power_defer defer; /* the loop's thread only */
};

/* While postponed on battery, the power is looked at this often (seconds;
 * the interval itself when shorter), so that the check runs soon after AC
 * comes back rather than an interval later. */
#define DEFER_POLL_S 60.0

/* One check. false: postponed (on battery), nothing done. */
static bool check_once(serve_updater *u) {
    hearth_error err = {0};
    /* The battery policy postpones background work until on AC. */
    if (cli_power_defer_now(&u->defer, u->s, "update check")) return false;
    registry *r = NULL;
    if (registry_open_settings(u->s, &r, &err)) {
        fprintf(stderr, "hearth serve: update check: %s\n", err.msg);
        return true;
    }
    char tdir[4096];
    cli_models_trust_dir(u->s, tdir, sizeof tdir);
    models_net net = {.retries = 3, .stall_timeout_s = 30};
    models_update_params up = {.settings = u->s, .net = &net, .trust_dir = tdir,
                               .background = true};
    models_update_result res;
    hearth_status st = models_update(r, u->name, &up, &res, &err);
    if (st == HEARTH_E_IO && strstr(err.msg, "cannot connect")) {
        fprintf(stderr, "hearth serve: update check: offline (%s); next check in %.0f s\n",
                err.msg, u->interval_s);
    } else if (st) {
        fprintf(stderr, "hearth serve: update check of %s: %s (still serving %.12s)\n", u->name,
                err.msg, res.old_sha256);
    } else if (res.outcome == MODELS_UPDATE_SWITCHED) {
        registry_resolved rr;
        if (registry_resolve(r, u->name, &rr, &err) ||
            hearth_server_reload_model(u->srv, rr.path, &err))
            fprintf(stderr, "hearth serve: %s %s installed but not loaded: %s\n", u->name,
                    res.version, err.msg);
        else
            fprintf(stderr, "hearth serve: switched to %s version %s (%.12s); requests in "
                    "flight finish on %.12s\n", u->name, res.version, res.new_sha256,
                    res.old_sha256);
    }
    registry_free(r);
    return true;
}

static void *loop(void *arg) {
    serve_updater *u = arg;
    double wait_s = u->interval_s;
    pthread_mutex_lock(&u->mu);
    while (!u->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double whole = floor(wait_s);
        ts.tv_sec += (time_t)whole;
        ts.tv_nsec += (long)((wait_s - whole) * 1e9);
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (!u->stop && pthread_cond_timedwait(&u->cv, &u->mu, &ts) == 0) {
        }
        if (u->stop) break;
        pthread_mutex_unlock(&u->mu);
        bool done = check_once(u);
        wait_s = done || u->interval_s < DEFER_POLL_S ? u->interval_s : DEFER_POLL_S;
        pthread_mutex_lock(&u->mu);
    }
    pthread_mutex_unlock(&u->mu);
    return NULL;
}

int serve_updater_start(const hearth_settings *s, hearth_server *srv, const char *name,
                        serve_updater **out) {
    *out = NULL;
    double hours = 0;
    hearth_error err;
    hearth_status st = hearth_settings_get_float(s, "update_every", &hours, &err);
    if (st == HEARTH_E_NOTFOUND) return 0;
    if (st) return cli_fail("serve", &err, "--update-every");
    if (!(hours > 0) || hours > 24 * 365)
        return cli_fail("serve", NULL, "--update-every %g: hours, more than 0", hours);
    if (!name || !*name)
        return cli_fail("serve", NULL, "--update-every needs a model from the registry "
                                       "(-m NAME, or hearth models use NAME), not a file path");
    serve_updater *u = calloc(1, sizeof *u);
    if (!u) return cli_fail("serve", NULL, "out of memory");
    u->s = s;
    u->srv = srv;
    u->interval_s = hours * 3600;
    snprintf(u->name, sizeof u->name, "%s", name);
    pthread_mutex_init(&u->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&u->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&u->th, NULL, loop, u)) {
        pthread_cond_destroy(&u->cv);
        pthread_mutex_destroy(&u->mu);
        free(u);
        return cli_fail("serve", NULL, "cannot start the update thread");
    }
    fprintf(stderr, "hearth serve: checking %s for updates every %g h\n", name, hours);
    *out = u;
    return 0;
}

void serve_updater_stop(serve_updater *u) {
    if (!u) return;
    pthread_mutex_lock(&u->mu);
    u->stop = true;
    pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
    pthread_join(u->th, NULL);
    pthread_cond_destroy(&u->cv);
    pthread_mutex_destroy(&u->mu);
    free(u);
}
