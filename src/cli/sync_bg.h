/*
 * sync_bg.h: the sync egress gate the CLI gives the sync client (from the
 * setting policy_sync), and background sync for `hearth serve
 * --sync-every SECONDS` (a thread of its own with its own store handle, so
 * it never holds up a request).
 */
#ifndef HEARTH_CLI_SYNC_BG_H
#define HEARTH_CLI_SYNC_BG_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>

/* hearth_sync_gate_fn over a const hearth_settings * (user): refuses when
 * policy_sync is never (or off / local-only), else allows. */
bool cli_sync_gate(void *user, const char *host, char *reason, size_t cap);

typedef struct cli_sync_bg cli_sync_bg;

/* Starts syncing every `every` seconds (> 0) in a background thread: the
 * first sync right away, then after each success `every` seconds; while the
 * server is offline or a sync fails, the wait doubles up to max(every, 3600)
 * seconds. While the battery policy postpones background work (on
 * battery: power_defer.h) no sync is tried; the power is looked at again
 * every `every` seconds and the sync runs as soon as it is on AC. Uses the key cached by `hearth sync pair` (no prompt). Reports
 * state changes on stderr. settings is borrowed (must outlive the thread).
 * OUT: *out (cli_sync_bg_stop). */
hearth_status cli_sync_bg_start(const hearth_settings *settings, long every, cli_sync_bg **out,
                                hearth_error *err);
/* Stops the thread (a sync under way finishes first) and frees it. NULL is
 * a no-op. */
void cli_sync_bg_stop(cli_sync_bg *b);

#endif
