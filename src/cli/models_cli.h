/*
 * models_cli.h: what `hearth pull` and `hearth models` share: the download
 * progress display, download options from flags and settings, and where
 * the trusted keys are.
 */
#ifndef HEARTH_CLI_MODELS_CLI_H
#define HEARTH_CLI_MODELS_CLI_H

#include "hearth.h"
#include "models/pull.h"

#include <stdbool.h>

/* Progress on stderr: a bar with rate and time left when stderr is a
 * terminal, else a plain line every 10% (and at the end). quiet: neither. */
typedef struct {
    const char *cmd;
    bool tty, quiet;
    int last_decile;
    bool drew;
} cli_progress;

/* A models_net wired to pr (progress and notes on stderr) with the stall
 * timeout and retries from the settings download_stall_timeout (seconds,
 * default 30) and download_retries (default 3). false (after printing why)
 * on a bad setting. */
bool cli_models_net(const char *cmd, const hearth_settings *s, cli_progress *pr, models_net *net);

/* The trusted keys directory: setting trusted_keys, else HOME/trusted-keys
 * (as `hearth verify`). Into buf. */
void cli_models_trust_dir(const hearth_settings *s, char *buf, size_t cap);

/* "12.3 MiB" */
void cli_models_bytes(uint64_t b, char *buf, size_t cap);

/* `hearth models recommend` lives with the device-fit code; this is its
 * entry point when that code is linked in (a weak reference: NULL
 * otherwise). argv[0] is "recommend". */
int cli_models_recommend(int argc, char **argv) __attribute__((weak));

#endif
