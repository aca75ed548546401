/*
 * serve_update.h: `hearth serve --update-every HOURS`: a background thread
 * that checks the served model's update channel every HOURS (models_update,
 * as a background check: policy_pull and policy_update must allow it; an
 * unreachable channel counts as offline and is tried again next time; on
 * battery with battery_policy on, the check waits for AC: power_defer.h,
 * looked at again every minute) and,
 * when a new version was installed, has the server switch to it between
 * requests (hearth_server_reload_model).
 */
#ifndef HEARTH_CLI_SERVE_UPDATE_H
#define HEARTH_CLI_SERVE_UPDATE_H

#include "hearth.h"

typedef struct serve_updater serve_updater;

/* Starts the thread if the setting update_every (hours, > 0) is set. name is
 * the registry name the server's model came from ("" when it is a file:
 * then update_every is an error). OUT: *out (NULL when not started).
 * Returns 0, or 1 after printing why. s and srv are borrowed until
 * serve_updater_stop. */
int serve_updater_start(const hearth_settings *s, hearth_server *srv, const char *name,
                        serve_updater **out);
/* Stops and joins the thread (waits for a check in progress). NULL: no-op. */
void serve_updater_stop(serve_updater *u);

#endif
